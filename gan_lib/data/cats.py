"""Cat faces for the 64x64 lessons: the 64x64 cat-face set, its cleaning, and landmark crops.

Two sources:

* ``cat_faces/``: the cat-face set of the English seed (29,843 PNGs, 64x64), cut with an
  OpenCV cat-face detector from Kaggle datasets by Federico Ferlito
  (github.com/fferlito/Cat-faces-dataset, no licence file: the terms of the upstream Kaggle
  datasets apply). The shared test folder holds 3,000 of them from the mirror
  AnnikaV9/cat-dataset (MIT licence for the compilation; the photos keep their upstream
  terms). The seed warns the set is noisy: faces off-centre, some without a
  cat; ``find_outliers`` / ``clean_cat_faces`` flag such images.
* ``cat_landmarks/``: the CAT dataset (Zhang, Sun and Tang, ECCV 2008; Kaggle
  "crawford/cat-dataset", no stated licence): photos with nine hand-placed points each, from
  which ``align_cat_face`` cuts eye-levelled face crops.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lib.data.faces import extract_archive
from gan_lib.data.images import list_image_files, load_image_folder, to_rgb
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

# The three archives of the seed's dataset; each unpacks to dataset-partN/cat_<n>.png.
# The repository publishes no checksums and we could not fetch the files to compute them,
# so they are downloaded unverified (sha256=None); download() still rejects HTML pages.
CAT_FACES_URLS = [f"https://github.com/fferlito/Cat-faces-dataset/raw/master/dataset-part{i}.tar.gz"
                  for i in (1, 2, 3)]

LANDMARK_NAMES = ("left eye", "right eye", "mouth", "left ear 1", "left ear 2", "left ear 3",
                  "right ear 1", "right ear 2", "right ear 3")


def download_cat_faces(folder: str | os.PathLike) -> Path:
    """Fetch the three archives (about 30,000 PNGs) and unpack them into ``folder``."""
    from gan_lib.data import download as dl  # late import: tests replace dl.download

    folder = Path(folder)
    hint = (f"Download dataset-part1.tar.gz, dataset-part2.tar.gz and dataset-part3.tar.gz from "
            f"github.com/fferlito/Cat-faces-dataset and unpack them into {folder}/")
    for url in CAT_FACES_URLS:
        name = url.rsplit("/", 1)[1]
        if (folder / name.removesuffix(".tar.gz")).is_dir():
            continue  # unpacked by an earlier call
        archive = dl.download(url, folder / name, sha256=None, manual_hint=hint)
        extract_archive(archive, folder)
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
        images, report = clean_cat_faces(images)
        print(f"clean_cat_faces: kept {report['num_after']} of {report['num_before']} "
              f"({', '.join(f'{k}: {v}' for k, v in report['counts'].items())})")
    return images


# --- cleaning -----------------------------------------------------------------------------

def average_hash(images: np.ndarray) -> np.ndarray:
    """8x8 average hash of each image: uint64 ``[N]``.

    Grey version (ITU-R 601 weights) shrunk to 8x8 by area averaging; bit i (from the most
    significant) is set where pixel i is brighter than the mean of the 64. Resizing,
    recompression and small colour shifts rarely change more than a few of the 64 bits, so
    images within a small Hamming distance look alike.
    """
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    # One image at a time: a float copy of 30,000 images at once would take 1.4 GB.
    small = np.stack([np.asarray(Image.fromarray(im.astype(np.float32) @ weights)
                                 .resize((8, 8), Image.BOX)) for im in images])
    bits = (small > small.mean(axis=(1, 2), keepdims=True)).reshape(len(small), 64)
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(x)
    return np.unpackbits(x.view(np.uint8).reshape(*x.shape, 8), axis=-1).sum(-1)


def _near_duplicates(hashes: np.ndarray, candidates: np.ndarray, max_distance: int) -> np.ndarray:
    """Indices j (among ``candidates``) within ``max_distance`` bits of an earlier candidate."""
    h = hashes[candidates]
    flagged = []
    for start in range(0, len(h), 512):  # 512 x N distances at a time: bounded memory
        block = _popcount(h[start:start + 512, None] ^ h[None, :])
        rows = np.arange(start, start + len(block))
        block[np.arange(len(h))[None, :] >= rows[:, None]] = 255  # only earlier images count
        flagged.append(rows[(block <= max_distance).any(axis=1)])
    return candidates[np.concatenate(flagged)] if flagged else candidates[:0]


def _atypicality(images: np.ndarray, n_components: int) -> np.ndarray:
    """Distance of each image from the mean in whitened PCA space of 8x8 thumbnails."""
    x = np.stack([np.asarray(Image.fromarray(im).resize((8, 8), Image.BOX), np.float64).ravel()
                  for im in images]) / 255.0
    x -= x.mean(axis=0)
    # 8x8 thumbnails keep layout and colour, and their 192x192 covariance is cheap to split.
    vals, vecs = np.linalg.eigh(x.T @ x / max(len(x) - 1, 1))
    k = max(1, min(n_components, len(x) - 1, x.shape[1]))
    scores = x @ vecs[:, -k:] / np.sqrt(np.maximum(vals[-k:], 1e-12))  # unit variance each
    return np.linalg.norm(scores, axis=1)


def find_outliers(images: np.ndarray, max_hash_distance: int = 5, min_std: float = 12.0,
                  atypical_percentile: float = 99.0, n_components: int = 16) -> dict:
    """Images a training set is better without, by four simple criteria.

    * ``exact_duplicates``: the same pixels as an earlier image (the earlier one is kept).
    * ``near_duplicates``: 8x8 average hash (``average_hash``) within ``max_hash_distance``
      bits of an earlier image: the same photo resized, recompressed or slightly cropped.
      64 bits are coarse: different photos with the same light/dark layout can also match
      (the 6 matches at 5 bits among the shared 3,000, already thinned this way, are all
      different cats); lower ``max_hash_distance`` to be stricter.
    * ``low_detail``: standard deviation of the grey pixels below ``min_std`` (of 255):
      flat or very dark images with little to learn (90 % of the shared cats: 26 to 72).
    * ``atypical``: the least typical ``100 - atypical_percentile`` % of the images: 8x8
      thumbnails are projected on their first ``n_components`` principal components, each
      scaled to unit variance, and the distance from the mean is ranked. High values are
      unusual colours or layouts: no cat, several cats, text, a face far off-centre. This
      flags a fixed share to look at; it is not a cat detector.

    Args:
        images: uint8 ``[N, H, W, 3]``.

    Returns:
        ``{criterion: int64 indices [K] (sorted)}`` for the four criteria above, plus
        ``"reasons": {criterion: one-line explanation with the threshold used}``.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or not len(images):
        raise GanLibError(f"find_outliers needs uint8 [N, H, W, 3] images, got {images.dtype} "
                          f"{images.shape}")
    digests = [hashlib.blake2b(im.tobytes(), digest_size=16).digest() for im in images]
    first: dict[bytes, int] = {}
    exact = np.array([i for i, d in enumerate(digests) if first.setdefault(d, i) != i], np.int64)
    unique = np.setdiff1d(np.arange(len(images)), exact)
    near = _near_duplicates(average_hash(images), unique, max_hash_distance)
    grey_std = np.array([np.asarray(Image.fromarray(im).convert("L"), np.float32).std()
                         for im in images])
    score = _atypicality(images, n_components)
    cut = np.percentile(score, atypical_percentile)
    return {
        "exact_duplicates": exact,
        "near_duplicates": np.sort(near).astype(np.int64),
        "low_detail": np.flatnonzero(grey_std < min_std).astype(np.int64),
        "atypical": np.flatnonzero(score > cut).astype(np.int64),
        "reasons": {
            "exact_duplicates": "pixel-identical to an earlier image",
            "near_duplicates": f"8x8 average hash within {max_hash_distance} bits of an "
                               "earlier image",
            "low_detail": f"grey pixel standard deviation below {min_std:g} (flat image)",
            "atypical": f"whitened PCA distance from the mean above the {atypical_percentile:g}"
                        f"th percentile ({cut:.1f}, {n_components} components of 8x8 "
                        "thumbnails)",
        },
    }


