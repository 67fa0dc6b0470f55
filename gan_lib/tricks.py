"""The stabilisation tricks of the train step, each a few lines of pure TensorFlow.

``Tricks`` says which are on (``Tricks.from_config``); the step (``gan_lib.step``) calls
``discriminator_input`` on what D sees and ``discriminator_loss`` for D's loss. Adding a trick is
a field here, its function here, and a ``GANConfig`` field to switch it on. The gradient penalty
is in ``gan_lib.losses``, the generator's weight average in ``gan_lib.ema`` and spectral
normalisation in ``gan_lib.spectral_norm``: each is a thing of its own, not a line of the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from gan_lib.augment import diff_augment, parse_policy
from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError
from gan_lib.losses import LossPair


@dataclass(frozen=True)
class Tricks:
    """How the step plays the game; the defaults switch every trick off.

    ``d_steps``: D updates per step (the extra ones first, each with fresh noise on the same real
    batch); ``g_steps``: G updates per step; ``update``: "simultaneous" (one forward pass, both
    updated; the TF DCGAN tutorial) or "alternating" (D first, then G against the updated D; the
    PyTorch DCGAN tutorial); ``gp_weight``: gradient penalty weight (0: none);
    ``label_smoothing``: D's real target is 1 - s (Salimans et al. 2016); ``label_flip``: chance
    that a real/fake pair swaps roles; ``instance_noise``: std of Gaussian noise on D's inputs,
    annealed linearly to 0 over ``anneal_steps`` (Sønderby et al. 2016); ``diffaugment``: a
    DiffAugment policy (Zhao et al. 2020).
    """

    d_steps: int = 1
    g_steps: int = 1
    update: str = "simultaneous"
    gp_weight: float = 0.0
    label_smoothing: float = 0.0
    label_flip: float = 0.0
    instance_noise: float = 0.0
    anneal_steps: int = 1
    diffaugment: str = ""

    @classmethod
    def from_config(cls, config: GANConfig, loss: LossPair) -> Tricks:
        """The config's tricks; ``gp_weight`` None means the loss pair's own (wgan_gp: 10)."""
        if config.label_smoothing and not loss.has_targets:
            raise GanLibError("label_smoothing needs a loss with targets (minimax, "
                              "non_saturating, lsgan, relativistic); hinge and wgan_gp have none")
        gp = loss.gp_weight if config.gp_weight is None else config.gp_weight
        return cls(d_steps=config.d_steps, g_steps=config.g_steps, update=config.update,
                   gp_weight=float(gp), label_smoothing=float(config.label_smoothing),
                   label_flip=float(config.label_flip),
                   instance_noise=float(config.instance_noise),
                   anneal_steps=max(1, int(config.steps)),
                   diffaugment=",".join(parse_policy(config.diffaugment)))


def discriminator_input(x: tf.Tensor, tricks: Tricks, step: tf.Variable,
                        rng: tf.random.Generator) -> tf.Tensor:
    """What D sees of real or fake examples: DiffAugment, then instance noise (if on)."""
    if tricks.diffaugment:
        x = diff_augment(x, tricks.diffaugment, rng=rng)
    if tricks.instance_noise:  # blur both distributions, a little less each step
        left = 1.0 - tf.cast(step, tf.float32) / tricks.anneal_steps
        x = x + tricks.instance_noise * tf.nn.relu(left) * rng.normal(tf.shape(x))
    return x


def discriminator_loss(loss: LossPair, real_logits: tf.Tensor, fake_logits: tf.Tensor,
                       tricks: Tricks, rng: tf.random.Generator) -> tuple[tf.Tensor, tf.Tensor]:
    """D's (real term, fake term) with label flips and one-sided smoothing applied."""
    if tricks.label_flip:  # swap a pair's roles: real examples judged as fake and vice versa
        flip = rng.uniform(tf.shape(real_logits)) < tricks.label_flip
        real_logits, fake_logits = (tf.where(flip, fake_logits, real_logits),
                                    tf.where(flip, real_logits, fake_logits))
    if tricks.label_smoothing:
        return loss.discriminator(real_logits, fake_logits,
                                  real_target=1.0 - tricks.label_smoothing)
    return loss.discriminator(real_logits, fake_logits)


def generator_loss(loss: LossPair, fake_logits: tf.Tensor,
                   real_logits: tf.Tensor | None) -> tf.Tensor:
    """G's loss; the relativistic pair also needs D's logits on real examples."""
    if loss.generator_uses_real:
        return loss.generator(fake_logits, real_logits)
    return loss.generator(fake_logits)
