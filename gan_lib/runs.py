"""A run folder on disk: its config, its history, its checkpoints. Nothing is lost on a restart.

Layout of ``DIR``::

    config.json      the GANConfig the run was started with
    history.csv      one row per logged step: step, seconds, d_loss, g_loss, ...
    checkpoints/     tf.train.CheckpointManager: models, optimisers, step, fixed noise
    frames/          one PNG per progress frame (gan_lib.gif.FrameStore)
    progress.gif, samples.png, losses.png, generator.keras   written at the end of each session
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError

# Fields that fix the shape of the networks: a run cannot be resumed with other values.
STRUCTURAL_FIELDS = ("dataset", "toy_distribution", "image_size", "channels", "architecture",
                     "latent_dim", "g_hidden", "model_width", "num_classes", "loss",
                     "spectral_norm", "ema_decay")


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
            raise GanLibError(f"{self.path} has columns {header}, expected {list(self.columns)}")
        self._write_all([header] + keep)

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
    with open(path, "w") as f:
        json.dump(config.to_dict(), f, indent=2)
        f.write("\n")


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


def has_checkpoint(run_dir: str | os.PathLike) -> bool:
    return (Path(run_dir) / "checkpoints" / "checkpoint").exists()
