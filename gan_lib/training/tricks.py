"""The stabilisation tricks of the train step, each a few lines of pure TensorFlow.

``Tricks`` is how the step (``gan_lib.training.step``) feeds and judges D: it calls
``discriminator_input`` on what D sees and ``discriminator_loss`` for D's loss. Each trick is a
``GANConfig`` field marked ``trick=True`` and documented there; ``Tricks.from_config`` copies
them and resolves two. Adding a trick is that field, a ``Tricks`` field of the same name and type
(tests/test_config.py checks the two agree) and its lines here. The gradient penalty is in
``gan_lib.training.losses``, the generator's weight average in ``gan_lib.training.ema`` and spectral
normalisation in ``gan_lib.training.spectral_norm``; the update order and the number of D and G
updates per step are the step's own (``GAN.update``, ``GAN.d_steps``, ``GAN.g_steps``).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from gan_lib.config import GANConfig, fields_where
from gan_lib.errors import GanLibError
from gan_lib.names import parse_policy
from gan_lib.training.augment import diff_augment
from gan_lib.training.losses import LossPair


@dataclasses.dataclass(frozen=True)
class Tricks:
    """How D is fed and judged; the defaults switch every trick off.

    Plain Python values, read when the step is traced, so a trick that is off adds no op. The
    fields are ``GANConfig``'s trick fields (documented there), with two resolved:
    ``gp_weight`` is a number (the config's None: the loss pair's own, wgan_gp's 10; 0: no
    penalty) and ``diffaugment`` a checked policy; ``anneal_steps`` (the config's ``steps``) is
    when instance noise reaches 0.
    """

    gp_weight: float = 0.0
    label_smoothing: float = 0.0
    label_flip: float = 0.0
    instance_noise: float = 0.0
    diffaugment: str = ""
    anneal_steps: int = 1

    @classmethod
    def from_config(cls, config: GANConfig, loss: LossPair) -> Tricks:
        """The config's tricks for the loss pair ``loss``."""
        if config.label_smoothing and not loss.has_targets:
            raise GanLibError("label_smoothing needs a loss with targets (minimax, "
                              "non_saturating, lsgan, relativistic); hinge and wgan_gp have none")
        same = {name: getattr(config, name) for name in fields_where("trick")}
        gp = loss.gp_weight if config.gp_weight is None else config.gp_weight
        return cls(**{**same, "gp_weight": float(gp),
                      "diffaugment": ",".join(parse_policy(config.diffaugment))},
                   anneal_steps=max(1, int(config.steps)))


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
