"""Mode collapse and memorisation, measured: the spread of a classifier's verdicts over samples,
and each sample's nearest neighbour in the training set.
"""

from __future__ import annotations

import numpy as np

from gan_lib.errors import GanLibError


def class_histogram_entropy(probs: np.ndarray, normalize: bool = True) -> float:
    """Entropy of the histogram of predicted classes: a mode-collapse signal for MNIST.

    A generator that collapses draws few digits, so a classifier's most likely classes
    pile up in few bins. Feed it the MNIST classifier's probabilities of generated images.

    Args:
        probs: float ``[N, K]`` class probabilities (rows sum to 1), or int ``[N]`` classes,
            in which case K is ``max + 1`` (pass probabilities to fix K).
        normalize: divide by log K, so 1 means every class equally often and 0 one class.
    Returns:
        The entropy in nats (``normalize=False``, in [0, log K]) or in [0, 1].
    """
    probs = np.asarray(probs)
    if probs.ndim == 1 and len(probs):
        classes, num_classes = probs.astype(np.int64), int(probs.max()) + 1
    elif probs.ndim == 2 and len(probs):
        classes, num_classes = probs.argmax(axis=1), probs.shape[1]
    else:
        raise GanLibError(f"expected probabilities [N, K] or classes [N], got shape {probs.shape}")
    share = np.bincount(classes, minlength=num_classes) / len(classes)
    share = share[share > 0]
    entropy = float(-(share * np.log(share)).sum()) + 0.0  # + 0.0: no "-0.0" for one class
    if not normalize:
        return entropy
    return entropy / np.log(num_classes) if num_classes > 1 else 0.0


def nearest_neighbours(samples: np.ndarray, train_images: np.ndarray, k: int = 1,
                       batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` training images closest (L2, in pixel space) to each sample: has G memorised?

    Show each sample beside its nearest training image: near-copies mean memorisation, which
    small datasets (the cats) invite. Works in float64 in batches of training images, so 64
    samples against 10,000 images take well under a second for MNIST.

    Args:
        samples: ``[N, ...]`` generated images (or points), any dtype.
        train_images: ``[M, ...]`` training images in the same scale (both uint8 [0, 255], or
            both float [-1, 1]) with the same per-example shape.
        k: neighbours per sample, 1 <= k <= M.
        batch_size: training images per batch (memory: ``batch_size * pixels`` float64).
    Returns:
        ``(indices, distances)``: int64 ``[N, k]`` indices into ``train_images`` and float64
        ``[N, k]`` Euclidean distances, nearest first.
    """
    a = np.asarray(samples).reshape(len(samples), -1).astype(np.float64)
    m = len(train_images)
    if np.asarray(train_images[:1]).reshape(min(m, 1), -1).shape[1] != a.shape[1]:
        raise GanLibError(f"samples {np.shape(samples)[1:]} and training images "
                          f"{np.shape(train_images)[1:]} have different shapes")
    if not 1 <= k <= m:
        raise GanLibError(f"k must be between 1 and the number of training images {m}, got {k}")
    a_sq = (a * a).sum(axis=1, keepdims=True)
    best_d = np.full((len(a), 0), np.inf)
    best_i = np.zeros((len(a), 0), np.int64)
    for start in range(0, m, batch_size):
        b = np.asarray(train_images[start:start + batch_size]).reshape(-1, a.shape[1])
        b = b.astype(np.float64)
        d2 = a_sq - 2.0 * a @ b.T + (b * b).sum(axis=1)[None, :]  # ||a - b||^2, expanded
        d = np.concatenate([best_d, d2], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + len(b)), d2.shape)],
                           axis=1)
        keep = np.argsort(d, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(d, keep, 1), np.take_along_axis(i, keep, 1)
    # Exact distances of the winners (the expansion loses digits when a sample ~ an image).
    diff = a[:, None, :] - np.asarray(train_images)[best_i].reshape(len(a), k, -1)
    return best_i, np.sqrt((diff * diff).sum(axis=-1))
