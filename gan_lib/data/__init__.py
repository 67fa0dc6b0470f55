"""Datasets: 2D toy distributions, the tf.data pipeline, and where data lives on disk."""

from gan_lib.data.paths import data_root, dataset_dir, outputs_root
from gan_lib.data.pipeline import (
    image_dataset,
    points_dataset,
    scale_images,
    unscale_images,
)
from gan_lib.data.registry import IMAGE_LOADERS, TrainingData, load_dataset, load_images
from gan_lib.data.toy import sample_toy, toy_mode_std, toy_modes

__all__ = [
    "IMAGE_LOADERS", "TrainingData", "load_dataset", "load_images",
    "data_root", "dataset_dir", "outputs_root", "image_dataset", "points_dataset",
    "scale_images", "unscale_images", "sample_toy", "toy_mode_std", "toy_modes",
]
