"""The stabilisation tricks of the train step, each a few lines of pure TensorFlow.

``Tricks`` is what the step reads to play the game (``Tricks.from_config``); the step
(``gan_lib.step``) calls ``discriminator_input`` on what D sees and ``discriminator_loss`` for D's
loss. Each trick is a ``GANConfig`` field marked ``step=True``, documented there, which ``Tricks``
carries as it is; ``Tricks`` adds only what follows from the fields and the loss pair. Adding a
trick is that field and its function here. The gradient penalty is in ``gan_lib.losses``, the
generator's weight average in ``gan_lib.ema`` and spectral normalisation in
``gan_lib.spectral_norm``: each is a thing of its own, not a line of the step.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from gan_lib.augment import diff_augment
from gan_lib.config import GANConfig, fields_where
from gan_lib.errors import GanLibError
from gan_lib.losses import LossPair
from gan_lib.names import parse_policy

# What Tricks holds beyond the config's step fields, or instead of them: (type, default).
_DERIVED = {
    "gp_weight": (float, 0.0),  # the config's, or the loss pair's own when that is None
    "diffaugment": (str, ""),  # the policy's names, checked, joined by commas
    "anneal_steps": (int, 1),  # instance noise reaches 0 here: the config's ``steps``
}


def _from_config(cls, config: GANConfig, loss: LossPair):
    """The config's tricks; ``gp_weight`` None means the loss pair's own (wgan_gp: 10)."""
    if config.label_smoothing and not loss.has_targets:
        raise GanLibError("label_smoothing needs a loss with targets (minimax, "
                          "non_saturating, lsgan, relativistic); hinge and wgan_gp have none")
    gp = loss.gp_weight if config.gp_weight is None else config.gp_weight
    same = {name: getattr(config, name) for name in fields_where("step") if name not in _DERIVED}
    return cls(**same, gp_weight=float(gp), diffaugment=",".join(parse_policy(config.diffaugment)),
               anneal_steps=max(1, int(config.steps)))


def _fields() -> list:
    config = {f.name: f for f in dataclasses.fields(GANConfig)}
    same = [(name, config[name].type, dataclasses.field(default=config[name].default))
            for name in fields_where("step") if name not in _DERIVED]
    return same + [(name, kind, dataclasses.field(default=default))
                   for name, (kind, default) in _DERIVED.items()]


# Frozen: plain Python values, read when the step is traced, so a trick that is off adds no op.
Tricks = dataclasses.make_dataclass("Tricks", _fields(), frozen=True, namespace={
    "from_config": classmethod(_from_config), "__module__": __name__,
    "__doc__": "How the step plays the game; the defaults switch every trick off.\n\n"
               f"``GANConfig``'s fields {', '.join(fields_where('step'))} (each documented "
               "there), with ``gp_weight`` resolved (0: no penalty), ``diffaugment`` checked "
               "and ``anneal_steps`` (the config's ``steps``) added."})


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
