"""A run's steps, as nanoGPT's train loop reads them: train until the end, the time budget or a
stop, and do each periodic job at its interval, one line each, every job a ``Run`` method:

* a history row, every ``log_every`` steps (and with every frame and every evaluation), with
  its TensorBoard scalars; a NaN/Inf loss rolls the run back and stops it (``Run.check``);
* a GIF frame of the fixed noise, every ``sample_every`` steps;
* quality metrics and the best generator so far, every ``eval_every`` steps (0: at the end);
* a checkpoint, every ``checkpoint_every`` steps or ``checkpoint_minutes``, whichever comes
  first, and once after the session's first minute, so that a run killed early loses little.

Whatever ends the session, its last step gets a row, a frame and metrics.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

if TYPE_CHECKING:  # run.py imports this module
    from gan_lib.config import GANConfig
    from gan_lib.run.run import Run

FIRST_CHECKPOINT_SECONDS = 60.0


def run_steps(run: Run, progress: bool = True) -> str:
    """Train ``run`` from its step to ``config.steps``; returns why it stopped: "steps", "time"
    (``config.max_seconds``) or "interrupted"."""
    config, gan = run.config, run.gan
    batches = iter(gan.distribute(run.data.dataset.repeat()))
    step = run.step
    bar = tqdm(total=config.steps, initial=step, disable=not progress, unit="step",
               dynamic_ncols=True, desc=config.name)
    speed, clock = SpeedProbe(step, config.steps), Clock(run.history_file.last_seconds(), config)
    pending, stopped = [], "steps"  # (metrics, steps) of the steps since the last row
    try:
        while step < config.steps:
            if config.max_seconds is not None and clock.session() >= config.max_seconds:
                stopped = "time"
                break
            n = min(config.steps_per_execution, next_job(config, step) - step,
                    speed.next_stop(step) - step)
            # several steps in one tf.function call: their metrics come averaged
            pending.append((gan.train_step(next(batches)) if n == 1
                            else gan.train_steps(batches, n), n))
            step += n
            bar.update(n)
            speed.tick(step, bar, run)
            if row_due(config, step):
                log_row(run, step, pending, clock.total(), bar, last=step >= config.steps)
                pending = []
            if due(step, config.checkpoint_every) or clock.checkpoint_due():
                run.checkpoint(step)
                clock.checkpointed()
    except KeyboardInterrupt:
        stopped = "interrupted"
        print(f"\nInterrupted at step {run.step}: saving a checkpoint and outputs; train again "
              "with resume to continue.")
    finally:
        bar.close()
    if pending or run.history_file.last_step != run.step:  # the last step always has its row
        log_row(run, run.step, pending, clock.total(), None, last=True)
    return stopped


def log_row(run: Run, step: int, pending: list, seconds: float, bar, last: bool = False) -> None:
    """The history row of ``step``: the mean losses since the last row, then what else is due."""
    config = run.config
    row = mean_metrics(pending) if pending else {}
    run.check(step, row, seconds)  # NaN/Inf: roll back and stop; D winning: warn once
    if last or due(step, config.sample_every):
        row |= run.save_frame(step)
    if last or due(step, config.eval_every):
        row |= run.evaluate(step)
    run.log(step, row, seconds)
    if bar is not None and "d_loss" in row:
        bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                        D_x=f"{row['d_real']:.2f}", D_Gz=f"{row['d_fake']:.2f}", refresh=False)


def due(step: int, every: int) -> bool:
    """A job every ``every`` steps (0: never, except at the end) is due at ``step``."""
    return bool(every) and step % every == 0


def row_due(config: GANConfig, step: int) -> bool:
    """A history row at ``step``: its own interval, or a frame or metrics (which come with one),
    or the run's last step."""
    return step >= config.steps or any(due(step, every) for every in (
        config.log_every, config.sample_every, config.eval_every))


def next_job(config: GANConfig, step: int) -> int:
    """The next step after ``step`` with a job (or the end): how far one call may run."""
    every = [e for e in (config.log_every, config.sample_every, config.checkpoint_every,
                         config.eval_every) if e]
    return min([step + e - step % e for e in every] + [config.steps])


class Clock:
    """This session's seconds, the run's (``seconds`` in history.csv), and the checkpoints the
    clock asks for: the session's first after ``FIRST_CHECKPOINT_SECONDS``, then one every
    ``checkpoint_minutes`` since the last."""

    def __init__(self, seconds_before: float, config: GANConfig):
        self.before, self.start = seconds_before, time.monotonic()
        self.every = 60.0 * config.checkpoint_minutes
        self.last_checkpoint, self.saved = self.start, False

    def session(self) -> float:
        return time.monotonic() - self.start

    def total(self) -> float:
        return self.before + self.session()

    def checkpoint_due(self) -> bool:
        if not self.saved and self.session() >= FIRST_CHECKPOINT_SECONDS:
            return True
        return time.monotonic() - self.last_checkpoint >= self.every

    def checkpointed(self) -> None:
        self.last_checkpoint, self.saved = time.monotonic(), True


class SpeedProbe:
    """Times 20 steps after tracing and says what they mean for an epoch and for the rest."""

    def __init__(self, start: int, steps: int):
        self.marks = (start + 2, min(steps, start + 22))
        self.started = 0.0

    def next_stop(self, step: int) -> int:
        return min([p for p in self.marks if p > step], default=step + 10**9)

    def tick(self, step: int, bar, run: Run) -> None:
        if step == self.marks[0]:
            self.started = time.monotonic()
        elif step == self.marks[1] and self.marks[1] > self.marks[0]:
            per_step = (time.monotonic() - self.started) / (self.marks[1] - self.marks[0])
            config, remaining = run.config, run.config.steps - step
            per_epoch = max(1, run.data.num_examples // config.batch_size)
            line = (f"{config.name}: {1000 * per_step:.1f} ms/step on this runtime; one epoch "
                    f"({per_epoch} steps) ~ {_duration(per_epoch * per_step)}")
            if remaining:
                line += (f", the {remaining} steps to go ~ {_duration(remaining * per_step)}"
                         " (plus frames and checkpoints)")
            budget = config.max_seconds  # a long "to go" is no worry when the budget ends first
            if budget is not None and remaining * per_step > budget:
                line += (f"; the time budget ({_duration(budget)} a session) ends it first, "
                         f"after about {budget / per_step:.0f} steps a session")
            bar.write(line)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def mean_metrics(rows: list[tuple[dict, int]]) -> dict[str, float]:
    """Step-weighted means of ``(metrics, steps)`` pairs: one read of the device per value."""
    weights = np.array([n for _, n in rows], np.float64)
    return {k: float(np.dot([float(r[k]) for r, _ in rows], weights) / weights.sum())
            for k in rows[0][0]}
