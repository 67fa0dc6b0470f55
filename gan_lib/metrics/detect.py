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

OpenCV 5 moved ``CascadeClassifier`` into opencv-contrib and ships no cascade files at all (and
Colab has OpenCV 5 beside opencv-contrib 4.x, two packages that share the ``cv2`` module). So
gan_lib ships both cascades (``gan_lib/weights/*.xml.gz``, BSD-licensed, their licence kept in
each file) and loads them, checksummed, whenever ``cv2`` has ``CascadeClassifier`` but no
cascade files. ``opencv_problem()`` says, before any training, whether the detector will work;
``repair_opencv()`` installs the opencv-contrib build that matches when it will not (what the
setup cells of lessons 05 and 06 run on Colab, before anything has imported ``cv2``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from gan_lib.errors import GanLibError

# dataset name -> the cascade that finds its faces
CASCADES = {"cat_faces": "haarcascade_frontalcatface.xml",
            "cat_landmarks": "haarcascade_frontalcatface.xml",
            "faces": "haarcascade_frontalface_default.xml"}
# the shipped copies: sha256 of the uncompressed XML, as OpenCV 4.14's wheels have them
SHIPPED_SHA256 = {
    "haarcascade_frontalcatface.xml":
        "ac2bac934ef24284ef8a2b2e9d8e57eef84ac1d6943b4d11e5c9e8584dc069c8",
    "haarcascade_frontalface_default.xml":
        "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
}
WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
INSTALL = "pip install 'opencv-python-headless>=4.5,<5' (or: pip install 'gan_lib[metrics]')"
_PROBE = "import cv2; print(cv2.__version__, hasattr(cv2, 'CascadeClassifier'))"


def cascade_file(name: str, opencv_folder: str | None = None) -> Path:
    """The cascade XML ``name``: OpenCV's own file if it has one, else gan_lib's checked copy."""
    if opencv_folder and (Path(opencv_folder) / name).is_file():
        return Path(opencv_folder) / name
    data = gzip.decompress((WEIGHTS / f"{name}.gz").read_bytes())
    if hashlib.sha256(data).hexdigest() != SHIPPED_SHA256[name]:
        raise GanLibError(f"gan_lib's copy of {name} is damaged (checksum mismatch): reinstall "
                          "gan_lib")
    target = Path(tempfile.gettempdir()) / f"gan_lib_{SHIPPED_SHA256[name][:12]}_{name}"
    if not target.is_file() or hashlib.sha256(target.read_bytes()).hexdigest() != (
            SHIPPED_SHA256[name]):
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def load_detector(dataset: str):
    """The OpenCV cascade classifier for ``dataset``'s faces.

    Raises:
        GanLibError: no detector for this dataset, no OpenCV, or an OpenCV without
            ``CascadeClassifier`` (OpenCV 5 without opencv-contrib).
    """
    if dataset not in CASCADES:
        raise GanLibError(f"no face detector for {dataset!r}; there is one for "
                          f"{', '.join(CASCADES)}")
    try:
        import cv2
    except ImportError:
        raise GanLibError(f"the detection rate needs OpenCV: {INSTALL}") from None
    if not hasattr(cv2, "CascadeClassifier"):
        raise GanLibError(f"this OpenCV ({cv2.__version__}) has no CascadeClassifier (OpenCV 5 "
                          f"moved it to opencv-contrib): pip install "
                          f"'opencv-contrib-python-headless=={cv2.__version__}.*', then restart "
                          "Python")
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    detector = cv2.CascadeClassifier(str(cascade_file(CASCADES[dataset], folder)))
    if detector.empty():
        raise GanLibError(f"OpenCV {cv2.__version__} could not read {CASCADES[dataset]}")
    return detector


def opencv_problem(python: str = sys.executable) -> str | None:
    """Why the detection rate will be missing in ``python``, or None when it will work.

    Asked in a new process, so that it tells the truth before this one imports ``cv2`` (and
    an install can still change what it will import).
    """
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"could not ask Python about OpenCV ({err})"
    if out.returncode:
        if "ModuleNotFoundError" in out.stderr:
            return f"OpenCV is not installed: {INSTALL}"
        last = (out.stderr.strip().splitlines() or ["no message"])[-1][:200]
        return f"OpenCV is installed but does not import ({last})"
    words = out.stdout.split()
    if len(words) < 2:
        return f"OpenCV answered {out.stdout.strip()!r} when asked its version"
    version, has_cascades = words[-2:]
    if has_cascades != "True":
        return (f"OpenCV {version} has no CascadeClassifier (OpenCV 5 moved it to "
                "opencv-contrib)")
    return None


def repair_opencv(install: bool = True, python: str = sys.executable) -> str:
    """Make the face detectors work in ``python`` before it imports ``cv2``: where OpenCV has
    no ``CascadeClassifier``, install the opencv-contrib build of the same version (``install``;
    the lessons do it on Colab only), else say what to install. Returns one line for a notebook.
    """
    problem = opencv_problem(python)
    if problem is None:
        return ("face detector: ready (OpenCV has CascadeClassifier; the cascades come from "
                "OpenCV or gan_lib)")
    if "no CascadeClassifier" not in problem:  # missing or broken: nothing safe to install
        return (f"face detector: {problem}, so the detection rate will be missing (the other "
                "numbers are measured anyway)")
    version = subprocess.run([python, "-c", "import cv2; print(cv2.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    wanted = f"opencv-contrib-python-headless=={version}.*"
    if not install:
        return (f"face detector: {problem}, so the detection rate will be missing (the other "
                f"numbers are measured anyway); to have it: pip install '{wanted}'")
    pip = subprocess.run([python, "-m", "pip", "install", "--quiet", wanted],
                         capture_output=True, text=True)
    still = opencv_problem(python)
    if pip.returncode or still:
        return (f"face detector: {problem}; installing {wanted} did not fix it "
                f"({still or pip.stderr.strip()[-300:]}): the detection rate will be missing, "
                "the other numbers are measured anyway")
    restart = " (restart the session to use it)" if "cv2" in sys.modules else ""
    return f"face detector: {problem}; installed {wanted}, it works now{restart}"


def unit_range(images: np.ndarray) -> np.ndarray:
    """The metrics' networks' input, float32 in [-1, 1]: uint8 in [0, 255] scaled as
    ``gan_lib.data.scale_images`` scales them (in NumPy: the metrics need no TensorFlow), or
    floats already in [-1, 1] (checked)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    images = images.astype(np.float32)
    if images.size and (images.min() < -1.5 or images.max() > 1.5):
        raise GanLibError(f"float images must be in [-1, 1], got [{images.min():.3g}, "
                          f"{images.max():.3g}]; pass uint8 for images in [0, 255]")
    return images


def detection_rate(images: np.ndarray, dataset: str, upscale: int = 4) -> float:
    """Share of ``images`` (uint8, or floats in [-1, 1], ``[N, H, W, 3]``) in which the
    dataset's detector finds a face."""
    import cv2

    from gan_lib.data.images import unscale_images

    detector = load_detector(dataset)
    images = unscale_images(images)
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
    from gan_lib.data.images import unscale_images

    images = unscale_images(images)
    return images.reshape(-1, images.shape[-1]).mean(axis=0)


def colour_shift(samples: np.ndarray, real: np.ndarray) -> float:
    """Largest difference of a channel's mean between samples and real images (0-255 scale):
    a blue cast of the samples shows here even when their faces look right."""
    return float(np.abs(channel_means(samples) - channel_means(real)).max())
