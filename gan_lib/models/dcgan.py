"""Deep convolutional GANs at 28x28 (MNIST, Fashion-MNIST): the course's DCGAN and the TF baseline.

Radford et al. (2015), "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks": strided (transposed) convolutions instead of pooling, BatchNorm in G and
in D except D's first layer, ReLU in G with tanh at the end, LeakyReLU(0.2) in D, normal weights
with standard deviation 0.02. The course's 28x28 DCGAN keeps all of it but two things: BatchNorm
in D is off by default (in one short run each, it trained better without; see
``build_dcgan28_discriminator``), and G ends in a stride-1 3x3 convolution, not a transposed one
(see ``build_dcgan28_generator``). Its recipes (``mnist_dcgan``, ``fashion_dcgan``) also give G
5x D's learning rate. Discriminators return logits.
The 64x64 recipes of the seeds are in ``gan_lib.models.presentations64``.
"""

from __future__ import annotations

import keras
from keras import layers

from gan_lib.models.batchnorm import KERAS_BATCHNORM, batchnorm_layer


def normal_init() -> keras.initializers.Initializer:
    """Normal weights with standard deviation 0.02, as Radford et al. (2015) initialise every
    DCGAN layer."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def add_down_block(model: keras.Sequential, filters: int, *, batch_norm: bool,
                   use_bias: bool = False, initializer=None,
                   batchnorm: tuple[float, float] = KERAS_BATCHNORM) -> None:
    """Append a DCGAN discriminator block: 4x4 stride-2 convolution (halves the size),
    optional BatchNorm (``batchnorm``: its momentum and epsilon), LeakyReLU(0.2).
    ``initializer``: default ``normal_init()`` (standard deviation 0.02)."""
    model.add(layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=use_bias,
                            kernel_initializer=initializer or normal_init()))
    if batch_norm:
        model.add(batchnorm_layer(batchnorm))
    model.add(layers.LeakyReLU(negative_slope=0.2))


def build_dcgan28_generator(latent_dim: int = 100, width: int = 64, channels: int = 1,
                            kernel_size: int = 4,
                            batchnorm: tuple[float, float] = KERAS_BATCHNORM
                            ) -> keras.Sequential:
    """Generator z -> 28x28 image: Dense -> 7x7x(2*width) -> 14x14xwidth -> 28x28x(width/2)
    -> a 3x3 convolution to 28x28xchannels.

    Two stride-2 transposed convolutions, each followed by BatchNorm and ReLU, then one
    stride-1 convolution with tanh that draws the image from ``width // 2`` feature maps at
    full size (as TF-GAN's MNIST generator ends). On MNIST on a 2-core CPU, in one 240 s run
    each, the classifier score was 8.1 with that last layer and 7.9 with a transposed
    convolution straight to the image (a lead, within the spread between repeated runs), for
    ~35 % more time per step. ``width`` sets the cost:
    the step time grows roughly with ``width**2``.

    Args:
        latent_dim: size of the noise vector z.
        width: filters of the 14x14 layer; the 7x7 layer has ``2 * width``, the 28x28 one
            ``width // 2``.
        channels: image channels (1 for MNIST and Fashion-MNIST).
        kernel_size: transposed-convolution kernel; 4 is divisible by the stride 2, so the
            stamps overlap evenly, which removes the built-in cause of checkerboard artefacts
            (learned weights can still draw one; Odena et al., 2016, "Deconvolution and
            checkerboard").
        batchnorm: BatchNorm's (momentum, epsilon) (``config.BATCHNORMS``; Keras' by default).
    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, 28, 28, channels]`` in [-1, 1].
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="generator")
    # No bias before BatchNorm: its shift (beta) does the bias's job.
    model.add(layers.Dense(7 * 7 * 2 * width, use_bias=False, kernel_initializer=normal_init()))
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.ReLU())
    model.add(layers.Reshape((7, 7, 2 * width)))
    assert model.output_shape == (None, 7, 7, 2 * width)

    for filters, size in ((width, 14), (width // 2, 28)):
        model.add(layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same",
                                         use_bias=False, kernel_initializer=normal_init()))
        model.add(batchnorm_layer(batchnorm))
        model.add(layers.ReLU())
        assert model.output_shape == (None, size, size, filters)

    model.add(layers.Conv2D(channels, 3, padding="same", activation="tanh",
                            kernel_initializer=normal_init()))
    assert model.output_shape == (None, 28, 28, channels)
    return model


def build_dcgan28_discriminator(width: int = 64, channels: int = 1, dropout: float = 0.3,
                                batch_norm: bool = False, kernel_size: int = 4,
                                batchnorm: tuple[float, float] = KERAS_BATCHNORM
                                ) -> keras.Sequential:
    """Discriminator 28x28 image -> logit: two stride-2 convolutions (14x14, 7x7), then Dense(1).

    The TensorFlow DCGAN tutorial's discriminator in shape (LeakyReLU and dropout after each
    convolution, no BatchNorm), with Radford et al.'s kernel 4, slope 0.2 and normal
    weights with standard deviation 0.02.

    Args:
        width: filters of the first convolution; the second has ``2 * width``.
        channels: image channels.
        dropout: dropout after each LeakyReLU (the TF tutorial's 0.3); 0 disables it.
        batch_norm: BatchNorm after the second convolution, as Radford et al. advise (never
            after the first: normalising D's input layer made their training unstable). Off
            by default: on MNIST on a 2-core CPU, in one 240 s run each, the same GAN reached
            classifier score 8.1 without it and 7.7 with it (a lead; why is not known).
            ``GANConfig.d_batch_norm`` switches it on for a recipe; lesson 07 does, to let D win.
        kernel_size: convolution kernel size.
        batchnorm: BatchNorm's (momentum, epsilon) (``config.BATCHNORMS``; Keras' by default).
    Returns:
        A model mapping float32 ``[B, 28, 28, channels]`` in [-1, 1] to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((28, 28, channels))], name="discriminator")
    model.add(layers.Conv2D(width, kernel_size, strides=2, padding="same",
                            kernel_initializer=normal_init()))
    model.add(layers.LeakyReLU(negative_slope=0.2))
    if dropout:
        model.add(layers.Dropout(dropout))
    assert model.output_shape == (None, 14, 14, width)

    model.add(layers.Conv2D(2 * width, kernel_size, strides=2, padding="same",
                            use_bias=not batch_norm, kernel_initializer=normal_init()))
    if batch_norm:
        model.add(batchnorm_layer(batchnorm))
    model.add(layers.LeakyReLU(negative_slope=0.2))
    if dropout:
        model.add(layers.Dropout(dropout))
    assert model.output_shape == (None, 7, 7, 2 * width)

    model.add(layers.Flatten())
    model.add(layers.Dense(1, kernel_initializer=normal_init()))  # logit: no sigmoid
    assert model.output_shape == (None, 1)
    return model


def build_tutorial_generator(latent_dim: int = 100,
                             batchnorm: tuple[float, float] = KERAS_BATCHNORM
                             ) -> keras.Sequential:
    """The TensorFlow DCGAN tutorial's generator (tensorflow.org/tutorials/generative/dcgan).

    Dense(7*7*256, no bias), BN, LeakyReLU -> ConvT 128 5x5 s1 -> ConvT 64 5x5 s2 -> ConvT 1 5x5
    s2 tanh, with BN + LeakyReLU between. 2,330,944 parameters, as in the tutorial. The course's
    baseline: kept as published (Keras' default initialiser and LeakyReLU slope 0.3).
    ``batchnorm``: BatchNorm's (momentum, epsilon), Keras' (the tutorial's) by default.

    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, 28, 28, 1]`` in [-1, 1].
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="generator")
    model.add(layers.Dense(7 * 7 * 256, use_bias=False))
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.LeakyReLU(negative_slope=0.3))  # the tutorial's (Keras 2 default) slope
    model.add(layers.Reshape((7, 7, 256)))
    assert model.output_shape == (None, 7, 7, 256)  # None is the batch size

    model.add(layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False))
    assert model.output_shape == (None, 7, 7, 128)
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.LeakyReLU(negative_slope=0.3))

    model.add(layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False))
    assert model.output_shape == (None, 14, 14, 64)
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.LeakyReLU(negative_slope=0.3))

    model.add(layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                     activation="tanh"))
    assert model.output_shape == (None, 28, 28, 1)
    return model


def build_tutorial_discriminator() -> keras.Sequential:
    """The TensorFlow DCGAN tutorial's discriminator: a small CNN classifier, 212,865 parameters.

    Conv 64 5x5 s2, LeakyReLU, Dropout 0.3 -> Conv 128 5x5 s2, LeakyReLU, Dropout 0.3 -> Dense(1).

    Returns:
        A model mapping float32 ``[B, 28, 28, 1]`` in [-1, 1] to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((28, 28, 1))], name="discriminator")
    model.add(layers.Conv2D(64, 5, strides=2, padding="same"))
    model.add(layers.LeakyReLU(negative_slope=0.3))
    model.add(layers.Dropout(0.3))
    assert model.output_shape == (None, 14, 14, 64)

    model.add(layers.Conv2D(128, 5, strides=2, padding="same"))
    model.add(layers.LeakyReLU(negative_slope=0.3))
    model.add(layers.Dropout(0.3))
    assert model.output_shape == (None, 7, 7, 128)

    model.add(layers.Flatten())
    model.add(layers.Dense(1))  # logit: the tutorial's from_logits=True loss
    return model
