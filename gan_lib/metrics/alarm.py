"""Is training going wrong? The "discriminator wins" alarm, read from history rows as they come.

Gradient norms (``g_grad_norm``, ``d_grad_norm``) come from the train step itself; mode collapse
and memorisation are measured in ``gan_lib.metrics.collapse``.
"""

from __future__ import annotations

import warnings

from gan_lib.errors import GanLibError


class DiscriminatorWinsWarning(UserWarning):
    """D rejects every fake with near certainty: with the minimax loss G's gradient vanishes;
    with the non-saturating loss its factor on D's logit stays, but only says 'not like this'."""


class DiscriminatorWinsAlarm:
    """Watches logged rows and warns once when D's loss and D(G(z)) both stay near 0.

    The English presentation's run did this in its first epochs ("Discriminator Loss reaches 0
    quickly"): D learns to reject the early, obviously bad fakes perfectly and its loss goes to 0.
    (The German presentation's D "wird über 5000 Epochen immer besser": it kept getting better over
    the whole run.) With the minimax loss the generator's gradient (through a saturated sigmoid)
    vanishes; with the non-saturating loss the loss's factor on D's logit stays (what reaches G
    also depends on D's slope at the fake), but only says 'not like this'.

    Args:
        threshold_loss: ``d_loss`` below this counts as "D wins" ...
        threshold_fake: ... when ``d_fake`` (mean D(G(z)), a probability) is below this too.
        patience: warn after this many such rows in a row.
        enabled: False makes the alarm silent (Wasserstein critics: their loss is meant to go
            below 0, and their scores are no probabilities).
        loss: the generator's loss name, for the explanation in the warning.
    """

    def __init__(self, threshold_loss: float = 0.05, threshold_fake: float = 0.05,
                 patience: int = 5, enabled: bool = True, loss: str = "non_saturating"):
        if patience < 1:
            raise GanLibError(f"patience must be at least 1 row, got {patience}")
        self.threshold_loss = threshold_loss
        self.threshold_fake = threshold_fake
        self.patience = patience
        self.enabled = enabled
        self.loss = loss
        self.streak = 0
        self.fired = False

    @classmethod
    def for_loss(cls, loss: str, **kwargs) -> DiscriminatorWinsAlarm:
        """An alarm that fits the loss: silent for ``wgan_gp``, whose critic loss is not >= 0."""
        return cls(enabled=loss != "wgan_gp", loss=loss, **kwargs)

    def message(self, step) -> str:
        # What a winning D does to G depends on G's loss: the minimax loss saturates (no
        # gradient), the others keep a gradient that only pushes G towards D's current blind spot.
        effect = ("the generator's minimax loss saturates: it gets almost no gradient"
                  if self.loss == "minimax" else
                  "the loss still has a slope in D's logit for every fake, but it only says "
                  "'not like this': G chases what D happens to accept instead of the data "
                  "(watch g_grad_norm)")
        return (
            f"The discriminator is winning: for {self.patience} logged rows up to step {step} "
            f"its loss stayed below {self.threshold_loss} and D(G(z)) below "
            f"{self.threshold_fake}. It rejects every fake with near certainty; {effect}. "
            "Try one or more of: a "
            "lower d_learning_rate (e.g. half of g_learning_rate), label_smoothing=0.1, "
            "instance_noise=0.1, label_flip=0.05, g_steps=2, more dropout or spectral_norm=True "
            "in D, loss='hinge' or 'lsgan', and diffaugment='color,translation,cutout' for "
            "small image datasets.")

    def check(self, row: dict, step: int | None = None) -> bool:
        """Feed one history row (needs ``d_loss`` and ``d_fake``); True when it warns now."""
        if not self.enabled or self.fired:
            return False
        if row["d_loss"] < self.threshold_loss and row["d_fake"] < self.threshold_fake:
            self.streak += 1
        else:
            self.streak = 0
        if self.streak < self.patience:
            return False
        self.fired = True
        warnings.warn(self.message(row.get("step", step)), DiscriminatorWinsWarning,
                      stacklevel=2)
        return True
