"""Walks and arithmetic in the generator's latent space.

A generator that learned something smooth turns a straight walk from z0 to z1 into a smooth
morph between two images (Radford et al. 2015, §6.1); a jumpy strip hints at memorisation.
"""

from __future__ import annotations

import numpy as np

from gan_lib.errors import GanLibError


def slerp(z0: np.ndarray, z1: np.ndarray, t) -> np.ndarray:
    """Spherical interpolation along the great circle, radius interpolated linearly: the point
    ``t`` (a number or an array broadcast against z0, z1) of the way from ``z0`` to ``z1``."""
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    cos = np.dot(z0, z1) / max(n0 * n1, 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # (anti)parallel: no unique great circle, walk straight
        return (1 - t) * z0 + t * z1
    w0 = np.sin((1 - t) * omega) / np.sin(omega)
    w1 = np.sin(t * omega) / np.sin(omega)
    return w0 * z0 + w1 * z1


def interpolate(z0: np.ndarray, z1: np.ndarray, n: int, method: str = "linear") -> np.ndarray:
    """``n`` latent vectors from ``z0`` to ``z1``, both ends included.

    ``linear`` walks the straight line. Its middle points are shorter than typical Gaussian
    noise (in 100 dimensions nearly all of N(0, I) lies near the sphere of radius 10), so the
    generator sees inputs unlike those it was trained on. ``slerp`` walks along the sphere
    instead (White 2016, "Sampling Generative Networks"); for endpoints of equal norm every
    point has that norm.

    Args:
        z0, z1: float ``[latent_dim]`` endpoints.
        n: number of points, >= 2.
        method: ``"linear"`` or ``"slerp"``.
    Returns:
        float32 ``[n, latent_dim]``, row 0 equal to ``z0`` and row n-1 to ``z1``.
    """
    z0 = np.asarray(z0, np.float64).reshape(-1)
    z1 = np.asarray(z1, np.float64).reshape(-1)
    if z0.shape != z1.shape:
        raise GanLibError(f"z0 and z1 must have the same size, got {z0.shape} and {z1.shape}")
    if n < 2:
        raise GanLibError(f"n must be at least 2 (the two endpoints), got {n}")
    t = np.linspace(0.0, 1.0, n)[:, None]
    if method == "linear":
        out = (1 - t) * z0 + t * z1
    elif method == "slerp":
        out = slerp(z0, z1, t)
    else:
        raise GanLibError(f"unknown interpolation {method!r}; use 'linear' or 'slerp'")
    out[0], out[-1] = z0, z1  # exact endpoints despite rounding in the weights
    return out.astype(np.float32)


def latent_arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """mean(a) - mean(b) + mean(c): "smiling woman - neutral woman + neutral man".

    Radford et al. (2015), §6.3: single vectors give noisy results, the mean of a few
    (they used three) latent vectors per concept works.

    Args:
        a, b, c: float ``[N_i, latent_dim]`` groups of latent vectors (or one ``[latent_dim]``).
    Returns:
        float32 ``[latent_dim]``.
    """
    means = [np.asarray(v, np.float64).reshape(-1, np.shape(v)[-1]).mean(axis=0) for v in (a, b, c)]
    return (means[0] - means[1] + means[2]).astype(np.float32)


def interpolation_strip(generator, z0: np.ndarray, z1: np.ndarray, n: int = 8,
                        method: str = "slerp",
                        labels: np.ndarray | int | None = None) -> np.ndarray:
    """The generator's outputs along ``interpolate(z0, z1, n, method)``.

    Args:
        generator: a Keras generator (``GAN.generator``, ``load_model("generator.keras")``).
        labels: for a conditional generator, one class (int) for the whole strip or ``[n]``.
    Returns:
        float32 ``[n, H, W, C]`` images in [-1, 1] (``[n, 2]`` points for 2D); show them with
        ``gan_lib.viz.image_grid(strip, ncols=n)``.
    """
    z = interpolate(z0, z1, n, method)
    inputs = z
    if labels is not None:
        inputs = [z, np.broadcast_to(np.asarray(labels, np.int32), (n,)).copy()]
    return np.asarray(generator(inputs, training=False), np.float32)
