"""A run's frames on disk (``frames/step_*.png``): the fixed noise's picture every
``sample_every`` steps (``Run.frame`` draws it), the GIF's source. A leaf: Pillow, no plots."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lib.atomic import atomic_path

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
