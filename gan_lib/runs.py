"""A run folder on disk: its config, its history, its checkpoints. Nothing is lost on a restart.

Layout of ``DIR``::

    config.json      the GANConfig the run was started with
    history.csv      one row per logged step: step, seconds, d_loss, g_loss, ...
    checkpoints/     tf.train.CheckpointManager: models, optimisers, step, fixed noise
    frames/          one PNG per progress frame (gan_lib.gif.FrameStore)
    progress.gif, samples.png, losses.png, generator.keras   written at the end of each session

Every file is written under a temporary name and renamed when complete, so a session killed at
any moment (a Colab runtime dying) leaves complete files plus temporary leftovers, which the
next session deletes (``remove_leftovers``) before it trusts the checkpoints
(``gan_lib.checkpoints.repair_checkpoints``).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import math
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError

# Fields that fix the shape of the networks: a run cannot be resumed with other values.
STRUCTURAL_FIELDS = ("dataset", "toy_distribution", "image_size", "channels", "architecture",
                     "latent_dim", "g_hidden", "model_width", "d_batch_norm", "num_classes", "loss",
                     "spectral_norm", "ema_decay", "mixed_precision")


class History:
    """``history.csv``, appended one row at a time and flushed, so a killed run keeps its rows."""

    def __init__(self, path: str | os.PathLike, columns: tuple[str, ...]):
        self.path = Path(path)
        self.columns = ("step", "seconds") + tuple(columns)

    def truncate_after(self, step: int) -> None:
        """Drop rows later than ``step`` (and a half-written last line) before appending again."""
        if not self.path.exists():
            return
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            return
        header, body = rows[0], rows[1:]
        keep = [r for r in body if len(r) == len(header) and r[0] and int(r[0]) <= step]
        if tuple(header) != self.columns:
            keep = self._migrate(header, keep)
        self._write_all([list(self.columns)] + keep)

    def _migrate(self, header: list[str], rows: list[list[str]]) -> list[list[str]]:
        """Rows of a history written with other columns (an older gan_lib), by column name:
        new columns stay empty for the earlier rows (NaN when read), dropped ones go."""
        if header[:2] != ["step", "seconds"]:
            raise GanLibError(f"{self.path} is not a gan_lib history (its columns are "
                              f"{header}); move it away or train into a new --out folder")
        added = [c for c in self.columns if c not in header]
        dropped = [c for c in header if c not in self.columns]
        warnings.warn(f"{self.path}: written by another gan_lib version; "
                      + "; ".join(f"{what} columns {names}" for what, names in
                                  (("added empty", added), ("dropped", dropped)) if names),
                      stacklevel=3)
        return [[dict(zip(header, r)).get(c, "") for c in self.columns] for r in rows]

    def _write_all(self, rows) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        os.replace(tmp, self.path)

    def append(self, row: dict) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(self.columns)
            writer.writerow([_fmt(row.get(c)) for c in self.columns])

    def last_seconds(self) -> float:
        data = read_history(self.path) if self.path.exists() else {}
        seconds = data.get("seconds", [])
        return float(seconds[-1]) if len(seconds) else 0.0


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.6g}"


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``history.csv`` as columns of floats (blank cells are NaN); ``{}`` if there is no file."""
    path = Path(path)
    if path.is_dir():
        path = path / "history.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    return {name: np.array([float(r[i]) if r[i] else np.nan for r in body])
            for i, name in enumerate(header)}


def write_config(path: str | os.PathLike, config: GANConfig) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")  # a kill mid-write must not cost the run its config
    with open(tmp, "w") as f:
        json.dump(config.to_dict(), f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_config(run_dir: str | os.PathLike) -> GANConfig:
    path = Path(run_dir) / "config.json"
    try:
        with open(path) as f:
            return GANConfig.from_dict(json.load(f))
    except FileNotFoundError:
        raise GanLibError(f"{run_dir} is not a run folder (no config.json)") from None
    except (json.JSONDecodeError, TypeError) as e:
        raise GanLibError(f"{path} is not a valid config: {e}") from None


def check_resumable(saved: GANConfig, wanted: GANConfig) -> None:
    """Refuse to resume when the networks' shapes or the game would change."""
    diffs = [f"{k}: {getattr(saved, k)!r} -> {getattr(wanted, k)!r}"
             for k in STRUCTURAL_FIELDS if getattr(saved, k) != getattr(wanted, k)]
    if saved.name != wanted.name:
        diffs.insert(0, f"config: {saved.name!r} -> {wanted.name!r}")
    if diffs:
        raise GanLibError("cannot resume: the run was started with another model ("
                          + "; ".join(diffs) + "); use a new --out folder")


# What writers leave behind when killed before their rename: ours (gan_lib.gif, loop, History,
# write_config, evaluate, prepare_out_dir's probe) and TensorFlow's checkpoint parts and state.
# Only our own names in the run folder itself, which may also hold the user's files.
_LEFTOVERS = {
    "": re.compile(r"^\.tmp\d*_(progress\.gif|generator\.keras)$"
                   r"|^(history\.csv|config\.json|metrics\.json)\.tmp$|^\.write_test$"),
    "frames": re.compile(r"^\.tmp"),
    "checkpoints": re.compile(r"^checkpoint\.tmp|_temp$|\.tempstate\d+$"),
}


def remove_leftovers(run_dir: str | os.PathLike) -> list[Path]:
    """Delete the temporary files a killed session left in ``run_dir``; returns them.

    Only call this when no session is writing to the folder (at the start of one).
    """
    found = [p for sub, pattern in _LEFTOVERS.items() if (Path(run_dir) / sub).is_dir()
             for p in (Path(run_dir) / sub).iterdir() if pattern.search(p.name)]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


_DISK_FULL = ("No space left on device", "Disk quota exceeded")  # TensorFlow's messages


@contextlib.contextmanager
def disk_full_is_a_clear_error(run_dir: str | os.PathLike):
    """Turn a full disk (or Drive quota) while a run writes into one ``GanLibError`` that says
    what to do. Every file is renamed into place only when complete, so the run resumes from
    its last complete checkpoint once there is space."""
    try:
        yield
    except Exception as e:
        full = (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
                or any(text in str(e) for text in _DISK_FULL))
        if not full:
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GanLibError(f"the disk holding {run_dir} is full ({first}); free some space "
                          "(old runs in outputs/, files on Drive), then train again with "
                          "resume: the run continues from its last complete checkpoint") from None
