"""``Run``: one training run, the one object that holds what a run has and does what it does.

A run has a config, a folder (``RunFolder``: the paths and the folder's own files), the data,
the GAN, the fixed noise, the checkpoints, the history file and the frames. ``Run.open``
makes it (a new run, or a resumed one cut back to its last checkpoint), ``Run.train`` runs its
steps (``gan_lib.run.loop``), ``frame``/``log``/``measure`` are the periodic jobs the
``Schedule`` asks for, and ``finish`` writes ``samples.png``, ``losses.png``, the GIF and
``generator.keras``. ``Run.load`` is a saved run without data, for sampling and sharing.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from gan_lib import viz
from gan_lib.build import build_gan
from gan_lib.config import GANConfig
from gan_lib.data import TrainingData, check_source, load_dataset, outputs_root
from gan_lib.data.own_images import on_images
from gan_lib.errors import GanLibError
from gan_lib.evaluate import best_column, measure, metric_columns
from gan_lib.gan import GAN
from gan_lib.gif import write_gif
from gan_lib.run.checkpoints import repair_checkpoints, restore
from gan_lib.run.folder import RunFolder
from gan_lib.run.frames import FrameStore
from gan_lib.run.history import HistoryFile, read_history
from gan_lib.run.loop import run_steps
from gan_lib.run.schedule import Schedule
from gan_lib.sampling import grid_labels, sample_from


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
    schedule: Schedule = field(init=False)

    def __post_init__(self):
        self.schedule = Schedule.from_config(self.config)

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
        """The quality columns of ``history.csv`` (``gan_lib.evaluate.metric_columns``)."""
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
            config = _for_epochs(config, epochs, data.num_examples)
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
        with self.folder.disk_full_is_a_clear_error():
            self.stopped = run_steps(self, progress)
        return self.stopped

    # --- the periodic jobs ------------------------------------------------------------------
    def frame(self, step: int, detailed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The fixed noise's samples (from G's weight average, if on) and one uint8 picture:
        image grids (one row per class for a cGAN), or the 2D points over D's decision surface
        (``detailed``: ``viz.plot_2d``'s figure with axes and legend, for ``samples.png``)."""
        config, z = self.config, np.asarray(self.fixed_noise)
        labels = grid_labels(config.num_classes, len(z)) if config.num_classes else None
        z = z if labels is None else z[:len(labels)]
        fake = sample_from(self.gan.sampling_generator, config, z=z, labels=labels)
        if config.is_2d:
            preview, d = self.data.preview, self.gan.discriminator
            lim = viz.points_limits(preview)
            if detailed:
                fig = viz.plot_2d(preview, fake, d, lim=lim, title=f"step {step}")
                return fake, viz.figure_to_array(fig)
            surface = viz.decision_surface(d, lim, resolution=64)
            return fake, viz.toy_frame(preview, fake, surface, lim, title=f"step {step}")
        if labels is not None:
            return fake, viz.image_grid(fake, ncols=len(labels) // config.num_classes)
        return fake, viz.image_grid(fake[:64])

    def measure(self) -> dict[str, float]:
        """The quality numbers of ``config.eval_samples`` fresh samples (``history.csv``'s
        quality columns)."""
        config = self.config
        fake = sample_from(self.gan.sampling_generator, config, config.eval_samples,
                        seed=config.seed)
        metrics = measure(fake, config, self.data.images)
        return {k: metrics[k] for k in self.metric_columns if k in metrics}

    def keep_if_best(self, step: int, row: dict) -> None:
        """``generator_best.keras`` (and ``best.json``) when ``row``'s quality column
        (``evaluate.best_column``: lower is better) is the run's lowest yet: a run that
        collapses late keeps its best generator beside its last."""
        column = best_column(self.config)
        value = row.get(column) if column else None
        if value is None or not math.isfinite(value):
            return
        best = self.folder.read_best()
        if best is None or value < best["value"]:
            self.folder.save_generator(self.gan.sampling_generator,
                                       {"step": step, "metric": column, "value": float(value)})

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
        self.folder.save_image(RunFolder.SAMPLES, self.frame(self.step, detailed=True)[1])
        history = self.history
        if len(history.get("step", [])):
            fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
            self.folder.save_image(RunFolder.LOSSES, fig)
            viz.plt.close(fig)
        write_gif(self.frames.paths(), self.folder.gif_path, fps=self.config.gif_fps)
        self.folder.save_generator(self.gan.sampling_generator)  # the weight average, if on


def _for_epochs(config: GANConfig, epochs: int, num_examples: int) -> GANConfig:
    """``config`` with the steps of ``epochs`` passes over ``num_examples``."""
    if epochs <= 0:
        raise GanLibError(f"epochs must be positive, got {epochs}")
    steps_per_epoch = max(1, num_examples // config.batch_size)
    return dataclasses.replace(config, steps=epochs * steps_per_epoch)
