"""One train step of a GAN, all of it, top to bottom: what ``GAN.train_step`` runs.

Read ``simultaneous_update`` first: the TF DCGAN tutorial's step (and keras-io's), with the
tricks (``gan_lib.training.tricks``) as named calls inside it. ``discriminator_update`` and
``generator_update`` are the alternating step of the PyTorch DCGAN tutorial. ``update`` picks
one (``GAN.update``) and adds the extra D and G updates; ``train_step`` runs it on one device or
on each replica, then updates the weight average and the step counter. Tricks are read at
trace time, so a switched-off trick adds no op.

Under a ``tf.distribute`` strategy (synchronous data parallelism, as in the TensorFlow "Custom
training with tf.distribute.Strategy" guide):
1. the dataset yields GLOBAL batches; ``GAN.distribute`` gives each replica its consecutive slice;
2. z is drawn once for the global batch and each replica takes its rows, so the step sees the
   noise one device would (other random draws, e.g. dropout, differ per replica);
3. each replica's mean loss counts 1/replicas in its gradient (``gradients``), so the
   optimiser's all-reduced SUM of gradients is the gradient of the global batch's mean loss;
4. the metrics are averaged over replicas; the step counter and the EMA are updated once, in
   cross-replica context.
With mixed precision the gradient is also of the loss times the loss scale
(``keras.optimizers.LossScaleOptimizer.scale_loss``), whose ``apply`` divides it back out.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from gan_lib.training.losses import gradient_penalty
from gan_lib.training.tricks import discriminator_input, discriminator_loss, generator_loss

if TYPE_CHECKING:  # gan.py imports this module
    from gan_lib.training.gan import GAN

# The values the step returns, in the order history.csv stores them; with a gradient penalty
# also "gp" (``metric_names``).
STEP_METRICS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake",
                "d_real", "d_fake", "d_acc_real", "d_acc_fake", "g_grad_norm", "d_grad_norm")


def metric_names(gp_weight: float) -> tuple[str, ...]:
    """The keys ``train_step`` returns: ``STEP_METRICS``, and "gp" when there is a penalty."""
    return STEP_METRICS + (("gp",) if gp_weight else ())


def train_step(gan: GAN, batch) -> dict[str, tf.Tensor]:
    """One step on a batch of real data: D and G updated (``update``), then the average.

    Args:
        gan: the GAN to train.
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
    real, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
    if gan.distributed:
        metrics = _on_each_replica(gan, real, labels)
    else:
        metrics = update(gan, real, labels)
    if gan.ema is not None:  # in cross-replica context under a strategy: all copies agree
        gan.ema.update(gan.generator)
    gan.step.assign_add(1)
    return metrics


def update(gan: GAN, real, labels, z_global: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
    """D's and G's updates on one replica's ``real`` (and ``labels``): ``gan.update``'s order,
    ``gan.d_steps`` updates of D and ``gan.g_steps`` of G. ``z_global``: the global batch's
    noise under a strategy (None: one device, z drawn here)."""
    size = tf.shape(real)[0]
    for _ in range(gan.d_steps - 1):  # extra D updates first (WGAN's critic loop)
        discriminator_update(gan, real, labels, gan.sample_noise(size))
    if z_global is None:
        z = gan.sample_noise(size)
    else:  # this replica's rows of the noise one device would have drawn
        start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                        tf.int32) * size
        z = z_global[start:start + size]
    if gan.update == "alternating":  # D first, then G against the updated D
        metrics = discriminator_update(gan, real, labels, z)
        metrics |= generator_update(gan, real, labels, z)
    else:
        metrics = simultaneous_update(gan, real, labels, z)
    for _ in range(gan.g_steps - 1):  # extra G updates so D's loss stays above 0
        metrics |= generator_update(gan, real, labels, gan.sample_noise(size))
    return metrics


def simultaneous_update(gan: GAN, real, labels, z) -> dict[str, tf.Tensor]:
    """Both losses from one forward pass; both models updated from it (TF tutorial)."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = gan.generate(z, labels, training=True)
        # what D sees: DiffAugment, then instance noise, where they are on
        real_in = discriminator_input(real, gan.tricks, gan.step, gan.rng)
        fake_in = discriminator_input(fake, gan.tricks, gan.step, gan.rng)
        real_logits = gan.discriminate(real_in, labels, training=True)
        fake_logits = gan.discriminate(fake_in, labels, training=True)
        g_loss = generator_loss(gan.loss, fake_logits, real_logits)
        d_losses = _discriminator_losses(gan, real_logits, fake_logits, real_in, fake_in, labels)
    g_grads, g_grad_norm = gradients(g_tape, g_loss, gan.g_optimizer, gan.generator)
    d_grads, d_grad_norm = gradients(d_tape, d_losses["d_loss"], gan.d_optimizer,
                                     gan.discriminator)
    gan.g_optimizer.apply_gradients(zip(g_grads, gan.generator.trainable_variables))
    gan.d_optimizer.apply_gradients(zip(d_grads, gan.discriminator.trainable_variables))
    return {"g_loss": g_loss, "g_grad_norm": g_grad_norm, **d_losses,
            **_what_d_says(real_logits, fake_logits), "d_grad_norm": d_grad_norm}


def discriminator_update(gan: GAN, real, labels, z) -> dict[str, tf.Tensor]:
    """One D update on ``real`` and G(z) (G not updated); returns D's metrics."""
    fake = gan.generate(z, labels, training=True)
    with tf.GradientTape() as tape:
        real_in = discriminator_input(real, gan.tricks, gan.step, gan.rng)
        fake_in = discriminator_input(fake, gan.tricks, gan.step, gan.rng)
        real_logits = gan.discriminate(real_in, labels, training=True)
        fake_logits = gan.discriminate(fake_in, labels, training=True)
        d_losses = _discriminator_losses(gan, real_logits, fake_logits, real_in, fake_in, labels)
    grads, d_grad_norm = gradients(tape, d_losses["d_loss"], gan.d_optimizer, gan.discriminator)
    gan.d_optimizer.apply_gradients(zip(grads, gan.discriminator.trainable_variables))
    return {**d_losses, **_what_d_says(real_logits, fake_logits), "d_grad_norm": d_grad_norm}


