"""The GAN train step: two networks, two optimisers, two ``GradientTape``s, one ``tf.function``.

TF-GAN says a GAN in four steps; so does this module:
1. create the models (``gan_lib.models.build_models``),
2. add a loss pair (``gan_lib.losses``),
3. create the update: ``GAN.train_step``, one discriminator and one generator update per batch,
4. run it: ``gan_lib.loop.train`` (history, samples, checkpoints, GIF).

Stabilisation tricks (``GANConfig`` fields, all off by default) are Python-level switches read
when the step is traced, so a switched-off trick costs nothing per step. So are the speed options:
``steps_per_execution`` (``GAN.train_steps``), ``jit_compile``, ``mixed_precision`` and a
``tf.distribute`` strategy (``gan_lib.distribute``; the step then runs once per replica).
"""

from __future__ import annotations

import contextlib
import functools

import keras
import tensorflow as tf

from gan_lib.augment import diff_augment, parse_policy
from gan_lib.config import GANConfig
from gan_lib.distribute import (
    float32_output,
    mixed_precision_policy,
    replicated_strategy,
    replicated_update,
)
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
    ``diffaugment`` (a policy for ``gan_lib.augment``) and ``ema_decay``. Speed: ``jit_compile``
    (XLA) and ``strategy`` (a ``tf.distribute.Strategy`` whose scope built the models and
    optimisers; None: one device). Create the GAN inside ``strategy.scope()`` too.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 g_optimizer, d_optimizer, loss: LossPair, latent_dim: int, seed: int = 0,
                 conditional: bool = False, g_steps: int = 1, *, d_steps: int = 1,
                 gp_weight: float | None = None, label_smoothing: float = 0.0,
                 label_flip: float = 0.0, instance_noise: float = 0.0, anneal_steps: int = 1,
                 diffaugment: str = "", ema_decay: float | None = None,
                 jit_compile: bool = False, strategy: tf.distribute.Strategy | None = None):
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
                fakes are then generated for the same labels. Under a strategy: a distributed
                batch (``GAN.distribute``), B being the global batch.
        Returns:
            Scalars named as ``metric_names``: losses, D(x) and D(G(z)) as mean probabilities,
            D's accuracy on real and on fake examples (the Serbian seed's "acc.") and the
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
        for _ in range(self.d_steps - 1):  # extra D updates first (WGAN's critic iterations)
            self._discriminator_update(real, labels)
        if z_global is None:
            z = self.sample_noise(tf.shape(real)[0])
        else:  # this replica's rows of the noise one device would have drawn
            size = tf.shape(real)[0]
            start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                            tf.int32) * size
            z = z_global[start:start + size]
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
        g_grads, g_grad_norm = _gradients(g_tape, g_loss, g_vars, self.g_optimizer)
        d_grads, d_grad_norm = _gradients(d_tape, d_loss, d_vars, self.d_optimizer)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        for _ in range(self.g_steps - 1):  # extra G updates so that D's loss does not reach 0
            g_loss, g_grad_norm = self._generator_update(real, labels)
        metrics = {
            "d_loss": d_loss, "g_loss": g_loss,
            "d_loss_real": d_loss_real, "d_loss_fake": d_loss_fake,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "d_acc_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)),
            "g_grad_norm": g_grad_norm, "d_grad_norm": d_grad_norm,
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
        grads, norm = _gradients(tape, g_loss, g_vars, self.g_optimizer)
        self.g_optimizer.apply_gradients(zip(grads, g_vars))
        return g_loss, norm

    def _discriminator_update(self, real, labels) -> None:
        fake = self.generate(self.sample_noise(tf.shape(real)[0]), labels, training=True)
        with tf.GradientTape() as tape:
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            real_logits = self.discriminate(real_in, labels, training=True)
            fake_logits = self.discriminate(fake_in, labels, training=True)
            d_loss = self._d_loss(real_logits, fake_logits, real_in, fake_in, labels)[0]
        d_vars = self.discriminator.trainable_variables
        grads = _gradients(tape, d_loss, d_vars, self.d_optimizer)[0]
        self.d_optimizer.apply_gradients(zip(grads, d_vars))


def _gradients(tape: tf.GradientTape, loss: tf.Tensor, variables,
               optimizer) -> tuple[list, tf.Tensor]:
    """Gradients to apply for this replica, and the norm of ``loss``'s own gradient.

    Under ``n`` replicas each one's mean loss counts 1/n: the optimiser sums the replicas'
    gradients, which then equal the gradient of the global batch's mean loss. With mixed
    precision the loss is also multiplied by the loss scale, so that small float16 gradients
    do not underflow to 0 (``LossScaleOptimizer`` divides them back before the update). Both
    factors enter as ``output_gradients``: the same as scaling the loss inside the tape.
    """
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    mixed = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    if replicas == 1 and not mixed:  # the plain step: no extra ops
        grads = tape.gradient(loss, variables)
        return grads, tf.linalg.global_norm(grads)
    factor = tf.constant(1.0 / replicas, tf.float32)
    if mixed:  # read before apply() updates the scale
        factor = factor * tf.cast(optimizer.dynamic_scale, tf.float32)
    grads = tape.gradient(loss, variables, output_gradients=tf.cast(factor, loss.dtype))
    return grads, tf.linalg.global_norm(grads) / factor


def build_gan(config: GANConfig, strategy: tf.distribute.Strategy | None = None) -> GAN:
    """A fresh GAN for ``config``: models, optimisers, loss pair, noise seed and tricks.

    Args:
        config: the recipe (its ``jit_compile`` and ``mixed_precision`` fields apply here).
        strategy: build everything in this ``tf.distribute`` strategy's scope (see
            ``gan_lib.distribute.pick_strategy``); None, or TensorFlow's default strategy
            (what ``pick_strategy`` returns for one GPU or the CPU): one device, no scope.
    Raises:
        GanLibError: ``config.batch_size`` does not split evenly over the strategy's replicas.
    """
    strategy = replicated_strategy(strategy, config.batch_size)
    keras.utils.set_random_seed(config.seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope, mixed_precision_policy(config.mixed_precision):
        generator, discriminator = build_models(config)
        if config.spectral_norm:
            discriminator = apply_spectral_norm(discriminator)
        if config.mixed_precision:
            generator, discriminator = float32_output(generator), float32_output(discriminator)
        optimizers = [make_optimizer(lr, config.beta_1, config.beta_2, config.optimizer,
                                     config.clipvalue)
                      for lr in (config.g_learning_rate, config.d_learning_rate)]
        if config.mixed_precision:  # dynamic loss scaling (Micikevicius et al. 2018)
            optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
        return GAN(
            generator, discriminator, *optimizers,
            get_loss(config.loss), config.latent_dim, seed=config.seed,
            conditional=config.num_classes > 0, g_steps=config.g_steps,
            d_steps=config.d_steps, gp_weight=config.gp_weight,
            label_smoothing=config.label_smoothing, label_flip=config.label_flip,
            instance_noise=config.instance_noise, anneal_steps=config.steps,
            diffaugment=config.diffaugment, ema_decay=config.ema_decay,
            jit_compile=config.jit_compile, strategy=strategy,
        )
