"""2D toy distributions: the harmonic curve of the Russian presentation and the two classic mode
tests.

The ring of 8 Gaussians and the 5x5 grid come from the mode-collapse literature
(Metz et al. 2016, "Unrolled GANs"; Srivastava et al. 2017, "VEEGAN"): every mode is known, so
one can count how many the generator covers (``gan_lib.metrics.mode_coverage``).
"""

from __future__ import annotations

import numpy as np

from gan_lib.errors import GanLibError

RING_RADIUS = 2.0
RING_STD = 0.05
GRID_SPACING = 1.0
GRID_STD = 0.05


def toy_modes(name: str) -> np.ndarray:
    """Centres of the Gaussian modes of ``name`` as float32 ``[M, 2]`` (empty for "sine")."""
    if name == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return (RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
    if name == "grid":
        axis = GRID_SPACING * np.arange(-2, 3)
        xx, yy = np.meshgrid(axis, axis)
        return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    if name == "sine":
        return np.zeros((0, 2), np.float32)
    raise GanLibError(f"unknown toy distribution {name!r}; choose sine, ring or grid")


def toy_mode_std(name: str) -> float:
    """Standard deviation of each Gaussian mode of ``name``."""
    return {"ring": RING_STD, "grid": GRID_STD, "sine": 0.0}[name]


def sample_toy(name: str, n: int, seed: int = 0) -> np.ndarray:
    """Draw ``n`` points of a toy distribution as float32 ``[n, 2]``.

    Args:
        name: "sine" (x uniform in [0, 2*pi], y = sin x, as in the Russian presentation),
            "ring" (8 Gaussians on a circle of radius 2) or "grid" (25 Gaussians on a 5x5 grid).
        n: number of points.
        seed: NumPy seed; the same seed gives the same points.
    """
    if n <= 0:
        raise GanLibError(f"number of points must be positive, got {n}")
    rng = np.random.default_rng(seed)
    if name == "sine":
        x = rng.uniform(0.0, 2 * np.pi, size=n)
        return np.stack([x, np.sin(x)], axis=1).astype(np.float32)
    modes = toy_modes(name)
    which = rng.integers(0, len(modes), size=n)
    points = modes[which] + rng.normal(0.0, toy_mode_std(name), size=(n, 2))
    return points.astype(np.float32)
