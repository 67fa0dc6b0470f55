"""FID and KID in the pool features of ``keras.applications.InceptionV3``: a distance that can be
set beside other people's numbers, with care.

Images (uint8, or [-1, 1]; grey ones repeated to RGB) are resized to 299x299 with antialiasing
(``tf.image.resize(..., antialias=True)``, bilinear), passed through InceptionV3's own
``preprocess_input`` (to [-1, 1]) and the 2,048 features of its global average pool are kept.
FID is the Fréchet distance between the two sets' Gaussians (``gan_lib.metrics.frechet``), KID
the unbiased polynomial-kernel MMD (``gan_lib.metrics.encoder.polynomial_mmd2``).

**What it is, and is not.** These are Keras' ImageNet weights of InceptionV3, not the 2015
TensorFlow graph that the FID papers (Heusel et al. 2017; TTUR, pytorch-fid, StyleGAN) use: the
same architecture with other weights and small differences. pytorch-fid's author found that
another Inception's weights gave "pretty different results" until they were matched to TF's
(mseitzer/pytorch-fid issues #11 and #16); we found no published comparison for Keras'
weights, so compare these numbers only with numbers from this same network, at the same n, and
read them beside real-against-real at that n (FID has a bias that grows as n shrinks).

The weights (~84 MB, Keras' own file, checked against its MD5) are read from
``$GAN_LIB_INCEPTION_WEIGHTS`` if set, else from the weights folder (``weights_folder``: on
Colab the notebooks put it on Drive), else downloaded there once. Offline and without the file,
``InceptionUnavailable`` says so in one sentence (once per process).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from gan_lib.errors import GanLibError
from gan_lib.metrics.encoder import polynomial_mmd2
from gan_lib.metrics.frechet import frechet_distance_of_features

WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
               "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"  # Keras' own file_hash for this file
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
SIDE, FEATURES = 299, 2048
NETWORK = ("keras.applications.InceptionV3 (ImageNet weights), 2,048 pool features: close to, "
           "not the same network as, the TF-Inception of published FIDs")
_MODELS: dict = {}  # weights path (or None) -> model, built once per process
_FAILED: dict = {}  # url -> the InceptionUnavailable of its failed download


class InceptionUnavailable(GanLibError):
    """No InceptionV3 weights here and none could be downloaded."""


def weights_folder() -> Path:
    """``$GAN_LIB_CACHE/weights`` (on Colab the notebooks set it to Drive), else
    ``~/.cache/gan_lib/weights``."""
    cache = os.environ.get("GAN_LIB_CACHE") or "~/.cache/gan_lib"
    return Path(cache).expanduser() / "weights"


def inception_weights(url: str | None = None, md5: str | None = None) -> Path:
    """The path of InceptionV3's weights: the local file, or downloaded once from ``url``
    (default ``WEIGHTS_URL``) and checked against ``md5`` (default ``WEIGHTS_MD5``).

    Raises:
        InceptionUnavailable: no file and no download (offline, a firewall, a changed file).
    """
    given = os.environ.get("GAN_LIB_INCEPTION_WEIGHTS")
    if given:
        if not Path(given).is_file():
            raise InceptionUnavailable(f"GAN_LIB_INCEPTION_WEIGHTS={given} is not a file")
        return Path(given)
    from gan_lib.data.download import DownloadError, download

    url, md5 = url or WEIGHTS_URL, md5 or WEIGHTS_MD5
    if url in _FAILED:  # one try per process: an offline runtime says it once, not per call
        raise _FAILED[url]
    try:
        return download(url, weights_folder() / WEIGHTS_FILE, md5=md5, timeout=20.0)
    except (DownloadError, OSError) as e:  # OSError: the weights folder cannot be written
        _FAILED[url] = InceptionUnavailable(
            f"no FID: InceptionV3's weights are not here and could not be downloaded "
            f"({getattr(e, 'reason', None) or e}); put {WEIGHTS_FILE} in {weights_folder()} "
            "(or set GAN_LIB_INCEPTION_WEIGHTS to its path); the other metrics still run")
        raise _FAILED[url] from None


def inception_model(weights: str | os.PathLike | None):
    """InceptionV3 without its classifier, average-pooled: ``[B, 299, 299, 3] -> [B, 2048]``.
    ``weights=None``: random weights (tests)."""
    key = None if weights is None else str(weights)
    if key not in _MODELS:
        import keras

        model = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                               input_shape=(SIDE, SIDE, 3))
        if key is not None:
            model.load_weights(key)
        _MODELS[key] = model
    return _MODELS[key]


def inception_input(images: np.ndarray):
    """What InceptionV3 sees of ``images`` (uint8 or [-1, 1], ``[N, H, W, 1 or 3]``): float32
    ``[N, 299, 299, 3]``, resized with antialiasing, then ``preprocess_input`` (to [-1, 1])."""
    import keras
    import tensorflow as tf

    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise GanLibError(f"FID needs images [N, H, W, 1 or 3], got {x.shape}")
    pixels = (tf.cast(x, tf.float32) if x.dtype == np.uint8
              else (tf.clip_by_value(tf.cast(x, tf.float32), -1.0, 1.0) + 1.0) * 127.5)
    if x.shape[-1] == 1:
        pixels = tf.repeat(pixels, 3, axis=-1)
    resized = tf.image.resize(pixels, (SIDE, SIDE), method="bilinear", antialias=True)
    return keras.applications.inception_v3.preprocess_input(resized)


def inception_features(images: np.ndarray, weights: str | os.PathLike | None = "download",
                       batch_size: int = 50) -> np.ndarray:
    """The 2,048 pool features of each image: float64 ``[N, 2048]``.
    ``weights``: a path, "download" (``inception_weights()``), or None (random, for tests)."""
    model = inception_model(inception_weights() if weights == "download" else weights)
    images = np.asarray(images)
    out = [np.asarray(model(inception_input(images[i:i + batch_size]), training=False))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, FEATURES))


def _real_features(real: np.ndarray, weights, cache_dir: Path | None) -> np.ndarray:
    """The real images' features, cached as .npy by the images' bytes and the weights."""
    real = np.ascontiguousarray(real)
    digest = hashlib.sha256(real.tobytes() + str(real.shape).encode()
                            + str(weights).encode()).hexdigest()[:20]
    path = None if cache_dir is None else Path(cache_dir) / f"inception_real_{digest}.npy"
    if path is not None and path.is_file():
        return np.load(path)
    features = inception_features(real, weights)
    if path is not None:
        from gan_lib.atomic import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, features)
    return features


def inception_distances(samples: np.ndarray, real: np.ndarray, n: int | None = None,
                        seed: int = 0, weights="download",
                        cache_dir: str | os.PathLike | None = None) -> dict[str, float]:
    """FID and KID of ``samples`` against ``real``, beside real against other real images,
    both at the same n (FID's bias depends on n, so a baseline at another n would mislead).

    ``n`` (default: as many as both allow) samples are compared with ``n`` real images, a seeded
    pick, and those real images with ``n`` other real images; a folder of fewer than ``2 n``
    images lowers n for both to half the folder (``inception_n`` says which n was used). The
    picked real images' features are cached in ``cache_dir``. Returns ``inception_fid``,
    ``inception_kid``, ``real_inception_fid``, ``real_inception_kid``, ``inception_n`` and
    ``real_inception_n`` (the same n).
    """
    samples, real = np.asarray(samples), np.asarray(real)
    n = min(n or len(samples), len(samples), len(real) // 2)
    if n < 2:
        raise GanLibError(f"FID needs at least 2 samples and 4 real images, got "
                          f"{len(samples)} and {len(real)}")
    weights = inception_weights() if weights == "download" else weights
    pick = np.random.default_rng(seed).permutation(len(real))[:2 * n]
    pool = _real_features(real[pick], weights, cache_dir)
    fake = inception_features(samples[:n], weights)
    a, b = pool[:n], pool[n:2 * n]
    return {"inception_fid": frechet_distance_of_features(a, fake),
            "inception_kid": polynomial_mmd2(fake, a),
            "real_inception_fid": frechet_distance_of_features(a, b),
            "real_inception_kid": polynomial_mmd2(a, b),
            "inception_n": n, "real_inception_n": n}
