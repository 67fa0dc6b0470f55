"""``Run``: one training run, the one object that holds what a run has and does what it does.

A run has a config, a folder (``RunFolder``: the paths and the folder's own files), the data,
the GAN, the fixed noise, the checkpoints, the history file and the frames. ``Run.open``
makes it (a new run, or a resumed one cut back to its last checkpoint), ``Run.train`` runs its
steps (``gan_lib.run.loop``, which calls the periodic jobs ``check``, ``save_frame``,
``evaluate``, ``log`` and ``checkpoint``), and ``finish`` writes ``samples.png``, ``losses.png``,
the GIF and ``generator.keras``. ``Run.load`` is a saved run without data, for sampling and sharing.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from gan_lib.config import GANConfig
from gan_lib.data import TrainingData, check_source, load_dataset, outputs_root
from gan_lib.data.own_images import on_images
from gan_lib.errors import GanLibError
from gan_lib.metrics.alarm import DiscriminatorWinsAlarm
from gan_lib.metrics.evaluate import best_column, measure, metric_columns
from gan_lib.run.checkpoints import keep_checkpoints_before, repair_checkpoints, restore
from gan_lib.run.folder import RunFolder
from gan_lib.run.frames import FrameStore
from gan_lib.run.history import HistoryFile, read_history
from gan_lib.run.loop import run_steps
from gan_lib.run.pictures import draw_frame, write_pictures
from gan_lib.run.sampling import sample_from
from gan_lib.training.build import build_gan
from gan_lib.training.gan import GAN


@dataclass
class Run:
    """A run's state; ``train`` returns it. ``data``, ``history_file`` and ``frames`` are None
    for a run opened with ``Run.load`` (nothing to train on, nothing to write)."""

    config: GANConfig  # with ``epochs``: the steps counted from them
    folder: RunFolder
    gan: GAN
    fixed_noise: tf.Variable  # the same z at every frame, so the GIF shows G change
    checkpoints: tf.train.CheckpointManager
    data: TrainingData | None = None
    history_file: HistoryFile | None = None
    frames: FrameStore | None = None
    stopped: str = "loaded"  # after train: "steps", "time", "interrupted"
    alarm: DiscriminatorWinsAlarm | None = field(default=None, init=False, repr=False)
    summaries: tf.summary.SummaryWriter | None = field(default=None, init=False, repr=False)

    # --- what a run is ------------------------------------------------------------------------
    @property
    def out_dir(self):
        return self.folder.path

    @property
    def step(self) -> int:
        return int(self.gan.step.numpy())

    @property
    def history(self) -> dict[str, np.ndarray]:
        """``history.csv`` as columns of floats (``history["d_loss"]``), blank cells NaN."""
        if self.history_file is not None:
            return self.history_file.columns_dict()
        return read_history(self.folder.history_path)

    @property
    def metric_columns(self) -> tuple[str, ...]:
        """The quality columns of ``history.csv`` (``gan_lib.metrics.evaluate.metric_columns``)."""
        return metric_columns(self.config)

    # --- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, config: GANConfig, out_dir: str | os.PathLike | None = None, *,
             data_root: str | os.PathLike | None = None, resume: bool | str = False,
             epochs: int | None = None, strategy: tf.distribute.Strategy | None = None,
             images: str | os.PathLike | None = None) -> Run:
        """The run of ``config`` in ``out_dir``, ready to train: a new one, or (``resume``) the
        saved one restored from its last checkpoint, its history and frames cut back to it.
        ``images``: train on your own images (``gan_lib.data.own_images.on_images``)."""
        if images is not None:
            config = on_images(config, images)
        config.validate()
        check_source(config, data_root)  # a missing or tiny image folder: before any file
        folder = RunFolder(out_dir or outputs_root() / config.name)
        resume = folder.open(resume)
        if resume:
            folder.check_resumable(config)
            repair_checkpoints(folder.checkpoint_dir)  # falls back if the newest was cut off
        data = load_dataset(config, data_root)
        if epochs is not None:
            config = dataclasses.replace(config, steps=data.steps_for(epochs, config.batch_size))
        run = cls._build(config, folder, strategy, data)
        if resume:
            run.restore()
        with folder.disk_full_is_a_clear_error():  # Colab's disk or Drive quota: say so
            folder.write_config(config)
            run._files_up_to(run.step)
            if run.step == 0:
                run.frames.save(0, run.frame(0)[1])
        return run

    @classmethod
    def load(cls, run_dir: str | os.PathLike, *,
             strategy: tf.distribute.Strategy | None = None) -> Run:
        """The run in ``run_dir`` restored from its last checkpoint, without data or training
        and without writing a file (a run shared by ``gan_lib.share``)."""
        folder = RunFolder(run_dir)
        run = cls._build(folder.read_config(), folder, strategy, None)
        if run.checkpoints.latest_checkpoint is None:
            raise GanLibError(f"{folder.path} has no checkpoint to open: train it first")
        run.restore(doing="open")
        return run

    @classmethod
    def _build(cls, config: GANConfig, folder: RunFolder, strategy, data) -> Run:
        gan = build_gan(config, strategy)
        fixed_noise = tf.Variable(tf.random.Generator.from_seed(config.seed + 1).normal(
            [config.num_fixed, config.latent_dim]), trainable=False, name="fixed_noise")
        manager = folder.checkpoint_manager(tf.train.Checkpoint(gan=gan, fixed_noise=fixed_noise),
                                            config.keep_checkpoints)
        return cls(config, folder, gan, fixed_noise, manager, data)

    def restore(self, doing: str = "resume", prefix: str | None = None) -> None:
        """The last checkpoint (or ``prefix``) into the GAN; the config's learning rates win over
        the saved ones (resuming with a lower rate, what a divergence asks for, takes effect)."""
        try:
            restore(self.checkpoints.checkpoint, prefix or self.checkpoints.latest_checkpoint
                    ).assert_existing_objects_matched()
        except (AssertionError, ValueError) as e:  # missing or misshapen variables
            raise GanLibError(
                f"cannot {doing} {self.folder.path}: its checkpoint does not fit the "
                f"{self.config.architecture} models this gan_lib builds (saved by another "
                f"version?): {str(e).strip().splitlines()[0][:200]}. "
                + ("Train into a new --out folder" if doing == "resume" else
                   "Install the gan_lib version that trained it, or train your own run")
            ) from None
        self.gan.g_optimizer.learning_rate = self.config.g_learning_rate
        self.gan.d_optimizer.learning_rate = self.config.d_learning_rate

    def _files_up_to(self, step: int) -> None:
        """The history and the frames, cut back to ``step`` (the restored one: later rows and
        frames belong to a session that was not checkpointed)."""
        self.frames = FrameStore(self.folder.frames_dir)
        self.frames.prune_after(step)
        self.history_file = HistoryFile(self.folder.history_path,
                                        self.gan.metric_names + self.metric_columns)
        self.history_file.truncate_after(step)

    def train(self, progress: bool = True) -> str:
        """Train to ``config.steps`` (or the time budget, or a stop); returns why it stopped."""
        self.alarm = DiscriminatorWinsAlarm.for_loss(self.config.loss)  # warns once a session
        if self.config.tensorboard:
            self.summaries = self.folder.summary_writer()
        with self.folder.disk_full_is_a_clear_error():
            self.stopped = run_steps(self, progress)
        return self.stopped

    # --- the periodic jobs (gan_lib.run.loop) -------------------------------------------------
    def check(self, step: int, row: dict, seconds: float) -> None:
        """Stop on a NaN/Inf loss in ``row`` (``roll_back``); warn once if D keeps winning."""
        bad = [k for k in ("d_loss", "g_loss") if k in row and not math.isfinite(row[k])]
        if bad:
            self.roll_back(step, row, bad, seconds)
        if row:
            self.alarm.check(row, step)

    def save_frame(self, step: int) -> dict[str, float]:
        """The fixed noise's frame into frames/ (and TensorBoard); for 2D points, their quality
        numbers for the history row (cheap: the points are at hand)."""
        fake, frame = self.frame(step)
        self.frames.save(step, frame)
        if self.summaries is not None:
            with self.summaries.as_default(step=step):
                tf.summary.image("fixed_noise", frame[None])
        return measure(fake, self.config) if self.config.is_2d else {}

    def evaluate(self, step: int) -> dict[str, float]:
        """The quality columns at ``step``, of ``config.eval_samples`` fresh samples (none for 2D
        points: ``save_frame`` has them). When the column ``evaluate.best_column`` names is the
        run's lowest yet, ``generator_best.keras`` and ``best.json`` keep this generator: a run
        that collapses late keeps its best generator beside its last."""
        config = self.config
        if not self.metric_columns or config.is_2d:
            return {}
        fake = sample_from(self.gan.sampling_generator, config, config.eval_samples,
                           seed=config.seed)
        metrics = measure(fake, config, self.data.images)
        row = {k: metrics[k] for k in self.metric_columns if k in metrics}
        column = best_column(config)
        value = row.get(column) if column else None
        if value is not None and math.isfinite(value):
            best = self.folder.read_best()
            if best is None or value < best["value"]:
                self.folder.save_generator(self.gan.sampling_generator,
                                           {"step": step, "metric": column, "value": float(value)})
        return row

    def log(self, step: int, row: dict, seconds: float) -> None:
        """``row`` into history.csv, and its scalars into TensorBoard."""
        self.history_file.append({"step": step, "seconds": seconds, **row})
        if self.summaries is not None:
            with self.summaries.as_default(step=step):
                for key, value in row.items():
                    tf.summary.scalar(key, value)

    def roll_back(self, step: int, row: dict, bad: list[str], seconds: float) -> None:
        """Stop on NaN/Inf: keep the last good checkpoint and write the outputs from it."""
        last_logged = self.history_file.last_step or 0
        self.history_file.append({"step": step, "seconds": seconds, **row})
        # Only a finite loss at step c + 1 vouches for the weights saved at step c: drop the
        # checkpoints from the last finite row on, so that a resume starts from sound weights.
        last_good = keep_checkpoints_before(self.checkpoints.directory, last_logged)
        if last_good:  # outputs from the last good weights, not the broken ones
            self.restore(doing="roll back", prefix=last_good)
            self.write_outputs()
        where = (f"the last good checkpoint is {last_good}" if last_good
                 else "no checkpoint before it is known to be good")
        raise GanLibError(f"training diverged at step {step}: {' and '.join(bad)} became "
                          f"{', '.join(str(row[k]) for k in bad)}; {where}. "
                          "Try a lower learning rate.")

    def frame(self, step: int, detailed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The fixed noise's samples and their picture (``pictures.draw_frame``)."""
        preview = self.data.preview if self.config.is_2d else None
        return draw_frame(self.gan, self.config, self.fixed_noise, preview, step, detailed)

    def checkpoint(self, step: int) -> None:
        """A checkpoint of ``step``, unless the last one is of it already: TensorFlow rewrites
        a saved number's .index in place, and a kill then would break the one the state names."""
        if not (self.checkpoints.latest_checkpoint or "").endswith(f"-{step}"):
            self.checkpoints.save(checkpoint_number=step)

    def finish(self) -> None:
        """samples.png, losses.png (once there is a row), progress.gif, generator.keras."""
        with self.folder.disk_full_is_a_clear_error():
            self.checkpoint(self.step)
            self.write_outputs()

    def write_outputs(self) -> None:
        """The pictures, the GIF and the generator of the weights the GAN holds now."""
        write_pictures(self.folder, self.frame(self.step, detailed=True)[1], self.history,
                       self.frames.paths(), self.config.gif_fps)
        self.folder.save_generator(self.gan.sampling_generator)  # the weight average, if on
