"""Image metrics: Fréchet distance and classifier score against NumPy/SciPy references, and
the shipped MNIST / Fashion-MNIST classifiers on the shared data."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg

from gan_lib.errors import GanLibError
from gan_lib.metrics import (
    class_histogram,
    classifier_score,
    evaluate_images,
    feature_statistics,
    frechet_distance,
    frechet_distance_of_features,
)
from gan_lib.metrics import classifier as clf

README = Path(clf.__file__).resolve().parents[1] / "weights" / "README.md"


def shared_data(name: str):
    root = os.environ.get("GAN_LIB_DATA")
    if not root or not (Path(root) / name).is_dir():
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    from gan_lib.data.mnist import load_mnist
    return load_mnist(name, root=root)


def random_gaussian_stats(rng, d: int):
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    return rng.normal(size=d), a @ a.T + 0.1 * np.eye(d), rng.normal(size=d), b @ b.T


def reference_frechet(mu1, s1, mu2, s2) -> float:
    """Tr((s1 s2)^(1/2)) as the sum of square roots of the (real, >= 0) eigenvalues of s1 s2."""
    eig = np.linalg.eigvals(s1 @ s2).real.clip(min=0)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig).sum())


def test_frechet_matches_reference_on_random_gaussians():
    rng = np.random.default_rng(0)
    for d in (1, 5, 32):
        stats = random_gaussian_stats(rng, d)
        assert frechet_distance(*stats) == pytest.approx(reference_frechet(*stats), rel=1e-6)


def test_frechet_one_dimensional_closed_form():
    # For 1-D Gaussians d^2 = (m1 - m2)^2 + (s1 - s2)^2.
    got = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]]))
    assert got == pytest.approx(3.0**2 + (2.0 - 3.0) ** 2)


def test_identical_statistics_give_zero():
    mu, sigma, _, _ = random_gaussian_stats(np.random.default_rng(1), 64)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_singular_covariances_stay_finite():
    rng = np.random.default_rng(2)
    a = feature_statistics(rng.normal(size=(5, 20)))  # rank 4 covariance in 20 dimensions
    b = feature_statistics(rng.normal(size=(5, 20)))
    value = frechet_distance(*a, *b)
    assert np.isfinite(value) and value > 0


def test_frechet_of_features_is_exact_with_fewer_vectors_than_dimensions():
    """InceptionV3's 2,048 features of a few hundred images: the cross-product's singular values
    give what the eigenvalues of sigma1 sigma2 give (computed here in NumPy), with unequal N and
    without the square root's eps; with more vectors than dimensions, frechet_distance's value."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 40)), rng.normal(1.0, 2.0, size=(9, 40)) ** 2
    expected = reference_frechet(*feature_statistics(x), *feature_statistics(y))
    assert frechet_distance_of_features(x, y) == pytest.approx(expected, rel=1e-7)
    assert abs(frechet_distance_of_features(x, x)) < 1e-9
    many = rng.normal(size=(60, 5))
    assert frechet_distance_of_features(many, many[::-1] * 2) == pytest.approx(
        frechet_distance(*feature_statistics(many), *feature_statistics(many[::-1] * 2)))
    with pytest.raises(GanLibError, match="same D"):
        frechet_distance_of_features(x, y[:, :4])


def test_feature_statistics_match_numpy():
    feats = np.random.default_rng(3).normal(size=(50, 6)).astype(np.float32)
    mu, sigma = feature_statistics(feats)
    assert mu.dtype == sigma.dtype == np.float64 and sigma.shape == (6, 6)
    centred = feats.astype(np.float64) - feats.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(mu, feats.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, centred.T @ centred / 49, rtol=1e-10)
    with pytest.raises(GanLibError, match="N >= 2"):
        feature_statistics(feats[:1])


