"""``train(config, out_dir)``: a run from its config to its GIF, resumable at any point.

It reads as a run's life: open the run (its folder, the data, the GAN, the last checkpoint if
resuming), train its steps (history rows, fixed-noise frames, metrics and checkpoints at their
intervals: ``gan_lib.run.loop``), then write the plots, the GIF and ``generator.keras``. ``Run``
(``gan_lib.run.run``) holds all of it; ``open_run`` opens a saved run without data.
"""

from __future__ import annotations

import os

import tensorflow as tf

from gan_lib.config import GANConfig
from gan_lib.run.run import Run


def train(config: GANConfig, out_dir: str | os.PathLike | None = None, *,
          data_root: str | os.PathLike | None = None, resume: bool | str = False,
          epochs: int | None = None, progress: bool = True,
          strategy: tf.distribute.Strategy | None = None,
          images: str | os.PathLike | None = None) -> Run:
    """Train ``config`` into ``out_dir`` (default ``outputs/<config.name>``).

    Args:
        config: the recipe; ``config.steps`` and ``config.max_seconds`` bound the run.
        out_dir: the run folder (created). It must not hold a run unless ``resume``.
        data_root: dataset root (default ``GAN_LIB_DATA``, else ``data/``).
        resume: continue the run in ``out_dir`` from its last checkpoint; ``"auto"`` (what a
            notebook re-run after a disconnect wants) or True on a folder with no checkpoint
            yet starts from step 0.
        epochs: if given, train this many passes over the data instead of ``config.steps``.
        progress: show a progress bar.
        strategy: a ``tf.distribute`` strategy to train under (``gan_lib.training.distribute``); the
            config's ``batch_size`` is then the global batch, split over the replicas.
        images: train this image recipe on your own images instead of its dataset: a folder
            (every readable image at any depth, centre-cropped and resized), a .zip of one, or
            the http(s) URL of a zip (``gan_lib.data.own_images``). config.json keeps it, and a
            resume with another one is refused.
    Returns:
        The ``Run``: ``.gan``, ``.history`` (columns of history.csv), ``.stopped`` ("steps",
        "time" or "interrupted"), ``.config``, ``.out_dir``; the folder holds every file listed
        in ``gan_lib.run.folder``.
    Raises:
        GanLibError: bad folder, missing data (or fewer than 100 of your own images), a resume
            with another model, or divergence (a NaN/Inf loss; the last good checkpoint is
            kept).
    """
    run = Run.open(config, out_dir, data_root=data_root, resume=resume, epochs=epochs,
                   strategy=strategy, images=images)
    run.train(progress)
    run.finish()
    return run


def open_run(run_dir: str | os.PathLike, *, strategy: tf.distribute.Strategy | None = None
             ) -> Run:
    """The run in ``run_dir`` as ``train`` returned it (``stopped == "loaded"``), restored from
    its last checkpoint, without data or training and without writing a file.

    Raises:
        GanLibError: not a run folder, or no checkpoint in it.
    """
    return Run.load(run_dir, strategy=strategy)
