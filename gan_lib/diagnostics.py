"""Is training going wrong? A "discriminator wins" alarm, mode-collapse and memorisation checks.

Gradient norms (``g_grad_norm``, ``d_grad_norm``) come from the train step itself; these
functions read history rows, classifier outputs and samples.
"""

from __future__ import annotations

import warnings

import numpy as np

from gan_lib.errors import GanLibError


class DiscriminatorWinsWarning(UserWarning):
    """D rejects every fake with near certainty, so G learns (almost) nothing."""


class DiscriminatorWinsAlarm:
    """Watches logged rows and warns once when D's loss and D(G(z)) both stay near 0.

    The English and German seeds' runs did this in their first epochs: D learns to reject
    the early, obviously bad fakes perfectly, its loss goes to 0 and the generator's
    gradient (through a saturated sigmoid) vanishes.

    Args:
        threshold_loss: ``d_loss`` below this counts as "D wins" ...
        threshold_fake: ... when ``d_fake`` (mean D(G(z)), a probability) is below this too.
        patience: warn after this many such rows in a row.
        enabled: False makes the alarm silent (Wasserstein critics: their loss is meant to go
            below 0, and their scores are no probabilities).
        loss: the generator's loss name, for the explanation in the warning.
    """

    def __init__(self, threshold_loss: float = 0.05, threshold_fake: float = 0.05,
                 patience: int = 5, enabled: bool = True, loss: str = "non_saturating"):
        if patience < 1:
            raise GanLibError(f"patience must be at least 1 row, got {patience}")
        self.threshold_loss = threshold_loss
        self.threshold_fake = threshold_fake
        self.patience = patience
        self.enabled = enabled
        self.loss = loss
        self.streak = 0
        self.fired = False

    @classmethod
    def for_loss(cls, loss: str, **kwargs) -> DiscriminatorWinsAlarm:
        """An alarm that fits the loss: silent for ``wgan_gp``, whose critic loss is not >= 0."""
        return cls(enabled=loss != "wgan_gp", loss=loss, **kwargs)

    def message(self, step) -> str:
        # What a winning D does to G depends on G's loss: the minimax loss saturates (no
        # gradient), the others keep a gradient that only pushes G towards D's current blind spot.
        effect = ("the generator's minimax loss saturates: it gets almost no gradient"
                  if self.loss == "minimax" else
                  "the generator's gradient grows but only says 'not like this': it chases "
                  "what D happens to accept instead of the data")
        return (
            f"The discriminator is winning: for {self.patience} logged rows up to step {step} "
            f"its loss stayed below {self.threshold_loss} and D(G(z)) below "
            f"{self.threshold_fake}. It rejects every fake with near certainty; {effect}. "
            "Try one or more of: a "
            "lower d_learning_rate (e.g. half of g_learning_rate), label_smoothing=0.1, "
            "instance_noise=0.1, label_flip=0.05, g_steps=2, more dropout or spectral_norm=True "
            "in D, loss='hinge' or 'lsgan', and diffaugment='color,translation,cutout' for "
            "small image datasets.")

    def check(self, row: dict, step: int | None = None) -> bool:
        """Feed one history row (needs ``d_loss`` and ``d_fake``); True when it warns now."""
        if not self.enabled or self.fired:
            return False
        if row["d_loss"] < self.threshold_loss and row["d_fake"] < self.threshold_fake:
            self.streak += 1
        else:
            self.streak = 0
        if self.streak < self.patience:
            return False
        self.fired = True
        warnings.warn(self.message(row.get("step", step)), DiscriminatorWinsWarning,
                      stacklevel=2)
        return True


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
