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


def step_multiply_adds(generator: keras.Model, discriminator: keras.Model, batch_size: int,
                       update: str = "simultaneous") -> int:
    """Multiply-adds of one training step at ``batch_size``.

    ``"simultaneous"``: G on a batch and D on a real and a fake batch, each forward pass with its
    backward pass (~2x the forward): 3 (G + 2 D). ``"alternating"``: D's update runs G forward
    only (G + 3 x 2 D), then G's update runs G and D again with a backward pass (3 (G + D)).
    """
    g, d = multiply_adds(generator), multiply_adds(discriminator)
    if update == "alternating":
        return batch_size * (g + 6 * d + 3 * (g + d))
    return batch_size * 3 * (g + 2 * d)
