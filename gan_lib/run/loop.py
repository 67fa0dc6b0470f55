"""A run's steps, as nanoGPT's train loop reads: train until the end, the time budget or a
stop; at each step the ``Schedule`` says what else is due (a history row, a frame, metrics, a
checkpoint). Whatever ends the session, its last step is logged, drawn and measured.
"""

from __future__ import annotations

import math
import time

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from gan_lib.alarm import DiscriminatorWinsAlarm
from gan_lib.errors import GanLibError
from gan_lib.evaluate import measure
from gan_lib.run.checkpoints import keep_checkpoints_before


def run_steps(run, progress: bool = True) -> str:
    """Train ``run`` (a ``gan_lib.run.Run``) from its step to ``config.steps``; returns why it
    stopped: "steps", "time" (``config.max_seconds``) or "interrupted"."""
    config, gan, schedule = run.config, run.gan, run.schedule
    log = RowWriter(run)
    batches = iter(gan.distribute(run.data.dataset.repeat()))
    step = start = run.step
    bar = tqdm(total=config.steps, initial=start, disable=not progress, unit="step",
               dynamic_ncols=True, desc=config.name)
    speed = SpeedProbe(start, config.steps)
    last_checkpoint, saved, pending, stopped = time.monotonic(), False, [], "steps"
    try:
        while step < config.steps:
            if config.max_seconds is not None and log.elapsed() >= config.max_seconds:
                stopped = "time"
                break
            n = min(config.steps_per_execution, schedule.next_stop(step) - step,
                    speed.next_stop(step) - step)
            # several steps in one tf.function call: their metrics come averaged
            pending.append((gan.train_step(next(batches)) if n == 1
                            else gan.train_steps(batches, n), n))
            step += n
            bar.update(n)
            speed.tick(step, bar, run)
            due = schedule.due(step)
            if "log" in due:
                log(step, pending, due, bar)
                pending = []
            now = time.monotonic()
            if "checkpoint" in due or schedule.checkpoint_by_time(
                    now - last_checkpoint, log.elapsed(), saved):
                run.checkpoints.save(checkpoint_number=step)
                last_checkpoint, saved = now, True
    except KeyboardInterrupt:
        stopped = "interrupted"
        print(f"\nInterrupted at step {run.step}: saving a checkpoint and outputs; train again "
              "with resume to continue.")
    finally:
        bar.close()
    if pending or run.history_file.last_step != run.step:  # the last step always has its row
        log(run.step, pending, schedule.due(run.step, last=True), None)
    return stopped


class RowWriter:
    """One history row per call, with the frame and the metrics the schedule asks for; stops
    the run on a NaN/Inf loss. Also the session's clock (``seconds`` in history.csv)."""

    def __init__(self, run):
        self.run = run
        self.alarm = DiscriminatorWinsAlarm.for_loss(run.config.loss)
        self.seconds_before = run.history_file.last_seconds()
        self.t0 = time.monotonic()
        self.summaries = _summary_writer(run) if run.config.tensorboard else None

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def __call__(self, step: int, pending: list, due: set[str], bar) -> None:
        run = self.run
        row = _mean_rows(pending) if pending else {}
        bad = [k for k in ("d_loss", "g_loss") if k in row and not math.isfinite(row[k])]
        if bad:
            self.diverged(step, row, bad)
        if row:
            self.alarm.check(row, step)  # warns once if D's loss and D(G(z)) stay near 0
        frame = None
        if "frame" in due:
            fake, frame = run.frame(step)
            run.frames.save(step, frame)
            if run.config.is_2d:  # cheap: the fixed noise's points are at hand
                row.update(measure(fake, run.config))
        if "evaluate" in due and run.metric_columns and not run.config.is_2d:
            row.update(run.measure())
            run.keep_if_best(step, row)
        run.history_file.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
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
        run = self.run
        last_logged = run.history_file.last_step or 0
        run.history_file.append({"step": step, "seconds": self.seconds_before + self.elapsed(),
                                 **row})
        # Only a finite loss at step c + 1 vouches for the weights saved at step c: drop the
        # checkpoints from the last finite row on, so that a resume starts from sound weights.
        last_good = keep_checkpoints_before(run.checkpoints.directory, last_logged)
        if last_good:  # outputs from the last good weights, not the broken ones
            run.restore(doing="roll back", prefix=last_good)
            run.write_outputs()
        where = (f"the last good checkpoint is {last_good}" if last_good
                 else "no checkpoint before it is known to be good")
        raise GanLibError(f"training diverged at step {step}: {' and '.join(bad)} became "
                          f"{', '.join(str(row[k]) for k in bad)}; {where}. "
                          "Try a lower learning rate.")


class SpeedProbe:
    """Times 20 steps after tracing and says what they mean for an epoch and for the rest."""

    def __init__(self, start: int, steps: int):
        self.marks = (start + 2, min(steps, start + 22))
        self.started = 0.0

    def next_stop(self, step: int) -> int:
        return min([p for p in self.marks if p > step], default=step + 10**9)

    def tick(self, step: int, bar, run) -> None:
        if step == self.marks[0]:
            self.started = time.monotonic()
        elif step == self.marks[1] and self.marks[1] > self.marks[0]:
            per_step = (time.monotonic() - self.started) / (self.marks[1] - self.marks[0])
            config, remaining = run.config, run.config.steps - step
            per_epoch = max(1, run.data.num_examples // config.batch_size)
            bar.write(f"{config.name}: {1000 * per_step:.1f} ms/step on this runtime; one epoch "
                      f"({per_epoch} steps) ~ {_duration(per_epoch * per_step)}"
                      + (f", the {remaining} steps to go ~ {_duration(remaining * per_step)}"
                         " (plus frames and checkpoints)" if remaining else ""))


def _summary_writer(run):
    try:
        import tensorboard  # noqa: F401  (tf.summary needs it; Colab has it)
    except ImportError:
        raise GanLibError("tensorboard=True needs the tensorboard package: "
                          "pip install tensorboard") from None
    return tf.summary.create_file_writer(str(run.folder.tensorboard_dir))


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
