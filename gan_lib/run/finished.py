"""A finished run's samples and numbers: ``sample(run_dir, n)`` and ``evaluate_run(run_dir)``,
read from its folder (``generator.keras``, ``config.json``); ``evaluate_run`` also writes
``metrics.json``. The measuring itself is ``gan_lib.metrics.evaluate``'s, the drawing
``gan_lib.run.sampling.sample_from``'s."""

from __future__ import annotations

import os

import numpy as np

from gan_lib.data import config_images
from gan_lib.data.pipeline import unscale_images
from gan_lib.errors import GanLibError
from gan_lib.metrics import evaluate
from gan_lib.run.folder import RunFolder
from gan_lib.run.sampling import sample_from


def sample(run_dir: str | os.PathLike, n: int, seed: int = 0,
           label: int | None = None, best: bool = False) -> np.ndarray:
    """``n`` samples of the generator a finished run saved (``best``: the one of its best
    eval step, ``generator_best.keras``).

    Returns:
        uint8 ``[n, H, W, C]`` for image configs, float32 ``[n, 2]`` for 2D ones.
    """
    folder = RunFolder(run_dir)
    generator = folder.load_generator(best)  # first: "train it first" is the likelier mistake
    config = folder.read_config()
    if label is not None and not config.num_classes:
        raise GanLibError(f"{run_dir} is not a conditional run: --label needs a conditional "
                          "config")
    out = sample_from(generator, config, n, seed=seed, label=label)
    return out if config.is_2d else unscale_images(out)


def evaluate_run(run_dir: str | os.PathLike, n: int = 2000,
                 data_root: str | os.PathLike | None = None, seed: int = 0,
                 fid: bool = True, best: bool = False) -> dict:
    """Metrics of a finished run's ``generator.keras`` (``best``: ``generator_best.keras``);
    also written to ``metrics.json``. ``fid``: for image runs also FID and KID in InceptionV3's
    features (``inception``), which on a CPU take minutes at n = 2,000."""
    folder = RunFolder(run_dir)
    config = folder.read_config()
    kind = evaluate.METRICS.get(config.dataset)
    samples = sample(run_dir, n, seed=seed, best=best)
    real = None
    if kind and kind.real_images:
        real, _ = config_images(config, data_root)
    result = {"config": config.name, "samples": n, **evaluate.measure(samples, config, real)}
    if best:
        result["generator"] = f"{RunFolder.BEST_GENERATOR} (step {folder.read_best()['step']})"
    if kind and kind.beside:
        result.update(kind.beside(result, samples, real, config, folder, n, seed))
    if fid and real is not None:
        result.update(evaluate.inception(samples, real, n, seed))
    folder.write_metrics(result)
    return result
