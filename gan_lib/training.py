"""``train(config, out_dir)``: a run from its config to its GIF, resumable at any point.

It reads top to bottom as a run's life: open the run folder, load the data, build the GAN,
restore the last checkpoint (if resuming), run the steps (``gan_lib.session``: history rows,
fixed-noise frames, metrics and checkpoints at the ``Schedule``'s steps), then write the plots,
the GIF and ``generator.keras``. Every file belongs to the ``RunFolder``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from gan_lib.build import build_gan
from gan_lib.checkpoints import repair_checkpoints
from gan_lib.config import GANConfig
from gan_lib.data import load_dataset, outputs_root
from gan_lib.errors import GanLibError
from gan_lib.evaluate import metric_columns
from gan_lib.frames import FrameStore, fixed_noise_frame, write_outputs
from gan_lib.gan import GAN
from gan_lib.history import History, read_history
from gan_lib.run_folder import RunFolder
from gan_lib.session import Session


@dataclass
class RunResult:
    """What ``train`` returns: the trained GAN, its run folder and history, why it stopped, and
    the config it trained with (steps counted from ``epochs`` when those were given)."""

    gan: GAN
    folder: RunFolder
    history: dict
    fixed_noise: tf.Variable
    stopped: str  # "steps", "time", "interrupted", or "loaded" (``open_run``)
    config: GANConfig

    @property
    def out_dir(self) -> Path:
        return self.folder.path

    @property
    def step(self) -> int:
        return int(self.gan.step.numpy())


def train(config: GANConfig, out_dir: str | os.PathLike | None = None, *,
          data_root: str | os.PathLike | None = None, resume: bool | str = False,
          epochs: int | None = None, progress: bool = True,
          strategy: tf.distribute.Strategy | None = None) -> RunResult:
    """Train ``config`` into ``out_dir`` (default ``outputs/<config.name>``).

    Args:
        config: the recipe; ``config.steps`` and ``config.max_seconds`` bound the run.
        out_dir: the run folder (created). It must not hold a run unless ``resume``.
        data_root: dataset root (default ``GAN_LIB_DATA``, else ``data/``).
        resume: continue the run in ``out_dir`` from its last checkpoint; ``"auto"`` (what a
            notebook re-run after a disconnect wants) or True on a folder with no checkpoint
            yet starts from step 0.
        epochs: if given, train this many passes over the data instead of ``config.steps``.
        progress: show a progress bar.
        strategy: a ``tf.distribute`` strategy to train under (``gan_lib.distribute``); the
            config's ``batch_size`` is then the global batch, split over the replicas.
    Returns:
        A ``RunResult``; the run folder holds everything listed in ``gan_lib.run_folder``.
    Raises:
        GanLibError: bad folder, missing data, a resume with another model, or divergence
            (a NaN/Inf loss; the last good checkpoint is kept).
    """
    config.validate()
    folder = RunFolder(out_dir or outputs_root() / config.name)
    resume = folder.open(resume)
    if resume:
        folder.check_resumable(config)
        repair_checkpoints(folder.checkpoint_dir)  # falls back if the newest one was cut off
    data = load_dataset(config, data_root)
    if epochs is not None:
        config = _for_epochs(config, epochs, data.num_examples)

    gan, fixed_noise, checkpoint, manager = _build(config, folder, strategy)
    if resume:
        _restore(checkpoint, manager, folder, config, gan)
    start = int(gan.step.numpy())
    quality = metric_columns(config)
    with folder.disk_full_is_a_clear_error():  # Colab's disk or Drive quota: say so
        folder.write_config(config)
        frames, history = _files_up_to(start, folder, gan.metric_names + quality)
        if start == 0:
            frames.save(0, fixed_noise_frame(config, gan, fixed_noise, data.preview, 0)[1])
        session = Session(config, gan, fixed_noise, data, folder, manager, history, frames,
                          quality)
        stopped = session.run(start, progress)
        _checkpoint_last_step(manager, int(gan.step.numpy()))
        columns = history.columns_dict()
        write_outputs(config, gan, fixed_noise, data.preview, folder, frames, columns)
    return RunResult(gan, folder, columns, fixed_noise, stopped, config)


def open_run(run_dir: str | os.PathLike, *, strategy: tf.distribute.Strategy | None = None
             ) -> RunResult:
    """The run in ``run_dir`` as ``train`` would return it, restored from its last checkpoint,
    without data or training and without writing a file (a run shared by ``gan_lib.share``).

    Raises:
        GanLibError: not a run folder, or no checkpoint in it.
    """
    folder = RunFolder(run_dir)
    config = folder.read_config()
    gan, fixed_noise, checkpoint, manager = _build(config, folder, strategy)
    if manager.latest_checkpoint is None:
        raise GanLibError(f"{folder.path} has no checkpoint to open: train it first")
    _restore(checkpoint, manager, folder, config, gan, doing="open")
    return RunResult(gan, folder, read_history(folder.history_path), fixed_noise, "loaded",
                     config)


def _build(config: GANConfig, folder: RunFolder, strategy):
    """The GAN, the fixed noise and the checkpoint (with its manager) that hold a run."""
    gan = build_gan(config, strategy)
    fixed_noise = tf.Variable(tf.random.Generator.from_seed(config.seed + 1).normal(
        [config.num_fixed, config.latent_dim]), trainable=False, name="fixed_noise")
    checkpoint = tf.train.Checkpoint(gan=gan, fixed_noise=fixed_noise)
    return gan, fixed_noise, checkpoint, folder.checkpoint_manager(checkpoint,
                                                                   config.keep_checkpoints)


def _for_epochs(config: GANConfig, epochs: int, num_examples: int) -> GANConfig:
    """``config`` with the steps of ``epochs`` passes over ``num_examples``."""
    if epochs <= 0:
        raise GanLibError(f"epochs must be positive, got {epochs}")
    steps_per_epoch = max(1, num_examples // config.batch_size)
    return dataclasses.replace(config, steps=epochs * steps_per_epoch)


def _files_up_to(step: int, folder: RunFolder, columns: tuple[str, ...]
                 ) -> tuple[FrameStore, History]:
    """The run's frames and history with ``columns``, cut back to ``step`` (the restored one:
    later frames and rows belong to a session that was not checkpointed)."""
    frames = FrameStore(folder.frames_dir)
    frames.prune_after(step)
    history = History(folder.history_path, columns)
    history.truncate_after(step)
    return frames, history


def _checkpoint_last_step(manager: tf.train.CheckpointManager, step: int) -> None:
    """A checkpoint of ``step`` unless the session's last one was of it already."""
    # Never save a number twice: TensorFlow rewrites the .index in place, and a kill then
    # would break the checkpoint the state file names.
    if not (manager.latest_checkpoint or "").endswith(f"-{step}"):
        manager.save(checkpoint_number=step)


def _restore(checkpoint, manager, folder: RunFolder, config: GANConfig, gan: GAN,
             doing: str = "resume") -> None:
    """The last checkpoint into ``gan``; the config's learning rates win over the saved ones."""
    try:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    except (AssertionError, ValueError) as e:  # missing or misshapen variables
        raise GanLibError(
            f"cannot {doing} {folder.path}: its checkpoint does not fit the {config.architecture} "
            "models this gan_lib builds (saved by another version?): "
            f"{str(e).strip().splitlines()[0][:200]}. "
            + ("Train into a new --out folder" if doing == "resume" else
               "Install the gan_lib version that trained it, or train your own run")) from None
    # Keras checkpoints the learning rates too; the config's win, so that resuming with a
    # lower rate (what a divergence asks for) takes effect.
    gan.g_optimizer.learning_rate = config.g_learning_rate
    gan.d_optimizer.learning_rate = config.d_learning_rate
