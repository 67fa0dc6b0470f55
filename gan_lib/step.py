"""One train step of a GAN, all of it, top to bottom: what ``GAN.train_step`` runs.

``train_step`` -> ``update`` (on each replica's slice) -> ``simultaneous_update``, or
``discriminator_update`` then ``generator_update`` -> ``_tape_loss`` (1/replicas, loss scale)
-> ``step_metrics``. The losses come from ``gan_lib.losses`` (pairs on logits, the gradient
penalty), the tricks from ``gan_lib.tricks`` (pure functions); both are read at trace time, so
a switched-off trick adds no op. Under a ``tf.distribute`` strategy (synchronous data
parallelism, as in the TensorFlow "Custom training with tf.distribute.Strategy" guide):

1. the dataset yields GLOBAL batches; ``GAN.distribute`` gives each replica its consecutive slice;
2. z is drawn once for the global batch and each replica takes its rows, so the step sees the
   noise one device would (other random draws, e.g. dropout, differ per replica);
3. each replica's mean loss counts 1/replicas inside its tape, so the optimiser's all-reduced SUM
   of gradients is the gradient of the global batch's mean loss;
4. the metrics are averaged over replicas; the step counter and the EMA are updated once, in
   cross-replica context.

With mixed precision the tape's loss is also multiplied by the loss scale
(``keras.optimizers.LossScaleOptimizer.scale_loss``), whose ``apply`` divides it back out.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from gan_lib.losses import gradient_penalty
from gan_lib.tricks import discriminator_input, discriminator_loss, generator_loss

# Names of the values train_step returns, in the order history.csv stores them. With a
# gradient penalty the step also returns "gp" (see ``GAN.metric_names``).
STEP_METRICS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake",
                "d_real", "d_fake", "d_acc_real", "d_acc_fake", "g_grad_norm", "d_grad_norm")


def train_step(gan, batch, strategy: tf.distribute.Strategy | None) -> dict[str, tf.Tensor]:
    """One update of D and G on a batch of real data (``gan.tricks.update`` says in which order).

    Args:
        gan: the ``gan_lib.gan.GAN`` to train.
        batch: float32 ``[B, ...]`` real examples (images in [-1, 1], or 2D points), or
            ``(examples, labels)`` with int labels ``[B]`` for a conditional GAN, whose
            fakes are then generated for the same labels. Under a strategy: a distributed
            batch (``GAN.distribute``), B being the global batch.
        strategy: the strategy the GAN was built under; None: one device.
    Returns:
        Scalars named as ``GAN.metric_names``: losses, D(x) and D(G(z)) as mean probabilities,
        D's accuracy on real and on fake examples (the Serbian presentation's "acc.") and the
        global norms of G's and D's gradients (of the last update of each). Under several
        replicas each is the mean over replicas; for the norms, of each replica's gradient.
    """
    real, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
    if strategy is None:
        metrics = update(gan, real, labels)
    else:
        local = strategy.experimental_local_results(real)[0]
        size = local.shape[0] or tf.shape(local)[0]  # static with drop_remainder batches
        z = gan.sample_noise(size * strategy.num_replicas_in_sync)
        per_replica = strategy.run(update, args=(gan, real, labels, z))
        metrics = {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                   for name, value in per_replica.items()}
    if gan.ema is not None:  # in cross-replica context under a strategy: all copies agree
        gan.ema.update(gan.generator)
    gan.step.assign_add(1)
    return metrics


def update(gan, real, labels, z_global: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
    """The step's work on one replica's ``real`` (and ``labels``); ``z_global``: the global
    batch's noise under a strategy (None: one device, z drawn here)."""
    size = tf.shape(real)[0]
    for _ in range(gan.tricks.d_steps - 1):  # extra D updates first (WGAN's critic loop)
        discriminator_update(gan, real, labels, gan.sample_noise(size))
    if z_global is None:
        z = gan.sample_noise(size)
    else:  # this replica's rows of the noise one device would have drawn
        start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                        tf.int32) * size
        z = z_global[start:start + size]
    if gan.tricks.update == "alternating":
        metrics = discriminator_update(gan, real, labels, z)
        metrics["g_loss"], metrics["g_grad_norm"] = generator_update(gan, real, labels, z)
    else:
        metrics = simultaneous_update(gan, real, labels, z)
    for _ in range(gan.tricks.g_steps - 1):  # extra G updates so D's loss stays above 0
        metrics["g_loss"], metrics["g_grad_norm"] = generator_update(
            gan, real, labels, gan.sample_noise(size))
    return metrics


