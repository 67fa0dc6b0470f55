"""Quality numbers for a GAN during training and for a finished run (``gan_lib evaluate``).

2D data: mode coverage (ring, grid) or the sine curve's error. MNIST and Fashion-MNIST: the
Fréchet distance in the shipped classifier's feature space, the classifier score (an Inception
score analogue, 1 to 10) and the share of the rarest class (mode collapse shows as ~0).
Other image datasets have no offline classifier; their runs are judged by eye.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from gan_lib.config import GANConfig
from gan_lib.metrics.toy import toy_metrics

CLASSIFIER_DATASETS = ("mnist", "fashion_mnist")
IMAGE_COLUMNS = ("frechet_distance", "classifier_score", "min_class_share")


def metric_columns(config: GANConfig) -> tuple[str, ...]:
    """The quality columns ``history.csv`` gets for ``config``."""
    if config.is_2d:
        return tuple(toy_metrics(np.zeros((2, 2), np.float32), config.toy_distribution))
    return IMAGE_COLUMNS if config.dataset in CLASSIFIER_DATASETS else ()


def generate(gan, config: GANConfig, n: int, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """``n`` fresh samples (labels cycling through the classes for a conditional GAN)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        z = tf.constant(rng.standard_normal((m, config.latent_dim)), tf.float32)
        labels = (tf.constant((np.arange(start, start + m) % config.num_classes), tf.int32)
                  if config.num_classes else None)
        out.append(gan.generate(z, labels, use_ema=True).numpy())
    return np.concatenate(out)


def measure_images(images: np.ndarray, config: GANConfig, real_images: np.ndarray | None,
                   ) -> dict[str, float]:
    """Image metrics of ``images`` ([-1, 1] floats or uint8) for a classifier dataset, else {}."""
    if config.dataset not in CLASSIFIER_DATASETS:
        return {}
    from gan_lib.metrics.classifier import evaluate_images

    return evaluate_images(images, config.dataset, real_images=real_images)


def evaluate_run(run_dir: str | os.PathLike, n: int = 2000,
                 data_root: str | os.PathLike | None = None, seed: int = 0) -> dict:
    """Metrics of a finished run's ``generator.keras``; also written to ``run_dir/metrics.json``."""
    from gan_lib.runs import read_config
    from gan_lib.sampling import sample_run

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    samples = sample_run(run_dir, n, seed=seed)
    if config.is_2d:
        result = toy_metrics(samples, config.toy_distribution)
    elif config.dataset in CLASSIFIER_DATASETS:
        from gan_lib.data import load_images

        real, _ = load_images(config.dataset, data_root, config.image_size)
        result = measure_images(samples, config, real)
    else:
        result = {}
    result = {"config": config.name, "samples": n, **result}
    tmp = run_dir / "metrics.json.tmp"
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, run_dir / "metrics.json")
    return result
