"""The GAN train step: two networks, two optimisers, two ``GradientTape``s, one ``tf.function``.

TF-GAN says a GAN in four steps; so does this module:
1. create the models (``gan_lib.models.build_models``),
2. add a loss pair (``gan_lib.losses``),
3. create the update: ``GAN.train_step``, one discriminator and one generator update per batch,
4. run it: ``gan_lib.loop.train`` (history, samples, checkpoints, GIF).

Stabilisation tricks (``GANConfig`` fields, all off by default) are Python-level switches read
when the step is traced, so a switched-off trick costs nothing per step.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from gan_lib.augment import diff_augment, parse_policy
from gan_lib.config import GANConfig
from gan_lib.ema import EMA
from gan_lib.errors import GanLibError
from gan_lib.layers import apply_spectral_norm
from gan_lib.losses import LossPair, get_loss, gradient_penalty
from gan_lib.models import build_models

# Names of the values train_step returns, in the order history.csv stores them. With a
# gradient penalty the step also returns "gp" (see ``GAN.metric_names``).
STEP_METRICS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake",
                "d_real", "d_fake", "d_acc_real", "d_acc_fake", "g_grad_norm", "d_grad_norm")


def make_optimizer(learning_rate: float, beta_1: float = 0.5, beta_2: float = 0.999,
                   name: str = "adam", clipvalue: float | None = None):
    """Adam as Radford et al. (2015) advise for GANs (lr 2e-4, beta_1 0.5), or RMSprop."""
    if name == "rmsprop":  # the Russian seed's faces GAN: RMSprop(lr 1e-4, clipvalue 1.0)
        return keras.optimizers.RMSprop(learning_rate=learning_rate, clipvalue=clipvalue)
    if name != "adam":
        raise GanLibError(f"unknown optimizer {name!r}; choose adam or rmsprop")
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                                 clipvalue=clipvalue)


class GAN(tf.Module):
    """A generator, a discriminator, their optimisers and loss, and the step that trains them.

    Everything that must survive a restart is an attribute (and so tracked by
    ``tf.train.Checkpoint``): both models, both optimisers (Adam's moments), the step counter,
    the random generator that draws the noise, and the generator's average (``ema``) if on.

    Tricks (keyword arguments; the defaults switch them off): ``d_steps`` D updates per step
    (the extra ones first, each with fresh noise but the same real batch, since the loop feeds
    one batch per step), ``gp_weight`` (None: the loss pair's own), ``label_smoothing``,
    ``label_flip``, ``instance_noise`` (std, annealed linearly to 0 over ``anneal_steps``),
    ``diffaugment`` (a policy for ``gan_lib.augment``) and ``ema_decay``.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 g_optimizer, d_optimizer, loss: LossPair, latent_dim: int, seed: int = 0,
                 conditional: bool = False, g_steps: int = 1, *, d_steps: int = 1,
                 gp_weight: float | None = None, label_smoothing: float = 0.0,
                 label_flip: float = 0.0, instance_noise: float = 0.0, anneal_steps: int = 1,
                 diffaugment: str = "", ema_decay: float | None = None):
        super().__init__(name="gan")
        self.generator = generator
        self.discriminator = discriminator
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.loss = loss
        self.latent_dim = latent_dim
        self.conditional = conditional  # models take [z, labels] and [images, labels]
        self.g_steps = g_steps  # generator updates per step (carpedm20's DCGAN: 2)
        self.d_steps = d_steps
        self.gp_weight = float(loss.gp_weight if gp_weight is None else gp_weight)
        if label_smoothing and not loss.has_targets:
            raise GanLibError("label_smoothing needs a loss with targets (minimax, "
                              "non_saturating, lsgan, relativistic); hinge and wgan_gp have none")
        self.label_smoothing = float(label_smoothing)
        self.label_flip = float(label_flip)
        self.instance_noise = float(instance_noise)
        self.anneal_steps = max(1, int(anneal_steps))
        self.diffaugment = ",".join(parse_policy(diffaugment))
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.noise = tf.random.Generator.from_seed(seed)
        self.ema = EMA(generator, ema_decay) if ema_decay is not None else None
        # Build the optimisers' slots now, so a checkpoint restores Adam's moments at once
        # (instead of deferring them to the first update) and the first step does not retrace.
        self.g_optimizer.build(generator.trainable_variables)
        self.d_optimizer.build(discriminator.trainable_variables)
        self.train_step = tf.function(self._train_step)

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The keys ``train_step`` returns: ``STEP_METRICS``, plus ``gp`` with a penalty."""
        return STEP_METRICS + (("gp",) if self.gp_weight else ())

    @property
    def sampling_generator(self) -> keras.Model:
        """The model to draw samples from: the weight average when ``ema_decay`` is set."""
        return self.ema.model if self.ema is not None else self.generator

    def sample_noise(self, n: int) -> tf.Tensor:
        """Standard-normal noise ``[n, latent_dim]`` from the GAN's own (checkpointed) generator."""
        return self.noise.normal([n, self.latent_dim])

    def generate(self, z: tf.Tensor, labels: tf.Tensor | None = None,
                 training: bool = False, use_ema: bool = False) -> tf.Tensor:
        """G(z), or G(z, labels) for a conditional GAN; ``use_ema``: from the average if on."""
        model = self.sampling_generator if use_ema else self.generator
        return model([z, labels] if self.conditional else z, training=training)

    def discriminate(self, x: tf.Tensor, labels: tf.Tensor | None = None,
                     training: bool = False) -> tf.Tensor:
        """D's logits for ``x`` (and ``labels`` for a conditional GAN)."""
        return self.discriminator([x, labels] if self.conditional else x, training=training)

    def _d_input(self, x: tf.Tensor) -> tf.Tensor:
        """What D sees of real or fake examples: DiffAugment, then instance noise (if on)."""
        if self.diffaugment:
            x = diff_augment(x, self.diffaugment, rng=self.noise)
        if self.instance_noise:  # Sønderby et al. (2016): blur both distributions, less each step
            left = 1.0 - tf.cast(self.step, tf.float32) / self.anneal_steps
            x = x + self.instance_noise * tf.nn.relu(left) * self.noise.normal(tf.shape(x))
        return x

    def _g_loss(self, fake_logits, real_logits):
        if self.loss.generator_uses_real:
            return self.loss.generator(fake_logits, real_logits)
        return self.loss.generator(fake_logits)

    def _d_loss(self, real_logits, fake_logits, real_in, fake_in, labels):
        """(d_loss, real_term, fake_term, penalty or None) with flips and smoothing applied."""
        if self.label_flip:  # swap a pair's roles: real examples judged as fake and vice versa
            flip = self.noise.uniform(tf.shape(real_logits)) < self.label_flip
            real_logits, fake_logits = (tf.where(flip, fake_logits, real_logits),
                                        tf.where(flip, real_logits, fake_logits))
        if self.label_smoothing:
            d_real, d_fake = self.loss.discriminator(real_logits, fake_logits,
                                                     real_target=1.0 - self.label_smoothing)
        else:
            d_real, d_fake = self.loss.discriminator(real_logits, fake_logits)
        if not self.gp_weight:
            return d_real + d_fake, d_real, d_fake, None
        critic = functools.partial(self.discriminator, training=True)
        penalty = gradient_penalty(critic, real_in, fake_in, labels, rng=self.noise)
        return d_real + d_fake + self.gp_weight * penalty, d_real, d_fake, penalty

    def _train_step(self, batch) -> dict[str, tf.Tensor]:
        """One simultaneous update of D and G on a batch of real data (TF DCGAN tutorial form).

        Args:
            batch: float32 ``[B, ...]`` real examples (images in [-1, 1], or 2D points), or
                ``(examples, labels)`` with int labels ``[B]`` for a conditional GAN, whose
                fakes are then generated for the same labels.
        Returns:
            Scalars named as ``metric_names``: losses, D(x) and D(G(z)) as mean probabilities,
            D's accuracy on real and on fake examples (the Serbian seed's "acc.") and the
            global norms of G's and D's gradients (of the last update of each).
        """
        real, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
        for _ in range(self.d_steps - 1):  # extra D updates first (WGAN's critic iterations)
            self._discriminator_update(real, labels)
        z = self.sample_noise(tf.shape(real)[0])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generate(z, labels, training=True)
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            real_logits = self.discriminate(real_in, labels, training=True)
            fake_logits = self.discriminate(fake_in, labels, training=True)
            g_loss = self._g_loss(fake_logits, real_logits)
            d_loss, d_loss_real, d_loss_fake, penalty = self._d_loss(
                real_logits, fake_logits, real_in, fake_in, labels)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        g_grads = g_tape.gradient(g_loss, g_vars)
        d_grads = d_tape.gradient(d_loss, d_vars)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        g_grad_norm = tf.linalg.global_norm(g_grads)
        for _ in range(self.g_steps - 1):  # extra G updates so that D's loss does not reach 0
            g_loss, g_grad_norm = self._generator_update(real, labels)
        if self.ema is not None:
            self.ema.update(self.generator)
        self.step.assign_add(1)
        metrics = {
            "d_loss": d_loss, "g_loss": g_loss,
            "d_loss_real": d_loss_real, "d_loss_fake": d_loss_fake,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "d_acc_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)),
            "g_grad_norm": g_grad_norm, "d_grad_norm": tf.linalg.global_norm(d_grads),
        }
        if penalty is not None:
            metrics["gp"] = penalty
        return metrics

    def _generator_update(self, real, labels) -> tuple[tf.Tensor, tf.Tensor]:
        z = self.sample_noise(tf.shape(real)[0])
        with tf.GradientTape() as tape:
            fake_logits = self.discriminate(self._d_input(self.generate(z, labels, True)),
                                            labels, True)
            real_logits = (self.discriminate(self._d_input(real), labels, True)
                           if self.loss.generator_uses_real else None)
            g_loss = self._g_loss(fake_logits, real_logits)
        g_vars = self.generator.trainable_variables
        grads = tape.gradient(g_loss, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        return g_loss, tf.linalg.global_norm(grads)

    def _discriminator_update(self, real, labels) -> None:
        fake = self.generate(self.sample_noise(tf.shape(real)[0]), labels, training=True)
        with tf.GradientTape() as tape:
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            real_logits = self.discriminate(real_in, labels, training=True)
            fake_logits = self.discriminate(fake_in, labels, training=True)
            d_loss = self._d_loss(real_logits, fake_logits, real_in, fake_in, labels)[0]
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))


def build_gan(config: GANConfig) -> GAN:
    """A fresh GAN for ``config``: models, optimisers, loss pair, noise seed and tricks."""
    keras.utils.set_random_seed(config.seed)
    generator, discriminator = build_models(config)
    if config.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    return GAN(
        generator, discriminator,
        make_optimizer(config.g_learning_rate, config.beta_1, config.beta_2,
                       config.optimizer, config.clipvalue),
        make_optimizer(config.d_learning_rate, config.beta_1, config.beta_2,
                       config.optimizer, config.clipvalue),
        get_loss(config.loss), config.latent_dim, seed=config.seed,
        conditional=config.num_classes > 0, g_steps=config.g_steps,
        d_steps=config.d_steps, gp_weight=config.gp_weight,
        label_smoothing=config.label_smoothing, label_flip=config.label_flip,
        instance_noise=config.instance_noise, anneal_steps=config.steps,
        diffaugment=config.diffaugment, ema_decay=config.ema_decay,
    )
