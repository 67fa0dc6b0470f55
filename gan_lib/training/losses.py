"""GAN losses as generator/discriminator pairs, computed from the discriminator's logits.

Every discriminator loss returns ``(real_term, fake_term)``: the part measured on real images
and the part on generated ones (the German presentation plots them separately); ``d_loss`` is their
sum.
Working on logits with ``softplus`` is the numerically safe form of the cross-entropy
(``-log sigmoid(l) = softplus(-l)``), so no probability is ever rounded to 0 or 1.

Pick a pair by name from ``LOSSES`` (config field ``loss``; the names are declared in
``gan_lib.names.LOSS_NAMES``): ``minimax``, ``non_saturating``, ``lsgan``, ``hinge``, ``wgan_gp``
and ``relativistic``. ``wgan_gp`` also needs
``gradient_penalty``, which calls the critic itself; the train step adds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import tensorflow as tf

from gan_lib.errors import GanLibError
from gan_lib.names import LOSS_NAMES, registry


def _bce_real(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Cross-entropy of ``logits`` against the soft target ``target`` (1 = real), batch mean.

    At ``target = 1`` this is ``mean(softplus(-logits))``, bit for bit on finite logits.
    """
    return tf.reduce_mean(target * tf.nn.softplus(-logits)
                          + (1.0 - target) * tf.nn.softplus(logits))


def minimax_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor,
                               real_target: float = 1.0):
    """-log D(x) and -log(1 - D(G(z))), each averaged over the batch (Goodfellow et al. 2014).

    Args:
        real_logits: float ``[B, 1]`` discriminator logits on real data.
        fake_logits: float ``[B, 1]`` discriminator logits on generated data.
        real_target: the real examples' target in (0, 1]; ``1 - s`` is one-sided label
            smoothing (Salimans et al. 2016), which adds ``s * mean(real_logits)`` to the loss.
    Returns:
        ``(real_term, fake_term)``, scalars; the discriminator minimises their sum.
    """
    return _bce_real(real_logits, real_target), tf.reduce_mean(tf.nn.softplus(fake_logits))


def minimax_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """log(1 - D(G(z))): the generator's side of the original minimax game.

    It saturates: while D easily rejects fakes (early in training) D(G(z)) ~ 0 and the gradient
    vanishes. That is why practice uses the non-saturating loss: the Russian presentation writes
    it out, the English one describes it, and the Spanish one switches to it for this reason.
    """
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-log D(G(z)): the generator maximises the chance D is wrong (Goodfellow et al. 2014, §3).

    Same fixed point as the minimax loss, strong gradients when D rejects the fakes.
    """
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


# The discriminator's side of the non-saturating game is the minimax one.
non_saturating_discriminator_loss = minimax_discriminator_loss


def lsgan_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor,
                             real_target: float = 1.0):
    """Least squares: ½(D(x) - b)² and ½(D(G(z)) - a)² with a = 0, b = 1 (Mao et al. 2017).

    The logits are used as raw scores (no sigmoid). Squares keep pushing fakes that are on the
    right side of the boundary but far from the data, where the cross-entropy goes flat.
    ``real_target`` replaces b (label smoothing).
    """
    return (0.5 * tf.reduce_mean(tf.square(real_logits - real_target)),
            0.5 * tf.reduce_mean(tf.square(fake_logits)))


def lsgan_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """½(D(G(z)) - c)² with c = 1: G wants D to score its samples as real (Mao et al. 2017)."""
    return 0.5 * tf.reduce_mean(tf.square(fake_logits - 1.0))


def hinge_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor):
    """max(0, 1 - D(x)) and max(0, 1 + D(G(z))) (Lim & Ye 2017; Miyato et al. 2018, SNGAN).

    D stops pushing an example once it is beyond the margin (its score can still drift further,
    moved by the updates for other examples: fake logits far below -1 cost nothing).
    """
    return (tf.reduce_mean(tf.nn.relu(1.0 - real_logits)),
            tf.reduce_mean(tf.nn.relu(1.0 + fake_logits)))


def hinge_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-D(G(z)), batch mean: the generator raises the critic's score of its samples."""
    return -tf.reduce_mean(fake_logits)


def wasserstein_critic_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor):
    """-mean D(x) and mean D(G(z)): the critic's estimate of the Wasserstein-1 distance, negated.

    Arjovsky et al. (2017). It is only a distance if D is 1-Lipschitz: add
    ``gradient_penalty`` (Gulrajani et al. 2017), as the ``wgan_gp`` pair does. The sum goes
    negative as the critic learns; that is normal, not "D wins".
    """
    return -tf.reduce_mean(real_logits), tf.reduce_mean(fake_logits)


wasserstein_generator_loss = hinge_generator_loss  # -mean D(G(z)) in both games


