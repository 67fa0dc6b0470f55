"""Numbers that say how good a generator is: mode coverage on 2D data (``toy``); image
metrics (Fréchet distance, classifier score, class coverage) come with the MNIST lesson."""

from gan_lib.metrics.toy import mode_coverage, sine_error, toy_metrics

__all__ = ["mode_coverage", "sine_error", "toy_metrics"]