def test_mismatched_statistics_raise():
    with pytest.raises(GanLibError, match="do not match"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def reference_score(probs: np.ndarray) -> float:
    marginal = probs.mean(axis=0)
    kl = [sum(p * np.log(p / m) for p, m in zip(row, marginal) if p > 0) for row in probs]
    return float(np.exp(np.mean(kl)))


def test_classifier_score_extremes_and_reference():
    one_hot = np.eye(10)[np.arange(200) % 10]
    assert classifier_score(one_hot) == pytest.approx(10.0)
    same = np.tile(np.random.default_rng(4).dirichlet(np.ones(10)), (50, 1))
    assert classifier_score(same) == pytest.approx(1.0)
    probs = np.random.default_rng(5).dirichlet(np.full(10, 0.3), size=100)
    assert classifier_score(probs) == pytest.approx(reference_score(probs), rel=1e-9)
    assert classifier_score(np.eye(10)[np.zeros(30, int)]) == pytest.approx(1.0)  # collapsed


def test_class_histogram():
    probs = np.eye(10)[[0, 0, 3, 9]]
    np.testing.assert_allclose(class_histogram(probs), [0.5, 0, 0, 0.25, 0, 0, 0, 0, 0, 0.25])
    with pytest.raises(GanLibError, match="sum to 1"):
        class_histogram(np.ones((3, 10)))


def test_classifier_input_formats():
    u8 = np.array([[0, 255]], np.uint8).repeat(14, axis=1).repeat(28, axis=0)[None]
    x = clf.to_classifier_input(u8)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    with pytest.raises(GanLibError, match=r"\[-1, 1\]"):
        clf.to_classifier_input(np.full((2, 28, 28), 200.0))
    with pytest.raises(GanLibError, match="28, 28"):
        clf.to_classifier_input(np.zeros((2, 32, 32), np.uint8))


def test_missing_weights_and_unknown_dataset(tmp_path, monkeypatch):
    with pytest.raises(GanLibError, match="no image classifier for 'cifar10'"):
        clf.load_classifier("cifar10")
    monkeypatch.setattr(clf, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(GanLibError, match="train_classifier.py --dataset mnist"):
        clf.load_classifier("mnist")


def readme_accuracy(dataset: str) -> float:
    match = re.search(rf"^\|\s*`?{dataset}`?\s*\|[^\n]*?\|\s*([\d.]+)\s*%", README.read_text(),
                      re.MULTILINE)
    assert match, f"no accuracy for {dataset} in {README}"
    return float(match.group(1))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_shipped_classifier_reaches_readme_accuracy(dataset):
    images, labels = shared_data(dataset)
    _, test_idx = clf.holdout_split(len(images))
    _, probs = clf.features_and_probs(images[test_idx], dataset)
    accuracy = 100 * float((probs.argmax(axis=1) == labels[test_idx]).mean())
    assert accuracy >= readme_accuracy(dataset) - 2.0
    assert accuracy > (90 if dataset == "mnist" else 60)  # well above chance (10 %)


def test_frechet_real_halves_small_noise_large():
    images, _ = shared_data("mnist")
    first, second = images[:4000], images[4000:]
    real = evaluate_images(second, "mnist", real_images=first)
    noise = np.random.default_rng(6).uniform(-1, 1, (1000, 28, 28, 1)).astype(np.float32)
    fake = evaluate_images(noise, "mnist", real_images=first)
    assert real["frechet_distance"] >= 0
    assert fake["frechet_distance"] > 100 * real["frechet_distance"]  # measured: ~1,100x
    # Real digits: confident and balanced; the classifier scores them near the maximum.
    assert real["classifier_score"] > 8.0 and real["min_class_share"] > 0.05
    assert len(real["class_histogram"]) == 10
    assert sum(real["class_histogram"]) == pytest.approx(1.0)


def test_evaluate_images_formats_agree_and_cache():
    images, _ = shared_data("mnist")
    real, sample = images[:2000], images[6000:6500]
    as_uint8 = evaluate_images(sample, "mnist", real_images=real)
    as_float = evaluate_images(sample[..., None] / 127.5 - 1.0, "mnist", real_images=real)
    assert as_uint8["frechet_distance"] == pytest.approx(as_float["frechet_distance"], rel=1e-4)
    assert as_uint8["classifier_score"] == pytest.approx(as_float["classifier_score"], rel=1e-4)
    assert set(evaluate_images(sample, "mnist")) == {"classifier_score", "min_class_share",
                                                     "class_histogram"}
    # A batch of one class: low score, nine empty classes.
    collapsed = evaluate_images(np.repeat(sample[:1], 200, axis=0), "mnist")
    assert collapsed["classifier_score"] < 1.5 and collapsed["min_class_share"] == 0.0


def test_reference_sqrtm_agrees_with_scipy():
    # Guards the eigenvalue reference above against a silent SciPy behaviour change.
    mu1, s1, mu2, s2 = random_gaussian_stats(np.random.default_rng(7), 8)
    covmean = np.real(linalg.sqrtm(s1 @ s2))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert reference_frechet(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
