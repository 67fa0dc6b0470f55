"""What a 128x128 step costs against a 64x64 one: the seconds of one training step on this
machine (random images, no data pipeline, the best of three timings) and the counted
multiply-adds (``gan_lib.models.cost``), for the own-images recipes and the 64x64 face recipes
they are compared with.

    python benchmarks/step_cost_128.py

A GPU time for ``dcgan128`` is then an estimate: ``faces64``'s (itself an estimate,
docs/TEACHING.md) times the measured ratio. Results: benchmarks/README.md, "Your own images".
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from gan_lib import get_config  # noqa: E402
from gan_lib.models.cost import step_multiply_adds  # noqa: E402
from gan_lib.training.build import build_gan  # noqa: E402
from gan_lib.training.step import train_step  # noqa: E402

for name in ["faces64_fast", "dcgan128_fast", "faces64", "dcgan128"]:
    cfg = get_config(name, quick=False)
    gan = build_gan(cfg)
    b, s = cfg.batch_size, cfg.image_size
    x = tf.random.uniform((b, s, s, 3), -1, 1)
    f = tf.function(lambda batch, gan=gan: train_step(gan, batch, None))
    for _ in range(3):  # tracing and warm-up
        f(x)
    n = 10 if b <= 32 else 5
    ts = []
    for _rep in range(3):
        t = time.time()
        for _ in range(n):
            f(x)
        ts.append((time.time() - t) / n)
    macs = step_multiply_adds(gan.generator, gan.discriminator, b, update=cfg.update)
    print(f"{name}: batch {b}, {s}x{s}, {min(ts):.3f} s/step (best of 3 x {n}), "
          f"{macs / 1e12:.3f} T multiply-adds/step", flush=True)
