"""Drawing samples from a trained run's ``generator.keras``."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from gan_lib.data.pipeline import unscale_images
from gan_lib.runs import read_config


def sample_run(run_dir: str | os.PathLike, n: int, seed: int = 0,
               batch_size: int = 256) -> np.ndarray:
    """``n`` samples of the generator saved in ``run_dir``.

    Returns:
        uint8 ``[n, H, W, C]`` for image configs, float32 ``[n, 2]`` for 2D ones.
    """
    config = read_config(run_dir)
    generator = keras.models.load_model(Path(run_dir) / "generator.keras", compile=False)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, config.latent_dim)).astype(np.float32)
    out = np.concatenate([np.asarray(generator(z[i:i + batch_size], training=False))
                          for i in range(0, n, batch_size)])
    return out.astype(np.float32) if config.is_2d else unscale_images(out)
