"""The GAN: two networks, two optimisers, the train step with ``GradientTape``s, one
``tf.function``.

TF-GAN says a GAN in four steps; so does gan_lib:
1. create the models (``gan_lib.models.build_models``),
2. add a loss pair (``gan_lib.losses``) and the tricks (``gan_lib.tricks``),
3. create the update: ``GAN.train_step``, one discriminator and one generator update per batch,
   simultaneous (the TF DCGAN tutorial) or alternating (the PyTorch one; ``GANConfig.update``),
4. run it: ``gan_lib.training.train`` (history, frames, checkpoints, GIF in a run folder).

``gan_lib.build.build_gan(config)`` does steps 1-3 from a config. Tricks are Python-level
switches read when the step is traced, so a switched-off trick costs nothing per step. So are the
speed options: ``steps_per_execution`` (``GAN.train_steps``), ``jit_compile``,
``mixed_precision`` and a ``tf.distribute`` strategy (``gan_lib.distribute``; the step then runs
once per replica).
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from gan_lib.backend import check_keras_backend
from gan_lib.distribute import replica_gradients, replicated_update
from gan_lib.ema import EMA
from gan_lib.errors import GanLibError
from gan_lib.losses import LossPair, gradient_penalty
from gan_lib.step_metrics import STEP_METRICS, step_metrics
from gan_lib.tricks import Tricks, discriminator_input, discriminator_loss, generator_loss

check_keras_backend()  # Keras is loaded: its own backend counts too (~/.keras/keras.json)

class GAN(tf.Module):
    """A generator, a discriminator, their optimisers and loss, and the step that trains them.

    Everything that must survive a restart is an attribute (and so tracked by
    ``tf.train.Checkpoint``): both models, both optimisers (Adam's moments), the step counter,
    the random generator that draws the noise, and the generator's average (``ema``) if on.

    ``tricks`` (``gan_lib.tricks.Tricks``; the default switches them off) says how the step
    plays the game; ``ema_decay`` keeps an average of G's weights for samples. Speed:
    ``jit_compile`` (XLA) and ``strategy`` (a ``tf.distribute.Strategy`` whose scope built the
    models and optimisers; None: one device). Create the GAN inside ``strategy.scope()`` too.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 g_optimizer, d_optimizer, loss: LossPair, latent_dim: int, *,
                 tricks: Tricks | None = None, conditional: bool = False,
                 ema_decay: float | None = None, seed: int = 0, jit_compile: bool = False,
                 strategy: tf.distribute.Strategy | None = None):
        super().__init__(name="gan")
        self.generator = generator
        self.discriminator = discriminator
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.loss = loss
        self.latent_dim = latent_dim
        self.conditional = conditional  # models take [z, labels] and [images, labels]
        self.tricks = tricks or Tricks()
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.noise = tf.random.Generator.from_seed(seed)
        self.ema = EMA(generator, ema_decay) if ema_decay is not None else None
        # Build the optimisers' slots now, so a checkpoint restores Adam's moments at once
        # (instead of deferring them to the first update) and the first step does not retrace.
        self.g_optimizer.build(generator.trainable_variables)
        self.d_optimizer.build(discriminator.trainable_variables)
        if strategy is not None and jit_compile and strategy.num_replicas_in_sync > 1:
            raise GanLibError("jit_compile=True is for one device; leave it off under a "
                              "tf.distribute strategy (TPUs compile with XLA anyway)")
        self._strategy = strategy  # not a tf.Module attribute: a strategy is not checkpointed
        self.train_step = tf.function(self._train_step, jit_compile=jit_compile)
        # Several steps per call (``train_steps``): a tf.range loop around the step, which stays
        # a separate XLA cluster when jit_compile is on (the iterator itself cannot be compiled).
        self._many_steps = tf.function(self._train_steps)

    @property
    def strategy(self) -> tf.distribute.Strategy:
        """The strategy the GAN was built under (the default one-device strategy if none)."""
        return self._strategy or tf.distribute.get_strategy()

    def distribute(self, dataset: tf.data.Dataset):
        """``dataset`` (global batches) split over the replicas; unchanged on one device."""
        if self._strategy is None:
            return dataset
        return self._strategy.experimental_distribute_dataset(dataset)

    def train_steps(self, iterator, n: int) -> dict[str, tf.Tensor]:
        """``n`` train steps in one ``tf.function`` call, each on ``next(iterator)``.

        Args:
            iterator: an iterator over (distributed, under a strategy) batches that does not
                run out, e.g. ``iter(gan.distribute(dataset.repeat()))``.
            n: steps to run (>= 1); a tensor argument, so another ``n`` does not retrace.
        Returns:
            The ``metric_names`` scalars averaged over the ``n`` steps.
        """
        return self._many_steps(iterator, tf.constant(n, tf.int64))

    def _train_steps(self, iterator, n):
        total = {k: tf.zeros([], tf.float32) for k in self.metric_names}
        for _ in tf.range(n):
            metrics = self.train_step(next(iterator))
            total = {k: total[k] + tf.cast(metrics[k], tf.float32) for k in total}
        return {k: v / tf.cast(n, tf.float32) for k, v in total.items()}

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The keys ``train_step`` returns: ``STEP_METRICS``, plus ``gp`` with a penalty."""
        return STEP_METRICS + (("gp",) if self.tricks.gp_weight else ())

    @property
    def sampling_generator(self) -> keras.Model:
        """The model to draw samples from: the weight average when ``ema_decay`` is set."""
        return self.ema.model if self.ema is not None else self.generator

    def sample_noise(self, n: int) -> tf.Tensor:
        """Standard-normal noise ``[n, latent_dim]`` from the GAN's own (checkpointed) generator."""
        return self.noise.normal([n, self.latent_dim])

    def generate(self, z: tf.Tensor, labels: tf.Tensor | None = None,
                 training: bool = False) -> tf.Tensor:
        """G(z), or G(z, labels) for a conditional GAN (``sampling_generator``: the average)."""
        return self.generator([z, labels] if self.conditional else z, training=training)

    def discriminate(self, x: tf.Tensor, labels: tf.Tensor | None = None,
                     training: bool = False) -> tf.Tensor:
        """D's logits for ``x`` (and ``labels`` for a conditional GAN)."""
        return self.discriminator([x, labels] if self.conditional else x, training=training)

    def _d_input(self, x: tf.Tensor) -> tf.Tensor:
        return discriminator_input(x, self.tricks, self.step, self.noise)

    def _d_loss(self, real_logits, fake_logits, real_in, fake_in, labels):
        """(d_loss, real term, fake term, penalty or None): the tricks' loss plus the penalty."""
        d_real, d_fake = discriminator_loss(self.loss, real_logits, fake_logits, self.tricks,
                                            self.noise)
        if not self.tricks.gp_weight:
            return d_real + d_fake, d_real, d_fake, None
        critic = functools.partial(self.discriminator, training=True)
        penalty = gradient_penalty(critic, real_in, fake_in, labels, rng=self.noise)
        return d_real + d_fake + self.tricks.gp_weight * penalty, d_real, d_fake, penalty

    def _train_step(self, batch) -> dict[str, tf.Tensor]:
        """One update of D and G on a batch of real data (``tricks.update`` says in which order).

        Args:
            batch: float32 ``[B, ...]`` real examples (images in [-1, 1], or 2D points), or
                ``(examples, labels)`` with int labels ``[B]`` for a conditional GAN, whose
                fakes are then generated for the same labels. Under a strategy: a distributed
                batch (``GAN.distribute``), B being the global batch.
        Returns:
            Scalars named as ``metric_names``: losses, D(x) and D(G(z)) as mean probabilities,
            D's accuracy on real and on fake examples (the Serbian presentation's "acc.") and the
            global norms of G's and D's gradients (of the last update of each). Under several
            replicas each is the mean over replicas; for the norms, of each replica's gradient.
        """
        if self._strategy is None:
            metrics = self._update(batch)
        else:
            metrics = replicated_update(self, batch)
        if self.ema is not None:  # in cross-replica context under a strategy: all copies agree
            self.ema.update(self.generator)
        self.step.assign_add(1)
        return metrics

    def _update(self, batch, z_global: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """The step's work on one replica's batch; ``z_global``: the global batch's noise."""
        real, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
        for _ in range(self.tricks.d_steps - 1):  # extra D updates first (WGAN's critic loop)
            self._discriminator_update(real, labels, self.sample_noise(tf.shape(real)[0]))
        if z_global is None:
            z = self.sample_noise(tf.shape(real)[0])
        else:  # this replica's rows of the noise one device would have drawn
            size = tf.shape(real)[0]
            start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                            tf.int32) * size
            z = z_global[start:start + size]
        if self.tricks.update == "alternating":
            metrics = self._discriminator_update(real, labels, z)
            metrics["g_loss"], metrics["g_grad_norm"] = self._generator_update(real, labels, z)
        else:
            metrics = self._simultaneous_update(real, labels, z)
        for _ in range(self.tricks.g_steps - 1):  # extra G updates so D's loss stays above 0
            metrics["g_loss"], metrics["g_grad_norm"] = self._generator_update(
                real, labels, self.sample_noise(tf.shape(real)[0]))
        return metrics

    def _simultaneous_update(self, real, labels, z) -> dict[str, tf.Tensor]:
        """Both losses from one forward pass; both models updated from it (TF tutorial)."""
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generate(z, labels, training=True)
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            real_logits = self.discriminate(real_in, labels, training=True)
            fake_logits = self.discriminate(fake_in, labels, training=True)
            g_loss = generator_loss(self.loss, fake_logits, real_logits)
            d_loss, d_loss_real, d_loss_fake, penalty = self._d_loss(
                real_logits, fake_logits, real_in, fake_in, labels)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        g_grads, g_grad_norm = replica_gradients(g_tape, g_loss, g_vars, self.g_optimizer)
        d_grads, d_grad_norm = replica_gradients(d_tape, d_loss, d_vars, self.d_optimizer)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        return step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits,
                            d_grad_norm, penalty, g_loss=g_loss, g_grad_norm=g_grad_norm)

    def _generator_update(self, real, labels, z) -> tuple[tf.Tensor, tf.Tensor]:
        """One G update against the discriminator as it is now."""
        with tf.GradientTape() as tape:
            fake_logits = self.discriminate(self._d_input(self.generate(z, labels, True)),
                                            labels, True)
            real_logits = (self.discriminate(self._d_input(real), labels, True)
                           if self.loss.generator_uses_real else None)
            g_loss = generator_loss(self.loss, fake_logits, real_logits)
        g_vars = self.generator.trainable_variables
        grads, norm = replica_gradients(tape, g_loss, g_vars, self.g_optimizer)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        return g_loss, norm

    def _discriminator_update(self, real, labels, z) -> dict[str, tf.Tensor]:
        """One D update on ``real`` and G(z) (G not updated); returns D's metrics."""
        fake = self.generate(z, labels, training=True)
        with tf.GradientTape() as tape:
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            real_logits = self.discriminate(real_in, labels, training=True)
            fake_logits = self.discriminate(fake_in, labels, training=True)
            d_loss, d_loss_real, d_loss_fake, penalty = self._d_loss(
                real_logits, fake_logits, real_in, fake_in, labels)
        d_vars = self.discriminator.trainable_variables
        grads, norm = replica_gradients(tape, d_loss, d_vars, self.d_optimizer)
        self.d_optimizer.apply_gradients(zip(grads, d_vars))
        return step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits, norm,
                            penalty)
