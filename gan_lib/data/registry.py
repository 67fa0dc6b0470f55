"""Datasets by name: what ``GANConfig.dataset`` refers to, and how to turn it into batches.

Image loaders are imported when first used, so a 2D lesson never touches Pillow or the disk.
Missing data is downloaded where the dataset allows it; without a network the error says which
files to put in which folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from gan_lib.config import OWN_IMAGES, GANConfig
from gan_lib.data.pipeline import image_dataset, points_dataset, scale_images
from gan_lib.data.toy import sample_toy
from gan_lib.errors import GanLibError

Root = str | os.PathLike | None


class TrainingData(NamedTuple):
    """Batches for training, how many examples one epoch has, and real examples to show."""

    dataset: tf.data.Dataset  # yields float32 [B, ...] batches (or (batch, labels) pairs)
    num_examples: int
    preview: np.ndarray  # real examples to draw (points, or images in [-1, 1])
    images: np.ndarray | None = None  # the real uint8 images, for quality metrics
    labels: np.ndarray | None = None

    def steps_for(self, epochs: int, batch_size: int) -> int:
        """The train steps of ``epochs`` passes over the examples at ``batch_size``."""
        if epochs <= 0:
            raise GanLibError(f"epochs must be positive, got {epochs}")
        return epochs * max(1, self.num_examples // batch_size)


def _toy2d(config: GANConfig, root: Root) -> TrainingData:
    points = sample_toy(config.toy_distribution, config.num_train, seed=config.seed)
    return TrainingData(points_dataset(points, config.batch_size, seed=config.seed),
                        len(points), points[:1000])


def _mnist_family(name: str) -> Callable[[Root], tuple[np.ndarray, np.ndarray]]:
    def load(root: Root):
        from gan_lib.data.mnist import load_mnist
        return load_mnist(name, root, download=True)
    return load


def _cat_faces(root: Root, image_size: int):
    from gan_lib.data.cats import load_cat_faces
    return load_cat_faces(root, image_size=image_size, download=True), None


def _faces(root: Root, image_size: int):
    from gan_lib.data.faces import load_faces
    return load_faces(root, image_size=image_size, download=True), None


def _cat_landmarks(root: Root, image_size: int):
    from gan_lib.data.cat_landmarks import load_cat_landmarks
    return load_cat_landmarks(root, image_size=image_size), None


IMAGE_LOADERS: dict[str, Callable] = {
    "mnist": lambda root, size: _mnist_family("mnist")(root),
    "fashion_mnist": lambda root, size: _mnist_family("fashion_mnist")(root),
    "cat_faces": _cat_faces,
    "cat_landmarks": _cat_landmarks,
    "faces": _faces,
}


def load_images(name: str, root: Root = None, image_size: int = 64):
    """``(images uint8 [N, H, W, C], labels int [N] or None)`` of an image dataset."""
    if name not in IMAGE_LOADERS:
        raise GanLibError(f"unknown dataset {name!r}; known: toy2d, {', '.join(IMAGE_LOADERS)} "
                          f"(your own images: train(..., images=FOLDER), or --images FOLDER)")
    images, labels = IMAGE_LOADERS[name](root, image_size)
    if images.ndim == 3:
        images = images[..., None]
    return images, labels


def check_source(config: GANConfig, root: Root = None) -> None:
    """The cheap checks of ``config``'s data that can fail before a run folder is made: your
    own images' folder exists and holds enough images (no decoding; see ``own_images``)."""
    if config.dataset == OWN_IMAGES:
        from gan_lib.data.own_images import check_image_folder, image_folder

        if not config.images:
            raise GanLibError(f"{config.name} trains on your own images: pass the folder, "
                              "train(config, out_dir, images=FOLDER) or --images FOLDER")
        check_image_folder(image_folder(config.images, root))


def config_images(config: GANConfig, root: Root = None):
    """``(images, labels)`` of ``config``'s image data: a named dataset, or your own images
    (``config.images``, grey for a one-channel recipe; no labels)."""
    if config.dataset == OWN_IMAGES:
        from gan_lib.data.own_images import load_own_images

        return load_own_images(config.images, config.image_size, config.channels, root), None
    return load_images(config.dataset, root, config.image_size)


def _image_data(config: GANConfig, root: Root) -> TrainingData:
    images, labels = config_images(config, root)
    if images.shape[1:] != (config.image_size, config.image_size, config.channels):
        raise GanLibError(f"{config.dataset} images are {images.shape[1:]}, the config wants "
                          f"{(config.image_size, config.image_size, config.channels)}")
    if config.num_train:  # quick mode and experiments: a fixed random subset
        keep = np.random.default_rng(config.seed).permutation(len(images))[:config.num_train]
        images, labels = images[np.sort(keep)], None if labels is None else labels[np.sort(keep)]
    if config.num_classes and labels is None:
        raise GanLibError(f"{config.name} is conditional but {config.dataset} has no labels")
    dataset = image_dataset(images, config.batch_size,
                            labels=labels if config.num_classes else None,
                            flip=config.random_flip, seed=config.seed)
    return TrainingData(dataset, len(images), scale_images(images[:64]).numpy(), images, labels)


def load_dataset(config: GANConfig, root: Root = None) -> TrainingData:
    """The training data of ``config``, from the dataset root ``root`` (see ``data_root``)."""
    if config.dataset == "toy2d":
        return _toy2d(config, root)
    return _image_data(config, root)
