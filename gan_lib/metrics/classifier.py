"""Image metrics for MNIST-like GANs, from a small CNN classifier trained on the real data.

The MNIST analogue of the Inception score and FID (TF-GAN's MNIST example does the same):

* ``classifier_score``: exp(E_x KL(p(y|x) || p(y))), high (max 10) when every image is
  clearly one class and all classes appear;
* ``min_class_share`` / ``class_histogram``: which classes the generator produces (a
  collapsed generator leaves classes out);
* ``frechet_distance`` between the classifier's penultimate features of real and generated
  images (see ``gan_lib.metrics.frechet``).

The shipped weights come from ``scripts/train_classifier.py``; accuracies are in
``gan_lib/weights/README.md``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from scipy.special import rel_entr, softmax

from gan_lib.errors import GanLibError
from gan_lib.metrics.detect import unit_range
from gan_lib.metrics.frechet import feature_statistics, frechet_distance

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
DATASETS = ("mnist", "fashion_mnist")
FEATURE_LAYER = "features"
NUM_CLASSES = 10
_MODELS: dict = {}  # dataset -> keras.Model giving (features, logits), built once
_REAL_STATS: dict = {}  # (dataset, fingerprint of the real images) -> (mu, sigma)


def build_classifier(num_classes: int = NUM_CLASSES):
    """A small CNN (~157k parameters) for 28x28 grey images.

    Input float32 ``[B, 28, 28, 1]`` in [-1, 1]; output logits ``[B, num_classes]``. The
    penultimate Dense layer, named ``"features"`` (128 units), gives the Fréchet features.
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = inputs
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)  # 28 -> 14 -> 7
    x = layers.Conv2D(128, 3, activation="relu")(x)  # 7 -> 5
    x = layers.GlobalAveragePooling2D()(x)
    features = layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3)(features)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_classifier")


def weights_path(dataset: str) -> Path:
    """Where the shipped weights of ``dataset``'s classifier are."""
    if dataset not in DATASETS:
        raise GanLibError(f"no image classifier for {dataset!r}; choose {' or '.join(DATASETS)}")
    return WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"


def load_classifier(dataset: str):
    """The classifier of ``dataset`` ("mnist" or "fashion_mnist") with its shipped weights."""
    path = weights_path(dataset)
    if not path.is_file():
        raise GanLibError(f"classifier weights not found: {path}; train them with "
                          f"`python scripts/train_classifier.py --dataset {dataset}`")
    model = build_classifier()
    model.load_weights(path)
    return model


def holdout_split(n: int, fraction: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fixed (train, test) index arrays: a seeded permutation, the last ``fraction`` is test."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * fraction))
    return np.sort(order[: n - n_test]), np.sort(order[n - n_test:])


def to_classifier_input(images: np.ndarray) -> np.ndarray:
    """uint8 in [0, 255] or float in [-1, 1], ``[N, 28, 28]`` or ``[N, 28, 28, 1]`` ->
    float32 ``[N, 28, 28, 1]`` in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise GanLibError(f"images must be [N, 28, 28] or [N, 28, 28, 1], got {images.shape}")
    return unit_range(images)


def _check_probs(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise GanLibError(f"probabilities must be [N, classes], got shape {probs.shape}")
    if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise GanLibError("rows of probabilities must be >= 0 and sum to 1 (softmax of logits)")
    return probs


def classifier_score(probs: np.ndarray) -> float:
    """exp(mean_x KL(p(y|x) || p(y))), the Inception score with an MNIST classifier.

    Salimans et al. (2016), "Improved Techniques for Training GANs". Args: probs float
    ``[N, K]``, rows summing to 1. Returns a value in [1, K]: 1 when all images get the same
    prediction, K when each is confidently one class and the classes are equally common.
    """
    probs = _check_probs(probs)
    marginal = probs.mean(axis=0, keepdims=True)
    return float(np.exp(rel_entr(probs, marginal).sum(axis=1).mean()))


def class_histogram(probs: np.ndarray) -> np.ndarray:
    """Share of images whose most likely class is k: float64 ``[K]``, summing to 1."""
    probs = _check_probs(probs)
    return np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)


def _feature_model(dataset: str):
    if dataset not in _MODELS:
        import keras

        model = load_classifier(dataset)
        _MODELS[dataset] = keras.Model(model.input,
                                       [model.get_layer(FEATURE_LAYER).output, model.output])
    return _MODELS[dataset]


def features_and_probs(images: np.ndarray, dataset: str,
                       batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate features float64 ``[N, 128]`` and class probabilities ``[N, 10]``."""
    x = to_classifier_input(images)
    model = _feature_model(dataset)
    feats, logits = [], []
    for start in range(0, len(x), batch_size):
        f, lg = model(x[start:start + batch_size], training=False)
        feats.append(np.asarray(f))
        logits.append(np.asarray(lg))
    logits = np.concatenate(logits).astype(np.float64)
    return np.concatenate(feats).astype(np.float64), softmax(logits, axis=1)


def real_statistics(real_images: np.ndarray, dataset: str,
                    batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Feature mean and covariance of real images, cached by their content."""
    real = np.ascontiguousarray(real_images)
    key = (dataset, real.shape, str(real.dtype), hashlib.sha1(real.tobytes()).hexdigest())
    if key not in _REAL_STATS:
        if len(_REAL_STATS) >= 4:  # a few sets at most; stats are small but images differ
            _REAL_STATS.pop(next(iter(_REAL_STATS)))
        _REAL_STATS[key] = feature_statistics(features_and_probs(real, dataset, batch_size)[0])
    return _REAL_STATS[key]


def evaluate_images(images: np.ndarray, dataset: str, real_images: np.ndarray | None = None,
                    batch_size: int = 500) -> dict:
    """Quality numbers for generated images, cheap enough to call during training.

    Args:
        images: generated images, float ``[N, 28, 28(, 1)]`` in [-1, 1] or uint8 in [0, 255];
            ~1,000 give stable numbers.
        dataset: "mnist" or "fashion_mnist" (which classifier to use).
        real_images: real images in the same formats; their statistics are cached.
    Returns:
        ``{"frechet_distance"`` (only with real_images), ``"classifier_score"`` (1..10),
        ``"min_class_share"`` (share of the rarest predicted class; 0.1 is perfect balance),
        ``"class_histogram"`` (list of 10 shares)}.
    """
    features, probs = features_and_probs(images, dataset, batch_size)
    histogram = class_histogram(probs)
    result = {}
    if real_images is not None:
        mu_real, sigma_real = real_statistics(real_images, dataset, batch_size)
        result["frechet_distance"] = frechet_distance(*feature_statistics(features),
                                                      mu_real, sigma_real)
    result.update(classifier_score=classifier_score(probs),
                  min_class_share=float(histogram.min()), class_histogram=histogram.tolist())
    return result
