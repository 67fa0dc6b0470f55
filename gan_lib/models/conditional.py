"""Class-conditional GANs at 28x28 (Mirza & Osindero, 2014): G(z, y) and D(x, y).

Two pairs: lesson 02's MLPs told the label (``cgan_mlp``, lesson 03, before convolutions are
taught) and a small DCGAN told the label (``cgan28``, after lesson 04). ``cgan28`` is close to,
not the same as, the DCGAN-28 of ``dcgan.py``: its D has BatchNorm after the second convolution
by default, and its G draws the image with its second transposed convolution (no 28x28 layer).

The generator embeds the label and concatenates it to the noise. The discriminator is, by
default, a projection discriminator (Miyato & Koyama, 2018, "cGANs with Projection
Discriminator"): logit = psi(h) + <embed(y), h>, with h the features of the unconditional
DCGAN-28 discriminator. We chose it over feeding the label as an extra image channel because
it is the form Miyato & Koyama derive for the best possible D ("real at all" plus "this class
rather than another"), and in their ImageNet experiments it trained better conditional GANs than
concatenating the label to D's features; it costs one dot product per step. Nothing forces D to
use the label (it could learn to ignore it, with equal or zero class vectors); the fakes of the
wrong class are what reward it. ``conditioning="channel"`` builds the channel variant for
comparison.

Both models take two inputs, ``[images or z, labels]`` with labels int32 ``[B]`` in
``[0, num_classes)``, and save and load as ``.keras`` files.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from gan_lib.errors import GanLibError
from gan_lib.models.batchnorm import KERAS_BATCHNORM, batchnorm_layer
from gan_lib.models.dcgan import normal_init


def build_cgan28_generator(latent_dim: int = 100, num_classes: int = 10, embed_dim: int = 50,
                           width: int = 64, channels: int = 1,
                           batchnorm: tuple[float, float] = KERAS_BATCHNORM) -> keras.Model:
    """Generator (z, y) -> 28x28 image: label embedding concatenated to z, then a DCGAN body
    (like ``build_dcgan28_generator``, but without its 28x28 layer and 3x3 tanh convolution).

    Args:
        latent_dim: size of the noise vector z.
        num_classes: number of labels (10 for MNIST and Fashion-MNIST).
        embed_dim: size of the learned label embedding.
        width: the body's width (see ``build_dcgan28_generator``).
        channels: image channels.
        batchnorm: BatchNorm's (momentum, epsilon) (``config.BATCHNORMS``; Keras' by default).
    Returns:
        A model mapping ``[z, labels]`` (float32 ``[B, latent_dim]``, int32 ``[B]``) to float32
        ``[B, 28, 28, channels]`` in [-1, 1].
    """
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    y = layers.Embedding(num_classes, embed_dim, name="label_embedding")(labels)
    zy = layers.Concatenate()([z, y])
    assert tuple(zy.shape) == (None, latent_dim + embed_dim)
    # From here on the DCGAN-28 generator (build_dcgan28_generator), on [z, y].
    x = layers.Dense(7 * 7 * 2 * width, use_bias=False, kernel_initializer=normal_init())(zy)
    x = batchnorm_layer(batchnorm)(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=normal_init())(x)
    x = batchnorm_layer(batchnorm)(x)
    x = layers.ReLU()(x)
    assert tuple(x.shape) == (None, 14, 14, width)
    images = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh",
                                    kernel_initializer=normal_init())(x)
    model = keras.Model([z, labels], images, name="generator")
    assert model.output_shape == (None, 28, 28, channels)
    return model


def build_cgan28_discriminator(num_classes: int = 10, width: int = 64, channels: int = 1,
                               dropout: float = 0.3, batch_norm: bool = True,
                               conditioning: str = "projection",
                               batchnorm: tuple[float, float] = KERAS_BATCHNORM) -> keras.Model:
    """Discriminator (x, y) -> logit: the DCGAN-28 discriminator told which class x should be.

    Args:
        num_classes: number of labels.
        width: filters of the first convolution; the second has ``2 * width``.
        channels: image channels.
        dropout: dropout after each LeakyReLU.
        batch_norm: BatchNorm after the second convolution (never the first, Radford et al.).
        conditioning: "projection" (Miyato & Koyama, 2018) or "channel": the label's learned
            28x28 map appended to the image as one more input channel.
        batchnorm: BatchNorm's (momentum, epsilon) (``config.BATCHNORMS``; Keras' by default).
    Returns:
        A model mapping ``[images, labels]`` (float32 ``[B, 28, 28, channels]`` in [-1, 1],
        int32 ``[B]``) to logits ``[B, 1]``.
    """
    if conditioning not in ("projection", "channel"):
        raise GanLibError(f"conditioning must be 'projection' or 'channel', got {conditioning!r}")
    images = keras.Input((28, 28, channels), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    x = images
    if conditioning == "channel":
        label_map = layers.Embedding(num_classes, 28 * 28, name="label_embedding")(labels)
        label_map = layers.Reshape((28, 28, 1))(label_map)
        x = layers.Concatenate()([images, label_map])

    features = _dcgan28_features(x, width, dropout, batch_norm, batchnorm)
    logits = layers.Dense(1, kernel_initializer=normal_init())(features)

    if conditioning == "projection":
        # <embed(y), h>: how well the features match class y; one vector per class.
        class_vectors = layers.Embedding(num_classes, 7 * 7 * 2 * width,
                                         embeddings_initializer=normal_init(),
                                         name="label_embedding")(labels)
        logits = layers.Add()([logits, layers.Dot(axes=1)([class_vectors, features])])
    model = keras.Model([images, labels], logits, name="discriminator")
    assert model.output_shape == (None, 1)
    return model


def _dcgan28_features(x, width: int, dropout: float, batch_norm: bool,
                      batchnorm: tuple[float, float]):
    """The DCGAN-28 discriminator's body on ``x`` [B, 28, 28, C]: two stride-2 convolutions
    (LeakyReLU, dropout; BatchNorm after the second only), flattened to [B, 7 * 7 * 2 * width]."""
    x = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=normal_init())(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=not batch_norm,
                      kernel_initializer=normal_init())(x)
    if batch_norm:
        x = batchnorm_layer(batchnorm)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    assert tuple(x.shape) == (None, 7, 7, 2 * width)
    return layers.Flatten()(x)


def build_cgan_mlp_generator(latent_dim: int = 100, num_classes: int = 10, embed_dim: int = 50,
                             image_shape: tuple[int, ...] = (28, 28, 1),
                             hidden: tuple[int, ...] = (256, 512, 1024)) -> keras.Model:
    """Generator (z, y) -> image: lesson 02's MLP generator on ``[z, embed(y)]``.

    Returns:
        A model mapping ``[z, labels]`` (float32 ``[B, latent_dim]``, int32 ``[B]``) to float32
        ``[B, *image_shape]`` in [-1, 1].
    """
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    y = layers.Embedding(num_classes, embed_dim, name="label_embedding")(labels)
    x = layers.Concatenate()([z, y])
    assert tuple(x.shape) == (None, latent_dim + embed_dim)
    for width in hidden:
        x = layers.Dense(width, activation="relu")(x)
    x = layers.Dense(math.prod(image_shape), activation="tanh")(x)
    model = keras.Model([z, labels], layers.Reshape(tuple(image_shape))(x), name="generator")
    assert model.output_shape == (None, *image_shape)
    return model


def build_cgan_mlp_discriminator(num_classes: int = 10, image_shape: tuple[int, ...] = (28, 28, 1),
                                 dropout: float = 0.3,
                                 hidden: tuple[int, ...] = (1024, 512, 256)) -> keras.Model:
    """Discriminator (x, y) -> logit: lesson 02's MLP discriminator with a projection.

    The MLP's last hidden layer gives features h; logit = Dense(1)(h) + <e_y, h> with a learned
    vector e_y per class (Miyato & Koyama, 2018).

    Returns:
        A model mapping ``[images, labels]`` (float32 ``[B, *image_shape]``, int32 ``[B]``) to
        logits ``[B, 1]``.
    """
    images = keras.Input(tuple(image_shape), name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    h = layers.Flatten()(images)
    for width in hidden:
        h = layers.Dense(width, activation="relu")(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    logits = layers.Dense(1)(h)
    class_vectors = layers.Embedding(num_classes, hidden[-1], embeddings_initializer=normal_init(),
                                     name="label_embedding")(labels)
    logits = layers.Add()([logits, layers.Dot(axes=1)([class_vectors, h])])
    model = keras.Model([images, labels], logits, name="discriminator")
    assert model.output_shape == (None, 1)
    return model
