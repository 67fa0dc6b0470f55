"""Quality numbers for a GAN during training and for a finished run (``gan_lib evaluate``).

2D data: mode coverage (ring, grid) or the sine curve's error. MNIST and Fashion-MNIST: the
Fréchet distance in the shipped classifier's feature space, the classifier score (an Inception
score analogue, 1 to 10) and the share of the rarest class (mode collapse shows as ~0).
Cats and faces (64x64): the share of samples in which OpenCV's face detector finds a face, how
far the samples' colours are from the data's (``gan_lib.metrics.detect``), and the kernel
inception distance in the features of an encoder trained here (``gan_lib.metrics.encoder``).
``METRICS`` is the one table of which dataset gets which numbers: ``metric_columns``, ``measure``
and ``evaluate_run`` read it (a new kind of data: one ``Metrics`` entry).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gan_lib.config import OWN_IMAGES, GANConfig
from gan_lib.errors import GanLibError
from gan_lib.metrics.classifier import DATASETS as CLASSIFIER_DATASETS
from gan_lib.metrics.detect import CASCADES, colour_shift, detection_rate
from gan_lib.metrics.encoder import IMAGE_SHAPE, kernel_inception_distance
from gan_lib.metrics.toy import TOY_COLUMNS, toy_metrics

IMAGE_COLUMNS = ("frechet_distance", "classifier_score", "min_class_share")
DETECTOR_COLUMNS = ("detection_rate", "colour_shift", "kid")


def _toy(samples: np.ndarray, config: GANConfig, real_images=None) -> dict[str, float]:
    return toy_metrics(samples, config.toy_distribution)


def _classifier(samples: np.ndarray, config: GANConfig,
                real_images: np.ndarray | None = None) -> dict[str, float]:
    from gan_lib.metrics.classifier import evaluate_images

    return evaluate_images(samples, config.dataset, real_images=real_images)


def _detector(samples: np.ndarray, config: GANConfig,
              real_images: np.ndarray | None = None) -> dict[str, float]:
    result = {}
    if real_images is not None:
        result["colour_shift"] = colour_shift(samples, real_images)
        if np.shape(samples)[1:] == IMAGE_SHAPE:
            try:
                result["kid"] = kernel_inception_distance(samples, real_images, seed=config.seed)
            except GanLibError as e:  # no encoder weights (a partial install): train on
                warnings.warn(f"no KID: {e}", stacklevel=3)
    try:
        result["detection_rate"] = detection_rate(samples, config.dataset)
    except GanLibError as e:  # no cascade classifier here: say so, and train on
        warnings.warn(f"no detection rate: {e}", stacklevel=3)
    return result


def _detector_beside(result: dict, samples: np.ndarray, real: np.ndarray, config: GANConfig,
                     folder, n: int, seed: int) -> dict[str, float]:
    """The detector's numbers for real images, beside the samples', and memorisation."""
    extra = {}
    order = np.random.default_rng(seed).permutation(len(real))
    if "detection_rate" in result:  # the detector's own misses
        extra["real_detection_rate"] = detection_rate(real[order[:n]], config.dataset)
    k = min(n, len(real) // 2)
    if "kid" in result and k >= 2:  # real against other real images: what ~0 looks like
        extra["real_kid"] = kernel_inception_distance(real[order[:k]], real[order[k:2 * k]],
                                                      seed=seed)
    return {**extra, **memorisation(samples, real, folder, seed=seed,
                                    flipped=config.random_flip)}


@dataclass(frozen=True)
class Metrics:
    """How one kind of data is measured: during training and by ``evaluate_run``."""

    columns: Callable[[GANConfig], tuple[str, ...]]  # history.csv's quality columns
    measure: Callable[..., dict[str, float]]  # (samples, config, real_images) -> numbers
    real_images: bool = False  # evaluate_run compares with the real images
    beside: Callable[..., dict[str, float]] | None = None  # evaluate_run's numbers besides
    best: str | None = None  # the column whose lowest value keeps a run's best generator


def _none(samples: np.ndarray, config: GANConfig, real_images=None) -> dict[str, float]:
    return {}


def _memorised(result: dict, samples: np.ndarray, real: np.ndarray, config: GANConfig, folder,
               n: int, seed: int) -> dict[str, float]:
    return memorisation(samples, real, folder, seed=seed, flipped=config.random_flip)


TOY = Metrics(lambda c: TOY_COLUMNS[c.toy_distribution], _toy)
CLASSIFIER = Metrics(lambda c: IMAGE_COLUMNS, _classifier, real_images=True,
                     best="frechet_distance")
DETECTOR = Metrics(lambda c: DETECTOR_COLUMNS, _detector, real_images=True,
                   beside=_detector_beside, best="kid")
# your own images: nothing during training; evaluate_run checks memorisation
OWN = Metrics(lambda c: (), _none, real_images=True, beside=_memorised)
# dataset -> how it is measured; a dataset not here gets no quality numbers
METRICS: dict[str, Metrics] = {"toy2d": TOY, **dict.fromkeys(CLASSIFIER_DATASETS, CLASSIFIER),
                               **dict.fromkeys(CASCADES, DETECTOR), OWN_IMAGES: OWN}


def metric_columns(config: GANConfig) -> tuple[str, ...]:
    """The quality columns ``history.csv`` gets for ``config``."""
    kind = METRICS.get(config.dataset)
    return kind.columns(config) if kind else ()


def best_column(config: GANConfig) -> str | None:
    """The quality column whose lowest value marks a run's best generator (None: none kept)."""
    kind = METRICS.get(config.dataset)
    return kind.best if kind else None


