"""The tf.data input pipeline: shuffle, batch, scale to [-1, 1], random flip, prefetch.

The order matters for speed and memory. Image files are decoded once, before this module, into
one uint8 array (``gan_lib.data.images``, ``decode_cache``), which is never copied into
TensorFlow: the pipeline shuffles row numbers (a full shuffle of the whole
dataset, 8 bytes a row) and takes each batch's rows from the NumPy array. Everything after is
per batch: scale to float32 and flip a batch at a time (one vectorised op instead of one per
image), so the float32 copy of a dataset (4x its uint8 size: ~10 GB for CelebA at 64x64) never
exists, nor a second uint8 one (``from_tensor_slices`` and a shuffle buffer made two more: 10.5
GB at peak for CelebA, where Colab's free runtime has 12.7 GB; see benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_lib.data.images import unscale_images  # noqa: F401  (numpy only; lives there)
from gan_lib.errors import GanLibError


def scale_images(images: tf.Tensor) -> tf.Tensor:
    """uint8 (or any int) images in [0, 255] -> float32 in [-1, 1] (matches the tanh output)."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _on_images(fn):
    """Apply ``fn`` to the images of an element that is ``images`` or ``(images, labels)``."""
    def apply(x, *rest):
        return (fn(x), *rest) if rest else fn(x)
    return apply


def _check_batch(n: int, batch_size: int) -> None:
    if batch_size > n:
        raise GanLibError(f"batch size {batch_size} is larger than the dataset ({n} examples)")


def _per_batch(ds: tf.data.Dataset, flip: bool, scale: bool) -> tf.data.Dataset:
    if scale or flip:  # per batch, after the cache: every epoch sees a new mix of flips
        def per_batch(x):
            x = scale_images(x) if scale else x
            return tf.image.random_flip_left_right(x) if flip else x
        ds = ds.map(_on_images(per_batch), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def points_dataset(points: np.ndarray, batch_size: int, seed: int | None = 0) -> tf.data.Dataset:
    """Batches of 2D points, float32 ``[batch_size, 2]``, reshuffled every epoch."""
    points = np.asarray(points, np.float32)
    _check_batch(len(points), batch_size)
    ds = tf.data.Dataset.from_tensor_slices(points)
    ds = ds.shuffle(min(len(points), 50_000), seed=seed, reshuffle_each_iteration=True)
    # drop_remainder: every batch has the same shape, so the train step traces once.
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def image_dataset(images: np.ndarray, batch_size: int, labels: np.ndarray | None = None,
                  flip: bool = False, seed: int | None = 0) -> tf.data.Dataset:
    """Batches of images from a uint8 array ``[N, H, W, C]``, scaled to float32 [-1, 1].

    With ``labels`` (int ``[N]``) the dataset yields ``(images, labels)`` pairs. Every epoch is
    a fresh permutation of all N rows; the rows of a batch are read from ``images`` itself
    (a NumPy array or memory map), which is never copied.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise GanLibError(f"images must be [N, H, W, C], got shape {images.shape}")
    n = len(images)
    _check_batch(n, batch_size)
    labels = None if labels is None else np.asarray(labels, np.int32)
    shape = (batch_size, *images.shape[1:])

    def rows(index):  # NumPy indexing: ~1.5 MB a batch for 128 RGB images of 64x64
        def take(i):
            return images[i] if labels is None else (images[i], labels[i])
        if labels is None:
            x = tf.numpy_function(take, [index], tf.as_dtype(images.dtype), stateful=False)
            return tf.ensure_shape(x, shape)
        x, y = tf.numpy_function(take, [index], [tf.as_dtype(images.dtype), tf.int32],
                                 stateful=False)
        return tf.ensure_shape(x, shape), tf.ensure_shape(y, [batch_size])

    ds = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=True).map(rows)
    return _per_batch(ds, flip, scale=True)
