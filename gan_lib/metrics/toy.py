"""Mode coverage on 2D toy data.

A generator that collapses puts all its points on a few modes of the ring or grid; these
functions count how many modes it covers and how many of its points are near any mode.
"""

from __future__ import annotations

import numpy as np

from gan_lib.data.toy import toy_mode_std, toy_modes


def mode_coverage(points: np.ndarray, modes: np.ndarray, std: float,
                  radius_stds: float = 3.0, min_share: float = 0.1) -> dict[str, float]:
    """How many Gaussian modes the generated points cover (Srivastava et al. 2017, VEEGAN).

    A point is "high quality" when it lies within ``radius_stds`` standard deviations of its
    nearest mode. A mode is "covered" when it holds at least ``min_share`` of its fair share of
    high-quality points (fair share = len(points) / number of modes), so a few stray points do
    not count as coverage.

    Args:
        points: float ``[N, 2]`` generated points.
        modes: float ``[M, 2]`` mode centres.
        std: the modes' standard deviation.
    Returns:
        ``modes_covered`` (int count), ``mode_fraction`` (covered / M) and ``hq_fraction``
        (share of high-quality points).
    """
    points = np.asarray(points, np.float64)
    dist = np.linalg.norm(points[:, None, :] - modes[None, :, :], axis=-1)  # [N, M]
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(points)), nearest] <= radius_stds * std
    counts = np.bincount(nearest[good], minlength=len(modes))
    covered = int((counts >= min_share * len(points) / len(modes)).sum())
    return {"modes_covered": covered, "mode_fraction": covered / len(modes),
            "hq_fraction": float(good.mean())}


def sine_error(points: np.ndarray) -> dict[str, float]:
    """Mean |y - sin(x)| of generated points, and the share of x inside [0, 2*pi]."""
    points = np.asarray(points, np.float64)
    inside = (points[:, 0] >= 0) & (points[:, 0] <= 2 * np.pi)
    return {"sine_error": float(np.abs(points[:, 1] - np.sin(points[:, 0])).mean()),
            "x_in_range": float(inside.mean())}


# The keys toy_metrics returns for each distribution (history.csv's quality columns).
TOY_COLUMNS = {"sine": ("sine_error", "x_in_range"),
               "ring": ("modes_covered", "mode_fraction", "hq_fraction"),
               "grid": ("modes_covered", "mode_fraction", "hq_fraction")}


def toy_metrics(points: np.ndarray, distribution: str) -> dict[str, float]:
    """The metric that fits a toy distribution: mode coverage, or the sine curve's error."""
    if distribution == "sine":
        return sine_error(points)
    return mode_coverage(points, toy_modes(distribution), toy_mode_std(distribution))
