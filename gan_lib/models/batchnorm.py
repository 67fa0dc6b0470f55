"""BatchNormalization as the config asks: every builder makes its BatchNorm layers here.

``GANConfig.batchnorm`` names the moving-average settings (``config.BATCHNORMS``: Keras' own
momentum 0.99 and epsilon 1e-3, or PyTorch's 0.9 and 1e-5, its momentum 0.1 counted the other
way); ``gan_lib.models.BUILDERS`` hands them to each builder as ``batchnorm=(momentum, epsilon)``.
A builder of your own (``register_architecture``) gets the config: pass
``BATCHNORMS[c.batchnorm]`` to ``batchnorm_layer`` for its BatchNorm layers.
"""

from __future__ import annotations

from keras import layers

from gan_lib.config import BATCHNORMS

KERAS_BATCHNORM = BATCHNORMS["keras"]  # (momentum, epsilon): Keras' defaults


def batchnorm_layer(settings: tuple[float, float] = KERAS_BATCHNORM
                    ) -> layers.BatchNormalization:
    """A BatchNormalization layer with ``settings`` = (momentum, epsilon)."""
    momentum, epsilon = settings
    return layers.BatchNormalization(momentum=momentum, epsilon=epsilon)


def batchnorm_of(config) -> tuple[float, float]:
    """The (momentum, epsilon) that ``config.batchnorm`` names."""
    return BATCHNORMS[config.batchnorm]
