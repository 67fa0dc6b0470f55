"""Shared helpers of the benchmarks: where the data is, timing loops, tables, machine facts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """``GAN_LIB_DATA``, else the shared datasets beside the checkout (as ``.ci/run`` does)."""
    root = os.environ.get("GAN_LIB_DATA") or str(REPO.parent / "shared" / "datasets")
    if not Path(root, "cat_faces").is_dir() or not Path(root, "mnist").is_dir():
        raise SystemExit(f"benchmarks need the shared datasets (cat_faces/, mnist/): set "
                         f"GAN_LIB_DATA; looked in {root}")
    os.environ["GAN_LIB_DATA"] = root  # for subprocesses and gan_lib's own lookups
    return Path(root)


def time_calls(fn: Callable[[], object], sync: Callable[[object], object], *,
               min_calls: int = 2, min_seconds: float = 3.0,
               max_calls: int = 200) -> tuple[int, float]:
    """Call ``fn`` until both ``min_calls`` and ``min_seconds`` are reached (or ``max_calls``).

    ``sync`` reads the last result back (e.g. a loss to a float), so queued device work
    is inside the timing. Returns ``(calls, seconds)``.
    """
    start = time.perf_counter()
    calls, out = 0, None
    while calls < min_calls or (time.perf_counter() - start < min_seconds
                                and calls < max_calls):
        out = fn()
        calls += 1
    sync(out)
    return calls, time.perf_counter() - start


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (what the README copies)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU count, load average and accelerators: the context every number depends on."""
    import tensorflow as tf

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    gpus = tf.config.list_physical_devices("GPU")
    return (f"{os.cpu_count()} CPU cores, load average {load} (1/5/15 min), "
            f"{len(gpus)} GPU(s), TensorFlow {tf.__version__}")