def measure(samples: np.ndarray, config: GANConfig,
            real_images: np.ndarray | None = None) -> dict[str, float]:
    """The quality numbers of ``samples`` (points, or images in [-1, 1] or uint8) for
    ``config``'s data; {} where there is no metric for it."""
    kind = METRICS.get(config.dataset)
    return kind.measure(samples, config, real_images) if kind else {}


def inception(samples: np.ndarray, real: np.ndarray, n: int, seed: int) -> dict:
    """FID and KID in Keras' InceptionV3 features beside real against real, at ``n``
    (``gan_lib.metrics.inception``); without its weights one warning and {}."""
    from gan_lib.metrics.inception import (
        NETWORK,
        InceptionUnavailable,
        inception_distances,
        weights_folder,
    )

    try:
        found = inception_distances(samples, real, n=n, seed=seed,
                                    cache_dir=weights_folder().parent / "inception_features")
    except InceptionUnavailable as e:
        warnings.warn(str(e), stacklevel=3)
        return {}
    return {**found, "inception_network": NETWORK}


def memorisation(samples: np.ndarray, real: np.ndarray, folder=None, probes: int = 64,
                 search: int = 30_000, seed: int = 0, flipped: bool = False) -> dict[str, float]:
    """Has G copied its training images? The median pixel distance (uint8 RGB, L2) from each
    of ``probes`` samples to its nearest training image, beside the same for real images
    to the other real images. A generator that copies has samples much nearer their nearest
    training image than real images are to theirs (a ratio near 0). Pixel distance also
    favours flat and blurry images (an untrained G's grey squares score ~0.5), so read the
    ratio beside the picture: copies look like their neighbour. With ``folder``,
    ``nearest_neighbours.png`` shows rows of 8 samples, each row above their nearest images.
    Samples are searched against every picked training image; the real baseline holds
    ``probes`` real images out and searches the others. At most ``search`` training images (a
    seeded pick) are searched, to stay within seconds. ``flipped`` (a run that trained on
    randomly mirrored images): the mirrored training images are searched too, by the samples
    and by the real baseline alike, since a mirrored copy is still a copy.
    """
    from gan_lib.data.images import unscale_images
    from gan_lib.metrics.collapse import nearest_neighbours

    order = np.random.default_rng(seed + 1).permutation(len(real))
    probes = min(probes, len(samples), len(real) // 2)
    held, rest = real[order[:probes]], real[np.sort(order[probes:probes + search])]
    pool = real[np.sort(order[:probes + search])]  # a copy of a held-out image counts too
    if flipped:  # G saw each image both ways round: a mirrored copy is a copy
        pool, rest = (np.concatenate([x, x[:, :, ::-1]]) for x in (pool, rest))
    fake = unscale_images(samples[:probes])
    index, distance = nearest_neighbours(fake, pool)
    real_distance = nearest_neighbours(held, rest)[1]
    if folder is not None:
        from gan_lib.viz import image_grid

        rows = [part for i in range(0, probes, 8)
                for part in (fake[i:i + 8], pool[index[i:i + 8, 0]])]
        folder.save_image(folder.NEAREST, image_grid(np.concatenate(rows), ncols=8))
    fake_median, real_median = float(np.median(distance)), float(np.median(real_distance))
    return {"nn_distance": fake_median, "real_nn_distance": real_median,
            "nn_ratio": fake_median / real_median if real_median else float("nan")}
