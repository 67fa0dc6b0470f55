"""Images a training set is better without: duplicates, near duplicates, blanks, oddities.

The English presentation warns that its cat faces are noisy (faces off-centre, some without a cat);
``find_outliers`` flags such images by four simple criteria and ``clean_images`` drops them:
any folder of photos (lesson 08: your own) has the same kinds.
Nothing here is specific to cats but the defaults, which were tuned on the shared cat faces.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from gan_lib.errors import GanLibError


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


def _exact_duplicates(images: np.ndarray) -> np.ndarray:
    """int64 indices of the images whose pixels repeat an earlier image's."""
    digests = [hashlib.blake2b(im.tobytes(), digest_size=16).digest() for im in images]
    first: dict[bytes, int] = {}
    return np.array([i for i, d in enumerate(digests) if first.setdefault(d, i) != i], np.int64)


def _grey_std(images: np.ndarray) -> np.ndarray:
    """Standard deviation of each image's grey pixels (0-255)."""
    return np.array([np.asarray(Image.fromarray(im).convert("L"), np.float32).std()
                     for im in images])


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
    exact = _exact_duplicates(images)
    unique = np.setdiff1d(np.arange(len(images)), exact)
    near = _near_duplicates(average_hash(images), unique, max_hash_distance)
    score = _atypicality(images, n_components)
    cut = np.percentile(score, atypical_percentile)
    return {
        "exact_duplicates": exact,
        "near_duplicates": np.sort(near).astype(np.int64),
        "low_detail": np.flatnonzero(_grey_std(images) < min_std).astype(np.int64),
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


def clean_images(images: np.ndarray, drop: tuple[str, ...] = (
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
