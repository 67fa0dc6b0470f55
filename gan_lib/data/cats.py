"""Cat faces for the 64x64 lessons: where they come from, downloading and loading them.

Two sources:

* ``cat_faces/``: the cat-face set of the English presentation (29,843 PNGs, 64x64), collected
  by Federico Ferlito from four Kaggle datasets and COCO, cropped with an OpenCV cat-face
  detector and checked by eye (github.com/fferlito/Cat-faces-dataset, no licence file: the
  terms of the upstream datasets apply). The shared test folder holds 3,000 of them from the mirror
  AnnikaV9/cat-dataset (MIT licence for the compilation; the photos keep their upstream
  terms). The presentation warns the set is noisy: faces off-centre, some without a
  cat; ``gan_lib.data.outliers`` flags such images.
* ``cat_landmarks/``: the CAT dataset (Zhang, Sun and Tang, ECCV 2008; Kaggle
  "crawford/cat-dataset", no stated licence): photos with nine hand-placed points each, from
  which ``gan_lib.data.cat_landmarks`` cuts eye-levelled face crops.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gan_lib.data import download as dl
from gan_lib.data.archives import extract_archive
from gan_lib.data.images import list_image_files, load_image_folder
from gan_lib.data.outliers import clean_images
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

# The three archives of the presentation's dataset; each unpacks to dataset-partN/cat_<n>.png.
# The repository publishes no checksums and we could not fetch the files to compute them,
# so they are downloaded unverified (sha256=None); download() still rejects HTML pages.
CAT_FACES_URLS = [f"https://github.com/fferlito/Cat-faces-dataset/raw/master/dataset-part{i}.tar.gz"
                  for i in (1, 2, 3)]

def download_cat_faces(folder: str | os.PathLike) -> Path:
    """Fetch the three archives (about 30,000 PNGs) and unpack them into ``folder``."""
    folder = Path(folder)
    hint = (f"Download dataset-part1.tar.gz, dataset-part2.tar.gz and dataset-part3.tar.gz from "
            f"github.com/fferlito/Cat-faces-dataset and unpack them into {folder}/")
    for url in CAT_FACES_URLS:
        name = url.rsplit("/", 1)[1]
        if (folder / name.removesuffix(".tar.gz")).is_dir():
            continue  # unpacked by an earlier call
        place, keep = dl.archive_place(folder, name)
        archive = dl.download(url, place, sha256=None, manual_hint=hint)
        extract_archive(archive, folder)
        if not keep:
            archive.unlink()
    return folder


def load_cat_faces(root: str | os.PathLike | None = None, image_size: int = 64,
                   download: bool = False, clean: bool = False,
                   progress: bool = True) -> np.ndarray:
    """The cat-face set as uint8 ``[N, image_size, image_size, 3]`` in [0, 255].

    Args:
        root: dataset root (see ``gan_lib.data.paths.data_root``); images in ``cat_faces/``.
        image_size: output side (the files are 64x64; other sizes are resized).
        download: if the folder has no images, fetch the archives first.
        clean: drop the images ``find_outliers`` flags (duplicates, flat, atypical) and
            print how many went.
        progress: show a progress bar while decoding.
    """
    folder = data_root(root) / "cat_faces"
    if not folder.is_dir() or not list_image_files(folder):
        if not download:
            raise GanLibError(f"no cat images in {folder}: call load_cat_faces(download=True), "
                              "or unpack the dataset-part*.tar.gz archives of "
                              "github.com/fferlito/Cat-faces-dataset there by hand")
        download_cat_faces(folder)
    images = load_image_folder(folder, image_size, crop="center", progress=progress)
    if clean:
        images, report = clean_images(images)
        print(f"clean_images: kept {report['num_after']} of {report['num_before']} "
              f"({', '.join(f'{k}: {v}' for k, v in report['counts'].items())})")
    return images
