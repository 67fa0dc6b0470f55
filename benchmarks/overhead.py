"""gan_lib's training loop against a bare ``tf.function`` loop of the same GAN, same process.

Bare loop: ``gan.train_step(next(it))`` over ``iter(data.dataset.repeat())``, nothing else.
gan_lib: ``Run.train``, the loop that ``gan_lib.train`` runs (progress bar, history rows averaged
over ``log_every`` steps, fixed-noise frames, the speed estimate) at the config's defaults.

Both run in wall-clock slices, interleaved in ABBA order (bare, gan_lib, gan_lib, bare ...) so
a drift of the machine's load hits both. Both are timed in steady state: gan_lib from its
first to its last history row of a slice (``history.csv``'s seconds column), the bare loop
likewise from its first ``log_every``-th step to its last. That leaves out what each
``train()`` call pays once: building the iterator, and its teardown, which in tf.data takes
0.1 to 4 s (its autotuning thread finishes a sleep). Events rarer than a slice are timed once
and amortised at their default frequency: the image metrics (every ``eval_every`` steps) and
checkpoints (every ``checkpoint_every`` steps or ``checkpoint_minutes``, whichever is first).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import tempfile
import time
from pathlib import Path

from gan_lib import Run, get_config, read_history, sample_from
from gan_lib.metrics.evaluate import measure, metric_columns


def _bare(gan, data, seconds: float, every: int) -> tuple[int, float]:
    """Steps and seconds between the first and the last multiple of ``every`` in a slice."""
    it = iter(data.dataset.repeat())
    start = time.perf_counter()
    marks, step, out = [], 0, None
    while time.perf_counter() - start < seconds or len(marks) < 2:
        out = gan.train_step(next(it))
        step += 1
        if step % every == 0:  # reading one loss back, as gan_lib's history row does
            float(out["d_loss"])
            marks.append((step, time.perf_counter()))
    return marks[-1][0] - marks[0][0], marks[-1][1] - marks[0][1]


def _timed(fn) -> float:
    fn()  # the first call loads or traces what later calls reuse
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, seconds: float, rounds: int = 6) -> dict:
    """Steady-state steps/s of both loops on ``name``, ``rounds`` slices of ``seconds`` each."""
    base = get_config(name, quick=False)
    # eval_every=0 keeps the metrics out of the slices (they are amortised below); the slices
    # end on max_seconds, long before the (raised) config.steps.
    config = dataclasses.replace(base, eval_every=0, max_seconds=seconds, steps=10**9)
    run = Run.open(config, Path(tempfile.mkdtemp(prefix=f"overhead_{name}_")))
    gan, data, folder, manager = run.gan, run.data, run.folder, run.checkpoints
    float(gan.train_step(next(iter(data.dataset)))["d_loss"])  # traces the step
    quiet = io.StringIO()

    def ours(_seconds):  # the session stops itself after config.max_seconds
        rows_before = len(read_history(folder.history_path).get("step", []))
        with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
            run.train(progress=True)  # the bar, into a buffer
        rows = read_history(folder.history_path)
        # Up to the slice's last scheduled row: the row a stopped session adds at its last
        # step (with a frame and the metrics) is paid once per session, not per step.
        steps, secs = rows["step"][rows_before:-1], rows["seconds"][rows_before:-1]
        return steps[-1] - steps[0], secs[-1] - secs[0]

    totals = {"bare": [0, 0.0], "gan_lib": [0, 0.0]}
    for r in range(rounds):  # ABBA order: a steady drift of the load cancels out
        order = (("bare", lambda s: _bare(gan, data, s, config.log_every)), ("gan_lib", ours))
        for key, one_slice in order if r % 2 == 0 else order[::-1]:
            totals[key] = [a + b for a, b in zip(totals[key], one_slice(seconds))]
    bare = totals["bare"][0] / totals["bare"][1]
    rate = totals["gan_lib"][0] / totals["gan_lib"][1]

    # Amortised per-step cost of the rarer events at the config's defaults.
    def evaluate():
        fake = sample_from(gan.sampling_generator, base, base.eval_samples, seed=base.seed)
        measure(fake, base, data.images)

    eval_s = (_timed(evaluate)
              if base.eval_every and metric_columns(base) else 0.0)
    ckpt_s = _timed(lambda: manager.save())
    ckpt_steps = min(base.checkpoint_every, 60 * base.checkpoint_minutes * rate)
    extra = (eval_s / base.eval_every if eval_s else 0.0) + ckpt_s / ckpt_steps
    amortised = 1.0 / (1.0 / rate + extra)
    return {"config": name, "bare_steps_per_s": bare, "gan_lib_steps_per_s": rate,
            "gan_lib_amortised_steps_per_s": amortised, "ratio_slices": rate / bare,
            "ratio": amortised / bare, "eval_s": eval_s, "checkpoint_s": ckpt_s,
            "steps": {k: int(v[0]) for k, v in totals.items()}}