def generator_update(gan: GAN, real, labels, z) -> dict[str, tf.Tensor]:
    """One G update against the discriminator as it is now; returns G's loss and gradient norm."""
    with tf.GradientTape() as tape:
        fake = gan.generate(z, labels, training=True)
        fake_in = discriminator_input(fake, gan.tricks, gan.step, gan.rng)
        fake_logits = gan.discriminate(fake_in, labels, training=True)
        real_logits = None
        if gan.loss.generator_uses_real:  # the relativistic pair compares with real examples
            real_in = discriminator_input(real, gan.tricks, gan.step, gan.rng)
            real_logits = gan.discriminate(real_in, labels, training=True)
        g_loss = generator_loss(gan.loss, fake_logits, real_logits)
    grads, g_grad_norm = gradients(tape, g_loss, gan.g_optimizer, gan.generator)
    gan.g_optimizer.apply_gradients(zip(grads, gan.generator.trainable_variables))
    return {"g_loss": g_loss, "g_grad_norm": g_grad_norm}


def _discriminator_losses(gan: GAN, real_logits, fake_logits, real_in, fake_in,
                          labels) -> dict[str, tf.Tensor]:
    """D's loss (label flips and smoothing applied, plus the gradient penalty if on) and its
    real and fake terms (and the penalty, "gp")."""
    d_real, d_fake = discriminator_loss(gan.loss, real_logits, fake_logits, gan.tricks, gan.rng)
    losses = {"d_loss": d_real + d_fake, "d_loss_real": d_real, "d_loss_fake": d_fake}
    if gan.tricks.gp_weight:
        critic = functools.partial(gan.discriminator, training=True)
        losses["gp"] = gradient_penalty(critic, real_in, fake_in, labels, rng=gan.rng)
        losses["d_loss"] = losses["d_loss"] + gan.tricks.gp_weight * losses["gp"]
    return losses


def _what_d_says(real_logits, fake_logits) -> dict[str, tf.Tensor]:
    """D(x) and D(G(z)) as mean probabilities, and D's accuracy on real and on fake examples."""
    return {"d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
            "d_acc_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32))}


def gradients(tape: tf.GradientTape, loss: tf.Tensor, optimizer,
              model: keras.Model) -> tuple[list, tf.Tensor]:
    """The gradients to apply to ``model``'s weights, and the global norm of ``loss``'s own.

    On one device without mixed precision: the gradients of ``loss``. Otherwise of this
    replica's share of it: our losses are batch means, so ``loss`` / ``num_replicas_in_sync`` is
    what ``tf.nn.compute_average_loss`` gives for per-example losses, and the SUM of the
    replicas' gradients that the optimiser applies is the gradient of the global batch's mean
    loss; with mixed precision, times the loss scale (``LossScaleOptimizer.scale_loss``, read
    before ``apply`` updates the scale and divides the gradients by it), so that small float16
    gradients do not underflow to 0. The factor enters as ``output_gradients``: the gradient of
    ``loss`` times the factor, without changing ``loss``.
    """
    variables = model.trainable_variables
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    mixed = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    if replicas == 1 and not mixed:  # the plain step: no extra ops
        grads = tape.gradient(loss, variables)
        return grads, tf.linalg.global_norm(grads)
    factor = tf.constant(1.0 / replicas, tf.float32)
    if mixed:
        factor = optimizer.scale_loss(factor)  # Keras' current loss scale times 1/replicas
    grads = tape.gradient(loss, variables, output_gradients=tf.cast(factor, loss.dtype))
    return grads, tf.linalg.global_norm(grads) / factor


def _on_each_replica(gan: GAN, real, labels) -> dict[str, tf.Tensor]:
    """``update`` on each replica's slice of the global batch, the metrics averaged."""
    strategy = gan.strategy
    local = strategy.experimental_local_results(real)[0]
    size = local.shape[0] or tf.shape(local)[0]  # static with drop_remainder batches
    z = gan.sample_noise(size * strategy.num_replicas_in_sync)
    per_replica = strategy.run(update, args=(gan, real, labels, z))
    return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
            for name, value in per_replica.items()}
