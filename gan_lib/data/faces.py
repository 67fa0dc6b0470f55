"""CelebA faces for the 64x64 lessons.

Licence: CelebA (Liu, Luo, Wang and Tang, "Deep Learning Face Attributes in the Wild", ICCV
2015) "is available for non-commercial research purposes only", and its users agree "not to
further copy, publish or distribute any portion" of it; by downloading it you accept the terms on
its page (mmlab.ie.cuhk.edu.hk/projects/CelebA.html). The 3,000 images in the shared test folder
are unchanged files from ``img_align_celeba``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gan_lib.data import download as dl
from gan_lib.data.archives import extract_archive
from gan_lib.data.images import list_image_files, load_image_folder
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

# From torchvision/datasets/celeba.py (file id, md5), the same ids CelebA's page links to.
CELEBA_FILE_ID = "0B7EVK8r0v71pZjFTYXZWM3FlRnM"
CELEBA_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"
# confirm=t skips Google Drive's "can't scan this large file for viruses" page.
CELEBA_URL = ("https://drive.usercontent.google.com/download?id="
              f"{CELEBA_FILE_ID}&export=download&confirm=t")
CELEBA_LICENCE = ('CelebA "is available for non-commercial research purposes only" (its '
                  'agreement; do not publish its photos)')


def download_celeba(folder: str | os.PathLike) -> Path:
    """Fetch img_align_celeba.zip (1.4 GB, 202,599 JPEGs) and unpack it into ``folder``.

    Google Drive often answers with an HTML page instead of the file (daily quota exceeded,
    or a changed confirmation page); the error then says how to do it by hand.
    """
    folder = Path(folder)
    zip_path, keep = dl.archive_place(folder, "img_align_celeba.zip")
    hint = (f"Download img_align_celeba.zip by hand from the CelebA page "
            f"(mmlab.ie.cuhk.edu.hk/projects/CelebA.html, 'Align&Cropped Images') or from "
            f"https://drive.google.com/file/d/{CELEBA_FILE_ID}, and unzip it into {folder}/ "
            f"(its img_align_celeba/ folder of JPEGs may sit there as it is). {CELEBA_LICENCE}.")
    dl.download(CELEBA_URL, zip_path, md5=CELEBA_MD5, timeout=60.0, manual_hint=hint)
    extract_archive(zip_path, folder)
    if not keep:
        zip_path.unlink()  # 1.4 GB we no longer need
    return folder


def load_faces(root: str | os.PathLike | None = None, image_size: int = 64,
               download: bool = False, progress: bool = True) -> np.ndarray:
    """CelebA aligned faces as uint8 ``[N, image_size, image_size, 3]`` in [0, 255].

    Reads every JPEG under ``<data root>/faces/`` (178x218 each). The crop follows the
    PyTorch DCGAN tutorial (``Resize(64)`` then ``CenterCrop(64)``): the centred 178x178
    square, resized to ``image_size``: the face fills the frame, hair and chin mostly kept.
    The first call decodes and caches (see ``load_image_folder``); later calls are fast.

    Args:
        root: dataset root (see ``gan_lib.data.paths.data_root``).
        image_size: output side in pixels (64 in the course).
        download: if the folder has no images, fetch CelebA from Google Drive first
            (1.4 GB; non-commercial research use only).
        progress: show a progress bar while decoding.

    Raises:
        GanLibError: no images and ``download`` is False, or the download failed (the
            message says how to fetch the zip by hand).
    """
    folder = data_root(root) / "faces"
    if not folder.is_dir() or not list_image_files(folder):
        if not download:
            raise GanLibError(
                f"no face images in {folder}: call load_faces(download=True) to fetch CelebA "
                f"(1.4 GB), or unzip img_align_celeba.zip into {folder}/ by hand. "
                f"{CELEBA_LICENCE}.")
        download_celeba(folder)
    return load_image_folder(folder, image_size, crop="center", progress=progress)
