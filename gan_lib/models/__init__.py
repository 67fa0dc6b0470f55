"""Generator and discriminator builders, registered by architecture name.

``build_models(config)`` returns ``(generator, discriminator)`` for any registered config. The
names, and the config fields each builder reads, are declared in
``gan_lib.names.ARCHITECTURE_FIELDS`` (TensorFlow-free, so a config checks its architecture
before TensorFlow loads); ``BUILDERS`` has one builder per name, which ``registry`` checks.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError
from gan_lib.models import chollet64, conditional, dcgan, presentations64, resize_conv
from gan_lib.models.batchnorm import batchnorm_of
from gan_lib.models.mlp import (
    build_mlp2d_discriminator,
    build_mlp2d_generator,
    build_mlp_image_discriminator,
    build_mlp_image_generator,
)
from gan_lib.names import ARCHITECTURE_FIELDS, registry

Pair = tuple[keras.Model, keras.Model]


def _image_shape(c: GANConfig) -> tuple[int, int, int]:
    return (c.image_size, c.image_size, c.channels)


def _width(c: GANConfig, default: int) -> int:
    return c.model_width or default


BUILDERS: dict[str, Callable[[GANConfig], Pair]] = registry({
    "mlp2d": lambda c: (build_mlp2d_generator(c.latent_dim, c.g_hidden),
                        build_mlp2d_discriminator(dropout=c.dropout)),
    "mlp_image": lambda c: (build_mlp_image_generator(c.latent_dim, _image_shape(c)),
                            build_mlp_image_discriminator(_image_shape(c), dropout=c.dropout)),
    "dcgan28": lambda c: (
        dcgan.build_dcgan28_generator(c.latent_dim, width=_width(c, 64), channels=c.channels,
                                      batchnorm=batchnorm_of(c)),
        dcgan.build_dcgan28_discriminator(width=_width(c, 64), channels=c.channels,
                                          dropout=c.dropout, batch_norm=c.d_batch_norm,
                                          batchnorm=batchnorm_of(c))),
    "tutorial28": lambda c: (dcgan.build_tutorial_generator(c.latent_dim, batchnorm_of(c)),
                             dcgan.build_tutorial_discriminator()),
    "cgan28": lambda c: (
        conditional.build_cgan28_generator(c.latent_dim, c.num_classes, width=_width(c, 64),
                                           channels=c.channels, batchnorm=batchnorm_of(c)),
        conditional.build_cgan28_discriminator(c.num_classes, width=_width(c, 64),
                                               channels=c.channels, batchnorm=batchnorm_of(c))),
    "cgan_mlp": lambda c: (
        conditional.build_cgan_mlp_generator(c.latent_dim, c.num_classes,
                                             image_shape=(c.image_size, c.image_size, c.channels)),
        conditional.build_cgan_mlp_discriminator(
            c.num_classes, image_shape=(c.image_size, c.image_size, c.channels),
            dropout=c.dropout)),
    "cats64": lambda c: (presentations64.build_cats64_generator(c.latent_dim, batchnorm_of(c)),
                         presentations64.build_cats64_discriminator(batchnorm_of(c))),
    "dcgan64": lambda c: (
        presentations64.build_dcgan64_generator(c.latent_dim, _width(c, 64), batchnorm_of(c),
                                                image_size=c.image_size),
        presentations64.build_dcgan64_discriminator(_width(c, 64), batchnorm_of(c),
                                                    image_size=c.image_size)),
    "dcgan_resize": lambda c: (
        resize_conv.build_resize_conv_generator(c.latent_dim, _width(c, 16), batchnorm_of(c),
                                                image_size=c.image_size),
        presentations64.build_dcgan64_discriminator(_width(c, 16), batchnorm_of(c),
                                                    image_size=c.image_size)),
    "upsample_mlp64": lambda c: (presentations64.build_faces_upsample_generator(c.latent_dim,
                                                                                batchnorm_of(c)),
                                 presentations64.build_faces_mlp_discriminator(c.image_size)),
    "chollet64": lambda c: (
        chollet64.build_chollet64_generator(c.latent_dim, c.image_size, width=_width(c, 256)),
        chollet64.build_chollet64_discriminator(c.image_size, width=_width(c, 256))),
}, ARCHITECTURE_FIELDS, "architecture")


def register_architecture(name: str, builder: Callable[[GANConfig], Pair],
                          fields: tuple[str, ...] = ()) -> None:
    """Make ``name`` a valid ``GANConfig.architecture``, built by ``builder(config)``.

    ``fields``: the config fields the builder reads (e.g. ``("model_width",)``); config.json
    keeps them (in ``gan_lib.names.ARCHITECTURE_FIELDS``, which ``GANConfig.validate`` reads).
    Lesson 06's exercise registers a pair of its own this way.
    """
    BUILDERS[name] = builder
    ARCHITECTURE_FIELDS[name] = tuple(fields)


def build_models(config: GANConfig) -> Pair:
    """``(generator, discriminator)`` for ``config.architecture``, freshly initialised."""
    if config.architecture not in BUILDERS:
        raise GanLibError(f"unknown architecture {config.architecture!r}; "
                          f"known: {', '.join(sorted(BUILDERS))}")
    return BUILDERS[config.architecture](config)


__all__ = ["BUILDERS", "build_models", "register_architecture", "build_mlp2d_generator",
           "build_mlp2d_discriminator", "build_mlp_image_generator",
           "build_mlp_image_discriminator"]
