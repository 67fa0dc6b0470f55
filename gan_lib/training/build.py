"""``build_gan(config)``: a config's models, optimisers, loss pair and tricks, as one ``GAN``."""

from __future__ import annotations

import contextlib
import warnings

import keras
import tensorflow as tf

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError
from gan_lib.models import build_models
from gan_lib.names import BATCHNORMS
from gan_lib.training.distribute import float32_output, mixed_precision_policy, replicated_strategy
from gan_lib.training.gan import GAN
from gan_lib.training.losses import get_loss
from gan_lib.training.spectral_norm import apply_spectral_norm
from gan_lib.training.tricks import Tricks


def _check_batchnorm(config: GANConfig, *models: keras.Model) -> None:
    """Warn when a builder did not give its BatchNorm layers ``config.batchnorm``'s settings
    (gan_lib's builders take them as ``batchnorm=``; one registered by hand may not)."""
    def bn_layers(model):
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                yield layer
            elif isinstance(layer, keras.Model):  # a model inside a model
                yield from bn_layers(layer)

    wanted = BATCHNORMS[config.batchnorm]
    found = {(bn.momentum, bn.epsilon) for model in models for bn in bn_layers(model)}
    if found - {wanted}:
        warnings.warn(f"architecture {config.architecture!r} builds BatchNorm layers with "
                      f"(momentum, epsilon) {sorted(found - {wanted})}, not batchnorm="
                      f"{config.batchnorm!r}'s {wanted}: pass batchnorm=batchnorm_of(c) "
                      "(gan_lib.models.batchnorm) to gan_lib's builders, or build them with "
                      "batchnorm_layer(batchnorm_of(c))", stacklevel=3)


def make_optimizer(learning_rate: float, beta_1: float = 0.5, beta_2: float = 0.999,
                   name: str = "adam", clipvalue: float | None = None):
    """Adam as Radford et al. (2015) advise for GANs (lr 2e-4, beta_1 0.5), or RMSprop."""
    if name == "rmsprop":  # the Russian presentation's faces GAN: RMSprop(lr 1e-4, clipvalue 1.0)
        return keras.optimizers.RMSprop(learning_rate=learning_rate, clipvalue=clipvalue)
    if name != "adam":
        raise GanLibError(f"unknown optimizer {name!r}; choose adam or rmsprop")
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                                 clipvalue=clipvalue)


def build_gan(config: GANConfig, strategy: tf.distribute.Strategy | None = None) -> GAN:
    """A fresh GAN for ``config``: models, optimisers, loss pair, noise seed and tricks.

    Args:
        config: the recipe (its ``jit_compile`` and ``mixed_precision`` fields apply here).
        strategy: build everything in this ``tf.distribute`` strategy's scope (see
            ``gan_lib.training.distribute.pick_strategy``); None, or TensorFlow's default strategy
            (what ``pick_strategy`` returns for one GPU or the CPU): one device, no scope.
    Raises:
        GanLibError: ``config.batch_size`` does not split evenly over the strategy's replicas.
    """
    strategy = replicated_strategy(strategy, config.batch_size)
    # the models' initial weights (see ``seed_everything``)
    keras.utils.set_random_seed(config.seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope, mixed_precision_policy(config.mixed_precision):
        generator, discriminator = build_models(config)
        _check_batchnorm(config, generator, discriminator)
        if config.spectral_norm:
            discriminator = apply_spectral_norm(discriminator)
        if config.mixed_precision:
            generator, discriminator = float32_output(generator), float32_output(discriminator)
        optimizers = [make_optimizer(lr, config.beta_1, config.beta_2, config.optimizer,
                                     config.clipvalue)
                      for lr in (config.g_learning_rate, config.d_learning_rate)]
        if config.mixed_precision:  # dynamic loss scaling (Micikevicius et al. 2018)
            optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
        loss = get_loss(config.loss)
        return GAN(generator, discriminator, *optimizers, loss, config.latent_dim,
                   update=config.update, d_steps=config.d_steps, g_steps=config.g_steps,
                   tricks=Tricks.from_config(config, loss), conditional=config.num_classes > 0,
                   ema_decay=config.ema_decay, seed=config.seed,
                   jit_compile=config.jit_compile, strategy=strategy)
