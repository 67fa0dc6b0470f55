"""FID and KID in InceptionV3's features (issue 22), without the network: the network built
with random weights, what it is fed, the caching, the weights' download from a local server and
its checksum, and the one sentence offline."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from gan_lib.metrics import inception
from gan_lib.metrics.inception import (
    InceptionUnavailable,
    inception_distances,
    inception_features,
    inception_input,
    inception_weights,
)


def test_what_the_network_sees_is_resized_to_299_with_antialiasing_and_in_minus_one_one():
    grey = np.full((2, 64, 64, 1), 51, np.uint8)
    x = np.asarray(inception_input(grey))
    assert x.shape == (2, 299, 299, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, 51 / 127.5 - 1, atol=1e-5)  # preprocess_input: x / 127.5 - 1
    as_floats = np.full((2, 64, 64, 3), 51 / 127.5 - 1, np.float32)  # the generator's range
    np.testing.assert_allclose(np.asarray(inception_input(as_floats)), x, atol=1e-5)
    # 1-pixel stripes at twice the size: antialiasing averages them to grey, point sampling
    # would keep black and white.
    stripes = np.zeros((1, 598, 598, 3), np.uint8)
    stripes[:, :, ::2] = 255
    seen = np.asarray(inception_input(stripes))
    assert np.abs(seen[:, 1:-1, 1:-1]).max() < 0.01  # grey inside (the edge pixels see one side)
    assert np.abs(seen).max() < 0.2
    with pytest.raises(Exception, match=r"\[N, H, W, 1 or 3\]"):
        inception_input(np.zeros((4, 8, 8, 2), np.uint8))


@pytest.fixture(scope="module")
def cats():
    from gan_lib.data import load_images

    return load_images("cat_faces")[0][:90]


def test_real_against_real_is_near_and_noise_far_and_real_features_are_cached(cats, tmp_path,
                                                                             monkeypatch):
    """With random weights (no download), the distances' ordering still shows: two sets of
    real cat faces are nearer each other than cat faces and noise."""
    noise = np.random.default_rng(0).integers(0, 256, (30, 64, 64, 3), dtype=np.uint8)
    calls = []
    features = inception.inception_features
    monkeypatch.setattr(inception, "inception_features",
                        lambda x, w: calls.append(len(x)) or features(x, w))
    first = inception_distances(noise, cats, n=30, weights=None, cache_dir=tmp_path)
    assert (first["inception_n"], first["real_inception_n"]) == (30, 30)
    assert first["real_inception_fid"] < first["inception_fid"] / 2
    assert first["real_inception_kid"] < first["inception_kid"]
    assert list(tmp_path.glob("inception_real_*.npy")) and calls == [60, 30]
    again = inception_distances(cats[60:], cats, n=30, weights=None, cache_dir=tmp_path)
    assert calls == [60, 30, 30]  # the real images' features came from the cache
    assert again["inception_fid"] < first["inception_fid"] / 2
    feats = features(cats[:3], None)
    assert feats.shape == (3, 2048) and feats.dtype == np.float64 and np.isfinite(feats).all()


def test_a_small_folder_scores_samples_and_its_baseline_at_the_same_n(cats, monkeypatch):
    """FID's bias depends on n: with fewer than 2 n real images, the samples are scored at the
    n the real-against-real baseline can have (half the folder), not at n against a smaller
    baseline. The samples' FID is the Fréchet distance, computed here in NumPy, at that n."""
    rng = np.random.default_rng(1)
    monkeypatch.setattr(inception, "inception_features",  # stand-in features: fast, known
                        lambda x, w: np.asarray(x, np.float64).reshape(len(x), -1)[:, :16])
    samples = rng.integers(0, 256, (40, 64, 64, 3), dtype=np.uint8)
    result = inception_distances(samples, cats[:50], n=40, weights=None, cache_dir=None)
    assert result["inception_n"] == result["real_inception_n"] == 25
    pick = np.random.default_rng(0).permutation(50)[:50]
    a = cats[:50][pick[:25]].astype(np.float64).reshape(25, -1)[:, :16]
    fake = samples[:25].astype(np.float64).reshape(25, -1)[:, :16]
    s1, s2 = np.cov(a, rowvar=False), np.cov(fake, rowvar=False)
    root_trace = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    expected = (((a.mean(0) - fake.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2)
                - 2 * root_trace)
    np.testing.assert_allclose(result["inception_fid"], expected, rtol=1e-6)


def test_the_weights_are_downloaded_once_checked_and_a_changed_file_is_refused(
        tmp_path, monkeypatch, http_folder):
    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_LIB_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(inception, "_FAILED", {})
    served, base = http_folder
    (served / "weights.h5").write_bytes(b"stand-in for the 84 MB file" * 1000)
    content = (served / "weights.h5").read_bytes()
    md5 = hashlib.md5(content).hexdigest()
    with pytest.raises(InceptionUnavailable, match="no FID: .*could not be downloaded"):
        inception_weights(f"{base}/weights.h5", md5="0" * 32)  # not the file's checksum
    assert not list((tmp_path / "cache").rglob("*.h5"))  # nothing half-trusted kept
    path = inception_weights(f"{base}/weights.h5?again", md5=md5)
    assert path.parent == tmp_path / "cache" / "weights" and path.read_bytes() == content
    (served / "weights.h5").unlink()  # gone from the server: a second fetch would fail
    assert inception_weights(f"{base}/weights.h5?again", md5=md5) == path  # the kept file


def test_offline_without_the_weights_is_one_sentence_and_evaluate_runs_the_rest(
        tmp_path, monkeypatch):
    from gan_lib import get_config, train
    from gan_lib.run.finished import evaluate_run

    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_LIB_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(inception, "_FAILED", {})
    monkeypatch.setattr(inception, "WEIGHTS_URL", "http://127.0.0.1:9/inception.h5")  # closed
    with pytest.raises(InceptionUnavailable) as caught:
        inception_weights()
    message = str(caught.value)
    assert "the other metrics still run" in message and "\n" not in message
    run = train(get_config("mnist_dcgan", quick=True), tmp_path / "run", progress=False)
    with pytest.warns(UserWarning, match="no FID"):
        metrics = evaluate_run(run.out_dir, n=50)
    assert "frechet_distance" in metrics and "inception_fid" not in metrics
    monkeypatch.setenv("GAN_LIB_INCEPTION_WEIGHTS", str(tmp_path / "missing.h5"))
    with pytest.raises(InceptionUnavailable, match="is not a file"):
        inception_weights()
    assert inception_features(np.zeros((0, 8, 8, 3), np.uint8), weights=None).shape == (0, 2048)