def clean_cat_faces(images: np.ndarray, drop: tuple[str, ...] = (
        "exact_duplicates", "near_duplicates", "low_detail", "atypical"),
        **criteria) -> tuple[np.ndarray, dict]:
    """``images`` without the outliers ``find_outliers`` flags for the criteria in ``drop``.

    Args:
        images: uint8 ``[N, H, W, 3]``.
        drop: which criteria remove an image.
        **criteria: thresholds passed on to ``find_outliers``.

    Returns:
        ``(kept_images, report)``: uint8 ``[M, H, W, 3]`` and a dict with ``kept`` (indices
        into ``images``), ``removed`` ({criterion: indices}), ``counts``, ``reasons``,
        ``num_before`` and ``num_after``.
    """
    found = find_outliers(images, **criteria)
    unknown = sorted(set(drop) - set(found["reasons"]))
    if unknown:
        raise GanLibError(f"unknown outlier criteria {unknown}; known: {sorted(found['reasons'])}")
    removed = {name: found[name] for name in drop}
    gone = np.unique(np.concatenate([np.zeros(0, np.int64), *removed.values()]))
    kept = np.setdiff1d(np.arange(len(images)), gone)
    report = {"kept": kept, "removed": removed,
              "counts": {name: len(idx) for name, idx in removed.items()},
              "reasons": found["reasons"], "num_before": len(images), "num_after": len(kept)}
    return np.asarray(images)[kept], report


