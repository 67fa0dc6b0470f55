"""Pictures of a run: image grids, loss curves, and the 2D decision-surface scatter.

Functions that draw return a Matplotlib figure (so notebooks show it inline) or, for GIF frames,
a uint8 RGB array. With no display (servers, CI) Matplotlib falls back to "Agg" by itself.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from gan_lib.data.images import unscale_images


def image_grid(images, ncols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images into one uint8 picture.

    Args:
        images: ``[N, H, W, C]`` floats in [-1, 1] or uint8 in [0, 255]; C is 1 or 3.
        ncols: images per row (default: a square-ish grid).
        pad: pixels of white between images.
    Returns:
        uint8 ``[rows*(H+pad)+pad, ncols*(W+pad)+pad, 3]``.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = unscale_images(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    n, h, w, _ = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = img
    return grid


def show_images(images, ncols: int | None = None, title: str | None = None, scale: float = 1.0):
    """An image grid as a Matplotlib figure without axes."""
    grid = image_grid(images, ncols)
    fig, ax = plt.subplots(figsize=(scale * grid.shape[1] / 60 + 1, scale * grid.shape[0] / 60 + 1))
    ax.imshow(grid)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_history(history: Mapping[str, Sequence[float]], smooth: int = 1):
    """Loss curves and D's view of the game, as the German and Serbian presentations plot them.

    Left: D's loss on real data, D's loss on fake data, and G's loss. Right: D(x) and D(G(z))
    as mean probabilities, with D's accuracy. A discriminator that wins shows D(x) -> 1,
    D(G(z)) -> 0 and its losses -> 0.

    Args:
        history: columns as in ``history.csv`` (``step`` plus ``STEP_METRICS``).
        smooth: moving-average window, in rows.
    """
    steps = np.asarray(history["step"], float)
    fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(11, 3.8))

    def curve(ax, key, label, **kw):
        if key in history and len(history[key]):
            y = _smooth(np.asarray(history[key], float), smooth)
            if len(y) == 1:  # a run shorter than log_every: its one row, as a dot
                kw.setdefault("marker", "o")
            ax.plot(steps[len(steps) - len(y):], y, label=label, **kw)

    curve(ax_loss, "d_loss_real", "D loss on real")
    curve(ax_loss, "d_loss_fake", "D loss on fake")
    curve(ax_loss, "g_loss", "G loss")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("Losses")
    ax_loss.legend()
    curve(ax_d, "d_real", "D(x)  (real)")
    curve(ax_d, "d_fake", "D(G(z))  (fake)")
    if "d_acc_real" in history and "d_acc_fake" in history:
        acc = (np.asarray(history["d_acc_real"], float)
               + np.asarray(history["d_acc_fake"], float)) / 2
        y = _smooth(acc, smooth)
        ax_d.plot(steps[len(steps) - len(y):], y, "--", label="D accuracy")
    ax_d.axhline(0.5, color="grey", linewidth=0.8)
    ax_d.set_ylim(-0.02, 1.02)
    ax_d.set_xlabel("step")
    ax_d.set_title("What D says")
    ax_d.legend()
    fig.tight_layout()
    return fig


def points_limits(points: np.ndarray) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)`` around float ``[N, 2]`` points, with a margin for the plots."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.25 * (hi - lo) + 0.5
    return (float(lo[0] - margin[0]), float(hi[0] + margin[0]),
            float(lo[1] - margin[1]), float(hi[1] + margin[1]))


def decision_surface(discriminator, lim: tuple[float, float, float, float],
                     resolution: int = 120) -> np.ndarray:
    """D's probability of "real" on a grid over ``lim``: float ``[resolution, resolution]``,
    row 0 at ``ymin`` (``discriminator`` returns logits ``[B, 1]`` for points ``[B, 2]``)."""
    xs = np.linspace(lim[0], lim[1], resolution, dtype=np.float32)
    ys = np.linspace(lim[2], lim[3], resolution, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    logits = np.asarray(_inference_fn(discriminator)(grid)).reshape(resolution, resolution)
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))


_INFERENCE_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inference_fn(model):
    """``model(x, training=False)`` traced once per model: ~2x faster than an eager call, which
    the loop makes for every GIF frame. (Not Keras' ``predict_on_batch``: under a
    ``MirroredStrategy`` it returns every replica's copy of the output.)"""
    import tensorflow as tf

    fn = _INFERENCE_FNS.get(model)
    if fn is None:
        ref = weakref.ref(model)  # the function must not keep the model alive
        fn = _INFERENCE_FNS[model] = tf.function(lambda x: ref()(x, training=False))
    return fn


def plot_2d(real: np.ndarray, fake: np.ndarray, discriminator=None, ax=None,
            lim: tuple[float, float, float, float] | None = None, title: str | None = None,
            resolution: int = 120):
    """Real vs generated 2D points over the discriminator's decision surface D(x, y).

    Args:
        real, fake: float ``[N, 2]`` points.
        discriminator: a model returning logits ``[B, 1]``; if given, its probability
            D(x, y) is drawn as a background (blue: "fake", red: "real").
        lim: ``(xmin, xmax, ymin, ymax)``; default: ``points_limits(real)``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    lim = lim or points_limits(real)
    if discriminator is not None:
        mesh = ax.imshow(decision_surface(discriminator, lim, resolution), origin="lower",
                         extent=lim, cmap="coolwarm", vmin=0, vmax=1, alpha=0.55, aspect="auto")
        ax.figure.colorbar(mesh, ax=ax, fraction=0.046, pad=0.04, label="D(x, y)")
    ax.scatter(real[:, 0], real[:, 1], s=4, c="black", alpha=0.35, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:orange", alpha=0.8, label="generated")
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.legend(loc="upper right", markerscale=3)
    if title:
        ax.set_title(title)
    return ax.figure


_ORANGE = np.array([255, 127, 14], np.float32)  # Matplotlib's "tab:orange", as plot_2d uses


@functools.cache
def _coolwarm_lut() -> np.ndarray:
    """float ``[256, 3]`` RGB in [0, 255]: Matplotlib's coolwarm colour map, once."""
    return matplotlib.colormaps["coolwarm"](np.linspace(0, 1, 256))[:, :3] * 255


def toy_frame(real: np.ndarray, fake: np.ndarray, surface: np.ndarray,
              lim: tuple[float, float, float, float], title: str | None = None,
              size: int = 360) -> np.ndarray:
    """``plot_2d``'s picture as a GIF frame, drawn with NumPy: ~2 ms instead of ~200 ms.

    The training loop draws a frame every ``sample_every`` steps; for the 2D toy, whose step
    takes ~2 ms, Matplotlib's figure cost 40 % of the run. A coarse ``surface`` (64x64) is
    enough: it is smoothed when scaled up. Same colours as ``plot_2d``
    (coolwarm at 55 % over white; real points black at 35 %, generated orange at 80 %, 3x3
    pixels each), no axes; points outside ``lim`` are not drawn.

    Args:
        real, fake: float ``[N, 2]`` points.
        surface: D's probabilities ``[R, R]`` over ``lim`` (``decision_surface``), row 0 at ymin.
        lim: ``(xmin, xmax, ymin, ymax)``.
        title: text at the top left, e.g. ``"step 1200"``.
    Returns:
        uint8 RGB ``[size, size, 3]``.
    """
    from PIL import Image, ImageDraw

    lut = _coolwarm_lut()
    index = np.clip(np.round(np.asarray(surface)[::-1] * 255), 0, 255).astype(np.int64)
    background = (255 - 0.55 * (255 - lut[index])).astype(np.uint8)  # top row: ymax
    img = np.asarray(Image.fromarray(background).resize((size, size), Image.BILINEAR),
                     np.float32).copy()
    for points, rgb, alpha in ((real, np.zeros(3, np.float32), 0.35), (fake, _ORANGE, 0.8)):
        cols = np.round((points[:, 0] - lim[0]) / (lim[1] - lim[0]) * (size - 1))
        rows = np.round((lim[3] - points[:, 1]) / (lim[3] - lim[2]) * (size - 1))
        inside = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
        rows, cols = rows[inside].astype(np.int64), cols[inside].astype(np.int64)
        near = np.arange(-1, 2)
        r = np.clip(rows[:, None, None] + near[None, :, None], 0, size - 1).ravel()
        c = np.clip(cols[:, None, None] + near[None, None, :], 0, size - 1).ravel()
        hit = np.zeros((size, size), bool)
        hit[r, c] = True  # a pixel under several points is blended once, like one marker
        img[hit] = (1 - alpha) * img[hit] + alpha * rgb
    frame = Image.fromarray(np.round(img).astype(np.uint8))
    if title:
        ImageDraw.Draw(frame).text((6, 4), title, fill=(0, 0, 0))
    return np.asarray(frame)


def figure_to_array(fig) -> np.ndarray:
    """Render a Matplotlib figure to uint8 RGB ``[H, W, 3]`` and close it."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    return rgba[..., :3].copy()