def simultaneous_update(gan, real, labels, z) -> dict[str, tf.Tensor]:
    """Both losses from one forward pass; both models updated from it (TF tutorial)."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = gan.generate(z, labels, training=True)
        real_in, fake_in = _d_input(gan, real), _d_input(gan, fake)
        real_logits = gan.discriminate(real_in, labels, training=True)
        fake_logits = gan.discriminate(fake_in, labels, training=True)
        g_loss = generator_loss(gan.loss, fake_logits, real_logits)
        d_loss, d_loss_real, d_loss_fake, penalty = _d_loss(
            gan, real_logits, fake_logits, real_in, fake_in, labels)
        g_tape_loss, g_factor = _tape_loss(g_loss, gan.g_optimizer)
        d_tape_loss, d_factor = _tape_loss(d_loss, gan.d_optimizer)
    g_vars = gan.generator.trainable_variables
    d_vars = gan.discriminator.trainable_variables
    g_grads, g_grad_norm = _gradients(g_tape, g_tape_loss, g_factor, g_vars)
    d_grads, d_grad_norm = _gradients(d_tape, d_tape_loss, d_factor, d_vars)
    gan.g_optimizer.apply_gradients(zip(g_grads, g_vars))
    gan.d_optimizer.apply_gradients(zip(d_grads, d_vars))
    return step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits,
                        d_grad_norm, penalty, g_loss=g_loss, g_grad_norm=g_grad_norm)


def generator_update(gan, real, labels, z) -> tuple[tf.Tensor, tf.Tensor]:
    """One G update against the discriminator as it is now: (G's loss, its gradient's norm)."""
    with tf.GradientTape() as tape:
        fake_logits = gan.discriminate(_d_input(gan, gan.generate(z, labels, True)), labels, True)
        real_logits = (gan.discriminate(_d_input(gan, real), labels, True)
                       if gan.loss.generator_uses_real else None)
        g_loss = generator_loss(gan.loss, fake_logits, real_logits)
        tape_loss, factor = _tape_loss(g_loss, gan.g_optimizer)
    g_vars = gan.generator.trainable_variables
    grads, norm = _gradients(tape, tape_loss, factor, g_vars)
    gan.g_optimizer.apply_gradients(zip(grads, g_vars))
    return g_loss, norm


def discriminator_update(gan, real, labels, z) -> dict[str, tf.Tensor]:
    """One D update on ``real`` and G(z) (G not updated); returns D's metrics."""
    fake = gan.generate(z, labels, training=True)
    with tf.GradientTape() as tape:
        real_in, fake_in = _d_input(gan, real), _d_input(gan, fake)
        real_logits = gan.discriminate(real_in, labels, training=True)
        fake_logits = gan.discriminate(fake_in, labels, training=True)
        d_loss, d_loss_real, d_loss_fake, penalty = _d_loss(
            gan, real_logits, fake_logits, real_in, fake_in, labels)
        tape_loss, factor = _tape_loss(d_loss, gan.d_optimizer)
    d_vars = gan.discriminator.trainable_variables
    grads, norm = _gradients(tape, tape_loss, factor, d_vars)
    gan.d_optimizer.apply_gradients(zip(grads, d_vars))
    return step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits, norm,
                        penalty)


def _d_input(gan, x: tf.Tensor) -> tf.Tensor:
    return discriminator_input(x, gan.tricks, gan.step, gan.rng)


def _d_loss(gan, real_logits, fake_logits, real_in, fake_in, labels):
    """(d_loss, real term, fake term, penalty or None): the tricks' loss plus the penalty."""
    d_real, d_fake = discriminator_loss(gan.loss, real_logits, fake_logits, gan.tricks, gan.rng)
    if not gan.tricks.gp_weight:
        return d_real + d_fake, d_real, d_fake, None
    critic = functools.partial(gan.discriminator, training=True)
    penalty = gradient_penalty(critic, real_in, fake_in, labels, rng=gan.rng)
    return d_real + d_fake + gan.tricks.gp_weight * penalty, d_real, d_fake, penalty


def _tape_loss(loss: tf.Tensor, optimizer) -> tuple[tf.Tensor, tf.Tensor | None]:
    """(what this replica's tape differentiates, its float32 factor over ``loss``; None: 1).

    1/replicas: our losses are batch means, so this replica's mean divided by
    ``num_replicas_in_sync`` is what ``tf.nn.compute_average_loss`` gives for per-example losses
    (their sum over the global batch size); the SUM of the replicas' gradients that the
    optimiser applies is then the gradient of the global batch's mean loss. With mixed precision
    the factor is also multiplied by the loss scale (``LossScaleOptimizer.scale_loss``, read
    before ``apply`` updates the scale and divides the gradients by it), so that small float16
    gradients do not underflow to 0.
    """
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    mixed = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    if replicas == 1 and not mixed:  # the plain step: no extra ops
        return loss, None
    factor = tf.constant(1.0 / replicas, tf.float32)
    if mixed:
        factor = optimizer.scale_loss(factor)  # Keras' current loss scale times 1/replicas
    return loss * tf.cast(factor, loss.dtype), factor


def _gradients(tape: tf.GradientTape, tape_loss: tf.Tensor, factor: tf.Tensor | None,
               variables) -> tuple[list, tf.Tensor]:
    """The gradients to apply (of ``tape_loss``), and the global norm of the loss's own gradient
    (``tape_loss`` / ``factor``: this replica's, unscaled), as one device reports it."""
    grads = tape.gradient(tape_loss, variables)
    norm = tf.linalg.global_norm(grads)
    return grads, (norm if factor is None else norm / factor)


def step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits, d_grad_norm,
                 penalty, g_loss=None, g_grad_norm=None) -> dict[str, tf.Tensor]:
    """The step's scalars (``STEP_METRICS``, and ``gp`` with a penalty)."""
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
