"""The presentations' cat and face models, layer for layer (64x64 RGB unless said otherwise);
the Russian presentation's Chollet pair, which also builds 32x32 and 128x128, is in ``chollet64``.

Each builder reproduces one presentation's network; the parameter counts are tested against
the presentations' model summaries. Discriminators return logits: the presentations' final
sigmoid lives inside the loss.
Images are float32 in [-1, 1] (tanh outputs).
"""

from __future__ import annotations

import keras
from keras import layers

from gan_lib.errors import GanLibError
from gan_lib.models.batchnorm import KERAS_BATCHNORM, batchnorm_layer
from gan_lib.models.dcgan import add_down_block, normal_init

BatchNorm = tuple[float, float]  # (momentum, epsilon): gan_lib.models.batchnorm


def _truncated_init() -> keras.initializers.Initializer:
    # The English presentation's WEIGHT_INITIALISER ("make the std more narrow than default
    # helped for some reason i don't know"); the DCGAN paper's normal is not truncated.
    return keras.initializers.TruncatedNormal(mean=0.0, stddev=0.02)


def build_cats64_generator(latent_dim: int = 128, batchnorm: BatchNorm = KERAS_BATCHNORM
                           ) -> keras.Sequential:
    """The English presentation's "Cat Generator" (presentation 002): 6,258,659 parameters.

    Dense(2048) -> 4x4x128 -> five 5x5 transposed convolutions without bias (512 at stride 1,
    then 256, 128, 64, 32 at stride 2), each with BatchNorm + ReLU -> Dense(3, tanh) per pixel.
    The presentation's table prints 284,800 for the 64-filter layer and totals of 6,250,659; both
    are
    misprints (5*5*128*64 = 204,800; the layers sum to 6,258,659).

    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, 64, 64, 3]`` in [-1, 1].
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="cat_generator")
    model.add(layers.Dense(2048, kernel_initializer=_truncated_init()))
    model.add(layers.Reshape((4, 4, 128)))
    size = 4
    for i, filters in enumerate((512, 256, 128, 64, 32)):
        stride = 1 if i == 0 else 2
        size *= stride
        model.add(layers.Conv2DTranspose(filters, 5, strides=stride, padding="same",
                                         use_bias=False, kernel_initializer=_truncated_init()))
        model.add(batchnorm_layer(batchnorm))
        model.add(layers.ReLU())
        assert model.output_shape == (None, size, size, filters)
    # A Dense on a 4D tensor acts on the last axis: a 1x1 convolution to RGB.
    model.add(layers.Dense(3, activation="tanh", kernel_initializer=_truncated_init()))
    assert model.output_shape == (None, 64, 64, 3)
    return model


def build_cats64_discriminator(batchnorm: BatchNorm = KERAS_BATCHNORM) -> keras.Sequential:
    """The English presentation's "Cat Discriminator" (presentation 002): 729,857 parameters.

    Four 4x4 stride-2 convolutions without bias (64, 64, 128, 256), BatchNorm on all but the
    first, LeakyReLU(0.2) -> Flatten -> Dense(1) logit.

    Returns:
        A model mapping float32 ``[B, 64, 64, 3]`` to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((64, 64, 3))], name="cat_discriminator")
    size = 64
    for i, filters in enumerate((64, 64, 128, 256)):
        size //= 2
        add_down_block(model, filters, batch_norm=i > 0, initializer=_truncated_init(),
                       batchnorm=batchnorm)
        assert model.output_shape == (None, size, size, filters)
    model.add(layers.Flatten())
    model.add(layers.Dense(1, kernel_initializer=_truncated_init()))
    assert model.output_shape == (None, 1)
    return model


DCGAN_SIZES = (32, 64, 128)  # the DCGAN pair's sides: one up/down block per doubling


def doublings(image_size: int) -> int:
    """Stride-2 layers between 4x4 and ``image_size`` (3, 4, 5 for 32, 64, 128)."""
    if image_size not in DCGAN_SIZES:
        raise GanLibError(f"the DCGAN pair draws {', '.join(map(str, DCGAN_SIZES))}-pixel "
                          f"images, not {image_size}")
    return image_size.bit_length() - 3


