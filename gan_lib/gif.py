"""Progress frames on disk, and their GIF.

Each frame of the fixed noise batch is saved as its own PNG under ``frames/`` the moment it is
drawn, so a killed or disconnected run loses none of them. The GIF is then encoded by Pillow
(``save_all`` with ``append_images``) from the frame files, read one at a time, into a temporary
file that replaces the old GIF only when complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lib.run_folder import atomic_path

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


def _images(frames: Iterable, delay: int, hold_last: int) -> Iterator[Image.Image]:
    """PIL RGB images of ``frames`` (arrays or files), one at a time, each with its duration,
    all at the first's size (a run folder continued by another gan_lib version may hold frames
    of another size). The last one is shown ``hold_last`` frame-times longer."""
    size, previous = None, None
    for frame in frames:
        if isinstance(frame, (str, os.PathLike)):
            with Image.open(frame) as f:
                image = f.convert("RGB")
        else:
            image = Image.fromarray(np.asarray(frame, np.uint8)[..., :3])
        size = size or image.size
        if image.size != size:
            image = image.resize(size, Image.BILINEAR)
        image.info["duration"] = delay
        if previous is not None:
            yield previous
        previous = image
    if previous is not None:
        previous.info["duration"] = delay * (1 + hold_last)
        yield previous


def write_gif(frames: Iterable, path: str | os.PathLike, fps: float = 8.0,
              hold_last: int = 4) -> int:
    """An animated GIF that loops forever, encoded by Pillow.

    Args:
        frames: uint8 ``[H, W, 3]`` arrays or paths to image files, read one at a time.
        path: the GIF to write; it is replaced only once the new one is complete.
        fps: frames per second.
        hold_last: show the last frame this many frame-times longer, so the end is visible.
    Returns:
        The number of frames written (0 writes nothing and leaves an old GIF alone).
    """
    delay = max(10, round(100 / fps) * 10)  # GIF delays are whole 1/100 s
    images = _images(frames, delay, hold_last)
    first = next(images, None)
    if first is None:
        return 0
    count = [1]

    def counted():
        for image in images:
            count[0] += 1
            yield image

    with atomic_path(path) as tmp:
        first.save(tmp, format="GIF", save_all=True, append_images=counted(), loop=0,
                   disposal=1)
    return count[0]
