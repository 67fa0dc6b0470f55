"""A DCGAN whose generator enlarges by resize-convolution: nearest-neighbour upsampling, then a
3x3 convolution (Odena, Dumoulin and Olah, 2016, "Deconvolution and Checkerboard Artifacts";
lesson 04 shows the pattern). The course's 128x128 recipe for your own images
(``dcgan128_fast``) uses it; the discriminator is the DCGAN one (``build_dcgan64_discriminator``).

Why not the transposed convolutions of ``build_dcgan64_generator``: at 128x128 on 2,900 of the
shared faces, the transposed-convolution generator at width 16 still drew grey squares after
2,500-3,000 steps (three variants, one run each), while this one, all else equal, drew faces by
step 800 (a lead; benchmarks/README.md, "Your own images", has these runs and its 30-minute one).
"""

from __future__ import annotations

import keras
from keras import layers

from gan_lib.models.batchnorm import KERAS_BATCHNORM, batchnorm_layer
from gan_lib.models.dcgan import normal_init
from gan_lib.models.presentations64 import doublings


def build_resize_conv_generator(latent_dim: int = 100, width: int = 16,
                                batchnorm: tuple[float, float] = KERAS_BATCHNORM,
                                image_size: int = 128) -> keras.Sequential:
    """Generator z -> ``image_size`` x ``image_size`` RGB image: a 4x4 transposed convolution
    from z (as the DCGAN's first layer), then one block per doubling, each nearest-neighbour
    upsampling x2, a 3x3 convolution, BatchNorm and ReLU; the last block's convolution draws the
    3 channels with tanh.

    Args:
        latent_dim: size of the noise vector z.
        width: filters of the last hidden layer; each layer below has twice the one above
            (at 128x128: 256, 128, 64, 32, 16 for width 16).
        batchnorm: BatchNorm's (momentum, epsilon) (``config.BATCHNORMS``).
        image_size: 32, 64 or 128.
    Returns:
        A model mapping float32 ``[B, latent_dim]`` to float32 ``[B, S, S, 3]`` in [-1, 1].
    """
    ups = doublings(image_size)
    top = width * 2 ** (ups - 1)
    model = keras.Sequential([keras.Input((latent_dim,)), layers.Reshape((1, 1, latent_dim))],
                             name="generator")
    model.add(layers.Conv2DTranspose(top, 4, strides=1, padding="valid", use_bias=False,
                                     kernel_initializer=normal_init()))
    model.add(batchnorm_layer(batchnorm))
    model.add(layers.ReLU())
    for k in range(1, ups + 1):
        model.add(layers.UpSampling2D(2, interpolation="nearest"))
        if k == ups:  # the image: bias, tanh, no BatchNorm (as the DCGAN's output layer)
            model.add(layers.Conv2D(3, 3, padding="same", activation="tanh",
                                    kernel_initializer=normal_init()))
        else:  # no bias before BatchNorm: its shift does the bias's job
            model.add(layers.Conv2D(top // 2 ** k, 3, padding="same", use_bias=False,
                                    kernel_initializer=normal_init()))
            model.add(batchnorm_layer(batchnorm))
            model.add(layers.ReLU())
    assert model.output_shape == (None, image_size, image_size, 3)
    return model