def build_dcgan64_generator(latent_dim: int = 100, width: int = 64,
                            batchnorm: BatchNorm = KERAS_BATCHNORM,
                            image_size: int = 64) -> keras.Sequential:
    """The German presentation's PyTorch DCGAN generator (presentation 000) in Keras: 3,576,704
    trainable weights.

    z as a 1x1 image -> ConvT 4x4 'valid' to 4x4x512 -> ConvT 4x4 stride 2 to 8x8x256, 16x16x128,
    32x32x64, 64x64x3 + tanh; BatchNorm + ReLU between, no bias. PyTorch's ``padding=1`` with
    kernel 4, stride 2 doubles the size exactly as Keras ``padding="same"`` does.
    (The presentation scaled images to [0, 1] against its tanh output; we use [-1, 1].)

    Args:
        latent_dim: size of the noise vector z.
        width: filters of the last hidden layer (PyTorch's ``ngf``, 64 in the presentation);
            the layers below have 2x, 4x, 8x (and at 128x128 16x) as many. The step's cost
            grows with ``width**2``.
        image_size: 64 (the presentation's), or 32 or 128: one up block fewer or more (the
            PyTorch DCGAN tutorial's pattern; at 128 the 4x4 layer has 16 * width filters).

    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, S, S, 3]`` in [-1, 1].
    """
    ups = doublings(image_size)
    model = keras.Sequential([keras.Input((latent_dim,)), layers.Reshape((1, 1, latent_dim))],
                             name="generator")
    top = width * 2 ** (ups - 1)
    model.add(layers.Conv2DTranspose(top, 4, strides=1, padding="valid", use_bias=False,
                                     kernel_initializer=normal_init()))
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.ReLU())
    assert model.output_shape == (None, 4, 4, top)
    for k in range(1, ups):
        filters, size = top // 2 ** k, 4 * 2 ** k
        model.add(layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=normal_init()))
        model.add(batchnorm_layer(batchnorm))
        model.add(layers.ReLU())
        assert model.output_shape == (None, size, size, filters)
    model.add(layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False,
                                     activation="tanh", kernel_initializer=normal_init()))
    assert model.output_shape == (None, image_size, image_size, 3)
    return model


def build_dcgan64_discriminator(width: int = 64, batchnorm: BatchNorm = KERAS_BATCHNORM,
                                image_size: int = 64) -> keras.Sequential:
    """The German presentation's PyTorch DCGAN discriminator (presentation 000): 2,766,336
    trainable weights.

    4x4 stride-2 convolutions 64 (no BN), 128, 256, 512 (BN), LeakyReLU(0.2) -> 4x4 'valid'
    convolution to one logit. As in the presentation, the 256 and 512 convolutions keep their bias
    (PyTorch's default; redundant before BatchNorm, but it is what the presentation trained).

    ``width``: filters of the first convolution (PyTorch's ``ndf``, 64 in the presentation);
    the next ones have 2x, 4x and 8x (and at 128x128 16x) as many. ``image_size``: 64, or 32
    or 128 with one down block fewer or more.

    Returns:
        A model mapping float32 ``[B, S, S, 3]`` to logits ``[B, 1]``.
    """
    downs = doublings(image_size)
    model = keras.Sequential([keras.Input((image_size, image_size, 3))], name="discriminator")
    for k in range(downs):
        filters, size = width * 2 ** k, image_size // 2 ** (k + 1)
        add_down_block(model, filters, batch_norm=k > 0, use_bias=filters >= 4 * width,
                       batchnorm=batchnorm)
        assert model.output_shape == (None, size, size, filters)
    model.add(layers.Conv2D(1, 4, padding="valid", use_bias=False,
                            kernel_initializer=normal_init()))
    model.add(layers.Flatten())  # [B, 1, 1, 1] -> [B, 1]
    assert model.output_shape == (None, 1)
    return model


def build_faces_upsample_generator(latent_dim: int = 4096,
                                   batchnorm: BatchNorm = KERAS_BATCHNORM) -> keras.Sequential:
    """The Serbian presentation's face generator (presentation 003): 16,859,139 parameters at
    latent_dim 4096.

    Dense(4096), LeakyReLU, BN -> 16x16x16 -> UpSampling2D, Conv 128 5x5, LeakyReLU, BN ->
    UpSampling2D, Conv 3 5x5 tanh. The presentation's Dense has 16,781,312 weights = 4097 * 4096,
    so its
    noise had 4096 entries. The LeakyReLU slope (0.2) is the Keras-GAN code the presentation cites.

    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, 64, 64, 3]`` in [-1, 1].
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="generator")
    model.add(layers.Dense(4096))
    model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.Reshape((16, 16, 16)))
    model.add(layers.UpSampling2D())
    model.add(layers.Conv2D(128, 5, padding="same"))
    model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(batchnorm_layer(batchnorm))
    assert model.output_shape == (None, 32, 32, 128)
    model.add(layers.UpSampling2D())
    model.add(layers.Conv2D(3, 5, padding="same", activation="tanh"))
    assert model.output_shape == (None, 64, 64, 3)
    return model


def build_faces_mlp_discriminator(image_size: int = 64) -> keras.Sequential:
    """The Serbian presentation's face discriminator (presentation 003): Flatten-512-256-1,
    6,423,553 parameters.

    Returns:
        A model mapping float32 ``[B, image_size, image_size, 3]`` to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((image_size, image_size, 3)), layers.Flatten()],
                             name="discriminator")
    for width in (512, 256):
        model.add(layers.Dense(width))
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Dense(1))
    return model
