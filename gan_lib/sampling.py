"""Drawing samples from a trained run's ``generator.keras``."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from gan_lib.data.pipeline import unscale_images
from gan_lib.errors import GanLibError
from gan_lib.runs import read_config


def sample_run(run_dir: str | os.PathLike, n: int, seed: int = 0, label: int | None = None,
               batch_size: int = 256) -> np.ndarray:
    """``n`` samples of the generator saved in ``run_dir``.

    Args:
        label: for a conditional run, the class to generate (default: classes in turn).
    Returns:
        uint8 ``[n, H, W, C]`` for image configs, float32 ``[n, 2]`` for 2D ones.
    """
    config = read_config(run_dir)
    if label is not None and not 0 <= label < config.num_classes:
        raise GanLibError(
            f"--label needs a class in 0..{config.num_classes - 1}" if config.num_classes
            else f"{run_dir} is not a conditional run: --label needs a conditional config")
    generator = keras.models.load_model(Path(run_dir) / "generator.keras", compile=False)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, config.latent_dim)).astype(np.float32)
    labels = (np.full(n, label) if label is not None else np.arange(n) % max(1, config.num_classes))
    labels = labels.astype(np.int32)

    def generate(i):
        zb = z[i:i + batch_size]
        inputs = [zb, labels[i:i + batch_size]] if config.num_classes else zb
        return np.asarray(generator(inputs, training=False))

    out = np.concatenate([generate(i) for i in range(0, n, batch_size)])
    return out.astype(np.float32) if config.is_2d else unscale_images(out)
