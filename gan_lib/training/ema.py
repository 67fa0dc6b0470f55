"""An exponential moving average of the generator's weights, for sampling.

Yazıcı et al. (2019), "The Unusual Effectiveness of Averaging in GAN Training": the generator's
weights keep circling around a good solution while the two networks chase each other;
their running average sits nearer its centre and gives smoother, better samples at no
training cost. ProGAN, StyleGAN and BigGAN all sample from such an average (decay ~0.999).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_lib.config import check_ema_decay


class EMA(tf.Module):
    """A shadow copy of a model whose weights follow ``shadow = d * shadow + (1 - d) * w``.

    The shadow is a full Keras model (``ema.model``), so it can be called, saved as
    ``generator.keras`` and, being an attribute of a ``tf.Module``, it is saved in checkpoints.
    Trainable weights are averaged; non-trainable ones (BatchNorm's moving statistics, which
    are averages already) are copied.

    Args:
        model: the model to follow (the generator); the shadow starts as a copy of it.
        decay: d in (0, 1); the average spans about ``1 / (1 - d)`` updates.
    """

    def __init__(self, model: keras.Model, decay: float = 0.999):
        super().__init__(name="ema")
        self.decay = check_ema_decay(decay)
        self.model = keras.models.clone_model(model)
        self.model.set_weights(model.get_weights())

    def update(self, model: keras.Model) -> None:
        """One step of the average towards ``model``'s current weights (graph- or eager-safe)."""
        trainable = {id(v) for v in model.trainable_weights}
        for shadow, w in zip(self.model.weights, model.weights):
            if id(w) in trainable:
                shadow.assign(self.decay * shadow + (1.0 - self.decay) * w)
            else:
                shadow.assign(w)
