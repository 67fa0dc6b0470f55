import numpy as np
import pytest

from gan_lib.data import points_dataset, sample_toy, toy_modes
from gan_lib.errors import GanLibError
from gan_lib.metrics import mode_coverage, toy_metrics


@pytest.mark.parametrize("name,n_modes", [("ring", 8), ("grid", 25)])
def test_toy_modes_and_samples(name, n_modes):
    modes = toy_modes(name)
    assert modes.shape == (n_modes, 2)
    points = sample_toy(name, 4000, seed=1)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    # every point is near some mode, every mode gets points
    dist = np.linalg.norm(points[:, None] - modes[None], axis=-1)
    assert dist.min(axis=1).max() < 0.5
    assert len(np.unique(dist.argmin(axis=1))) == n_modes


def test_sine_is_the_harmonic_curve():
    points = sample_toy("sine", 1000, seed=0)
    assert points[:, 0].min() >= 0 and points[:, 0].max() <= 2 * np.pi
    np.testing.assert_allclose(points[:, 1], np.sin(points[:, 0]), atol=1e-6)
    assert toy_metrics(points, "sine")["sine_error"] < 1e-6


def test_samples_are_reproducible_by_seed():
    np.testing.assert_array_equal(sample_toy("ring", 10, seed=3), sample_toy("ring", 10, seed=3))
    assert not np.array_equal(sample_toy("ring", 10, seed=3), sample_toy("ring", 10, seed=4))


def test_mode_coverage_counts_real_data_as_full_and_collapse_as_one():
    real = sample_toy("ring", 2000, seed=0)
    assert mode_coverage(real, toy_modes("ring"), 0.05)["modes_covered"] == 8
    collapsed = np.repeat(toy_modes("ring")[:1], 500, axis=0)
    result = mode_coverage(collapsed, toy_modes("ring"), 0.05)
    assert result["modes_covered"] == 1 and result["hq_fraction"] == 1.0
    far = np.zeros((100, 2), np.float32)  # the ring's centre is no mode
    assert mode_coverage(far, toy_modes("ring"), 0.05)["hq_fraction"] == 0.0


def test_points_dataset_batches_and_reshuffles():
    points = sample_toy("grid", 256, seed=0)
    ds = points_dataset(points, 64, seed=0)
    epoch1 = np.concatenate([b.numpy() for b in ds])
    epoch2 = np.concatenate([b.numpy() for b in ds])
    assert epoch1.shape == (256, 2)
    # same multiset of points, another order
    np.testing.assert_allclose(np.sort(epoch1, axis=0), np.sort(points, axis=0))
    assert not np.array_equal(epoch1, epoch2)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(GanLibError, match="unknown toy distribution"):
        sample_toy("spiral", 10)
    with pytest.raises(GanLibError, match="batch size 64 is larger"):
        points_dataset(np.zeros((10, 2), np.float32), 64)
