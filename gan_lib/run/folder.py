"""A run folder on disk, and the one object that knows its files. Nothing is lost on a restart.

Layout of ``DIR`` (``RunFolder`` alone builds these names)::

    config.json      the fields of the GANConfig that shaped the run
    history.csv      one row per logged step: step, seconds, d_loss, g_loss, ...
    checkpoints/     tf.train.CheckpointManager: models, optimisers, step, fixed noise
    frames/          one PNG per progress frame (gan_lib.run.frames.FrameStore)
    progress.gif, samples.png, losses.png, generator.keras   written at the end of each session
    metrics.json     written by ``gan_lib evaluate``
    tensorboard/     optional TensorBoard logs

``RunFolder`` is the paths and the folder's own files (config, metrics, generator, images); the
history (``gan_lib.run.history.HistoryFile``), the frames (``gan_lib.run.frames.FrameStore``) and
the GIF (``gan_lib.viz.gif.write_gif``) are made by ``gan_lib.run.run.Run`` at ``RunFolder``'s
paths. Every file is written under a temporary name (``.tmp_`` + its name) and renamed when
complete (``gan_lib.atomic.atomic_path``), so a session killed at any moment (a Colab runtime dying)
leaves complete files plus leftovers, which the next session deletes (``remove_leftovers``)
before it trusts the checkpoints (``gan_lib.run.checkpoints.repair_checkpoints``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from pathlib import Path

from gan_lib.atomic import TMP_PREFIX, atomic_path, write_json
from gan_lib.config import STRUCTURAL_FIELDS, GANConfig
from gan_lib.errors import GanLibError


class RunFolder:
    """The files of one run; train, evaluate, sample, the CLI and the benchmarks go through it."""

    CONFIG, HISTORY, METRICS = "config.json", "history.csv", "metrics.json"
    GENERATOR, SAMPLES, LOSSES, GIF = "generator.keras", "samples.png", "losses.png", "progress.gif"
    FRAMES, CHECKPOINTS, TENSORBOARD = "frames", "checkpoints", "tensorboard"
    NEAREST = "nearest_neighbours.png"  # evaluate's memorisation check (64x64 runs)
    BEST_GENERATOR, BEST = "generator_best.keras", "best.json"  # the best eval step's generator
    # TensorFlow's own temporary checkpoint names (a state file, a shard folder, a state probe)
    _TF_LEFTOVERS = re.compile(r"^checkpoint\.tmp|_temp$|\.tempstate\d+$")

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    config_path = property(lambda self: self.path / self.CONFIG)
    history_path = property(lambda self: self.path / self.HISTORY)
    metrics_path = property(lambda self: self.path / self.METRICS)
    generator_path = property(lambda self: self.path / self.GENERATOR)
    best_generator_path = property(lambda self: self.path / self.BEST_GENERATOR)
    best_path = property(lambda self: self.path / self.BEST)
    gif_path = property(lambda self: self.path / self.GIF)
    checkpoint_dir = property(lambda self: self.path / self.CHECKPOINTS)
    frames_dir = property(lambda self: self.path / self.FRAMES)
    tensorboard_dir = property(lambda self: self.path / self.TENSORBOARD)

    # --- opening -----------------------------------------------------------------------------
    def has_checkpoint(self) -> bool:
        return (self.checkpoint_dir / "checkpoint").exists()

    def open(self, resume: bool | str) -> bool:
        """Create (or check) the folder; returns whether to resume from a checkpoint.

        ``resume=True`` or ``"auto"`` on a folder without a checkpoint (a run killed before its
        first one) starts from step 0 and says so; its history and frames are cleared.
        """
        if self.path.exists() and not self.path.is_dir():
            raise GanLibError(f"output folder {self.path} is a file; choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / (TMP_PREFIX + "write_test")
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise GanLibError(f"cannot write to output folder {self.path}: "
                              f"{e.strerror or e}") from None
        self.remove_leftovers()
        if self.has_checkpoint():
            if not resume:
                raise GanLibError(f"{self.path} already holds a run; pass --resume (resume=True) "
                                  "to continue it, or choose another output folder")
            return True
        started = self.history_path.exists() or self.frames_dir.exists()
        if resume is True or resume and started:
            why = "the run stopped before its first one" if started else "a new run"
            print(f"{self.path}: nothing to resume, no checkpoint yet ({why}): training starts "
                  "from step 0", flush=True)
        for stale in (self.history_path, self.best_path, self.best_generator_path):
            stale.unlink(missing_ok=True)
        shutil.rmtree(self.frames_dir, ignore_errors=True)
        return False

    def remove_leftovers(self) -> list[Path]:
        """Delete the temporary files a killed session left; returns them. Only our own names
        in the folder itself (it may hold the user's files), and TensorFlow's in checkpoints/."""
        found = [p for sub, pattern in (("", re.compile("^" + re.escape(TMP_PREFIX))),
                                        (self.FRAMES, re.compile("^" + re.escape(TMP_PREFIX))),
                                        (self.CHECKPOINTS, self._TF_LEFTOVERS))
                 if (self.path / sub).is_dir()
                 for p in (self.path / sub).iterdir() if pattern.search(p.name)]
        for path in found:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return found

    # --- config ------------------------------------------------------------------------------
    def write_config(self, config: GANConfig) -> None:
        write_json(self.config_path, config.to_dict())

    def read_config(self) -> GANConfig:
        try:
            with open(self.config_path) as f:
                return GANConfig.from_dict(json.load(f))
        except FileNotFoundError:
            raise GanLibError(f"{self.path} is not a run folder (no {self.CONFIG})") from None
        except (json.JSONDecodeError, TypeError) as e:
            raise GanLibError(f"{self.config_path} is not a valid config: {e}") from None

    def check_resumable(self, wanted: GANConfig) -> None:
        """Refuse to resume when the networks' shapes or the game would change."""
        saved = self.read_config()
        diffs = [f"{k}: {getattr(saved, k)!r} -> {getattr(wanted, k)!r}"
                 for k in STRUCTURAL_FIELDS if getattr(saved, k) != getattr(wanted, k)]
        if saved.name != wanted.name:
            diffs.insert(0, f"config: {saved.name!r} -> {wanted.name!r}")
        if diffs:
            raise GanLibError("cannot resume: the run was started with another model ("
                              + "; ".join(diffs) + "); use a new --out folder")

    # --- the files ---------------------------------------------------------------------------
    def checkpoint_manager(self, checkpoint, keep: int):
        import tensorflow as tf

        return tf.train.CheckpointManager(checkpoint, self.checkpoint_dir, max_to_keep=keep)

    def summary_writer(self):
        """A TensorBoard writer into ``tensorboard/``."""
        try:
            import tensorboard  # noqa: F401  (tf.summary needs it; Colab has it)
        except ImportError:
            raise GanLibError("tensorboard=True needs the tensorboard package: "
                              "pip install tensorboard") from None
        import tensorflow as tf

        return tf.summary.create_file_writer(str(self.tensorboard_dir))

    def save_generator(self, model, best: dict | None = None) -> None:
        """``generator.keras``; with ``best`` (its step, metric and value) the best one instead:
        ``generator_best.keras``, then ``best.json`` (which names a complete file)."""
        with atomic_path(self.best_generator_path if best else self.generator_path) as tmp:
            model.save(tmp)
        if best:
            write_json(self.best_path, best)

    def read_best(self) -> dict | None:
        """``best.json``: the step, metric and value of ``generator_best.keras``, or None."""
        try:
            with open(self.best_path) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def load_generator(self, best: bool = False):
        """``generator.keras`` (the last), or with ``best`` ``generator_best.keras``."""
        path, name = ((self.best_generator_path, self.BEST_GENERATOR) if best
                      else (self.generator_path, self.GENERATOR))
        if not path.exists():
            raise GanLibError(f"{self.path} has no {name}: " + (
                "its run kept no best generator (only runs with a quality metric at eval steps "
                "do)" if best else "train it first"))
        import keras

        return keras.models.load_model(path, compile=False)

    def save_image(self, name: str, image) -> None:
        """A uint8 ``[H, W, 3]`` array as PNG (``samples.png``) or a Matplotlib figure."""
        with atomic_path(self.path / name) as tmp:
            if hasattr(image, "savefig"):
                image.savefig(tmp, dpi=100, format="png")
            else:
                from PIL import Image

                Image.fromarray(image).save(tmp, format="PNG")

    def write_metrics(self, metrics: dict) -> None:
        write_json(self.metrics_path, metrics)

    @contextlib.contextmanager
    def disk_full_is_a_clear_error(self):
        """A full disk (or Drive quota) while the run writes becomes one ``GanLibError`` that
        says what to do: every file is renamed into place only when complete, so the run resumes
        from its last complete checkpoint once there is space."""
        try:
            yield
        except Exception as e:
            full = (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
                    or any(t in str(e) for t in ("No space left on device", "Disk quota exceeded")))
            if not full:
                raise
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise GanLibError(f"the disk holding {self.path} is full ({first}); free some space "
                              "(old runs in outputs/, files on Drive), then train again with "
                              "resume: the run continues from its last complete checkpoint"
                              ) from None
