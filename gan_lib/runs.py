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
(``repair_checkpoints``).
"""

from __future__ import annotations

import csv
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
                     "latent_dim", "g_hidden", "model_width", "num_classes", "loss",
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


def has_checkpoint(run_dir: str | os.PathLike) -> bool:
    return (Path(run_dir) / "checkpoints" / "checkpoint").exists()


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


def _unreadable(prefix: str) -> str | None:
    """Why the checkpoint ``prefix`` cannot be read in full (index and every tensor), or None."""
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(prefix)
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)  # checks the tensor's checksum
    except (tf.errors.OpError, ValueError) as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None


def _state(folder: Path):
    """The checkpoint state of ``folder`` as (names oldest first, timestamps, proto) or None."""
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(folder))
    if state is None:
        return None
    # get_checkpoint_state makes paths absolute; the manager writes them relative to folder
    names = [Path(p).name for p in state.all_model_checkpoint_paths
             or [state.model_checkpoint_path]]
    return names, list(state.all_model_checkpoint_timestamps), state


def _keep_only(folder: Path, state, count: int) -> str | None:
    """Delete all but the oldest ``count`` checkpoints and rewrite the state file to match."""
    names, times, proto = state
    for name in names[count:]:
        for file in folder.glob(name + ".*"):
            file.unlink(missing_ok=True)
    if not count:
        (folder / "checkpoint").unlink(missing_ok=True)
        return None
    lines = [f'model_checkpoint_path: "{names[count - 1]}"']
    lines += [f'all_model_checkpoint_paths: "{n}"' for n in names[:count]]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in times[:count]]
    lines.append(f"last_preserved_timestamp: {proto.last_preserved_timestamp!r}")
    tmp = folder / "checkpoint.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, folder / "checkpoint")  # as TensorFlow does: never half a state file
    return str(folder / names[count - 1])


def repair_checkpoints(folder: str | os.PathLike) -> str | None:
    """Make the checkpoint state of ``folder`` name its newest checkpoint that reads in full.

    TensorFlow rewrites a checkpoint's ``.index`` in place when a checkpoint number is saved
    again, so a kill at that moment (or a half-synced copy of the folder) can leave the
    checkpoint the state names unreadable. Broken ones are deleted with a warning and the
    state file is rewritten to name the newest good one.

    Returns:
        The prefix of the checkpoint to resume from, or None if ``folder`` has no state file.
    Raises:
        GanLibError: no checkpoint the state lists can be read.
    """
    folder = Path(folder)
    state = _state(folder)
    if state is None:
        return None
    names = state[0]
    broken = []
    for name in reversed(names):  # newest first
        problem = _unreadable(str(folder / name))
        if problem is None:
            break
        broken.append(f"{name} ({problem})")
    else:
        raise GanLibError(f"no checkpoint in {folder} can be read: {'; '.join(broken)}. "
                          "This run cannot be resumed; train into a new --out folder")
    if not broken:
        return str(folder / name)
    good = _keep_only(folder, state, len(names) - len(broken))
    warnings.warn(f"{folder}: resuming from {Path(good).name}; the newer {'; '.join(broken)} "
                  "was cut off while being written (a killed session?) and has been deleted",
                  stacklevel=2)
    return good


def keep_checkpoints_before(folder: str | os.PathLike, step: int) -> str | None:
    """Delete the checkpoints of ``folder`` at ``step`` or later; returns the newest left.

    For divergence: a checkpoint at step c holds the weights after step c, and only a finite
    loss at step c + 1 shows they are sound, so checkpoints from the last finite history row
    on are not known to be good; a resume must not start from them.
    """
    folder = Path(folder)
    state = _state(folder)
    if state is None:
        return None
    numbers = [int(n.rpartition("-")[2]) for n in state[0]]
    return _keep_only(folder, state, sum(n < step for n in numbers))
