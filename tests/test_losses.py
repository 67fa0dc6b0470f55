import numpy as np
import pytest

from gan_lib.errors import GanLibError
from gan_lib.training.losses import LOSSES, get_loss


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.fixture
def logits():
    rng = np.random.default_rng(0)
    return (rng.normal(1.0, 2.0, (32, 1)).astype(np.float32),
            rng.normal(-1.0, 2.0, (32, 1)).astype(np.float32))


def test_minimax_discriminator_matches_numpy_cross_entropy(logits):
    real, fake = logits
    d_real, d_fake = get_loss("minimax").discriminator(real, fake)
    np.testing.assert_allclose(float(d_real), -np.log(np_sigmoid(real)).mean(), rtol=1e-5)
    np.testing.assert_allclose(float(d_fake), -np.log(1 - np_sigmoid(fake)).mean(), rtol=1e-5)


def test_generator_losses_match_numpy(logits):
    _, fake = logits
    minimax = float(get_loss("minimax").generator(fake))
    non_sat = float(get_loss("non_saturating").generator(fake))
    np.testing.assert_allclose(minimax, np.log(1 - np_sigmoid(fake)).mean(), rtol=1e-5)
    np.testing.assert_allclose(non_sat, -np.log(np_sigmoid(fake)).mean(), rtol=1e-5)


def test_losses_stay_finite_for_extreme_logits():
    extreme = np.array([[-200.0], [200.0]], np.float32)
    for pair in LOSSES.values():
        assert np.isfinite(float(pair.generator(extreme)))
        assert all(np.isfinite(float(t)) for t in pair.discriminator(extreme, extreme))


def test_minimax_generator_saturates_where_non_saturating_does_not():
    """The Spanish presentation's point: when D rejects fakes, log(1 - D(G(z))) has no gradient."""
    import tensorflow as tf

    fake = tf.Variable([[-8.0]])  # D(G(z)) = sigmoid(-8) ~ 3e-4: D is sure it is fake
    grads = {}
    for name in ("minimax", "non_saturating"):
        with tf.GradientTape() as tape:
            loss = get_loss(name).generator(fake)
        grads[name] = abs(float(tape.gradient(loss, fake)[0, 0]))
    np.testing.assert_allclose(grads["minimax"], np_sigmoid(-8.0), rtol=1e-4)
    np.testing.assert_allclose(grads["non_saturating"], 1 - np_sigmoid(-8.0), rtol=1e-4)
    assert grads["non_saturating"] > 1000 * grads["minimax"]


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(GanLibError, match="unknown loss 'wasserstein'"):
        get_loss("wasserstein")
