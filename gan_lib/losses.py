"""GAN losses as generator/discriminator pairs, computed from the discriminator's logits.

Every discriminator loss returns ``(real_term, fake_term)``: the part measured on real images
and the part on generated ones (the German seed plots them separately); ``d_loss`` is their sum.
Working on logits with ``softplus`` is the numerically safe form of the cross-entropy
(``-log sigmoid(l) = softplus(-l)``), so no probability is ever rounded to 0 or 1.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import tensorflow as tf

from gan_lib.errors import GanLibError


def minimax_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor):
    """-log D(x) and -log(1 - D(G(z))), each averaged over the batch (Goodfellow et al. 2014).

    Args:
        real_logits: float ``[B, 1]`` discriminator logits on real data.
        fake_logits: float ``[B, 1]`` discriminator logits on generated data.
    Returns:
        ``(real_term, fake_term)``, scalars; the discriminator minimises their sum.
    """
    return tf.reduce_mean(tf.nn.softplus(-real_logits)), tf.reduce_mean(tf.nn.softplus(fake_logits))


def minimax_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """log(1 - D(G(z))): the generator's side of the original minimax game.

    It saturates: while D easily rejects fakes (early in training) D(G(z)) ~ 0 and the gradient
    vanishes. That is why practice (and the Spanish and Serbian seeds) use the non-saturating loss.
    """
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-log D(G(z)): the generator maximises the chance D is wrong (Goodfellow et al. 2014, §3).

    Same fixed point as the minimax loss, strong gradients when D rejects the fakes.
    """
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


# The discriminator's side of the non-saturating game is the minimax one.
non_saturating_discriminator_loss = minimax_discriminator_loss


class LossPair(NamedTuple):
    """A generator loss and the discriminator loss it is trained against."""

    generator: Callable[[tf.Tensor], tf.Tensor]
    discriminator: Callable[[tf.Tensor, tf.Tensor], tuple]


LOSSES: dict[str, LossPair] = {
    "minimax": LossPair(minimax_generator_loss, minimax_discriminator_loss),
    "non_saturating": LossPair(non_saturating_generator_loss, non_saturating_discriminator_loss),
}


def get_loss(name: str) -> LossPair:
    """The loss pair registered as ``name`` (see ``LOSSES``)."""
    if name not in LOSSES:
        raise GanLibError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]
