"""Your own images as a dataset: a folder, a zip of one, or the URL of a zip.

``train(config, out_dir, images="my_photos/")`` (``--images`` on the command line) trains any
image recipe on every readable image under the folder, at any depth: the oddities
``load_image_folder`` handles (EXIF rotation, grey, RGBA, CMYK, 16-bit) are handled, files that
cannot be read are skipped and counted, each image is centre-cropped to a square and resized to
the recipe's size, and the result is decoded once into the decode cache. A ``.zip`` (a path or
an http(s) URL) is unpacked once, safely (``gan_lib.data.archives``), under
``<data root>/own_images/``. The run's config.json keeps the source, so ``--resume`` refuses
another one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import urllib.parse
import warnings
from pathlib import Path

import numpy as np

from gan_lib.config import OWN_IMAGES, GANConfig
from gan_lib.data.images import (
    IMAGE_EXTENSIONS,
    UNREAD_EXTENSIONS,
    list_image_files,
    load_image_folder,
)
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

# The smallest folder measured to give new images, not copies (benchmarks/README.md, "Your own
# images"); fewer were not tried.
MIN_IMAGES = 100
_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz")


def on_images(config: GANConfig, source: str | os.PathLike) -> GANConfig:
    """``config``, an image recipe, trained on your own images instead of its dataset:
    ``source`` is a folder, a .zip (or .tar.gz) of one, or the http(s) URL of such an archive."""
    if config.is_2d or config.num_classes:
        raise GanLibError(f"{config.name} trains on {'2D points' if config.is_2d else 'labels'}"
                          "; train your own images with an image recipe such as faces64_fast, "
                          "dcgan128_fast or dcgan128")
    text = os.fspath(source)  # a path made absolute, so that a resume from elsewhere finds it
    text = text if is_url(text) else os.path.abspath(os.path.expanduser(text))
    return dataclasses.replace(config, dataset=OWN_IMAGES, images=text)


def is_url(source: str | os.PathLike) -> bool:
    return urllib.parse.urlparse(str(source)).scheme in ("http", "https", "file")


def _unpacked_folder(archive_name: str, key: str, root) -> Path:
    """Where an archive is unpacked: one folder per archive (name + a hash of its source: the URL,
    or a file's path, size and modification time)."""
    stem = archive_name
    for ext in _ARCHIVES:
        stem = stem[:-len(ext)] if stem.lower().endswith(ext) else stem
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return data_root(root) / "own_images" / f"{stem or 'images'}_{digest}"


def image_folder(source: str | os.PathLike, root=None) -> Path:
    """The folder of images that ``source`` names, unpacking (and downloading) it if needed.

    Args:
        source: a folder; a .zip/.tar(.gz) file; or an http(s):// or file:// URL of one.
        root: the data root (``GAN_LIB_DATA``, else ``data/``) that unpacked archives go under.
    Raises:
        GanLibError: nothing at ``source``, or a file that is not an archive of images.
    """
    from gan_lib.data.archives import extract_archive

    if is_url(source):
        url = str(source)
        name = Path(urllib.parse.urlparse(url).path).name or "images.zip"
        folder = _unpacked_folder(name, url, root)
        if not folder.is_dir():
            from gan_lib.data.download import archive_place, download

            # GAN_LIB_ARCHIVES set (Drive, on Colab): the zip is kept for the next runtime
            place, keep = archive_place(folder.parent, f"{folder.name}-{name}")
            archive = download(url, place,
                               manual_hint="or download the zip yourself and pass its path")
            extract_archive(archive, folder)
            if not keep:
                archive.unlink(missing_ok=True)
        return folder
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if not path.exists():
        raise GanLibError(f"no folder or zip file at {path}: check the path (on Colab, mount "
                          "Drive first, or upload the folder)")
    if not path.name.lower().endswith(_ARCHIVES):
        raise GanLibError(f"{path} is a file, not a folder of images or a .zip of one: pass "
                          "the folder that holds your images")
    stat = path.stat()  # a zip changed in place (uploaded again, replaced on Drive): a new folder
    folder = _unpacked_folder(path.name, f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}",
                              root)
    if not folder.is_dir():
        extract_archive(path, folder)
    return folder


def check_image_folder(folder: Path) -> int:
    """How many image files ``folder`` holds (without decoding them); at least ``MIN_IMAGES``.

    Raises:
        GanLibError: no image file under ``folder``, or fewer than ``MIN_IMAGES``.
    """
    n = len(list_image_files(folder))
    unread = sum(1 for p in folder.rglob("*") if p.suffix.lower() in UNREAD_EXTENSIONS)
    if unread:
        warnings.warn(f"{unread} HEIC/HEIF/AVIF photos under {folder} are left out (Pillow "
                      "cannot read them): convert them to JPEG to use them", stacklevel=2)
    if n == 0:
        raise GanLibError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {folder}: "
                          "point --images at the folder that holds them")
    if n < MIN_IMAGES:
        raise GanLibError(f"{folder} holds only {n} image{'s' * (n != 1)}: the course's "
                          f"recipes were tried on {MIN_IMAGES} or more (fewer may give copies, or "
                          f"one image over and over); bring at least {MIN_IMAGES}, after cleaning "
                          "too")
    return n


def load_own_images(source: str | os.PathLike, image_size: int, channels: int = 3, root=None,
                    progress: bool = True) -> np.ndarray:
    """Every readable image of ``source`` as uint8 ``[N, image_size, image_size, channels]``
    (centre-cropped, resized, cached; grey by ITU-R 601 luma for a one-channel recipe)."""
    folder = image_folder(source, root)
    check_image_folder(folder)
    images = load_image_folder(folder, image_size, crop="center", progress=progress)
    if len(images) < MIN_IMAGES:
        raise GanLibError(f"only {len(images)} images under {folder} could be read (the others "
                          f"are named in the warning above): the course's recipes were tried on "
                          f"{MIN_IMAGES} or more; bring more, or convert the unreadable ones")
    if channels == 1:
        luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        images = np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
    elif channels != 3:
        raise GanLibError(f"image recipes have 1 or 3 channels, this one {channels}")
    return images


def write_image_folder(images: np.ndarray, folder: str | os.PathLike) -> Path:
    """``images`` (uint8 ``[N, H, W, 3]``, e.g. cleaned ones) as a folder of PNG files
    (``000000.png`` ...) to train on with ``images=folder``. Written under a temporary name
    and renamed when complete, so a kill leaves no half folder; an existing one is kept."""
    from PIL import Image

    folder = Path(folder)
    if folder.is_dir():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for i, image in enumerate(np.asarray(images, np.uint8)):
        Image.fromarray(image).save(partial / f"{i:06d}.png")
    os.replace(partial, folder)
    return folder
