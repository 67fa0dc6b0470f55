"""Progress frames on disk and their GIF, streamed so memory does not grow with frame count.

Each frame of the fixed noise batch is saved as its own PNG under ``frames/`` the moment it is
drawn, so a killed or disconnected run loses none of them. The GIF is then assembled by reading
one frame at a time and appending it to the file (``GifStreamWriter``), into a temporary file
that replaces the old GIF only when complete.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable
from pathlib import Path

import imageio
import imageio.v3  # noqa: F401  (imports the v3 API onto the imageio module)
import numpy as np
from PIL import Image

_FRAME = re.compile(r"^step_(\d+)\.png$")


def _atomic_target(path: Path) -> Path:
    return path.with_name(f".tmp{os.getpid()}_{path.name}")  # keeps the suffix imageio needs


class FrameStore:
    """PNG frames in one folder, named by training step (``step_0000500.png``)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, step: int, frame: np.ndarray) -> Path:
        """Write ``frame`` (uint8 ``[H, W, 3]``) for ``step``: write-then-rename, never half."""
        path = self.folder / f"step_{step:07d}.png"
        tmp = _atomic_target(path)
        # PIL at zlib level 3: half the time of imageio's default (level 6) for ~1.4x the
        # bytes; a frame is written every sample_every steps, inside the training loop.
        Image.fromarray(np.asarray(frame, np.uint8)).save(tmp, format="PNG", compress_level=3)
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


class GifStreamWriter:
    """An animated GIF written frame by frame: memory holds one frame, never the whole film.

    imageio encodes each frame as a one-frame GIF (palette quantisation and LZW compression);
    this class moves that frame's blocks into the animation, turning its colour table into a
    local one, behind a GIF89a header with a NETSCAPE loop extension. (imageio's own GIF
    writers keep every frame in memory until close, or are broken with Pillow 13.)
    """

    def __init__(self, path: str | os.PathLike, fps: float = 8.0, loop: int = 0):
        self.path = Path(path)
        self.delay = max(1, round(100 / fps))  # GIF delays are in 1/100 s
        self.loop = loop
        self.size: tuple[int, int] | None = None
        self.count = 0
        self._file = open(self.path, "wb")

    def append(self, frame: np.ndarray) -> None:
        """Add one uint8 ``[H, W, 3]`` frame. A frame of another size than the first (a run
        folder continued by another gan_lib version, whose frames look different) is scaled
        to the first one's size: a GIF has one size."""
        frame = np.ascontiguousarray(np.asarray(frame, np.uint8)[..., :3])
        height, width = frame.shape[:2]
        if self.size is None:
            self.size = (width, height)
            self._file.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0))
            self._file.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01"
                             + struct.pack("<H", self.loop) + b"\x00")
        elif self.size != (width, height):
            frame = np.asarray(Image.fromarray(frame).resize(self.size, Image.BILINEAR))
        one = imageio.v3.imwrite("<bytes>", frame, extension=".gif")
        self._file.write(_frame_blocks(one, self.delay))
        self.count += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.write(b"\x3b")  # trailer
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _frame_blocks(gif: bytes, delay: int) -> bytes:
    """A graphic control extension, image descriptor, local colour table and image data."""
    flags = gif[10]
    table = 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0
    palette, pos = gif[13:13 + table], 13 + table
    while gif[pos] == 0x21:  # skip the one-frame file's own extensions
        pos += 2
        while gif[pos]:
            pos += gif[pos] + 1
        pos += 1
    if gif[pos] != 0x2C:
        raise ValueError("unexpected GIF layout from the frame encoder")
    descriptor = bytearray(gif[pos:pos + 10])
    if table and not descriptor[9] & 0x80:  # move the global colour table to a local one
        descriptor[9] = (descriptor[9] & 0x40) | 0x80 | (flags & 7)
    else:
        palette = b""
    control = b"\x21\xf9\x04\x04" + struct.pack("<H", delay) + b"\x00\x00"  # dispose: keep
    return control + bytes(descriptor) + palette + gif[pos + 10:].rstrip(b"\x3b")


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
    last = None
    try:
        with GifStreamWriter(tmp, fps=fps) as writer:
            for frame in frames:
                if isinstance(frame, (str, os.PathLike)):
                    frame = imageio.v3.imread(frame)
                last = frame
                writer.append(frame)
            for _ in range(hold_last if last is not None else 0):
                writer.append(last)
            count = writer.count - (hold_last if last is not None else 0)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if count:
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)
    return count
