"""The Russian presentation's face models (presentation 004), after Chollet's "Deep Learning with
Python": one pair for 32x32, 64x64 or 128x128 RGB (128 in the presentation).

Discriminators return logits: the presentation's final sigmoid lives inside the loss. Images are
float32 in [-1, 1] (tanh outputs).
"""

from __future__ import annotations

import math

import keras
from keras import layers

from gan_lib.errors import GanLibError


def _check_size(output_size: int) -> int:
    """Number of stride-2 upsamplings from 16x16 to ``output_size``."""
    if output_size not in (32, 64, 128):
        raise GanLibError(f"output_size must be 32, 64 or 128 (16 times a power of two), "
                          f"got {output_size}")
    return int(math.log2(output_size // 16))


def build_chollet64_generator(latent_dim: int = 32, output_size: int = 128,
                              width: int = 256) -> keras.Model:
    """The Russian presentation's face generator (presentation 004), after Chollet's "Deep Learning
    with Python".

    Dense 128*16*16, LeakyReLU -> 16x16x128 -> Conv 256 5x5 -> stride-2 ConvT 256 4x4, one per
    doubling (three to 128x128 as in the presentation, two for 64x64) -> two Conv 512 5x5 ->
    Conv 3 7x7 tanh. LeakyReLU keeps the presentation's Keras default slope 0.3. The presentation
    trains D with RMSprop(learning_rate=1e-4, clipvalue=1.0): an optimiser choice for the run's
    config.

    Args:
        latent_dim: size of the noise vector z (seed: 32).
        output_size: 128 (seed), 64 or 32; each halving drops one transposed convolution.
        width: filters of the 256-filter layers; the two full-size convolutions have ``2 * width``.
            The presentation's 256 costs ~40 GFLOP per 64x64 image; lower it to train on a CPU.
    Returns:
        A model mapping float32 ``[B, latent_dim]`` to ``[B, output_size, output_size, 3]`` in
        [-1, 1].
    """
    doublings = _check_size(output_size)
    z = keras.Input((latent_dim,))
    x = layers.Dense(128 * 16 * 16)(z)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((16, 16, 128))(x)
    x = layers.Conv2D(width, 5, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    for _ in range(doublings):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.3)(x)
    for _ in range(2):
        x = layers.Conv2D(2 * width, 5, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Conv2D(3, 7, padding="same", activation="tanh")(x)
    model = keras.Model(z, x, name="generator")
    assert model.output_shape == (None, output_size, output_size, 3)
    return model


def build_chollet64_discriminator(image_size: int = 128, width: int = 256) -> keras.Model:
    """The Russian presentation's face discriminator (presentation 004): two convolutions and a
    Dense logit.

    Conv 256 3x3 -> Conv 256 4x4 stride 2 (both 'valid', LeakyReLU 0.3) -> Flatten ->
    Dropout 0.4 -> Dense(1).

    Returns:
        A model mapping float32 ``[B, image_size, image_size, 3]`` to logits ``[B, 1]``.
    """
    _check_size(image_size)
    images = keras.Input((image_size, image_size, 3))
    x = layers.Conv2D(width, 3)(images)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Conv2D(width, 4, strides=2)(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    side = (image_size - 2 - 4) // 2 + 1  # 'valid' 3x3, then 'valid' 4x4 at stride 2
    assert tuple(x.shape) == (None, side, side, width)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    logits = layers.Dense(1)(x)
    model = keras.Model(images, logits, name="discriminator")
    return model
