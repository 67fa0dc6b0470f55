"""What a run draws: the fixed noise's frame (an image grid, or 2D points over D's decision
surface) and, at the end of a session, ``samples.png``, ``losses.png`` and the GIF."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_lib import viz
from gan_lib.config import GANConfig
from gan_lib.run.folder import RunFolder
from gan_lib.run.sampling import grid_labels, sample_from
from gan_lib.training.gan import GAN
from gan_lib.viz.gif import write_gif


def draw_frame(gan: GAN, config: GANConfig, fixed_noise: tf.Variable, preview: np.ndarray | None,
               step: int, detailed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The fixed noise's samples (from G's weight average, if on) and one uint8 picture: image
    grids (one row per class for a cGAN), or the 2D points (``preview``: real points) over D's
    decision surface (``detailed``: ``viz.plot_2d``'s figure with axes and legend)."""
    z = np.asarray(fixed_noise)
    labels = grid_labels(config.num_classes, len(z)) if config.num_classes else None
    z = z if labels is None else z[:len(labels)]
    fake = sample_from(gan.sampling_generator, config, z=z, labels=labels)
    if config.is_2d:
        lim = viz.points_limits(preview)
        if detailed:
            fig = viz.plot_2d(preview, fake, gan.discriminator, lim=lim, title=f"step {step}")
            return fake, viz.figure_to_array(fig)
        surface = viz.decision_surface(gan.discriminator, lim, resolution=64)
        return fake, viz.toy_frame(preview, fake, surface, lim, title=f"step {step}")
    if labels is not None:
        return fake, viz.image_grid(fake, ncols=len(labels) // config.num_classes)
    return fake, viz.image_grid(fake[:64])


def write_pictures(folder: RunFolder, samples: np.ndarray, history: dict, frames: list,
                   fps: float) -> None:
    """``samples.png`` (the last frame in detail), ``losses.png`` (once there is a row) and the
    GIF of ``frames`` (their paths, in order)."""
    folder.save_image(RunFolder.SAMPLES, samples)
    if len(history.get("step", [])):
        fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
        folder.save_image(RunFolder.LOSSES, fig)
        viz.plt.close(fig)
    write_gif(frames, folder.gif_path, fps=fps)
