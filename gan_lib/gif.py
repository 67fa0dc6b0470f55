"""Progress frames on disk and their GIF, streamed so memory does not grow with frame count.

Each frame of the fixed noise batch is saved as its own PNG under ``frames/`` the moment it is
drawn, so a killed or disconnected run loses none of them. The GIF is then assembled by reading
one frame at a time into imageio's streaming GIF writer, into a temporary file that replaces the
old GIF only when complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

_FRAME = re.compile(r"^step_(\d+)\.png$")


def _atomic_target(path: Path) -> Path:
    return path.with_name(f".tmp{os.getpid()}_{path.name}")  # keeps the suffix imageio needs


class FrameStore:
    """PNG frames in one folder, named by training step (``step_0000500.png``)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, step: int, frame: np.ndarray) -> Path:
        """Write ``frame`` (uint8 ``[H, W, 3]``) for ``step``; write-then-rename, never half a file."""
        path = self.folder / f"step_{step:07d}.png"
        tmp = _atomic_target(path)
        imageio.imwrite(tmp, np.asarray(frame, np.uint8), format="PNG")
        os.replace(tmp, path)
        return path

    def steps(self) -> list[int]:
        """Steps that have a frame, in order."""
        found = (_FRAME.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def paths(self) -> list[Path]:
        return [self.folder / f"step_{s:07d}.png" for s in self.steps()]

    def prune_after(self, step: int) -> int:
        """Delete frames later than ``step`` (they belong to a run that was not checkpointed)."""
        late = [s for s in self.steps() if s > step]
        for s in late:
            (self.folder / f"step_{s:07d}.png").unlink()
        return len(late)


def write_gif(frames: Iterable, path: str | os.PathLike, fps: float = 8.0,
              hold_last: int = 4) -> int:
    """Stream frames into an animated GIF that loops forever.

    Args:
        frames: uint8 ``[H, W, 3]`` arrays or paths to image files, consumed one at a time
            (pass a generator or a list of paths: memory stays at one frame).
        path: the GIF to write; it is replaced only once the new one is complete.
        fps: frames per second.
        hold_last: repeat the last frame this many times, so the final state is visible.
    Returns:
        The number of distinct frames written (0 writes nothing).
    """
    path = Path(path)
    tmp = _atomic_target(path)
    count = 0
    last = None
    # imageio's "GIF-PIL" writer encodes and writes each frame as it arrives (unlike
    # Pillow's save_all, which keeps every frame in memory until the end).
    writer = imageio.get_writer(tmp, format="GIF-PIL", mode="I", duration=1.0 / fps, loop=0)
    try:
        for frame in frames:
            if isinstance(frame, (str, os.PathLike)):
                frame = imageio.imread(frame)
            last = np.asarray(frame, np.uint8)[..., :3]
            writer.append_data(last)
            count += 1
        for _ in range(hold_last if count else 0):
            writer.append_data(last)
    finally:
        writer.close()
    if count:
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)
    return count
