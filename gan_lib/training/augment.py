"""DiffAugment: differentiable augmentations of everything the discriminator sees.

Zhao et al. (2020), "Differentiable Augmentation for Data-Efficient GAN Training": with few
training images D memorises them and wins. Augmenting only the real images would teach G to
produce augmented images, so the same kind of random augmentation is applied to real *and*
generated images, in D's update and in G's, and since every operation is differentiable G's
gradient flows back through it. ``diff_augment(x, "color,translation,cutout")``.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from gan_lib.errors import GanLibError
from gan_lib.names import AUGMENTATION_NAMES, parse_policy, registry


def _uniform(rng: tf.random.Generator | None, shape, minval=0.0, maxval=1.0, dtype=tf.float32):
    if rng is not None:
        return rng.uniform(shape, minval, maxval, dtype=dtype)
    return tf.random.uniform(shape, minval, maxval, dtype=dtype)


def rand_color(x: tf.Tensor, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """Random brightness (±0.5), saturation (x0..2) and contrast (x0.5..1.5) per image.

    Args:
        x: float32 ``[B, H, W, C]`` images in [-1, 1] (the result may leave that range).
    """
    b = tf.shape(x)[0]
    x = x + (_uniform(rng, [b, 1, 1, 1]) - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (_uniform(rng, [b, 1, 1, 1]) * 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (_uniform(rng, [b, 1, 1, 1]) + 0.5) + mean


def _shift_axis(x: tf.Tensor, shift: tf.Tensor, axis: int) -> tf.Tensor:
    """Shift each image of ``x`` by ``shift[i]`` pixels along ``axis`` (1 or 2), zero fill."""
    size = x.shape[axis]
    pad = [[0, 0]] * 4
    pad[axis] = [1, 1]
    padded = tf.pad(x, pad)  # one zero row/column each side: out-of-range indices land there
    index = tf.clip_by_value(tf.range(size)[None, :] - shift[:, None] + 1, 0, size + 1)
    return tf.gather(padded, index, axis=axis, batch_dims=1)


def rand_translation(x: tf.Tensor, ratio: float = 0.125,
                     rng: tf.random.Generator | None = None) -> tf.Tensor:
    """Shift each image by up to ``ratio`` of its size in x and y, filling with zeros (grey)."""
    b = tf.shape(x)[0]
    h_max, w_max = int(x.shape[1] * ratio + 0.5), int(x.shape[2] * ratio + 0.5)
    dy = _uniform(rng, [b], -h_max, h_max + 1, tf.int32)
    dx = _uniform(rng, [b], -w_max, w_max + 1, tf.int32)
    return _shift_axis(_shift_axis(x, dy, 1), dx, 2)


def rand_cutout(x: tf.Tensor, ratio: float = 0.5,
                rng: tf.random.Generator | None = None) -> tf.Tensor:
    """Zero one square of ``ratio`` times the image size at a random centre in each image."""
    b, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    ch, cw = int(height * ratio + 0.5), int(width * ratio + 0.5)
    cy = _uniform(rng, [b, 1], 0, height + (1 - ch % 2), tf.int32)
    cx = _uniform(rng, [b, 1], 0, width + (1 - cw % 2), tf.int32)
    rows = tf.range(height)[None, :] - cy + ch // 2  # inside the box: 0 <= rows < ch
    cols = tf.range(width)[None, :] - cx + cw // 2
    in_rows = (rows >= 0) & (rows < ch)  # [B, H]
    in_cols = (cols >= 0) & (cols < cw)  # [B, W]
    box = in_rows[:, :, None] & in_cols[:, None, :]
    return x * tf.cast(~box, x.dtype)[:, :, :, None]


# One function per name of gan_lib.names.AUGMENTATION_NAMES (``registry`` checks at import);
# ``parse_policy`` (there, TensorFlow-free, so a config checks its policy) reads those names.
AUGMENTATIONS: dict[str, Callable[..., tf.Tensor]] = registry({
    "color": rand_color,
    "translation": rand_translation,
    "cutout": rand_cutout,
}, AUGMENTATION_NAMES, "DiffAugment")


def diff_augment(x: tf.Tensor, policy: str = "color,translation,cutout",
                 rng: tf.random.Generator | None = None) -> tf.Tensor:
    """Apply the augmentations named in ``policy``, in that order, with new randomness per image.

    Args:
        x: float32 images ``[B, H, W, C]`` in [-1, 1] with a static height and width.
        policy: comma-separated names from ``AUGMENTATIONS``; "" returns ``x`` unchanged.
        rng: source of randomness (the GAN's checkpointed generator); default the global seed.
    Returns:
        float32 ``[B, H, W, C]``, differentiable with respect to ``x``.
    """
    names = parse_policy(policy)
    if names and x.shape.rank != 4:
        raise GanLibError(f"DiffAugment needs images [B, H, W, C], got shape {x.shape}; "
                          "set diffaugment='' for 2D data")
    for name in names:
        x = AUGMENTATIONS[name](x, rng=rng)
    return x
