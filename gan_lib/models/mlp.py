"""Multi-layer perceptron GANs: the Russian seed's 2D toy networks.

Discriminators return logits (no sigmoid): the losses apply the sigmoid inside a numerically
safe cross-entropy. Use ``tf.sigmoid(logits)`` to read D's output as a probability.
"""

from __future__ import annotations

import keras
from keras import layers


def build_mlp2d_generator(latent_dim: int = 2, hidden: tuple[int, ...] = (16, 32)) -> keras.Sequential:
    """Generator z -> (x, y): the Russian seed's 2-16-32-2 ReLU network (linear output).

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
    """Discriminator (x, y) -> logit: the Russian seed's 2-256-128-64-1 with dropout 0.3.

    Returns:
        A model mapping float32 ``[B, 2]`` to logits ``[B, 1]``.
    """
    model = keras.Sequential([keras.Input((2,))], name="discriminator")
    for width in hidden:
        model.add(layers.Dense(width, activation="relu"))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1))  # logit; the seed's Sigmoid lives inside the loss
    return model
