"""The training loop: batches in, a run folder out, resumable at any point.

``train(config, out_dir)`` runs ``GAN.train_step`` for ``config.steps`` steps (or until
``max_seconds``, or Ctrl-C / the notebook's stop button) and keeps in ``out_dir``:
history rows, progress frames of a fixed noise batch, checkpoints every N steps or minutes,
and at the end the plots, the GIF and ``generator.keras``. ``resume=True`` continues from the
last checkpoint with the same step counter, optimiser state and fixed noise.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from gan_lib import viz
from gan_lib.config import GANConfig
from gan_lib.data import TrainingData, load_dataset, outputs_root
from gan_lib.errors import GanLibError
from gan_lib.gif import FrameStore, write_gif
from gan_lib.evaluate import generate, measure_images, metric_columns
from gan_lib.metrics import toy_metrics
from gan_lib.runs import History, check_resumable, has_checkpoint, read_config, read_history, write_config
from gan_lib.train import GAN, STEP_METRICS, build_gan


@dataclass
class RunResult:
    """What ``train`` returns: the trained GAN, its run folder and history, and why it stopped."""

    gan: GAN
    out_dir: Path
    history: dict
    fixed_noise: tf.Variable
    stopped: str  # "steps", "time" or "interrupted"

    @property
    def step(self) -> int:
        return int(self.gan.step.numpy())


def prepare_out_dir(out_dir: str | os.PathLike, resume: bool | str) -> tuple[Path, bool]:
    """Create (or check) the run folder; clear errors for a file, no permission, or a clash.

    Returns the folder and whether to resume (``resume="auto"``: when it has a checkpoint).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise GanLibError(f"output folder {out} is a file; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise GanLibError(f"cannot write to output folder {out}: {e.strerror or e}") from None
    if resume == "auto":
        return out, has_checkpoint(out)
    if resume and not has_checkpoint(out):
        raise GanLibError(f"nothing to resume in {out}: it has no checkpoint")
    if not resume and has_checkpoint(out):
        raise GanLibError(f"{out} already holds a run; pass --resume (resume=True) to continue "
                          "it, or choose another output folder")
    return out, bool(resume)


def _measure(config: GANConfig, gan: GAN, data: TrainingData) -> dict[str, float]:
    """Image quality numbers on ``eval_samples`` fresh samples (classifier datasets only)."""
    fake = generate(gan, config, config.eval_samples, seed=config.seed)
    metrics = measure_images(fake, config, data.images)
    return {k: metrics[k] for k in metric_columns(config) if k in metrics}


def fixed_labels(config: GANConfig) -> tf.Tensor | None:
    """Labels of the fixed noise batch of a conditional GAN: one grid row per class."""
    if not config.num_classes:
        return None
    per_class = max(1, config.num_fixed // config.num_classes)
    return tf.constant(np.repeat(np.arange(config.num_classes), per_class)[:config.num_fixed],
                       tf.int32)


def render_frame(config: GANConfig, gan: GAN, fixed_noise, data: TrainingData,
                 step: int) -> tuple[np.ndarray, np.ndarray]:
    """Generated samples of the fixed noise and one uint8 picture of them for the GIF."""
    labels = fixed_labels(config)
    z = fixed_noise if labels is None else fixed_noise[:len(labels)]
    fake = gan.generate(z, labels).numpy()
    if config.is_2d:
        fig = viz.plot_2d(data.preview, fake, gan.discriminator, lim=_lim(data.preview),
                          title=f"step {step}")
        return fake, viz.figure_to_array(fig)
    if labels is not None:  # one row per class
        return fake, viz.image_grid(fake, ncols=len(labels) // config.num_classes)
    return fake, viz.image_grid(fake[:64])


def _lim(points: np.ndarray):
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.25 * (hi - lo) + 0.5
    return (lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1])


def _save_generator(gan: GAN, path: Path) -> None:
    tmp = path.with_name(".tmp_" + path.name)  # keep the .keras suffix Keras requires
    gan.generator.save(tmp)
    os.replace(tmp, path)


def write_outputs(config: GANConfig, gan: GAN, fixed_noise, data: TrainingData, out: Path,
                  save_generator: bool = True) -> dict:
    """samples.png, losses.png, progress.gif (and generator.keras) from what the run has now."""
    history = read_history(out / "history.csv")
    fake, frame = render_frame(config, gan, fixed_noise, data, int(gan.step.numpy()))
    viz.plt.imsave(out / "samples.png", frame)
    if history:
        fig = viz.plot_history(history, smooth=max(1, len(history["step"]) // 50))
        fig.savefig(out / "losses.png", dpi=100)
        viz.plt.close(fig)
    write_gif(FrameStore(out / "frames").paths(), out / "progress.gif", fps=config.gif_fps)
    if save_generator:
        _save_generator(gan, out / "generator.keras")
    return history


def train(config: GANConfig, out_dir: str | os.PathLike | None = None, *,
          data_root: str | os.PathLike | None = None, resume: bool | str = False,
          epochs: int | None = None, progress: bool = True) -> RunResult:
    """Train ``config`` into ``out_dir`` (default ``outputs/<config.name>``).

    Args:
        config: the recipe; ``config.steps`` and ``config.max_seconds`` bound the run.
        out_dir: the run folder (created). It must not hold a run unless ``resume``.
        data_root: dataset root (default ``GAN_LIB_DATA``, else ``data/``).
        resume: continue the run in ``out_dir`` from its last checkpoint; ``"auto"``: do so
            if there is one, else start (what a notebook re-run after a disconnect wants).
        epochs: if given, train this many passes over the data instead of ``config.steps``.
        progress: show a progress bar.
    Returns:
        A ``RunResult``; the run folder holds everything listed in ``gan_lib.runs``.
    Raises:
        GanLibError: bad folder, missing data, a resume with another model, or divergence
            (a NaN/Inf loss; the last good checkpoint is kept).
    """
    config.validate()
    out, resume = prepare_out_dir(out_dir or outputs_root() / config.name, resume)
    if resume:
        check_resumable(read_config(out), config)
    data = load_dataset(config, data_root)
    if epochs is not None:
        if epochs <= 0:
            raise GanLibError(f"epochs must be positive, got {epochs}")
        steps_per_epoch = max(1, data.num_examples // config.batch_size)
        config = dataclasses.replace(config, steps=epochs * steps_per_epoch)

    gan = build_gan(config)
    fixed_noise = tf.Variable(tf.random.Generator.from_seed(config.seed + 1).normal(
        [config.num_fixed, config.latent_dim]), trainable=False, name="fixed_noise")
    checkpoint = tf.train.Checkpoint(gan=gan, fixed_noise=fixed_noise)
    manager = tf.train.CheckpointManager(checkpoint, out / "checkpoints",
                                         max_to_keep=config.keep_checkpoints)
    if resume:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    start = int(gan.step.numpy())
    write_config(out / "config.json", config)

    frames = FrameStore(out / "frames")
    frames.prune_after(start)
    history = History(out / "history.csv", STEP_METRICS + metric_columns(config))
    history.truncate_after(start)
    seconds_before = history.last_seconds()
    if start == 0:
        frames.save(0, render_frame(config, gan, fixed_noise, data, 0)[1])

    stopped = _run_steps(config, gan, fixed_noise, data, out, manager, frames, history, start,
                         seconds_before, progress)
    manager.save(checkpoint_number=int(gan.step.numpy()))
    write_outputs(config, gan, fixed_noise, data, out)
    return RunResult(gan, out, read_history(out / "history.csv"), fixed_noise, stopped)


def _run_steps(config, gan, fixed_noise, data, out, manager, frames, history, start,
               seconds_before, progress) -> str:
    batches = iter(data.dataset.repeat())
    t0 = time.monotonic()
    last_ckpt_time = t0
    pending: list[dict] = []
    stopped = "steps"
    bar = tqdm(total=config.steps, initial=start, disable=not progress, unit="step",
               dynamic_ncols=True, desc=config.name)
    step = start
    try:
        while step < config.steps:
            if config.max_seconds is not None and time.monotonic() - t0 >= config.max_seconds:
                stopped = "time"
                break
            pending.append(gan.train_step(next(batches)))
            step += 1
            bar.update(1)
            sampled = step % config.sample_every == 0 or step == config.steps
            measured = bool(config.eval_every) and (step % config.eval_every == 0
                                                    or step == config.steps)
            if step % config.log_every == 0 or sampled or measured:
                row = _mean_rows(pending)
                pending = []
                bad = [k for k in ("d_loss", "g_loss") if not math.isfinite(row[k])]
                if bad:
                    _diverged(config, gan, fixed_noise, data, out, manager, history, step, row, bad,
                              seconds_before + time.monotonic() - t0)
                if sampled:
                    fake, frame = render_frame(config, gan, fixed_noise, data, step)
                    frames.save(step, frame)
                    if config.is_2d:  # cheap: the fixed noise's points are at hand
                        row.update(toy_metrics(fake, config.toy_distribution))
                if measured and not config.is_2d:
                    row.update(_measure(config, gan, data))
                history.append({"step": step, "seconds": seconds_before + time.monotonic() - t0,
                                **row})
                bar.set_postfix(d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                                D_x=f"{row['d_real']:.2f}", D_Gz=f"{row['d_fake']:.2f}",
                                refresh=False)
            now = time.monotonic()
            if (step % config.checkpoint_every == 0
                    or now - last_ckpt_time >= 60 * config.checkpoint_minutes):
                manager.save(checkpoint_number=step)
                last_ckpt_time = now
    except KeyboardInterrupt:
        stopped = "interrupted"
        print(f"\nInterrupted at step {int(gan.step.numpy())}: saving a checkpoint and outputs; "
              "train again with resume to continue.")
    finally:
        bar.close()
    return stopped


def _mean_rows(rows: list[dict]) -> dict[str, float]:
    stacked = {k: tf.stack([r[k] for r in rows]) for k in rows[0]}
    return {k: float(tf.reduce_mean(v).numpy()) for k, v in stacked.items()}


def _diverged(config, gan, fixed_noise, data, out, manager, history, step, row, bad, seconds):
    history.append({"step": step, "seconds": seconds, **row})
    last_good = manager.latest_checkpoint
    if last_good:  # outputs from the last good weights, not the broken ones
        manager.checkpoint.restore(last_good)
        write_outputs(config, gan, fixed_noise, data, out)
    where = f"the last good checkpoint is {last_good}" if last_good else "no checkpoint was saved yet"
    raise GanLibError(f"training diverged at step {step}: {' and '.join(bad)} became "
                      f"{', '.join(str(row[k]) for k in bad)}; {where}. Try a lower learning rate.")
