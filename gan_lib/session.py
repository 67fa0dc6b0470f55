"""One call of ``train``: steps run, and the run folder kept up to date as they go.

The loop reads as the run's life (nanoGPT's shape): train until the end, the time budget or a
stop; at each step the ``Schedule`` says what else is due: a history row, a frame, metrics,
a checkpoint. Whatever ends the session, its last step is logged, drawn and measured.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from gan_lib.alarm import DiscriminatorWinsAlarm
from gan_lib.checkpoints import keep_checkpoints_before
from gan_lib.config import GANConfig
from gan_lib.data import TrainingData
from gan_lib.errors import GanLibError
from gan_lib.evaluate import measure
from gan_lib.frames import FrameStore, fixed_noise_frame, write_outputs
from gan_lib.gan import GAN
from gan_lib.history import History
from gan_lib.run_folder import RunFolder
from gan_lib.sampling import generate
from gan_lib.schedule import Schedule


@dataclass
class Session:
    """The steps of one ``train`` call; ``history``, ``frames`` and ``metric_columns`` (the
    quality columns of ``evaluate.metric_columns``) are the run's, built once by ``train``."""

    config: GANConfig
    gan: GAN
    fixed_noise: tf.Variable
    data: TrainingData
    folder: RunFolder
    manager: tf.train.CheckpointManager
    history: History
    frames: FrameStore
    metric_columns: tuple[str, ...]

    def __post_init__(self):
        self.schedule = Schedule.from_config(self.config)
        self.alarm = DiscriminatorWinsAlarm.for_loss(self.config.loss)
        self.summaries = None
        if self.config.tensorboard:
            try:
                import tensorboard  # noqa: F401  (tf.summary needs it; Colab has it)
            except ImportError:
                raise GanLibError("tensorboard=True needs the tensorboard package: "
                                  "pip install tensorboard") from None
            self.summaries = tf.summary.create_file_writer(str(self.folder.tensorboard_dir))

    def run(self, start: int, progress: bool = True) -> str:
        """Train from step ``start`` to ``config.steps``; returns why it stopped."""
        config = self.config
        batches = iter(self.gan.distribute(self.data.dataset.repeat()))
        self.seconds_before = self.history.last_seconds()
        self.t0 = last_checkpoint = time.monotonic()
        saved = False
        pending: list[tuple[dict, int]] = []
        bar = tqdm(total=config.steps, initial=start, disable=not progress, unit="step",
                   dynamic_ncols=True, desc=config.name)
        probe = (start + 2, min(config.steps, start + 22))  # after tracing: time 20 steps
        step, stopped = start, "steps"
        try:
            while step < config.steps:
                if config.max_seconds is not None and self.elapsed() >= config.max_seconds:
                    stopped = "time"
                    break
                n = min([config.steps_per_execution, self.schedule.next_stop(step) - step]
                        + [p - step for p in probe if p > step])
                if n == 1:
                    pending.append((self.gan.train_step(next(batches)), 1))
                else:  # several steps in one tf.function call: their metrics come averaged
                    pending.append((self.gan.train_steps(batches, n), n))
                step += n
                bar.update(n)
                if step == probe[0]:
                    probe_start = time.monotonic()
                elif step == probe[1] and probe[1] > probe[0]:
                    self.announce((time.monotonic() - probe_start) / (probe[1] - probe[0]),
                                  config.steps - step, bar)
                due = self.schedule.due(step)
                if "log" in due:
                    self.log(step, pending, due, bar)
                    pending = []
                now = time.monotonic()
                if "checkpoint" in due or self.schedule.checkpoint_by_time(
                        now - last_checkpoint, now - self.t0, saved):
                    self.manager.save(checkpoint_number=step)
                    last_checkpoint, saved = now, True
        except KeyboardInterrupt:
            stopped = "interrupted"
            print(f"\nInterrupted at step {int(self.gan.step.numpy())}: saving a checkpoint and "
                  "outputs; train again with resume to continue.")
        finally:
            bar.close()
        step = int(self.gan.step.numpy())
        if pending or self.history.last_step != step:  # the last step always has its row
            self.log(step, pending, self.schedule.due(step, last=True), None)
        return stopped

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def announce(self, seconds_per_step: float, remaining: int, bar) -> None:
        """Measured speed and what it means for an epoch and for the rest of the run."""
        per_epoch = max(1, self.data.num_examples // self.config.batch_size)
        bar.write(f"{self.config.name}: {1000 * seconds_per_step:.1f} ms/step on this runtime; "
                  f"one epoch ({per_epoch} steps) ~ {_duration(per_epoch * seconds_per_step)}"
                  + (f", the {remaining} steps to go ~ {_duration(remaining * seconds_per_step)}"
                     " (plus frames and checkpoints)" if remaining else ""))

    def log(self, step: int, pending: list, due: set[str], bar) -> None:
        """A history row (and the frame and metrics ``due`` asks for) for ``step``."""
        row = _mean_rows(pending) if pending else {}
        bad = [k for k in ("d_loss", "g_loss") if k in row and not math.isfinite(row[k])]
        if bad:
            self.diverged(step, row, bad)
        if row:
            self.alarm.check(row, step)  # warns once if D's loss and D(G(z)) stay near 0
        frame = None
        if "frame" in due:
            fake, frame = fixed_noise_frame(self.config, self.gan, self.fixed_noise,
                                            self.data.preview, step)
            self.frames.save(step, frame)
            if self.config.is_2d:  # cheap: the fixed noise's points are at hand
                row.update(measure(fake, self.config))
        if "evaluate" in due and self.metric_columns and not self.config.is_2d:
            fake = generate(self.gan.sampling_generator, self.config, self.config.eval_samples,
                            seed=self.config.seed)
            metrics = measure(fake, self.config, self.data.images)
            row.update({k: metrics[k] for k in self.metric_columns if k in metrics})
        self.history.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
                             **row})
        if bar is not None and "d_loss" in row:
            bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                            D_x=f"{row['d_real']:.2f}", D_Gz=f"{row['d_fake']:.2f}",
                            refresh=False)
        if self.summaries is not None:
            with self.summaries.as_default(step=step):
                for key, value in row.items():
                    tf.summary.scalar(key, value)
                if frame is not None:
                    tf.summary.image("fixed_noise", frame[None])

    def diverged(self, step: int, row: dict, bad: list[str]) -> None:
        """Stop on NaN/Inf: keep the last good checkpoint and write outputs from it."""
        last_logged = self.history.last_step or 0
        self.history.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
                             **row})
        # Only a finite loss at step c + 1 vouches for the weights saved at step c: drop the
        # checkpoints from the last finite row on, so that a resume starts from sound weights.
        last_good = keep_checkpoints_before(self.manager.directory, last_logged)
        if last_good:  # outputs from the last good weights, not the broken ones
            self.manager.checkpoint.restore(last_good)
            write_outputs(self.config, self.gan, self.fixed_noise, self.data.preview,
                          self.folder, self.frames, self.history.columns_dict())
        where = (f"the last good checkpoint is {last_good}" if last_good
                 else "no checkpoint before it is known to be good")
        raise GanLibError(f"training diverged at step {step}: {' and '.join(bad)} became "
                          f"{', '.join(str(row[k]) for k in bad)}; {where}. "
                          "Try a lower learning rate.")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _mean_rows(rows: list[tuple[dict, int]]) -> dict[str, float]:
    """Step-weighted means of ``(metrics, steps)`` pairs: one read of the device per value."""
    weights = np.array([n for _, n in rows], np.float64)
    return {k: float(np.dot([float(r[k]) for r, _ in rows], weights) / weights.sum())
            for k in rows[0][0]}
