"""Quality numbers for a GAN during training and for a finished run (``gan_lib evaluate``).

2D data: mode coverage (ring, grid) or the sine curve's error. MNIST and Fashion-MNIST: the
Fréchet distance in the shipped classifier's feature space, the classifier score (an Inception
score analogue, 1 to 10) and the share of the rarest class (mode collapse shows as ~0).
Cats and faces (64x64): the share of samples in which OpenCV's face detector finds a face, and
how far the samples' colours are from the data's (``gan_lib.metrics.detect``).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError
from gan_lib.metrics.classifier import DATASETS as CLASSIFIER_DATASETS
from gan_lib.metrics.detect import CASCADES, colour_shift, detection_rate
from gan_lib.metrics.toy import TOY_COLUMNS, toy_metrics

IMAGE_COLUMNS = ("frechet_distance", "classifier_score", "min_class_share")
DETECTOR_COLUMNS = ("detection_rate", "colour_shift")


def metric_columns(config: GANConfig) -> tuple[str, ...]:
    """The quality columns ``history.csv`` gets for ``config``."""
    if config.is_2d:
        return TOY_COLUMNS[config.toy_distribution]
    if config.dataset in CLASSIFIER_DATASETS:
        return IMAGE_COLUMNS
    return DETECTOR_COLUMNS if config.dataset in CASCADES else ()


def measure(samples: np.ndarray, config: GANConfig,
            real_images: np.ndarray | None = None) -> dict[str, float]:
    """The quality numbers of ``samples`` (points, or images in [-1, 1] or uint8) for
    ``config``'s data; {} where there is no metric for it."""
    if config.is_2d:
        return toy_metrics(samples, config.toy_distribution)
    if config.dataset in CASCADES:
        result = {} if real_images is None else {"colour_shift": colour_shift(samples,
                                                                              real_images)}
        try:
            result["detection_rate"] = detection_rate(samples, config.dataset)
        except GanLibError as e:  # no OpenCV 4 here: say so, and train on
            warnings.warn(f"no detection rate: {e}", stacklevel=2)
        return result
    if config.dataset not in CLASSIFIER_DATASETS:
        return {}
    from gan_lib.metrics.classifier import evaluate_images

    return evaluate_images(samples, config.dataset, real_images=real_images)


def evaluate_run(run_dir: str | os.PathLike, n: int = 2000,
                 data_root: str | os.PathLike | None = None, seed: int = 0) -> dict:
    """Metrics of a finished run's ``generator.keras``; also written to ``metrics.json``."""
    from gan_lib.run_folder import RunFolder
    from gan_lib.sampling import sample

    folder = RunFolder(run_dir)
    config = folder.read_config()
    samples = sample(run_dir, n, seed=seed)
    real = None
    if config.dataset in CLASSIFIER_DATASETS or config.dataset in CASCADES:
        from gan_lib.data import load_images

        real, _ = load_images(config.dataset, data_root, config.image_size)
    result = {"config": config.name, "samples": n, **measure(samples, config, real)}
    if config.dataset in CASCADES and "detection_rate" in result:  # the detector's own misses
        pick = np.random.default_rng(seed).permutation(len(real))[:n]
        result["real_detection_rate"] = detection_rate(real[pick], config.dataset)
    folder.write_json(folder.metrics_path, result)
    return result
