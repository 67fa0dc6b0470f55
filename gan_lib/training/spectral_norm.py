"""Spectral normalisation of a discriminator's layers (Miyato et al. 2018, SNGAN).

Dividing each weight matrix by its largest singular value makes each ``Dense`` and ``Conv2D``
layer 1-Lipschitz, which limits how sharp D can become (BatchNorm layers, kept here, are not
normalised, so a D with BatchNorm is not 1-Lipschitz as a whole); it is the SNGAN/BigGAN default
for D.

Keras 3 ships the wrapper as ``keras.layers.SpectralNormalization`` and we use it as is: it
works inside the ``tf.function`` train step and round-trips through ``.keras`` files (both are
tested). How it works: in training mode each call runs ``power_iterations`` steps of the power
method (the vector ``u`` is a non-trainable weight, so the estimate improves from call to call)
and *rewrites the kernel variable* as ``W / sigma``; the optimiser then updates that normalised
kernel. So the layer is normalised while training, not by the optimiser's last step, and
``W`` itself (not a copy) is what you inspect.
"""

from __future__ import annotations

import keras
from keras import layers

from gan_lib.errors import GanLibError

SpectralNormalization = keras.layers.SpectralNormalization

# Layers with a kernel that maps features to features: what SNGAN normalises in D.
_NORMALISED = (layers.Dense, layers.Conv2D)


def _clone(layer: keras.layers.Layer) -> keras.layers.Layer:
    new = layer.__class__.from_config(layer.get_config())
    if isinstance(layer, _NORMALISED):
        return SpectralNormalization(new)
    return new


def apply_spectral_norm(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with every ``Dense`` and ``Conv2D`` wrapped in spectral normalisation.

    The copy starts from the same weights (its layers' kernels and biases are copied), so a
    builder's initialisation is kept. Works for ``Sequential`` and functional models (e.g. the
    conditional discriminators); nested models and layers already wrapped are left alone.
    BatchNorm is kept, though SNGAN's discriminators do without it.

    Args:
        model: a built discriminator returning logits.
    Returns:
        A new model with the same inputs and outputs.
    """
    if not model.built:
        raise GanLibError("apply_spectral_norm needs a built model: give the discriminator "
                          "a keras.Input first")
    if any(isinstance(layer, SpectralNormalization) for layer in model.layers):
        raise GanLibError(f"{model.name} already has spectral normalisation; apply it once")
    clone = keras.models.clone_model(model, clone_function=_clone)
    for old, new in zip(model.layers, clone.layers):
        target = new.layer if isinstance(new, SpectralNormalization) else new
        target.set_weights(old.get_weights())
    return clone
