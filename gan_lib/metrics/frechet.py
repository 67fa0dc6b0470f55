"""The Fréchet distance between two Gaussians fitted to feature vectors (the "F" of FID).

Heusel et al. (2017), "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium": fit a Gaussian to the features of real and of generated images and report

    d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)).

FID uses Inception features; on MNIST we use our small classifier's features instead, as
TF-GAN's MNIST example does, so numbers are comparable only between runs on the same dataset.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from gan_lib.errors import GanLibError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of feature vectors.

    Args:
        features: float ``[N, D]`` with N >= 2.
    Returns:
        mu float64 ``[D]`` and sigma float64 ``[D, D]`` (unbiased covariance, as ``np.cov``).
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise GanLibError(f"features must be [N, D] with N >= 2, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: float ``[D]`` means.
        sigma1, sigma2: float ``[D, D]`` covariances.
        eps: added to both diagonals when the matrix square root fails (singular products,
            e.g. fewer samples than dimensions), as pytorch-fid and TF-GAN do.
    Returns:
        The squared distance d^2 >= 0 (0 for identical statistics, up to round-off).
    """
    mu1, mu2 = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, np.float64)) for s in (sigma1, sigma2))
    d = len(mu1)
    if mu1.shape != mu2.shape or not sigma1.shape == sigma2.shape == (d, d):
        raise GanLibError(f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, "
                          f"sigma {sigma1.shape} vs {sigma2.shape}")
    product = sigma1 @ sigma2
    with warnings.catch_warnings():
        # ReLU features have dead units, so covariances are often singular; we check the
        # result ourselves instead of printing SciPy's warning on every call.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(product)
        if not _accurate(covmean, product):
            offset = np.eye(d) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    # Round-off gives tiny imaginary parts for what is mathematically a real matrix.
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def _accurate(root: np.ndarray, matrix: np.ndarray, tol: float = 1e-3) -> bool:
    """Finite, essentially real, and squares back to ``matrix``."""
    if not np.isfinite(root).all():
        return False
    if np.iscomplexobj(root) and not np.allclose(np.diagonal(root).imag, 0, atol=1e-3):
        return False
    scale = max(np.linalg.norm(matrix), 1e-12)
    return bool(np.linalg.norm(root @ root - matrix) / scale < tol)


def frechet_distance_of_features(x: np.ndarray, y: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to ``x [N1, D]`` and ``y [N2, D]``, exact
    and fast when there are fewer vectors than dimensions (500 samples of InceptionV3's 2,048
    features): the same value as ``frechet_distance`` of their statistics, without its D x D
    matrix square root.

    With centred X and Y, sigma1 = X^T X / (N1 - 1) and sigma2 = Y^T Y / (N2 - 1). The non-zero
    eigenvalues of sigma1 sigma2 are those of (X Y^T)(X Y^T)^T / ((N1 - 1)(N2 - 1)), so
    Tr((sigma1 sigma2)^(1/2)) is the sum of the singular values of the N1 x N2 matrix X Y^T,
    divided by ((N1 - 1)(N2 - 1))^(1/2). With at least as many vectors as dimensions the
    statistics are as small as the vectors: ``frechet_distance`` computes it.
    """
    x, y = (np.asarray(v, np.float64) for v in (x, y))
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise GanLibError(f"features must be [N, D] with the same D and N >= 2, got shapes "
                          f"{x.shape} and {y.shape}")
    if min(len(x), len(y)) >= x.shape[1]:
        return frechet_distance(*feature_statistics(x), *feature_statistics(y))
    mx, my = x.mean(axis=0), y.mean(axis=0)
    diff, xc, yc = mx - my, x - mx, y - my
    n1, n2 = len(x) - 1, len(y) - 1
    root_trace = np.linalg.svd(xc @ yc.T, compute_uv=False).sum() / np.sqrt(n1 * n2)
    return float(diff @ diff + (xc * xc).sum() / n1 + (yc * yc).sum() / n2 - 2.0 * root_trace)
