"""Does the 2D toy GAN actually learn? Trained for its quick budget, it must cover the ring.

Definition (gan_lib.metrics.mode_coverage): a mode is covered when at least 10% of its fair share
of 2,000 samples lies within 3 standard deviations of it. The bar, 6 of 8 modes and half the
samples near a mode, is met by every seed we tried (8/8 for seeds 0-3); an untrained generator
covers 0 or 1.
"""

from gan_lib import get_config, sample, train
from gan_lib.metrics import toy_metrics


def test_quick_toy2d_covers_most_modes_of_the_ring(tmp_path):
    config = get_config("toy2d", quick=True)
    assert config.toy_distribution == "ring"
    train(config, tmp_path / "run", progress=False)
    points = sample(tmp_path / "run", 2000, seed=1)
    metrics = toy_metrics(points, "ring")
    assert metrics["modes_covered"] >= 6, metrics
    assert metrics["hq_fraction"] >= 0.5, metrics
