"""Images/s of the cat-face input pipeline: decoding the folder, then batches of the array.

Batch 128 with random flips, as ``cats64`` trains, on the 3,000 shared 64x64 cat faces.
"""

from __future__ import annotations

import time
from pathlib import Path

from gan_lib.data.cats import load_cat_faces
from gan_lib.data.images import list_image_files, load_image_folder
from gan_lib.data.pipeline import image_dataset

BATCH = 128


def _rates(dataset, num_images: int, min_seconds: float = 3.0) -> tuple[float, float]:
    """(first epoch, later epochs) images/s, read as the training loop reads: one iterator over
    ``dataset.repeat()``, so later epochs run in a warmed-up pipeline."""
    batches = iter(dataset.repeat())
    per_epoch = num_images // BATCH  # drop_remainder
    start = time.perf_counter()
    for _ in range(per_epoch):
        next(batches)
    first = per_epoch * BATCH / (time.perf_counter() - start)
    start, images = time.perf_counter(), 0
    while time.perf_counter() - start < min_seconds:
        images += int(next(batches).shape[0])
    return first, images / (time.perf_counter() - start)


def cat_pipeline(root: Path) -> dict[str, float]:
    """Images/s: PIL decode of the folder, then image_dataset's first and later epochs."""
    folder = root / "cat_faces"
    files = list_image_files(folder)
    start = time.perf_counter()
    load_image_folder(folder, 64, crop="center", cache=False, progress=False)
    pil_decode = len(files) / (time.perf_counter() - start)

    # What gan_lib.data.registry does for cats64: the decoded array (its .npy cache), then
    # image_dataset (shuffled row numbers, each batch's rows from the array, scaled and flipped
    # per batch, prefetch).
    images = load_cat_faces(root, image_size=64, progress=False)
    array_first, array_cached = _rates(image_dataset(images, BATCH, flip=True, seed=0),
                                       len(images))
    return {"images": len(files), "pil_decode": pil_decode, "array_first_epoch": array_first,
            "array_cached": array_cached}
