"""Generated samples: one ``sample_from`` for training frames, evaluation and finished runs.

Labels of a conditional GAN follow one convention: ``label`` given, every sample is of that
class; else the classes take turns (sample i has class i mod K), except for progress frames,
whose fixed noise shows one grid row per class (``grid_labels``).
"""

from __future__ import annotations

import numpy as np

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError


def grid_labels(num_classes: int, n: int) -> np.ndarray:
    """int32 labels ``[n']`` for a grid with one row per class (n' <= n, a multiple of K)."""
    per_class = max(1, n // num_classes)
    return np.repeat(np.arange(num_classes), per_class)[:n].astype(np.int32)


def sample_from(generator, config: GANConfig, n: int | None = None, *, seed: int = 0,
                z: np.ndarray | None = None, labels: np.ndarray | None = None,
                label: int | None = None, batch_size: int | None = None) -> np.ndarray:
    """``G(z)`` for ``n`` standard-normal ``z`` drawn with ``seed`` (or the given ``z``), as
    NumPy, in batches, from any generator model (``GAN.generate`` is one call of the GAN's
    own generator on tensors, inside the train step or a notebook cell).

    Args:
        generator: a Keras generator (``gan.sampling_generator``, or a loaded generator.keras).
        labels / label: for a conditional GAN, each sample's class, or one class for all;
            neither: classes in turn.
        batch_size: images per call of the generator; default the training batch (at most
            256), a size the run has shown to fit in memory (the Russian faces generator holds
            ~0.5 GB of activations per 64 images).
    Returns:
        float32 ``[n, ...]`` in the generator's range ([-1, 1] images, or 2D points).
    """
    if z is None:
        z = np.random.default_rng(seed).standard_normal((n, config.latent_dim))
    z = np.asarray(z, np.float32)
    if config.num_classes:
        if label is not None and not 0 <= label < config.num_classes:
            raise GanLibError(f"--label needs a class in 0..{config.num_classes - 1}")
        if labels is None:
            labels = (np.full(len(z), label) if label is not None
                      else np.arange(len(z)) % config.num_classes)
        labels = np.asarray(labels, np.int32)
    elif label is not None:
        raise GanLibError("--label needs a conditional config; this run is not one")
    batch_size = batch_size or min(256, config.batch_size)
    out = []
    for i in range(0, len(z), batch_size):
        inputs = [z[i:i + batch_size], labels[i:i + batch_size]] if config.num_classes \
            else z[i:i + batch_size]
        out.append(np.asarray(generator(inputs, training=False), np.float32))
    return np.concatenate(out)
