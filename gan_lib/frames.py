"""What a run shows: the fixed noise's picture (a GIF frame), samples.png, losses.png, the GIF.

The same noise batch is drawn at every frame "so it's easier to see progress in the GIF"
(the TF DCGAN tutorial). A conditional GAN's frame has one row per class.
"""

from __future__ import annotations

import numpy as np

from gan_lib import viz
from gan_lib.config import GANConfig
from gan_lib.run_folder import RunFolder
from gan_lib.sampling import generate, grid_labels


def fixed_noise_frame(config: GANConfig, gan, fixed_noise, preview: np.ndarray, step: int,
                      detailed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the fixed noise (from G's weight average, if on) and one uint8 picture.

    2D data: ``viz.toy_frame`` for the GIF (fast), or with ``detailed`` ``viz.plot_2d``'s
    Matplotlib figure with axes and legend (``samples.png``).
    """
    z = np.asarray(fixed_noise)
    labels = grid_labels(config.num_classes, len(z)) if config.num_classes else None
    z = z if labels is None else z[:len(labels)]
    fake = generate(gan.sampling_generator, config, z=z, labels=labels)
    if config.is_2d:
        lim = viz.points_limits(preview)
        if detailed:
            fig = viz.plot_2d(preview, fake, gan.discriminator, lim=lim, title=f"step {step}")
            return fake, viz.figure_to_array(fig)
        surface = viz.decision_surface(gan.discriminator, lim, resolution=64)
        return fake, viz.toy_frame(preview, fake, surface, lim, title=f"step {step}")
    if labels is not None:  # one row per class
        return fake, viz.image_grid(fake, ncols=len(labels) // config.num_classes)
    return fake, viz.image_grid(fake[:64])


def write_outputs(config: GANConfig, gan, fixed_noise, preview: np.ndarray, folder: RunFolder,
                  history: dict, save_generator: bool = True) -> None:
    """samples.png, losses.png (when there is a history row), progress.gif, generator.keras."""
    step = int(gan.step.numpy())
    folder.save_image(RunFolder.SAMPLES,
                      fixed_noise_frame(config, gan, fixed_noise, preview, step, True)[1])
    if history and len(history.get("step", [])):
        fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
        folder.save_image(RunFolder.LOSSES, fig)
        viz.plt.close(fig)
    folder.write_gif(config.gif_fps)
    if save_generator:
        folder.save_generator(gan.sampling_generator)  # the weight average, if on