def relativistic_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor,
                                    real_target: float = 1.0):
    """RaSGAN: is a real example more real than the average fake, and vice versa?

    Jolicoeur-Martineau (2018): cross-entropy on ``C(x) - mean C(G(z))`` (target real) and
    ``C(G(z)) - mean C(x)`` (target fake), with C the logits.
    """
    real_rel = real_logits - tf.reduce_mean(fake_logits)
    fake_rel = fake_logits - tf.reduce_mean(real_logits)
    return _bce_real(real_rel, real_target), tf.reduce_mean(tf.nn.softplus(fake_rel))


def relativistic_generator_loss(fake_logits: tf.Tensor,
                                real_logits: tf.Tensor | None = None) -> tf.Tensor:
    """RaSGAN's generator: the discriminator's game with the roles of real and fake swapped.

    Unlike the other generator losses it needs D's logits on real data, ``[B, 1]`` (the train
    step passes them): G also gains by making real data look *less* real than its samples.
    ``real_logits=None`` stands for a D undecided on real data (logits 0), for quick checks.
    """
    if real_logits is None:
        real_logits = tf.zeros_like(fake_logits)
    return (tf.reduce_mean(tf.nn.softplus(-(fake_logits - tf.reduce_mean(real_logits))))
            + tf.reduce_mean(tf.nn.softplus(real_logits - tf.reduce_mean(fake_logits))))


def gradient_penalty(critic: Callable, real: tf.Tensor, fake: tf.Tensor,
                     labels: tf.Tensor | None = None,
                     rng: tf.random.Generator | None = None) -> tf.Tensor:
    """WGAN-GP's penalty mean((||grad_x D(x_hat)|| - 1)^2) (Gulrajani et al. 2017).

    ``x_hat = eps * real + (1 - eps) * fake`` with ``eps ~ U[0, 1]`` drawn per example, so the
    critic's gradient norm is pushed to 1 on the lines between real and fake data.

    Args:
        critic: ``critic(x)`` (or ``critic([x, labels])``) returning float ``[B, 1]`` scores.
        real, fake: float ``[B, ...]`` of the same shape (images or 2D points).
        labels: int ``[B]`` for a conditional critic; else None.
        rng: where eps comes from (the GAN's checkpointed generator); default the global seed.
    Returns:
        A float32 scalar >= 0. Call it inside the discriminator's ``GradientTape``: its
        gradient with respect to the critic's weights is a second derivative.
    """
    fake = tf.stop_gradient(fake)  # the penalty trains D only
    shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    eps = rng.uniform(shape) if rng is not None else tf.random.uniform(shape)
    x_hat = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat if labels is None else [x_hat, labels])
    grads = tape.gradient(scores, x_hat)
    axes = tf.range(1, tf.rank(grads))
    # + 1e-12 inside the root: sqrt has an infinite derivative at 0, which would give NaNs.
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


class LossPair(NamedTuple):
    """A generator loss and the discriminator loss it is trained against.

    Attributes:
        generator: ``generator(fake_logits)``, or ``generator(fake_logits, real_logits)`` when
            ``generator_uses_real``.
        discriminator: ``discriminator(real_logits, fake_logits)`` -> ``(real_term, fake_term)``;
            takes ``real_target=`` too when ``has_targets``.
        gp_weight: weight of ``gradient_penalty`` the train step adds to D's loss (0 = none).
        generator_uses_real: the generator loss also needs D's logits on real data.
        has_targets: the discriminator loss fits targets (0 fake, 1 real), so one-sided label
            smoothing applies; hinge and Wasserstein losses have margins, not targets.
    """

    generator: Callable[..., tf.Tensor]
    discriminator: Callable[..., tuple]
    gp_weight: float = 0.0
    generator_uses_real: bool = False
    has_targets: bool = False


# One pair per name of gan_lib.names.LOSS_NAMES, in its order (``registry`` checks at import).
LOSSES: dict[str, LossPair] = registry({
    "minimax": LossPair(minimax_generator_loss, minimax_discriminator_loss, has_targets=True),
    "non_saturating": LossPair(non_saturating_generator_loss, non_saturating_discriminator_loss,
                               has_targets=True),
    "lsgan": LossPair(lsgan_generator_loss, lsgan_discriminator_loss, has_targets=True),
    "hinge": LossPair(hinge_generator_loss, hinge_discriminator_loss),
    "wgan_gp": LossPair(wasserstein_generator_loss, wasserstein_critic_loss, gp_weight=10.0),
    "relativistic": LossPair(relativistic_generator_loss, relativistic_discriminator_loss,
                             generator_uses_real=True, has_targets=True),
}, LOSS_NAMES, "loss")


def get_loss(name: str) -> LossPair:
    """The loss pair registered as ``name`` (see ``LOSSES``)."""
    if name not in LOSSES:
        raise GanLibError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]
