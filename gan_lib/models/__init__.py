"""Generator and discriminator builders, registered by architecture name.

``build_models(config)`` returns ``(generator, discriminator)`` for any registered config.
Later lessons register their architectures in ``BUILDERS``.
"""

from __future__ import annotations

from typing import Callable

import keras

from gan_lib.config import GANConfig
from gan_lib.errors import GanLibError
from gan_lib.models.mlp import build_mlp2d_discriminator, build_mlp2d_generator


def _mlp2d(config: GANConfig) -> tuple[keras.Model, keras.Model]:
    return (build_mlp2d_generator(config.latent_dim, config.g_hidden),
            build_mlp2d_discriminator(dropout=config.dropout))


BUILDERS: dict[str, Callable[[GANConfig], tuple[keras.Model, keras.Model]]] = {
    "mlp2d": _mlp2d,
}


def build_models(config: GANConfig) -> tuple[keras.Model, keras.Model]:
    """``(generator, discriminator)`` for ``config.architecture``, freshly initialised."""
    if config.architecture not in BUILDERS:
        raise GanLibError(f"unknown architecture {config.architecture!r}; "
                          f"known: {', '.join(sorted(BUILDERS))}")
    return BUILDERS[config.architecture](config)


__all__ = ["BUILDERS", "build_models", "build_mlp2d_generator", "build_mlp2d_discriminator"]
