"""The training loop: batches in, a run folder out, resumable at any point.

``train(config, out_dir)`` runs ``GAN.train_step`` for ``config.steps`` steps (or until
``max_seconds``, or Ctrl-C / the notebook's stop button) and keeps in ``out_dir``:
history rows, progress frames of a fixed noise batch, checkpoints every N steps or minutes,
and at the end the plots, the GIF and ``generator.keras``. ``resume=True`` continues from the
last checkpoint with the same step counter, optimiser state and fixed noise.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from gan_lib import viz
from gan_lib.checkpoints import has_checkpoint, keep_checkpoints_before, repair_checkpoints
from gan_lib.config import GANConfig
from gan_lib.data import TrainingData, load_dataset, outputs_root
from gan_lib.diagnostics import DiscriminatorWinsAlarm
from gan_lib.errors import GanLibError
from gan_lib.evaluate import generate, measure_images, metric_columns
from gan_lib.gif import FrameStore, write_gif
from gan_lib.metrics import toy_metrics
from gan_lib.runs import (
    History,
    check_resumable,
    disk_full_is_a_clear_error,
    read_config,
    read_history,
    remove_leftovers,
    write_config,
)
from gan_lib.train import GAN, build_gan


@dataclass
class RunResult:
    """What ``train`` returns: the trained GAN, its run folder and history, and why it stopped."""

    gan: GAN
    out_dir: Path
    history: dict
    fixed_noise: tf.Variable
    stopped: str  # "steps", "time" or "interrupted"

    @property
    def step(self) -> int:
        return int(self.gan.step.numpy())


def prepare_out_dir(out_dir: str | os.PathLike, resume: bool | str) -> tuple[Path, bool]:
    """Create (or check) the run folder; clear errors for a file, no permission, or a clash.

    Returns the folder and whether to resume (``resume="auto"``: when it has a checkpoint).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise GanLibError(f"output folder {out} is a file; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise GanLibError(f"cannot write to output folder {out}: {e.strerror or e}") from None
    if resume == "auto":
        return out, has_checkpoint(out)
    if resume and not has_checkpoint(out):
        raise GanLibError(f"nothing to resume in {out}: it has no checkpoint")
    if not resume and has_checkpoint(out):
        raise GanLibError(f"{out} already holds a run; pass --resume (resume=True) to continue "
                          "it, or choose another output folder")
    return out, bool(resume)


def _measure(config: GANConfig, gan: GAN, data: TrainingData) -> dict[str, float]:
    """Image quality numbers on ``eval_samples`` fresh samples (classifier datasets only)."""
    fake = generate(gan, config, config.eval_samples, seed=config.seed)
    metrics = measure_images(fake, config, data.images)
    return {k: metrics[k] for k in metric_columns(config) if k in metrics}


def fixed_labels(config: GANConfig) -> tf.Tensor | None:
    """Labels of the fixed noise batch of a conditional GAN: one grid row per class."""
    if not config.num_classes:
        return None
    per_class = max(1, config.num_fixed // config.num_classes)
    return tf.constant(np.repeat(np.arange(config.num_classes), per_class)[:config.num_fixed],
                       tf.int32)


def render_frame(config: GANConfig, gan: GAN, fixed_noise, data: TrainingData,
                 step: int, detailed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Generated samples of the fixed noise and one uint8 picture of them.

    2D data: ``viz.toy_frame`` for the GIF (fast), or with ``detailed`` ``viz.plot_2d``'s
    Matplotlib figure with axes and legend (``samples.png``, once per session).
    """
    labels = fixed_labels(config)
    z = fixed_noise if labels is None else fixed_noise[:len(labels)]
    fake = gan.generate(z, labels, use_ema=True).numpy()  # the weight average, if on
    if config.is_2d:
        lim = viz.points_limits(data.preview)
        if detailed:
            fig = viz.plot_2d(data.preview, fake, gan.discriminator, lim=lim,
                              title=f"step {step}")
            return fake, viz.figure_to_array(fig)
        surface = viz.decision_surface(gan.discriminator, lim, resolution=64)
        return fake, viz.toy_frame(data.preview, fake, surface, lim, title=f"step {step}")
    if labels is not None:  # one row per class
        return fake, viz.image_grid(fake, ncols=len(labels) // config.num_classes)
    return fake, viz.image_grid(fake[:64])


def _save_generator(gan: GAN, path: Path) -> None:
    tmp = path.with_name(".tmp_" + path.name)  # keep the .keras suffix Keras requires
    gan.sampling_generator.save(tmp)  # the EMA copy, if on
    os.replace(tmp, path)


def write_outputs(config: GANConfig, gan: GAN, fixed_noise, data: TrainingData, out: Path,
                  save_generator: bool = True) -> dict:
    """samples.png, losses.png, progress.gif (and generator.keras) from what the run has now."""
    history = read_history(out / "history.csv")
    fake, frame = render_frame(config, gan, fixed_noise, data, int(gan.step.numpy()),
                               detailed=True)
    viz.plt.imsave(out / "samples.png", frame)
    if history:
        fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
        fig.savefig(out / "losses.png", dpi=100)
        viz.plt.close(fig)
    write_gif(FrameStore(out / "frames").paths(), out / "progress.gif", fps=config.gif_fps)
    if save_generator:
        _save_generator(gan, out / "generator.keras")
    return history


def train(config: GANConfig, out_dir: str | os.PathLike | None = None, *,
          data_root: str | os.PathLike | None = None, resume: bool | str = False,
          epochs: int | None = None, progress: bool = True,
          strategy: tf.distribute.Strategy | None = None) -> RunResult:
    """Train ``config`` into ``out_dir`` (default ``outputs/<config.name>``).

    Args:
        config: the recipe; ``config.steps`` and ``config.max_seconds`` bound the run.
        out_dir: the run folder (created). It must not hold a run unless ``resume``.
        data_root: dataset root (default ``GAN_LIB_DATA``, else ``data/``).
        resume: continue the run in ``out_dir`` from its last checkpoint; ``"auto"``: do so
            if there is one, else start (what a notebook re-run after a disconnect wants).
        epochs: if given, train this many passes over the data instead of ``config.steps``.
        progress: show a progress bar.
        strategy: a ``tf.distribute`` strategy to train under (``gan_lib.distribute``); the
            config's ``batch_size`` is then the global batch, split over the replicas.
    Returns:
        A ``RunResult``; the run folder holds everything listed in ``gan_lib.runs``.
    Raises:
        GanLibError: bad folder, missing data, a resume with another model, or divergence
            (a NaN/Inf loss; the last good checkpoint is kept).
    """
    config.validate()
    out, resume = prepare_out_dir(out_dir or outputs_root() / config.name, resume)
    remove_leftovers(out)  # temporary files of a session killed mid-write
    if resume:
        check_resumable(read_config(out), config)
        repair_checkpoints(out / "checkpoints")  # falls back if the newest one was cut off
    data = load_dataset(config, data_root)
    if epochs is not None:
        if epochs <= 0:
            raise GanLibError(f"epochs must be positive, got {epochs}")
        steps_per_epoch = max(1, data.num_examples // config.batch_size)
        config = dataclasses.replace(config, steps=epochs * steps_per_epoch)

    gan = build_gan(config, strategy)
    fixed_noise = tf.Variable(tf.random.Generator.from_seed(config.seed + 1).normal(
        [config.num_fixed, config.latent_dim]), trainable=False, name="fixed_noise")
    checkpoint = tf.train.Checkpoint(gan=gan, fixed_noise=fixed_noise)
    manager = tf.train.CheckpointManager(checkpoint, out / "checkpoints",
                                         max_to_keep=config.keep_checkpoints)
    if resume:
        try:
            checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        except (AssertionError, ValueError) as e:  # missing or misshapen variables
            raise GanLibError(
                f"cannot resume {out}: its checkpoint does not fit the {config.architecture} "
                "models this gan_lib builds (saved by another version?): "
                f"{str(e).strip().splitlines()[0][:200]}. Train into a new --out folder") from None
        # Keras checkpoints the learning rates too; the config's win, so that resuming with a
        # lower rate (what a divergence asks for) takes effect.
        gan.g_optimizer.learning_rate = config.g_learning_rate
        gan.d_optimizer.learning_rate = config.d_learning_rate
    start = int(gan.step.numpy())
    with disk_full_is_a_clear_error(out):  # Colab's disk or Drive quota: say so
        write_config(out / "config.json", config)

        frames = FrameStore(out / "frames")
        frames.prune_after(start)
        history = History(out / "history.csv", gan.metric_names + metric_columns(config))
        history.truncate_after(start)
        seconds_before = history.last_seconds()
        if start == 0:
            frames.save(0, render_frame(config, gan, fixed_noise, data, 0)[1])

        session = _Session(config, gan, fixed_noise, data, out, manager, frames, history)
        stopped = session.run(start, seconds_before, progress)
        step = int(gan.step.numpy())
        # Never save a number twice: TensorFlow rewrites the .index in place, and a kill then
        # would break the checkpoint the state file names.
        if not (manager.latest_checkpoint or "").endswith(f"-{step}"):
            manager.save(checkpoint_number=step)
        write_outputs(config, gan, fixed_noise, data, out)
    return RunResult(gan, out, read_history(out / "history.csv"), fixed_noise, stopped)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclasses.dataclass
class _Session:
    """One call of ``train``: runs steps and keeps the run folder up to date as it goes."""

    config: GANConfig
    gan: GAN
    fixed_noise: tf.Variable
    data: TrainingData
    out: Path
    manager: tf.train.CheckpointManager
    frames: FrameStore
    history: History

    def __post_init__(self):
        self.metric_columns = () if self.config.is_2d else metric_columns(self.config)
        self.summaries = None
        self.alarm = DiscriminatorWinsAlarm.for_loss(self.config.loss)
        if self.config.tensorboard:
            try:
                import tensorboard  # noqa: F401  (tf.summary needs it; Colab has it)
            except ImportError:
                raise GanLibError("tensorboard=True needs the tensorboard package: "
                                  "pip install tensorboard") from None
            self.summaries = tf.summary.create_file_writer(str(self.out / "tensorboard"))

    def run(self, start: int, seconds_before: float, progress: bool) -> str:
        """Train from step ``start`` to ``config.steps``; returns why it stopped."""
        config = self.config
        batches = iter(self.gan.distribute(self.data.dataset.repeat()))
        self.t0 = time.monotonic()
        self.seconds_before = seconds_before
        last_checkpoint = self.t0
        pending: list[dict] = []
        bar = tqdm(total=config.steps, initial=start, disable=not progress, unit="step",
                   dynamic_ncols=True, desc=config.name)
        probe = (start + 2, min(config.steps, start + 22))  # after tracing: time 20 steps
        step, stopped = start, "steps"
        try:
            while step < config.steps:
                if config.max_seconds is not None and self.elapsed() >= config.max_seconds:
                    stopped = "time"
                    break
                n = self.steps_per_call(step, probe)
                if config.steps_per_execution == 1:
                    pending.append((self.gan.train_step(next(batches)), 1))
                else:  # several steps in one tf.function call: their metrics come averaged
                    pending.append((self.gan.train_steps(batches, n), n))
                step += n
                bar.update(n)
                if step == probe[0]:
                    probe_start = time.monotonic()
                elif step == probe[1] and probe[1] > probe[0]:
                    self.announce_estimate((time.monotonic() - probe_start) / (probe[1] - probe[0]),
                                           config.steps - step, bar)
                row = self.maybe_log(step, pending)
                if row is not None:
                    pending = []
                    bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                                    D_x=f"{row['d_real']:.2f}", D_Gz=f"{row['d_fake']:.2f}",
                                    refresh=False)
                now = time.monotonic()
                if (step % config.checkpoint_every == 0
                        or now - last_checkpoint >= 60 * config.checkpoint_minutes):
                    self.manager.save(checkpoint_number=step)
                    last_checkpoint = now
        except KeyboardInterrupt:
            stopped = "interrupted"
            print(f"\nInterrupted at step {int(self.gan.step.numpy())}: saving a checkpoint and "
                  "outputs; train again with resume to continue.")
        finally:
            bar.close()
        return stopped

    def steps_per_call(self, step: int, probe: tuple[int, int]) -> int:
        """Up to ``steps_per_execution`` steps, stopping at the next step that has work to do
        (a history row, frame, metrics, checkpoint, the speed probe or the end)."""
        config = self.config
        if config.steps_per_execution == 1:
            return 1
        every = [config.log_every, config.sample_every, config.checkpoint_every,
                 config.eval_every or config.steps]
        stops = [step + e - step % e for e in every] + [config.steps]
        stops += [p for p in probe if p > step]
        return max(1, min(config.steps_per_execution, min(stops) - step))

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def announce_estimate(self, seconds_per_step: float, remaining: int, bar) -> None:
        """Measured speed and what it means for an epoch and for the rest of the run."""
        per_epoch = max(1, self.data.num_examples // self.config.batch_size)
        bar.write(f"{self.config.name}: {1000 * seconds_per_step:.1f} ms/step on this runtime; "
                  f"one epoch ({per_epoch} steps) ~ {_duration(per_epoch * seconds_per_step)}"
                  + (f", the {remaining} steps to go ~ {_duration(remaining * seconds_per_step)}"
                     " (plus frames and checkpoints)" if remaining else ""))

    def maybe_log(self, step: int, pending: list[dict]) -> dict | None:
        """Append a history row (and a frame, and metrics) when ``step`` calls for one."""
        config = self.config
        sampled = step % config.sample_every == 0 or step == config.steps
        # Image metrics every eval_every steps (0: last step only), where a classifier exists.
        measured = bool(self.metric_columns) and (
            step == config.steps or bool(config.eval_every) and step % config.eval_every == 0)
        if not (step % config.log_every == 0 or sampled or measured):
            return None
        row = _mean_rows(pending)
        bad = [k for k in ("d_loss", "g_loss") if not math.isfinite(row[k])]
        if bad:
            self.diverged(step, row, bad)
        self.alarm.check(row, step)  # warns once if D's loss and D(G(z)) stay near 0
        frame = None
        if sampled:
            fake, frame = render_frame(config, self.gan, self.fixed_noise, self.data, step)
            self.frames.save(step, frame)
            if config.is_2d:  # cheap: the fixed noise's points are at hand
                row.update(toy_metrics(fake, config.toy_distribution))
        if measured:
            row.update(_measure(config, self.gan, self.data))
        self.history.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
                             **row})
        if self.summaries is not None:
            self.write_summaries(step, row, frame)
        return row

    def write_summaries(self, step: int, row: dict, frame: np.ndarray | None) -> None:
        with self.summaries.as_default(step=step):
            for key, value in row.items():
                tf.summary.scalar(key, value)
            if frame is not None:
                tf.summary.image("fixed_noise", frame[None])

    def diverged(self, step: int, row: dict, bad: list[str]) -> None:
        """Stop on NaN/Inf: keep the last good checkpoint and write outputs from it."""
        logged = read_history(self.history.path).get("step", [])
        self.history.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
                             **row})
        # Only a finite loss at step c + 1 vouches for the weights saved at step c: drop the
        # checkpoints from the last finite row on, so that a resume starts from sound weights.
        last_good = keep_checkpoints_before(self.manager.directory,
                                            int(logged[-1]) if len(logged) else 0)
        if last_good:  # outputs from the last good weights, not the broken ones
            self.manager.checkpoint.restore(last_good)
            write_outputs(self.config, self.gan, self.fixed_noise, self.data, self.out)
        where = (f"the last good checkpoint is {last_good}" if last_good
                 else "no checkpoint before it is known to be good")
        raise GanLibError(f"training diverged at step {step}: {' and '.join(bad)} became "
                          f"{', '.join(str(row[k]) for k in bad)}; {where}. "
                          "Try a lower learning rate.")


def _mean_rows(rows: list[tuple[dict, int]]) -> dict[str, float]:
    """Step-weighted means of ``(metrics, steps)`` pairs: one read of the device per value."""
    weights = np.array([n for _, n in rows], np.float64)
    return {k: float(np.dot([float(r[k]) for r, _ in rows], weights) / weights.sum())
            for k in rows[0][0]}
