"""Datasets by name: what ``GANConfig.dataset`` refers to, and how to turn it into batches."""

from __future__ import annotations

import os
from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from gan_lib.config import GANConfig
from gan_lib.data.pipeline import points_dataset
from gan_lib.data.toy import sample_toy
from gan_lib.errors import GanLibError


class TrainingData(NamedTuple):
    """Batches for training, how many examples one epoch has, and real examples to show."""

    dataset: tf.data.Dataset  # yields float32 [B, ...] batches (or (batch, labels) pairs)
    num_examples: int
    preview: np.ndarray  # a few hundred real examples (points, or images in [-1, 1])


def _toy2d(config: GANConfig, root: str | os.PathLike | None) -> TrainingData:
    points = sample_toy(config.toy_distribution, config.num_train, seed=config.seed)
    return TrainingData(points_dataset(points, config.batch_size, seed=config.seed),
                        len(points), points[:1000])


DATASETS: dict[str, Callable[[GANConfig, str | os.PathLike | None], TrainingData]] = {
    "toy2d": _toy2d,
}


def load_dataset(config: GANConfig, root: str | os.PathLike | None = None) -> TrainingData:
    """The training data of ``config``, from the dataset root ``root`` (see ``data_root``)."""
    if config.dataset not in DATASETS:
        raise GanLibError(f"unknown dataset {config.dataset!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[config.dataset](config, root)
