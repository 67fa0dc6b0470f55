"""A distance between real and generated 64x64 images in the features of a small encoder
trained here: the kernel inception distance (KID) without Inception and without a download.

FID and KID compare two sets of images through the features of a network that has learnt
what images look like (Inception v3 in the papers). That network is a 92 MB download; this
module ships a 1.5 MB one instead. ``build_encoder`` is a small CNN trained, by
``scripts/train_encoder.py``, to tell which way up a real cat face or human face is (rotated by
0, 90, 180 or 270 degrees: Gidaris et al. 2018, "Unsupervised Representation Learning by
Predicting Image Rotations"). To answer it has to find eyes, ears, noses and chins, so its
256 pooled features describe faces; noise, smudges and shuffled patches land far from them.

``kernel_inception_distance`` (Bińkowski et al. 2018, "Demystifying MMD GANs") is the squared
MMD between the two feature sets with the kernel k(x, y) = (x.y / d + 1)^3, estimated without
bias: two samples of the same distribution give ~0 (it can be slightly negative) however few
images there are, unlike the Fréchet distance, whose estimate at a few hundred images is
dominated by its own bias. Lower is better; compare runs measured with the same encoder and
the same number of samples, never with published (Inception) KIDs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from gan_lib.errors import GanLibError
from gan_lib.metrics.detect import unit_range

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "encoder64.weights.h5"
IMAGE_SHAPE = (64, 64, 3)
FEATURES = 256
ROTATIONS = 4  # the pretext task's classes: k * 90 degrees
_MODEL: list = []  # the feature model, built once
_REAL: dict = {}  # fingerprint of real images -> their features


def build_encoder():
    """The encoder: float32 ``[B, 64, 64, 3]`` in [-1, 1] -> 4 rotation logits.

    Four 3x3 convolutions (32, 64, 128, 256 filters) with ReLU, each followed by 2x2 max
    pooling (64 -> 4), global average pooling to the 256 ``features``, then Dense(4).
    About 390k parameters.
    """
    import keras
    from keras import layers

    inputs = keras.Input(IMAGE_SHAPE)
    x = inputs
    for filters in (32, 64, 128, 256):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    features = layers.GlobalAveragePooling2D(name="features")(x)
    logits = layers.Dense(ROTATIONS, name="rotation")(features)
    return keras.Model(inputs, logits, name="encoder64")


def load_encoder():
    """The encoder with its shipped weights."""
    if not WEIGHTS.is_file():
        raise GanLibError(f"encoder weights not found: {WEIGHTS}; train them with "
                          "`python scripts/train_encoder.py`")
    model = build_encoder()
    model.load_weights(WEIGHTS)
    return model


def to_encoder_input(images: np.ndarray) -> np.ndarray:
    """uint8 in [0, 255] or float in [-1, 1], ``[N, 64, 64, 3]`` -> float32 in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise GanLibError(f"the encoder takes images [N, 64, 64, 3], got {images.shape}")
    return unit_range(images)


def rotations(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image turned by 0, 90, 180 and 270 degrees: ``(4N images, labels k in 0..3)``."""
    images = np.asarray(images)
    turned = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(ROTATIONS)])
    return turned, np.repeat(np.arange(ROTATIONS), len(images))


def encoder_features(images: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """The encoder's 256 pooled features of each image: float64 ``[N, 256]``."""
    x = to_encoder_input(images)
    if not _MODEL:
        import keras

        model = load_encoder()
        _MODEL.append(keras.Model(model.input, model.get_layer("features").output))
    out = [np.asarray(_MODEL[0](x[i:i + batch_size], training=False))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, FEATURES))


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD of feature sets ``x [m, d]`` and ``y [n, d]`` (m, n >= 2) with
    the kernel k(a, b) = (a.b / d + 1)^3: the mean of k within x and within y, each without
    its diagonal, minus twice the mean of k between them."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise GanLibError(f"features must be [m, d] and [n, d], got {x.shape} and {y.shape}")
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise GanLibError(f"KID needs at least 2 images on each side, got {m} and {n}")
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def _real_features(real: np.ndarray) -> np.ndarray:
    real = np.ascontiguousarray(real)
    key = (real.shape, str(real.dtype), hashlib.sha1(real.tobytes()).hexdigest())
    if key not in _REAL:
        if len(_REAL) >= 4:
            _REAL.pop(next(iter(_REAL)))
        _REAL[key] = encoder_features(real)
    return _REAL[key]


def kernel_inception_distance(images: np.ndarray, real_images: np.ndarray,
                              max_real: int = 2000, seed: int = 0) -> float:
    """KID between ``images`` and ``real_images`` (both uint8 or [-1, 1] ``[N, 64, 64, 3]``)
    in the shipped encoder's features; at most ``max_real`` real images, a seeded pick (their
    features are cached). A few hundred images of each give a usable estimate."""
    real = np.asarray(real_images)
    if len(real) > max_real:
        real = real[np.sort(np.random.default_rng(seed).permutation(len(real))[:max_real])]
    return polynomial_mmd2(encoder_features(images), _real_features(real))
