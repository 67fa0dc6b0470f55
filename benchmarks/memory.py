"""Peak resident memory of a cats64 run and of GIF export, each in a fresh subprocess.

The peak is the child's ``VmHWM`` (``/proc/self/status``), the high-water mark of its own
memory. Its ``ru_maxrss`` is NOT used: on Linux it carries over the parent's peak through
fork and exec, so every child of this (TensorFlow-sized) process would report at least that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

_PEAK = """
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print("PEAK", line.split()[1])  # kB
"""

_CATS64 = """
import dataclasses, sys
from gan_lib import get_config
from gan_lib import train
config = dataclasses.replace(get_config("cats64", quick=False), steps=1)
train(config, sys.argv[1], progress=False)
"""

_GIF = """
import json, sys
from gan_lib.viz.gif import write_gif
paths = json.loads(open(sys.argv[1]).read())
write_gif(paths, sys.argv[2])
"""


def _peak_mib(code: str, *args: str, timeout: float = 600) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + "\n" + _PEAK, *args],
                            capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode:
        raise RuntimeError(f"memory subprocess failed:\n{result.stderr[-2000:]}")
    peak_kib = next(int(line.split()[1]) for line in result.stdout.splitlines()
                    if line.startswith("PEAK"))
    return peak_kib / 1024


def cats64_run() -> float:
    """MiB at peak of ``train`` on cats64 (default batch 128, models, data) for one step, with
    two frames, a checkpoint, the plots, the GIF and ``generator.keras``."""
    with tempfile.TemporaryDirectory() as out:
        return _peak_mib(_CATS64, str(Path(out) / "run"))


def gif_export(counts=(0, 50, 500), distinct: int = 50) -> dict[int, float]:
    """MiB at peak of ``write_gif`` over ``count`` frame files of 530x530 cat grids (0: the
    interpreter with gan_lib.viz.gif imported, the baseline).

    ``distinct`` real frames (8x8 grids of shared cat faces, as cats64's frames) are written
    once; longer films cycle through them, still read from disk one frame at a time.
    """
    from gan_lib import viz
    from gan_lib.data.cats import load_cat_faces
    from gan_lib.run.frames import FrameStore

    faces = load_cat_faces(image_size=64, progress=False)
    rng = np.random.default_rng(0)
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = FrameStore(Path(tmp) / "frames")
        for i in range(distinct):
            grid = faces[rng.choice(len(faces), 64, replace=False)].astype(np.float32)
            store.save(i, viz.image_grid(grid / 127.5 - 1.0))
        files = [str(p) for p in store.paths()]
        for count in counts:
            listing = Path(tmp) / f"frames_{count}.json"
            listing.write_text(json.dumps([files[i % distinct] for i in range(count)]))
            peaks[count] = _peak_mib(_GIF, str(listing), str(Path(tmp) / f"film_{count}.gif"))
    return peaks
