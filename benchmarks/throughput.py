"""Train-step throughput of every config, and the speed options (XLA, several steps per call).

The step runs on one fixed batch of random data of the config's shape: this measures the
``tf.function`` step alone (the input pipeline has its own benchmark).
"""

from __future__ import annotations

import dataclasses
import time

import tensorflow as tf
from common import time_calls

from gan_lib import CONFIGS, GANConfig, build_gan, get_config

# CPU-only shortcut: the Russian faces GAN needs ~20 s per step at its batch of 32 here.
SMALLER_BATCH = {"faces64_rmsprop": 8}


def random_batch(config: GANConfig, seed: int = 0):
    """A float32 batch of the config's shape in [-1, 1] (and int labels for a cGAN)."""
    shape = ([config.batch_size, 2] if config.is_2d else
             [config.batch_size, config.image_size, config.image_size, config.channels])
    x = tf.random.stateless_uniform(shape, [seed, 1], -1.0, 1.0)
    if not config.num_classes:
        return x
    return x, tf.random.stateless_uniform([config.batch_size], [seed, 2], 0,
                                          config.num_classes, tf.int32)


def step_speed(config: GANConfig, min_seconds: float = 3.0) -> dict:
    """ms/step and images/s of ``config``'s train step after one warm-up (tracing) step."""
    t0 = time.perf_counter()
    gan = build_gan(config)
    batch = random_batch(config)
    float(gan.train_step(batch)["d_loss"])  # traces, then runs once
    warm = time.perf_counter() - t0
    slow = warm > 8.0  # a step of several seconds: one or two timed steps are enough
    calls, seconds = time_calls(lambda: gan.train_step(batch), lambda m: float(m["d_loss"]),
                                min_calls=1 if slow else 3, min_seconds=0 if slow else min_seconds)
    per_step = seconds / calls
    return {"config": config.name, "batch": config.batch_size, "steps": calls,
            "ms_per_step": 1000 * per_step, "images_per_s": config.batch_size / per_step,
            "warmup_s": warm}


def all_configs(min_seconds: float = 3.0) -> list[dict]:
    """``step_speed`` of every registered config at its default batch (see ``SMALLER_BATCH``)."""
    rows = []
    for name in CONFIGS:
        config = get_config(name, quick=False)
        note = ""
        if name in SMALLER_BATCH:
            note = f"batch {SMALLER_BATCH[name]} instead of {config.batch_size} (CPU too slow)"
            config = dataclasses.replace(config, batch_size=SMALLER_BATCH[name])
        row = step_speed(config, min_seconds)
        if row["steps"] < 3:
            note = "; ".join(filter(None, [note, f"{row['steps']} timed step(s) only"]))
        row["note"] = note
        print(f"  {name:18s} {row['ms_per_step']:9.1f} ms/step {row['images_per_s']:8.1f} img/s"
              f"  ({row['steps']} steps) {note}", flush=True)
        rows.append(row)
    return rows


def steps_per_execution(name: str, ks=(1, 5, 10), rounds: int = 2,
                        seconds: float = 3.0) -> dict[int, float]:
    """ms/step with ``k`` steps per call, over the config's real input pipeline (interleaved)."""
    from gan_lib.data import load_dataset

    config = get_config(name, quick=False)
    gan = build_gan(config)
    data = load_dataset(config)
    it = iter(data.dataset.repeat())

    def call(k):
        return (lambda: gan.train_step(next(it))) if k == 1 else (lambda: gan.train_steps(it, k))

    for k in ks:  # trace each variant first
        float(call(k)()["d_loss"])
    totals = {k: [0, 0.0] for k in ks}
    for _ in range(rounds):  # interleaved, so a change of machine load hits every variant
        for k in ks:
            calls, secs = time_calls(call(k), lambda m: float(m["d_loss"]), min_seconds=seconds)
            totals[k][0] += calls * k
            totals[k][1] += secs
    return {k: 1000 * secs / steps for k, (steps, secs) in totals.items()}


def jit_compile(name: str, rounds: int = 2, seconds: float = 3.0) -> dict[str, float]:
    """ms/step without and with XLA (``jit_compile=True``), timed in alternation, and the
    seconds the first XLA step takes (compilation included)."""
    config = get_config(name, quick=False)
    batch = random_batch(config)
    gans, out = {}, {}
    for jit in (False, True):
        start = time.perf_counter()
        gans[jit] = build_gan(dataclasses.replace(config, jit_compile=jit))
        float(gans[jit].train_step(batch)["d_loss"])
        out["xla_warmup_s" if jit else "plain_warmup_s"] = time.perf_counter() - start
    slow = out["plain_warmup_s"] > 8.0
    totals = {False: [0, 0.0], True: [0, 0.0]}
    for _ in range(rounds):
        for jit, gan in gans.items():
            calls, secs = time_calls(lambda g=gan: g.train_step(batch),
                                     lambda m: float(m["d_loss"]), min_calls=1 if slow else 3,
                                     min_seconds=0 if slow else seconds)
            totals[jit] = [totals[jit][0] + calls, totals[jit][1] + secs]
    out["plain"], out["xla"] = (1000 * totals[j][1] / totals[j][0] for j in (False, True))
    return out
