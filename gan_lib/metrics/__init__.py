"""Numbers that say how good a generator is: mode coverage on 2D data (``toy``); for MNIST and
Fashion-MNIST the Fréchet distance (``frechet``), classifier score and class coverage
(``classifier``) computed with a small CNN trained on the real data; at 64x64 the face detection
rate and colour shift (``detect``) and the KID in a small encoder's features (``encoder``)."""

from gan_lib.metrics.classifier import (
    class_histogram,
    classifier_score,
    evaluate_images,
    load_classifier,
)
from gan_lib.metrics.encoder import kernel_inception_distance
from gan_lib.metrics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_of_features,
)
from gan_lib.metrics.toy import mode_coverage, sine_error, toy_metrics

__all__ = ["mode_coverage", "sine_error", "toy_metrics", "frechet_distance",
           "frechet_distance_of_features",
           "feature_statistics", "classifier_score", "class_histogram", "evaluate_images",
           "load_classifier", "kernel_inception_distance"]
