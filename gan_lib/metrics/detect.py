"""64x64 quality without a download: how often a face detector finds a face, and colour drift.

OpenCV ships Haar cascades inside its 4.x wheels: ``haarcascade_frontalface_default.xml`` for
human faces and ``haarcascade_frontalcatface.xml`` for cat faces (the cat-face dataset itself was
cut out of photos with an OpenCV cat-face detector). ``detection_rate`` is the share of images in
which the detector finds at least one face after a 4x bicubic upscale (the cascades look for
faces of 24x24 pixels and more, in a larger image).

What the number says: how many samples have the coarse layout of a frontal face (eyes, nose,
mouth or ears where a face has them). What it does not say: whether they are varied, sharp, or
new (a generator that draws one good face scores 1.0; look at the samples and their nearest
training images too). Compare a run's rate with the real images' rate on the same detector
(``evaluate`` prints both): the detector misses real faces too.

OpenCV 5 dropped the cascades (and Colab ships OpenCV 5 beside opencv-contrib 4.x, which clash
on the ``cv2`` module); ``load_detector`` then raises one clear error that says what to install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_lib.errors import GanLibError

# dataset name -> the cascade that finds its faces
CASCADES = {"cat_faces": "haarcascade_frontalcatface.xml",
            "cat_landmarks": "haarcascade_frontalcatface.xml",
            "faces": "haarcascade_frontalface_default.xml"}
INSTALL = "pip install 'opencv-python-headless>=4.5,<5' (or: pip install 'gan_lib[metrics]')"


def load_detector(dataset: str):
    """The OpenCV cascade classifier for ``dataset``'s faces.

    Raises:
        GanLibError: no detector for this dataset, or no OpenCV 4 with its cascades here.
    """
    if dataset not in CASCADES:
        raise GanLibError(f"no face detector for {dataset!r}; there is one for "
                          f"{', '.join(CASCADES)}")
    try:
        import cv2
    except ImportError:
        raise GanLibError(f"the detection rate needs OpenCV 4: {INSTALL}") from None
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not hasattr(cv2, "CascadeClassifier") or not folder or not (
            Path(folder) / CASCADES[dataset]).exists():
        raise GanLibError(f"this OpenCV ({cv2.__version__}) has no Haar cascades (OpenCV 5 "
                          f"dropped them): {INSTALL}, then restart Python")
    return cv2.CascadeClassifier(str(Path(folder) / CASCADES[dataset]))


def as_unit_range(images: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] from uint8 in [0, 255], or from floats already in [-1, 1] (checked)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 127.5 - 1.0
    images = images.astype(np.float32)
    if images.size and (images.min() < -1.5 or images.max() > 1.5):
        raise GanLibError(f"float images must be in [-1, 1], got [{images.min():.3g}, "
                          f"{images.max():.3g}]; pass uint8 for images in [0, 255]")
    return images


def as_uint8(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W, C]`` from uint8, or from floats in [-1, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint((images.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def detection_rate(images: np.ndarray, dataset: str, upscale: int = 4) -> float:
    """Share of ``images`` (uint8, or floats in [-1, 1], ``[N, H, W, 3]``) in which the
    dataset's detector finds a face."""
    import cv2

    detector = load_detector(dataset)
    images = as_uint8(images)
    found = 0
    for image in images:
        big = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
        grey = cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)
        faces = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3,
                                          minSize=(16 * upscale, 16 * upscale))
        found += len(faces) > 0
    return found / max(1, len(images))


def channel_means(images: np.ndarray) -> np.ndarray:
    """Mean of each colour channel, on the 0-255 scale."""
    images = as_uint8(images)
    return images.reshape(-1, images.shape[-1]).mean(axis=0)


def colour_shift(samples: np.ndarray, real: np.ndarray) -> float:
    """Largest difference of a channel's mean between samples and real images (0-255 scale):
    a blue cast of the samples shows here even when their faces look right."""
    return float(np.abs(channel_means(samples) - channel_means(real)).max())
