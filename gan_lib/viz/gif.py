"""An animated GIF from frames (arrays or image files), encoded by Pillow.

A run's frames are PNG files under ``frames/`` (``gan_lib.run.frames.FrameStore``), each saved the
moment it is drawn, so a killed or disconnected run loses none of them. The GIF is encoded by
Pillow (``save_all`` with ``append_images``) from them, read one at a time, into a temporary file
that replaces the old GIF only when complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np
from PIL import Image

from gan_lib.atomic import atomic_path


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
