"""How close each 64x64 train step comes to this machine's convolution peak.

    python benchmarks/roofline.py               # ~2 min on a 2-core CPU
    python benchmarks/roofline.py cats64_fast   # the peak and the configs named

1. The peak: TensorFlow's own best case, one large 3x3 convolution (batch 32, 64x64, 128 -> 128
   channels, ~19 GFLOP per call) in a ``tf.function``, timed after a warm-up; FLOP = 2 x its
   multiply-adds.
2. Each 64x64 config's train step at its recipe's batch (``faces64_rmsprop`` at 8, as the
   throughput table), on a fixed random batch: its multiply-adds counted from the layers
   (``gan_lib.models.cost.step_multiply_adds``, with the second forward pass of an alternating
   update), divided by the measured time, as a fraction of the peak.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import tensorflow as tf  # noqa: E402
from throughput import SMALLER_BATCH, random_batch  # noqa: E402

from gan_lib import build_gan, get_config  # noqa: E402
from gan_lib.models.cost import step_multiply_adds  # noqa: E402

CONFIGS = ("cats64", "cats64_fast", "dcgan64", "faces64", "faces64_upsample", "faces64_rmsprop")


def conv_peak(seconds: float = 5.0) -> float:
    """FLOP/s of one large 3x3 convolution, the best case for TensorFlow on this machine."""
    x = tf.random.normal([32, 64, 64, 128])
    k = tf.random.normal([3, 3, 128, 128])
    conv = tf.function(lambda: tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME")))
    float(conv())
    calls, elapsed = common.time_calls(conv, float, min_seconds=seconds)
    flop = 2 * 32 * 64 * 64 * 3 * 3 * 128 * 128
    return calls * flop / elapsed


def step_fraction(name: str, peak: float) -> dict:
    config = get_config(name, quick=False)
    config = dataclasses.replace(config, batch_size=SMALLER_BATCH.get(name, config.batch_size))
    gan = build_gan(config)
    batch = random_batch(config)
    float(gan.train_step(batch)["d_loss"])  # traces
    calls, elapsed = common.time_calls(lambda: gan.train_step(batch),
                                       lambda m: float(m["d_loss"]), min_calls=3,
                                       min_seconds=4.0)
    macs = step_multiply_adds(gan.generator, gan.discriminator, config.batch_size,
                              update=config.update)
    seconds = elapsed / calls
    return {"config": name, "batch": config.batch_size, "update": config.update,
            "ms_per_step": 1000 * seconds, "gflop_per_step": 2 * macs / 1e9,
            "gflop_per_s": 2 * macs / seconds / 1e9, "fraction_of_peak": 2 * macs / seconds / peak}


def main() -> None:
    print(common.machine())
    peak = conv_peak()
    print(f"peak: {peak / 1e9:.1f} GFLOP/s (one 3x3 convolution, batch 32, 64x64, 128 channels)")
    rows = []
    for name in sys.argv[1:] or CONFIGS:
        rows.append(step_fraction(name, peak))
        print(json.dumps(rows[-1]), flush=True)
    print(common.table(
        ["config", "batch", "update", "ms/step (CPU)", "GFLOP/step (counted)", "GFLOP/s",
         "fraction of the conv peak"],
        [[r["config"], r["batch"], r["update"], f"{r['ms_per_step']:.0f}",
          f"{r['gflop_per_step']:.1f}", f"{r['gflop_per_s']:.1f}",
          f"{r['fraction_of_peak']:.2f}"] for r in rows]))
    print(common.machine())


if __name__ == "__main__":
    main()
