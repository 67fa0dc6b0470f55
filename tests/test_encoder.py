"""The 64x64 encoder and its KID: the unbiased MMD against a loop over pairs, the rotation task
the encoder learnt (held-out accuracy), and the distance ordering real < blurred and
patch-shuffled < noise on real cat faces and faces; memorisation against copies."""

import numpy as np
import pytest

from gan_lib.errors import GanLibError
from gan_lib.metrics import encoder
from gan_lib.metrics.classifier import holdout_split


def mmd2_by_loops(x, y):
    """The unbiased estimate written out pair by pair (Bińkowski et al. 2018, eq. 4)."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_polynomial_mmd2_is_the_pairwise_estimate():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 5)), rng.normal(0.5, 1.2, size=(9, 5))
    np.testing.assert_allclose(encoder.polynomial_mmd2(x, y), mmd2_by_loops(x, y), rtol=1e-10)
    np.testing.assert_allclose(encoder.polynomial_mmd2(x, y), encoder.polynomial_mmd2(y, x))


def test_polynomial_mmd2_is_unbiased_near_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    same = [encoder.polynomial_mmd2(rng.normal(size=(50, 8)), rng.normal(size=(50, 8)))
            for _ in range(40)]
    shifted = encoder.polynomial_mmd2(rng.normal(size=(50, 8)), rng.normal(0.5, 1, (50, 8)))
    assert min(same) < 0 < max(same)  # unbiased: it scatters around 0, not above it
    assert abs(np.mean(same)) < 0.1 * shifted
    with pytest.raises(GanLibError, match="at least 2 images"):
        encoder.polynomial_mmd2(np.ones((1, 8)), np.ones((5, 8)))
    with pytest.raises(GanLibError, match=r"\[m, d\] and \[n, d\]"):
        encoder.polynomial_mmd2(np.ones((4, 8)), np.ones((5, 7)))


def test_rotations_turn_each_image_by_its_label():
    images = np.random.default_rng(2).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    turned, labels = encoder.rotations(images)
    assert turned.shape == (12, 64, 64, 3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    for i in range(3):
        np.testing.assert_array_equal(turned[i], images[i])
        # a quarter turn anticlockwise: the top row, read right to left, is the left column
        np.testing.assert_array_equal(turned[3 + i][:, 0], images[i][0, ::-1])
        np.testing.assert_array_equal(turned[6 + i], images[i][::-1, ::-1])


def test_encoder_input_is_checked():
    with pytest.raises(GanLibError, match=r"\[N, 64, 64, 3\]"):
        encoder.to_encoder_input(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(GanLibError, match="pass uint8"):
        encoder.to_encoder_input(np.full((2, 64, 64, 3), 200.0))
    pixel = np.array([[[[0, 255, 128]]]], np.uint8)
    x = encoder.to_encoder_input(pixel.repeat(64, 1).repeat(64, 2))
    np.testing.assert_allclose(x[0, 0, 0], [-1.0, 1.0, 128 / 127.5 - 1.0], atol=1e-6)


@pytest.fixture(scope="module")
def held_out():
    import os

    root = os.environ.get("GAN_LIB_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    from gan_lib.data import load_images

    out = {}
    for name in ("cat_faces", "faces"):
        images = load_images(name, root, 64)[0]
        out[name] = images[holdout_split(len(images))[1]]  # the split the encoder never saw
    return out


def test_the_shipped_encoder_knows_which_way_up_held_out_images_are(held_out):
    model = encoder.load_encoder()
    for name, images in held_out.items():
        turned, labels = encoder.rotations(images[:200])
        logits = model.predict(encoder.to_encoder_input(turned), verbose=0)
        assert (logits.argmax(1) == labels).mean() > 0.7, name  # chance: 0.25


def blur(images, passes=3):
    """A 3x3 box blur ``passes`` times (edge pixels repeated)."""
    x = images.astype(np.float64)
    for _ in range(passes):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        x = sum(p[:, i:i + 64, j:j + 64] for i in range(3) for j in range(3)) / 9
    return np.rint(x).astype(np.uint8)


def shuffle_patches(images, size=16, seed=0):
    """Each image cut into (64 / size)^2 patches put back in a random order."""
    n, k = len(images), 64 // size
    patches = images.reshape(n, k, size, k, size, 3).transpose(0, 1, 3, 2, 4, 5).reshape(
        n, k * k, size, size, 3)
    order = np.random.default_rng(seed).permuted(np.tile(np.arange(k * k), (n, 1)), axis=1)
    patches = np.take_along_axis(patches, order[:, :, None, None, None], axis=1)
    return patches.reshape(n, k, k, size, size, 3).transpose(0, 1, 3, 2, 4, 5).reshape(
        n, 64, 64, 3)


def test_kid_orders_real_blurred_shuffled_and_noise(held_out):
    rng = np.random.default_rng(3)
    for name, images in held_out.items():
        a, b = images[:200], images[200:400]  # two disjoint sets of real images
        kid = {"real": encoder.kernel_inception_distance(a, b),
               "blurred": encoder.kernel_inception_distance(blur(a), b),
               "shuffled": encoder.kernel_inception_distance(shuffle_patches(a), b),
               "noise": encoder.kernel_inception_distance(
                   rng.integers(0, 256, a.shape, dtype=np.uint8), b)}
        assert abs(kid["real"]) < 0.2 * min(kid["blurred"], kid["shuffled"]), (name, kid)
        assert max(kid["blurred"], kid["shuffled"]) < kid["noise"], (name, kid)
        # float images in [-1, 1] are the same images
        floats = a.astype(np.float32) / 127.5 - 1.0
        np.testing.assert_allclose(encoder.kernel_inception_distance(floats, b), kid["real"],
                                   rtol=1e-4, atol=1e-6)


def test_memorisation_ratio_drops_for_copies(held_out):
    from gan_lib.metrics.evaluate import memorisation

    real = held_out["cat_faces"]
    copies = real[np.random.default_rng(4).permutation(len(real))[:64]]  # training images
    fresh = blur(copies, 1)  # near copies, not the images themselves
    copied = memorisation(copies, real, probes=32)
    near = memorisation(fresh, real, probes=32)
    assert copied["nn_distance"] <= near["nn_distance"] < copied["real_nn_distance"]
    assert 0.0 <= copied["nn_ratio"] < 0.5 and near["nn_ratio"] < 1.0


def test_a_copy_of_a_training_image_held_out_for_the_baseline_is_found_too(held_out):
    """The real baseline holds some real images out of its search; the samples' search must
    not: on a small folder that would hide copies of a large share of it."""
    from gan_lib.metrics.evaluate import memorisation

    real = held_out["cat_faces"][:150]
    held = real[np.random.default_rng(0 + 1).permutation(len(real))[:32]]  # memorisation's pick
    result = memorisation(held, real, probes=32, seed=0)
    assert result["nn_distance"] == 0.0 and result["nn_ratio"] == 0.0
    assert result["real_nn_distance"] > 0


def test_mirrored_copies_are_found_when_the_run_flipped(held_out):
    """A run with random_flip sees each image mirrored too: a generator that draws a training
    image mirrored has copied it. Searched without the mirrored images such copies look new;
    searched with them (flipped=True), they are at distance 0."""
    from gan_lib.metrics.evaluate import memorisation

    real = held_out["cat_faces"][:300]
    mirrored = real[np.random.default_rng(5).permutation(len(real))[:32], :, ::-1]
    unflipped = memorisation(mirrored, real, probes=32, seed=0)
    flipped = memorisation(mirrored, real, probes=32, seed=0, flipped=True)
    assert unflipped["nn_ratio"] > 0.5  # the old search: mirrored copies pass as new images
    assert flipped["nn_distance"] == 0.0 and flipped["nn_ratio"] == 0.0
    assert flipped["real_nn_distance"] > 0  # the baseline's own mirror is never searched
