"""What a train step reports: the names of its scalars, in history.csv's order, and their values
from the step's losses and D's logits. ``GAN.train_step`` returns them; ``Session`` logs them.
"""

from __future__ import annotations

import tensorflow as tf

# Names of the values train_step returns, in the order history.csv stores them. With a
# gradient penalty the step also returns "gp" (see ``GAN.metric_names``).
STEP_METRICS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake",
                "d_real", "d_fake", "d_acc_real", "d_acc_fake", "g_grad_norm", "d_grad_norm")


def step_metrics(d_loss, d_loss_real, d_loss_fake, real_logits, fake_logits, d_grad_norm,
                 penalty, g_loss=None, g_grad_norm=None) -> dict[str, tf.Tensor]:
    """The step's scalars (``STEP_METRICS``, and ``gp`` with a penalty)."""
    metrics = {
        "d_loss": d_loss, "g_loss": g_loss,
        "d_loss_real": d_loss_real, "d_loss_fake": d_loss_fake,
        "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
        "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
        "d_acc_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
        "d_acc_fake": tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)),
        "g_grad_norm": g_grad_norm, "d_grad_norm": d_grad_norm,
    }
    if penalty is not None:
        metrics["gp"] = penalty
    return metrics
