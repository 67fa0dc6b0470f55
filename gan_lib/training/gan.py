"""The GAN: two networks, two optimisers, the state a checkpoint keeps, one ``tf.function``.

TF-GAN says a GAN in four steps; so does gan_lib:
1. create the models (``gan_lib.models.build_models``),
2. add a loss pair (``gan_lib.training.losses``) and the tricks (``gan_lib.training.tricks``),
3. create the update: ``gan_lib.training.step``, the whole train step in one module
   (``GAN.train_step`` runs it): one discriminator and one generator update per batch
   (``d_steps``, ``g_steps``), simultaneous (the TF DCGAN tutorial) or alternating (the PyTorch
   one; ``update``), replicas and loss scaling, the metrics,
4. run it: ``gan_lib.run.training.train`` (history, frames, checkpoints, GIF in a run folder).

``gan_lib.training.build.build_gan(config)`` does steps 1-3 from a config. Tricks are Python-level
switches read when the step is traced, so a switched-off trick costs nothing per step. So are the
speed options: ``steps_per_execution`` (``GAN.train_steps``), ``jit_compile``,
``mixed_precision`` (``gan_lib.training.distribute``'s policy) and a ``tf.distribute`` strategy
(``gan_lib.training.distribute.pick_strategy``; the step then runs once per replica).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_lib.backend import check_keras_backend
from gan_lib.errors import GanLibError
from gan_lib.names import UPDATES
from gan_lib.training.ema import EMA
from gan_lib.training.losses import LossPair
from gan_lib.training.step import metric_names, train_step
from gan_lib.training.tricks import Tricks

check_keras_backend()  # Keras is loaded: its own backend counts too (~/.keras/keras.json)

class GAN(tf.Module):
    """A generator, a discriminator, their optimisers and loss; ``train_step`` trains them.

    Everything that must survive a restart is an attribute (and so tracked by
    ``tf.train.Checkpoint``): both models, both optimisers (Adam's moments), the step counter,
    the random generator of every draw (``rng``), and the generator's average (``ema``) if on.

    ``update`` ("simultaneous" or "alternating"), ``d_steps`` and ``g_steps`` (D and G updates
    per step) say how the step plays the game, ``tricks`` (``gan_lib.training.tricks.Tricks``; the
    default switches them off) how D is fed and judged; ``ema_decay`` keeps an average of G's
    weights for samples. Speed:
    ``jit_compile`` (XLA) and ``strategy`` (a ``tf.distribute.Strategy`` whose scope built the
    models and optimisers; None: one device). Create the GAN inside ``strategy.scope()`` too.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 g_optimizer, d_optimizer, loss: LossPair, latent_dim: int, *,
                 update: str = "simultaneous", d_steps: int = 1, g_steps: int = 1,
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
        if update not in UPDATES:
            raise GanLibError(f"update {update!r}: choose one of {', '.join(UPDATES)}")
        self.update, self.d_steps, self.g_steps = update, int(d_steps), int(g_steps)
        self.tricks = tricks or Tricks()
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Every random draw of the step: z, label flips, DiffAugment, instance noise, the
        # penalty's mix. (Checkpoints written before 2026-12-05 call it "noise":
        # gan_lib.run.checkpoints.restore reads those too.)
        self.rng = tf.random.Generator.from_seed(seed)
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
    def distributed(self) -> bool:
        """Built under a strategy: ``train_step`` runs on each replica."""
        return self._strategy is not None

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
        """The keys ``train_step`` returns (``gan_lib.training.step.metric_names``)."""
        return metric_names(self.tricks.gp_weight)

    @property
    def sampling_generator(self) -> keras.Model:
        """The model to draw samples from: the weight average when ``ema_decay`` is set."""
        return self.ema.model if self.ema is not None else self.generator

    def sample_noise(self, n: int) -> tf.Tensor:
        """Standard-normal noise ``[n, latent_dim]`` from the GAN's own (checkpointed) generator."""
        return self.rng.normal([n, self.latent_dim])

    def generate(self, z: tf.Tensor, labels: tf.Tensor | None = None,
                 training: bool = False) -> tf.Tensor:
        """G(z), or G(z, labels) for a conditional GAN (``sampling_generator``: the average)."""
        return self.generator([z, labels] if self.conditional else z, training=training)

    def discriminate(self, x: tf.Tensor, labels: tf.Tensor | None = None,
                     training: bool = False) -> tf.Tensor:
        """D's logits for ``x`` (and ``labels`` for a conditional GAN)."""
        return self.discriminator([x, labels] if self.conditional else x, training=training)

    def _train_step(self, batch) -> dict[str, tf.Tensor]:
        """``gan_lib.training.step.train_step`` on ``batch``: the whole update, read there."""
        return train_step(self, batch)
