"""What a run shows: the fixed noise's picture (a GIF frame) and the frames on disk
(``FrameStore``), samples.png, losses.png, the GIF.

The same noise batch is drawn at every frame "so it's easier to see progress in the GIF"
(the TF DCGAN tutorial). A conditional GAN's frame has one row per class.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lib import viz
from gan_lib.atomic import atomic_path
from gan_lib.config import GANConfig
from gan_lib.gif import write_gif
from gan_lib.run_folder import RunFolder
from gan_lib.sampling import generate, grid_labels

_FRAME = re.compile(r"^step_(\d+)\.png$")


class FrameStore:
    """PNG frames in one folder, named by training step (``step_0000500.png``)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, step: int) -> Path:
        return self.folder / f"step_{step:07d}.png"

    def save(self, step: int, frame: np.ndarray) -> Path:
        """Write ``frame`` (uint8 ``[H, W, 3]``) for ``step``: write-then-rename, never half."""
        with atomic_path(self.path(step)) as tmp:
            # zlib level 3: half the time of level 6 for ~1.4x the bytes; a frame is written
            # every sample_every steps, inside the training loop.
            Image.fromarray(np.asarray(frame, np.uint8)).save(tmp, format="PNG",
                                                              compress_level=3)
        return self.path(step)

    def steps(self) -> list[int]:
        """Steps that have a frame, in order."""
        found = (_FRAME.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def paths(self) -> list[Path]:
        return [self.path(s) for s in self.steps()]

    def prune_after(self, step: int) -> int:
        """Delete frames later than ``step`` (they belong to a run that was not checkpointed)."""
        late = [s for s in self.steps() if s > step]
        for s in late:
            self.path(s).unlink()
        return len(late)


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
                  frames: FrameStore, history: dict) -> None:
    """samples.png, losses.png (when there is a history row), progress.gif (from ``frames``),
    generator.keras."""
    step = int(gan.step.numpy())
    folder.save_image(RunFolder.SAMPLES,
                      fixed_noise_frame(config, gan, fixed_noise, preview, step, True)[1])
    if history and len(history.get("step", [])):
        fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
        folder.save_image(RunFolder.LOSSES, fig)
        viz.plt.close(fig)
    write_gif(frames.paths(), folder.gif_path, fps=config.gif_fps)
    folder.save_generator(gan.sampling_generator)  # the weight average, if on