# --- landmark-aligned crops (CAT dataset) --------------------------------------------------

def read_cat_annotation(path: str | os.PathLike) -> np.ndarray:
    """A CAT ``.jpg.cat`` file (``9 x1 y1 ... x9 y9``) -> float32 ``[9, 2]`` (x, y) pixels.

    Points, in order: ``LANDMARK_NAMES``. Raises GanLibError naming the file if it is not
    nine points.
    """
    try:
        values = Path(path).read_text().split()
        numbers = [float(v) for v in values]
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GanLibError(f"cannot read cat annotation {path}: {e}") from None
    if len(numbers) < 19 or numbers[0] != 9:
        raise GanLibError(f"malformed cat annotation {path}: expected '9 x1 y1 ... x9 y9' "
                          f"(19 numbers), got {len(values)} values starting {values[:3]}")
    points = np.asarray(numbers[1:19], np.float32).reshape(9, 2)
    if not np.isfinite(points).all():
        raise GanLibError(f"malformed cat annotation {path}: non-finite coordinates")
    return points


def level_eyes(image: Image.Image, points) -> tuple[Image.Image, np.ndarray]:
    """Rotate ``image`` about the eyes' midpoint so the eyes are level.

    Returns the rotated image (same size, black where the photo had no pixels) and the nine
    points moved with it, float32 ``[9, 2]``.
    """
    p = np.asarray(points, np.float64).reshape(9, 2)
    left, right = sorted(p[:2], key=lambda q: q[0])  # whichever eye is on the image's left
    dx, dy = right - left
    if np.hypot(dx, dy) < 1.0:
        raise ValueError("the two eye points coincide")
    angle = np.degrees(np.arctan2(dy, dx))  # y points down, so positive = right eye lower
    centre = (left + right) / 2
    rotated = image.rotate(angle, resample=Image.BICUBIC, center=tuple(centre))
    # Pillow turns counter-clockwise on screen; with y down that is this matrix.
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    moved = (p - centre) @ np.array([[c, -s], [s, c]]) + centre
    return rotated, moved.astype(np.float32)


