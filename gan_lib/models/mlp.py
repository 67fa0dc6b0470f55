"""Multi-layer perceptron GANs: the Russian presentation's 2D toy networks and its MNIST MLP GAN.

Discriminators return logits (no sigmoid): the losses apply the sigmoid inside a numerically
safe cross-entropy. Use ``tf.sigmoid(logits)`` to read D's output as a probability.
"""

from __future__ import annotations

import math

import keras
from keras import layers


def build_mlp2d_generator(latent_dim: int = 2,
                          hidden: tuple[int, ...] = (16, 32)) -> keras.Sequential:
    """Generator z -> (x, y): the Russian presentation's 2-16-32-2 ReLU network (linear output).

    Args:
        latent_dim: size of the noise vector z.
        hidden: widths of the hidden ReLU layers.
    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, 2]``.
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="generator")
    for width in hidden:
        model.add(layers.Dense(width, activation="relu"))
    model.add(layers.Dense(2))  # linear: 2D points are not bounded like pixels
    return model


def build_mlp2d_discriminator(hidden: tuple[int, ...] = (256, 128, 64),
                              dropout: float = 0.3) -> keras.Sequential:
    """Discriminator (x, y) -> logit: the Russian presentation's 2-256-128-64-1 with dropout 0.3.

    Returns:
        A model mapping float32 ``[B, 2]`` to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((2,))], name="discriminator")
    for width in hidden:
        model.add(layers.Dense(width, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1))  # logit; the presentation's Sigmoid lives inside the loss
    return model


def build_mlp_image_generator(latent_dim: int = 100,
                              image_shape: tuple[int, ...] = (28, 28, 1),
                              hidden: tuple[int, ...] = (256, 512, 1024)) -> keras.Sequential:
    """Generator z -> image: the Russian presentation's MNIST 100-256-512-1024-784 ReLU MLP, tanh
    output.

    Args:
        latent_dim: size of the noise vector z (seed: 100).
        image_shape: shape of one output image; the last Dense has ``prod(image_shape)`` units.
        hidden: widths of the hidden ReLU layers.
    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, *image_shape]`` in [-1, 1].
    """
    model = keras.Sequential([keras.Input((latent_dim,))], name="generator")
    for width in hidden:
        model.add(layers.Dense(width, activation="relu"))
    model.add(layers.Dense(math.prod(image_shape), activation="tanh"))
    # The presentation's output.view(B, 1, 28, 28), channels last.
    model.add(layers.Reshape(tuple(image_shape)))
    assert model.output_shape == (None, *image_shape)
    return model


def build_mlp_image_discriminator(image_shape: tuple[int, ...] = (28, 28, 1),
                                  dropout: float = 0.3,
                                  hidden: tuple[int, ...] = (1024, 512, 256)) -> keras.Sequential:
    """Discriminator image -> logit: the Russian presentation's MNIST 784-1024-512-256-1, dropout
    0.3.

    Args:
        image_shape: shape of one input image (seed: 28x28x1, flattened to 784).
        dropout: dropout rate after each hidden ReLU layer (seed: 0.3).
        hidden: widths of the hidden ReLU layers.
    Returns:
        A model mapping float32 ``[B, *image_shape]`` in [-1, 1] to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input(tuple(image_shape)), layers.Flatten()],
                             name="discriminator")
    for width in hidden:
        model.add(layers.Dense(width, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1))  # logit; the presentation's Sigmoid lives inside the loss
    assert model.output_shape == (None, 1)
    return model
