"""Datasets: 2D toy distributions, the tf.data pipeline, and where data lives on disk.

The pipeline and the dataset registry import TensorFlow (and through Keras, Matplotlib), so they
load on first use: ``gan_lib.data.paths``, ``archives`` and ``download`` (what ``gan_lib.share``
needs) import without them.
"""

from gan_lib.data.paths import data_root, dataset_dir, outputs_root
from gan_lib.data.toy import sample_toy, toy_mode_std, toy_modes

_LAZY = {
    **dict.fromkeys(("image_dataset", "points_dataset", "scale_images"), "gan_lib.data.pipeline"),
    "unscale_images": "gan_lib.data.images",
    **dict.fromkeys(("IMAGE_LOADERS", "TrainingData", "load_dataset", "load_images",
                     "config_images", "check_source"), "gan_lib.data.registry"),
}


def __getattr__(name):
    import importlib
    import importlib.util

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:  # gan_lib.data.images ...
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gan_lib.data' has no attribute {name!r}")


__all__ = [
    "IMAGE_LOADERS", "TrainingData", "load_dataset", "load_images", "config_images",
    "check_source", "data_root", "dataset_dir", "outputs_root", "image_dataset", "points_dataset",
    "scale_images", "unscale_images", "sample_toy", "toy_mode_std", "toy_modes",
]
