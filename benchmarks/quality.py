"""Time to quality: seconds of training until a recipe's MNIST classifier score reaches 8.

``gan_lib.train`` runs each recipe with a wall-clock cap; the classifier score (an
Inception score analogue on the shipped MNIST classifier, 1 to 10) is measured on
``eval_samples`` fresh samples about every ``every_s`` seconds of training. The seconds
reported are the history's: wall clock since the start, so they include gan_lib's loop and
the earlier measurements (each recipe gets them at the same cadence).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time

import numpy as np

from gan_lib import get_config, train

TARGET = 8.0


def time_to_score(name: str, ms_per_step: float, cap_s: float = 300.0,
                  every_s: float = 20.0) -> dict:
    """Train ``name`` for at most ``cap_s`` seconds; when did ``classifier_score`` pass 8?"""
    every = max(10, int(every_s * 1000 / ms_per_step) // 10 * 10)
    config = dataclasses.replace(get_config(name, quick=False), steps=10**7, max_seconds=cap_s,
                                 eval_every=every, eval_samples=1000, log_every=10,
                                 sample_every=10**6, checkpoint_every=10**6,
                                 checkpoint_minutes=10**4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = train(config, out, progress=False)
    history = result.history
    scores = np.asarray(history.get("classifier_score", []), float)
    seconds = np.asarray(history["seconds"], float)
    ok = np.flatnonzero(np.nan_to_num(scores, nan=-1.0) >= TARGET)
    best = float(np.nanmax(scores)) if np.isfinite(scores).any() else math.nan
    return {"config": name, "eval_every_steps": every, "steps": result.step,
            "reached_s": float(seconds[ok[0]]) if len(ok) else None,
            "reached_step": int(history["step"][ok[0]]) if len(ok) else None,
            "best_score": best, "wall_s": time.perf_counter() - start}