def cat_face_box(points, margin: float = 1.15) -> tuple[float, float, float, float]:
    """Square face box ``(left, top, right, bottom)`` from eye-levelled points.

    The box spans the whole head, as the 64x64 cat-face set does: from the highest ear
    point down to the chin, estimated as half the eye-to-mouth drop below the mouth, and
    across the widest ear point on either side of the eyes' midpoint. The larger of height
    and width, times ``margin``, is the side; the box is centred on that span.
    """
    p = np.asarray(points, np.float64).reshape(9, 2)
    eyes, mouth = p[:2].mean(axis=0), p[2]
    top = p[:, 1].min()
    chin = mouth[1] + 0.5 * max(mouth[1] - eyes[1], 0.0)
    half_width = np.abs(p[:, 0] - eyes[0]).max()
    side = margin * max(chin - top, 2 * half_width)
    cx, cy = eyes[0], (top + chin) / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def align_cat_face(image: Image.Image, points, image_size: int | None = 64,
                   margin: float = 1.15) -> Image.Image:
    """Eye-levelled square crop of a cat's head: ``level_eyes``, then ``cat_face_box``.

    Args:
        image: the photo (any mode; returned as RGB).
        points: the nine landmarks ``[9, 2]`` of ``read_cat_annotation``, in ``image`` pixels.
        image_size: side of the result (antialiased resize); None keeps the crop's size.
        margin: how much room around the head (1.0 = ears and chin touch the border).
    """
    rotated, moved = level_eyes(to_rgb(image), points)
    box = cat_face_box(moved, margin)
    if image_size is None:
        left, top, side = round(box[0]), round(box[1]), round(box[2] - box[0])
        return rotated.crop((left, top, left + side, top + side))  # outside the photo: black
    # resize(box=...) reads only the photo; pad first so a box past the border stays square.
    pad = int(np.ceil(max(0.0, -box[0], -box[1], box[2] - rotated.width,
                          box[3] - rotated.height)))
    if pad:
        canvas = Image.new("RGB", (rotated.width + 2 * pad, rotated.height + 2 * pad))
        canvas.paste(rotated, (pad, pad))
        rotated, box = canvas, tuple(v + pad for v in box)
    return rotated.resize((image_size, image_size), Image.LANCZOS, box=box, reducing_gap=3.0)


def _landmark_crop(args) -> np.ndarray | str:
    annotation, image_size = args
    photo = annotation.with_suffix("")  # x.jpg.cat -> x.jpg
    try:
        points = read_cat_annotation(annotation)
        with Image.open(photo) as image:
            return np.asarray(align_cat_face(image, points, image_size), np.uint8)
    except (GanLibError, OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def load_cat_landmarks(root: str | os.PathLike | None = None, image_size: int = 64,
                       progress: bool = True) -> np.ndarray:
    """Eye-levelled cat heads from the CAT dataset: uint8 ``[N, image_size, image_size, 3]``.

    Reads every ``<photo>.jpg.cat`` under ``<data root>/cat_landmarks/`` (``CAT_00/`` ...
    as in the original archive) with its photo; pairs with a missing photo or a malformed
    annotation are skipped and named in one warning.
    """
    folder = data_root(root) / "cat_landmarks"
    annotations = sorted(folder.rglob("*.cat")) if folder.is_dir() else []
    if not annotations:
        raise GanLibError(f"no CAT annotations (*.jpg.cat) in {folder}: unpack the CAT dataset "
                          "(Kaggle crawford/cat-dataset: CAT_00/ ... CAT_06/) there")
    from tqdm.auto import tqdm

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(tqdm(pool.map(_landmark_crop, [(a, image_size) for a in annotations]),
                            total=len(annotations), disable=not progress, desc="aligning cats"))
    bad = [(a.relative_to(folder).as_posix(), r) for a, r in zip(annotations, results)
           if isinstance(r, str)]
    if bad:
        warnings.warn(f"skipped {len(bad)} of {len(annotations)} annotated cats in {folder}: "
                      + "; ".join(f"{n} ({r})" for n, r in bad[:3]), stacklevel=2)
    good = [r for r in results if not isinstance(r, str)]
    if not good:
        raise GanLibError(f"none of the {len(annotations)} annotated cats in {folder} could be "
                          f"used (first: {bad[0][0]}: {bad[0][1]})")
    return np.stack(good)
