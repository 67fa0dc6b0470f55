"""When a run does its periodic work: one object, asked at every step.

nanoGPT's train loop has one interval per job (log, eval, checkpoint); so does a run here:
a history row every ``log_every`` steps, a GIF frame every ``sample_every``, quality metrics
every ``eval_every`` (0: at the end only), and a checkpoint every ``checkpoint_every`` steps or
``checkpoint_minutes``, whichever comes first, and once early (``first_checkpoint_seconds``),
so that a run killed in its first minutes loses little. The last step of a run, however it
ends, gets a row, a frame and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_lib.config import GANConfig


@dataclass(frozen=True)
class Schedule:
    steps: int
    log_every: int
    sample_every: int
    eval_every: int  # 0: only at the last step
    checkpoint_every: int
    checkpoint_seconds: float
    first_checkpoint_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: GANConfig) -> Schedule:
        return cls(config.steps, config.log_every, config.sample_every, config.eval_every,
                   config.checkpoint_every, 60.0 * config.checkpoint_minutes)

    def due(self, step: int, last: bool = False) -> set[str]:
        """The jobs of ``step``: "log", "frame", "evaluate", "checkpoint" (by step count).
        ``last``: the run ends here (by steps, time or a stop), so it logs, draws and measures."""
        last = last or step >= self.steps
        jobs = set()
        if last or step % self.log_every == 0:
            jobs.add("log")
        if last or step % self.sample_every == 0:
            jobs.add("frame")
        if last or self.eval_every and step % self.eval_every == 0:
            jobs.add("evaluate")
        if step % self.checkpoint_every == 0:
            jobs.add("checkpoint")
        if jobs - {"checkpoint"}:
            jobs.add("log")  # a frame or metrics always come with a history row
        return jobs

    def next_stop(self, step: int) -> int:
        """The next step after ``step`` with a job (or the end): how far one call may run."""
        every = [self.log_every, self.sample_every, self.checkpoint_every,
                 self.eval_every or self.steps]
        return min([step + e - step % e for e in every] + [self.steps])

    def checkpoint_by_time(self, seconds_since_checkpoint: float, seconds_since_start: float,
                           saved_this_session: bool) -> bool:
        """A checkpoint because of the clock: every ``checkpoint_seconds``, and the session's
        first one after ``first_checkpoint_seconds``."""
        if not saved_this_session and seconds_since_start >= self.first_checkpoint_seconds:
            return True
        return seconds_since_checkpoint >= self.checkpoint_seconds
