"""The GAN train step: two networks, two optimisers, two ``GradientTape``s, one ``tf.function``.

TF-GAN says a GAN in four steps; so does this module:
1. create the models (``gan_lib.models.build_models``),
2. add a loss pair (``gan_lib.losses``),
3. create the update: ``GAN.train_step``, one discriminator and one generator update per batch,
4. run it: ``gan_lib.loop.train`` (history, samples, checkpoints, GIF).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_lib.config import GANConfig
from gan_lib.losses import LossPair, get_loss
from gan_lib.models import build_models

# Names of the values train_step returns, in the order history.csv stores them.
STEP_METRICS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake",
                "d_real", "d_fake", "d_acc_real", "d_acc_fake")


def make_optimizer(learning_rate: float, beta_1: float = 0.5, beta_2: float = 0.999):
    """Adam as Radford et al. (2015) advise for GANs: lr 2e-4, beta_1 0.5."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


class GAN(tf.Module):
    """A generator, a discriminator, their optimisers and loss, and the step that trains them.

    Everything that must survive a restart is an attribute (and so tracked by
    ``tf.train.Checkpoint``): both models, both optimisers (Adam's moments), the step counter and
    the random generator that draws the noise.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 g_optimizer, d_optimizer, loss: LossPair, latent_dim: int, seed: int = 0,
                 conditional: bool = False, g_steps: int = 1):
        super().__init__(name="gan")
        self.generator = generator
        self.discriminator = discriminator
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.loss = loss
        self.latent_dim = latent_dim
        self.conditional = conditional  # models take [z, labels] and [images, labels]
        self.g_steps = g_steps  # generator updates per step (carpedm20's DCGAN: 2)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.noise = tf.random.Generator.from_seed(seed)
        # Build the optimisers' slots now, so a checkpoint restores Adam's moments at once
        # (instead of deferring them to the first update) and the first step does not retrace.
        self.g_optimizer.build(generator.trainable_variables)
        self.d_optimizer.build(discriminator.trainable_variables)
        self.train_step = tf.function(self._train_step)

    def sample_noise(self, n: int) -> tf.Tensor:
        """Standard-normal noise ``[n, latent_dim]`` from the GAN's own (checkpointed) generator."""
        return self.noise.normal([n, self.latent_dim])

    def generate(self, z: tf.Tensor, labels: tf.Tensor | None = None,
                 training: bool = False) -> tf.Tensor:
        """G(z), or G(z, labels) for a conditional GAN."""
        return self.generator([z, labels] if self.conditional else z, training=training)

    def discriminate(self, x: tf.Tensor, labels: tf.Tensor | None = None,
                     training: bool = False) -> tf.Tensor:
        """D's logits for ``x`` (and ``labels`` for a conditional GAN)."""
        return self.discriminator([x, labels] if self.conditional else x, training=training)

    def _train_step(self, batch) -> dict[str, tf.Tensor]:
        """One simultaneous update of D and G on a batch of real data (TF DCGAN tutorial form).

        Args:
            batch: float32 ``[B, ...]`` real examples (images in [-1, 1], or 2D points), or
                ``(examples, labels)`` with int labels ``[B]`` for a conditional GAN, whose
                fakes are then generated for the same labels.
        Returns:
            Scalars named as ``STEP_METRICS``: losses, D(x) and D(G(z)) as mean probabilities,
            and D's accuracy on real and on fake examples (the Serbian seed's "acc.").
        """
        real, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
        z = self.sample_noise(tf.shape(real)[0])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generate(z, labels, training=True)
            real_logits = self.discriminate(real, labels, training=True)
            fake_logits = self.discriminate(fake, labels, training=True)
            g_loss = self.loss.generator(fake_logits)
            d_loss_real, d_loss_fake = self.loss.discriminator(real_logits, fake_logits)
            d_loss = d_loss_real + d_loss_fake
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        for _ in range(self.g_steps - 1):  # extra G updates so that D's loss does not reach 0
            g_loss = self._generator_update(tf.shape(real)[0], labels)
        self.step.assign_add(1)
        return {
            "d_loss": d_loss, "g_loss": g_loss,
            "d_loss_real": d_loss_real, "d_loss_fake": d_loss_fake,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "d_acc_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)),
        }

    def _generator_update(self, n, labels) -> tf.Tensor:
        z = self.sample_noise(n)
        with tf.GradientTape() as tape:
            g_loss = self.loss.generator(self.discriminate(self.generate(z, labels, True),
                                                           labels, True))
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
        return g_loss


def build_gan(config: GANConfig) -> GAN:
    """A fresh GAN for ``config``: models, Adam optimisers, loss pair and noise seed."""
    keras.utils.set_random_seed(config.seed)
    generator, discriminator = build_models(config)
    return GAN(
        generator, discriminator,
        make_optimizer(config.g_learning_rate, config.beta_1, config.beta_2),
        make_optimizer(config.d_learning_rate, config.beta_1, config.beta_2),
        get_loss(config.loss), config.latent_dim, seed=config.seed,
        conditional=config.num_classes > 0, g_steps=config.g_steps,
    )
