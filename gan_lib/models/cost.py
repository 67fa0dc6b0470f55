"""What a network costs: multiply-adds of one forward pass, counted from its layers' shapes.

One multiply-add (MAC) is two floating-point operations (FLOP). A training step costs about
three forward passes per network it updates: the forward pass itself and a backward pass that
computes two gradients (for the weights and for the input), each as big as the forward pass.
"""

from __future__ import annotations

import math

import keras


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass for ONE input (convolutions and dense layers only;
    activations, BatchNorm and additions are a few percent at most and left out)."""
    total = 0
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # a wrapper (SpectralNormalization) computes its
        if isinstance(inner, keras.layers.Conv2DTranspose):  # layer's arithmetic
            # Every input pixel stamps a kh x kw x out kernel: in_h * in_w * kh * kw * in * out.
            total += math.prod(layer.input.shape[1:3]) * math.prod(inner.kernel.shape)
        elif isinstance(inner, keras.layers.Conv2D):
            # Every output pixel sums kh x kw x in inputs, for each of out channels.
            total += math.prod(layer.output.shape[1:3]) * math.prod(inner.kernel.shape)
        elif isinstance(inner, keras.layers.Dense):
            # A Dense on a [H, W, C] tensor acts on every pixel (a 1x1 convolution).
            total += math.prod(layer.output.shape[1:-1]) * math.prod(inner.kernel.shape)
    return int(total)


def step_multiply_adds(generator: keras.Model, discriminator: keras.Model,
                       batch_size: int) -> int:
    """Multiply-adds of one training step: G on a batch, D on a real and a fake batch, each
    forward pass and its backward pass (~2x the forward pass)."""
    forward = batch_size * (multiply_adds(generator) + 2 * multiply_adds(discriminator))
    return 3 * forward
