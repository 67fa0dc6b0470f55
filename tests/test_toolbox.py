"""The GAN toolbox: losses, gradient penalty, train-step tricks, diagnostics, latent tools."""

import dataclasses
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lib import build_gan, get_config
from gan_lib.data import sample_toy
from gan_lib.errors import GanLibError
from gan_lib.metrics.alarm import DiscriminatorWinsAlarm, DiscriminatorWinsWarning
from gan_lib.metrics.collapse import class_histogram_entropy, nearest_neighbours
from gan_lib.training.augment import AUGMENTATIONS, diff_augment, rand_cutout, rand_translation
from gan_lib.training.ema import EMA
from gan_lib.training.losses import LOSSES, get_loss, gradient_penalty
from gan_lib.training.spectral_norm import SpectralNormalization, apply_spectral_norm
from gan_lib.training.step import STEP_METRICS
from gan_lib.training.tricks import Tricks, discriminator_input, discriminator_loss
from gan_lib.viz.latent import interpolate, interpolation_strip, latent_arithmetic


def softplus(x):
    return np.logaddexp(0.0, x)


@pytest.fixture
def logits():
    rng = np.random.default_rng(1)
    return (rng.normal(1.0, 2.0, (16, 1)).astype(np.float32),
            rng.normal(-1.0, 2.0, (16, 1)).astype(np.float32))


def toy(**changes):
    return dataclasses.replace(get_config("toy2d", quick=False), **changes)


def tiny_images(name="mnist_dcgan", **changes):
    """A 28x28 conv GAN small enough for a unit test."""
    return dataclasses.replace(get_config(name, quick=False), model_width=4, batch_size=8,
                               **changes)


def real_points(n=64, seed=0):
    return tf.constant(sample_toy("ring", n, seed=seed))


def real_images(n=8, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)), tf.float32)


def weights(model):
    return [w.numpy().copy() for w in model.trainable_variables]


def changed(before, model):
    return any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_variables))


# --- losses -------------------------------------------------------------------------------

def test_new_losses_match_numpy_formulas(logits):
    r, f = logits
    r64, f64 = r.astype(np.float64), f.astype(np.float64)
    expected = {  # name: (real_term, fake_term, generator)
        "lsgan": (0.5 * ((r64 - 1) ** 2).mean(), 0.5 * (f64 ** 2).mean(),
                  0.5 * ((f64 - 1) ** 2).mean()),
        "hinge": (np.maximum(0, 1 - r64).mean(), np.maximum(0, 1 + f64).mean(), -f64.mean()),
        "wgan_gp": (-r64.mean(), f64.mean(), -f64.mean()),
        "relativistic": (softplus(-(r64 - f64.mean())).mean(), softplus(f64 - r64.mean()).mean(),
                         softplus(-(f64 - r64.mean())).mean() + softplus(r64 - f64.mean()).mean()),
    }
    for name, (want_real, want_fake, want_g) in expected.items():
        pair = get_loss(name)
        got_real, got_fake = pair.discriminator(r, f)
        got_g = pair.generator(f, r) if pair.generator_uses_real else pair.generator(f)
        np.testing.assert_allclose([float(got_real), float(got_fake), float(got_g)],
                                   [want_real, want_fake, want_g], rtol=1e-5, err_msg=name)


def test_loss_registry_flags():
    assert set(LOSSES) == {"minimax", "non_saturating", "lsgan", "hinge", "wgan_gp",
                           "relativistic"}
    assert get_loss("wgan_gp").gp_weight == 10.0
    assert all(p.gp_weight == 0 for n, p in LOSSES.items() if n != "wgan_gp")
    assert [n for n, p in LOSSES.items() if p.generator_uses_real] == ["relativistic"]


def test_label_smoothing_shifts_bce_loss_by_s_times_mean_logit(logits):
    """(1-s)softplus(-l) + s softplus(l) = softplus(-l) + s*l: the loss grows by s * mean(l)."""
    r, f = logits
    s = 0.1
    for name in ("minimax", "non_saturating"):
        plain = get_loss(name).discriminator(r, f)
        smooth = get_loss(name).discriminator(r, f, real_target=1 - s)
        np.testing.assert_allclose(float(smooth[0]) - float(plain[0]), s * r.mean(), rtol=1e-4)
        assert float(smooth[1]) == float(plain[1])  # one-sided: the fake term is untouched
    lsgan = get_loss("lsgan").discriminator(r, f, real_target=1 - s)
    np.testing.assert_allclose(float(lsgan[0]), 0.5 * ((r - (1 - s)) ** 2).mean(), rtol=1e-5)


def test_label_smoothing_in_the_step_changes_d_loss_by_the_expected_amount(logits):
    r, f = tf.constant(logits[0]), tf.constant(logits[1])
    gan, smoothed = build_gan(toy()), build_gan(toy(label_smoothing=0.2))
    assert smoothed.tricks.label_smoothing == 0.2  # what the step reads
    plain = sum(discriminator_loss(gan.loss, r, f, gan.tricks, gan.rng))
    smooth = sum(discriminator_loss(smoothed.loss, r, f, smoothed.tricks, smoothed.rng))
    np.testing.assert_allclose(float(smooth) - float(plain), 0.2 * logits[0].mean(), rtol=1e-4)
    with pytest.raises(GanLibError, match="label_smoothing needs a loss with targets"):
        build_gan(toy(loss="hinge", label_smoothing=0.1))


def test_label_flip_swaps_exactly_the_drawn_pairs(logits):
    r, f = logits
    gan = build_gan(toy(label_flip=0.3))
    assert gan.tricks.label_flip == 0.3
    twin = tf.random.Generator.from_state(gan.rng.state.numpy(), gan.rng.algorithm)
    flip = twin.uniform(r.shape).numpy() < 0.3
    assert flip.any() and not flip.all()
    got = discriminator_loss(gan.loss, tf.constant(r), tf.constant(f), gan.tricks, gan.rng)
    r2, f2 = np.where(flip, f, r), np.where(flip, r, f)
    np.testing.assert_allclose([float(got[0]), float(got[1])],
                               [softplus(-r2).mean(), softplus(f2).mean()], rtol=1e-5)


# --- gradient penalty ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 2), (8, 3, 3, 2)])
def test_gradient_penalty_of_a_linear_critic_is_closed_form(shape):
    rng = np.random.default_rng(0)
    dim = int(np.prod(shape[1:]))
    w = tf.constant(rng.normal(0, 0.7, (dim, 1)), tf.float32)

    def critic(x):  # D(x) = w.x + b: gradient w everywhere
        return tf.matmul(tf.reshape(x, [-1, dim]), w) + 3.0

    real = tf.constant(rng.normal(size=shape), tf.float32)
    fake = tf.constant(rng.normal(size=shape), tf.float32)
    penalty = gradient_penalty(critic, real, fake, rng=tf.random.Generator.from_seed(5))
    np.testing.assert_allclose(float(penalty), (np.linalg.norm(w.numpy()) - 1) ** 2, rtol=1e-5)


def test_gradient_penalty_trains_the_critic_and_is_finite_for_a_flat_critic():
    critic = keras.Sequential([keras.Input((2,)),
                               keras.layers.Dense(1, kernel_initializer="zeros")])
    real, fake = tf.ones([4, 2]), tf.zeros([4, 2])
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, fake)
    grads = tape.gradient(penalty, critic.trainable_variables)
    np.testing.assert_allclose(float(penalty), 1.0, atol=1e-5)  # ||0|| = 0: (0 - 1)^2
    assert grads[0] is not None and np.isfinite(grads[0].numpy()).all()


# --- every loss, every trick through the train step ---------------------------------------

@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_trains_the_toy_gan(name):
    gan = build_gan(toy(loss=name))
    for i in range(3):
        metrics = gan.train_step(real_points(seed=i))
    assert set(metrics) == set(gan.metric_names)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert ("gp" in metrics) == (name == "wgan_gp")
    if name == "wgan_gp":
        np.testing.assert_allclose(float(metrics["d_loss"]),
                                   float(metrics["d_loss_real"]) + float(metrics["d_loss_fake"])
                                   + 10 * float(metrics["gp"]), rtol=1e-5)


def test_step_metrics_end_with_gradient_norms():
    assert STEP_METRICS[:8] == ("d_loss", "g_loss", "d_loss_real", "d_loss_fake", "d_real",
                                "d_fake", "d_acc_real", "d_acc_fake")
    assert STEP_METRICS[8:] == ("g_grad_norm", "d_grad_norm")
    metrics = build_gan(toy()).train_step(real_points())
    assert float(metrics["g_grad_norm"]) > 0 and float(metrics["d_grad_norm"]) > 0


@pytest.mark.parametrize("changes", [dict(label_smoothing=0.1), dict(label_flip=0.1),
                                     dict(instance_noise=0.5), dict(gp_weight=1.0),
                                     dict(spectral_norm=True), dict(ema_decay=0.9)])
def test_each_trick_runs_changes_weights_and_stays_finite(changes):
    gan = build_gan(toy(**changes))
    g, d = weights(gan.generator), weights(gan.discriminator)
    metrics = gan.train_step(real_points())
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert changed(g, gan.generator) and changed(d, gan.discriminator)


def test_instance_noise_is_annealed_to_zero():
    gan = build_gan(toy(instance_noise=0.5, steps=100))
    assert gan.tricks == Tricks(instance_noise=0.5, anneal_steps=100)
    x = tf.zeros([20000, 2])

    def seen():
        return discriminator_input(x, gan.tricks, gan.step, gan.rng).numpy()

    np.testing.assert_allclose(np.std(seen()), 0.5, rtol=0.03)
    gan.step.assign(50)
    np.testing.assert_allclose(np.std(seen()), 0.25, rtol=0.03)
    gan.step.assign(100)
    np.testing.assert_array_equal(seen(), 0.0)


@pytest.mark.parametrize("d_steps,g_steps", [(2, 1), (1, 2), (3, 2)])
def test_d_steps_and_g_steps_count_optimizer_iterations(d_steps, g_steps):
    gan = build_gan(toy(d_steps=d_steps, g_steps=g_steps))
    gan.train_step(real_points())
    gan.train_step(real_points())
    assert int(gan.d_optimizer.iterations.numpy()) == 2 * d_steps
    assert int(gan.g_optimizer.iterations.numpy()) == 2 * g_steps


def test_ttur_learning_rates_set_each_networks_first_adam_step():
    """Adam's first step moves a weight by lr * g / |g| ~ lr, so the largest change is ~lr."""
    gan = build_gan(toy(g_learning_rate=1e-4, d_learning_rate=4e-4))
    g, d = weights(gan.generator), weights(gan.discriminator)
    gan.train_step(real_points())
    g_move = max(np.abs(b - w.numpy()).max() for b, w in zip(g, gan.generator.trainable_variables))
    d_move = max(np.abs(b - w.numpy()).max()
                 for b, w in zip(d, gan.discriminator.trainable_variables))
    np.testing.assert_allclose([g_move, d_move], [1e-4, 4e-4], rtol=1e-2)


def test_image_gan_with_diffaugment_sn_gp_and_ema_trains():
    gan = build_gan(tiny_images(diffaugment="color,translation,cutout", spectral_norm=True,
                                loss="wgan_gp", ema_decay=0.99, d_steps=2))
    g = weights(gan.generator)
    for i in range(2):
        metrics = gan.train_step(real_images(seed=i))
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert changed(g, gan.generator)
    # samples come from the average, which lags behind the generator
    z = gan.sample_noise(4)
    assert not np.allclose(gan.sampling_generator(z, training=False), gan.generate(z))


def test_conditional_gan_with_gradient_penalty_and_spectral_norm():
    gan = build_gan(tiny_images("mnist_cgan", gp_weight=1.0, spectral_norm=True,
                                loss="relativistic", g_steps=2))
    labels = tf.constant(np.arange(8) % 10, tf.int32)
    metrics = gan.train_step((real_images(), labels))
    assert all(np.isfinite(float(v)) for v in metrics.values())


def test_config_rejects_bad_trick_values():
    bad = [dict(d_steps=0), dict(label_smoothing=1.0), dict(label_flip=0.5),
           dict(instance_noise=-1.0), dict(ema_decay=1.0), dict(gp_weight=-1.0),
           dict(diffaugment="color,rotate"), dict(diffaugment="color")]  # toy2d: no images
    for changes in bad:
        with pytest.raises(GanLibError, match=next(iter(changes))):
            toy(**changes).validate()
    tiny_images(diffaugment="color, cutout").validate()


# --- spectral normalisation ---------------------------------------------------------------

def test_spectral_norm_makes_the_largest_singular_value_one():
    keras.utils.set_random_seed(0)
    for layer, shape in [(keras.layers.Dense(16), (4, 32)),
                         (keras.layers.Conv2D(8, 3), (4, 6, 6, 5))]:
        wrapped = SpectralNormalization(layer)
        x = tf.random.normal(shape)
        wrapped(x)
        sigma0 = np.linalg.svd(layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1]),
                               compute_uv=False)[0]
        assert abs(sigma0 - 1) > 0.1  # the test would notice no normalisation
        for _ in range(30):  # power iterations: one per training-mode call
            wrapped(x, training=True)
        kernel = layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1])
        np.testing.assert_allclose(np.linalg.svd(kernel, compute_uv=False)[0], 1.0, atol=1e-2)


def test_apply_spectral_norm_wraps_every_dense_and_conv_and_keeps_weights(tmp_path):
    disc = build_gan(tiny_images()).discriminator
    sn = apply_spectral_norm(disc)
    kinds = (keras.layers.Dense, keras.layers.Conv2D)
    assert sum(isinstance(layer, kinds) for layer in disc.layers) == sum(
        isinstance(layer, SpectralNormalization) for layer in sn.layers) == 3
    x = real_images()
    np.testing.assert_allclose(sn(x, training=False), disc(x, training=False), atol=1e-6)
    sn(x, training=True)  # normalises the kernels in place
    sn.save(tmp_path / "d.keras")
    again = keras.models.load_model(tmp_path / "d.keras")
    assert isinstance(again.layers[0], SpectralNormalization)
    np.testing.assert_allclose(again(x), sn(x), atol=1e-6)
    with pytest.raises(GanLibError, match="already has spectral normalisation"):
        apply_spectral_norm(sn)


# --- EMA ------------------------------------------------------------------------------------

def test_ema_follows_the_numpy_recursion_and_checkpoints():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.BatchNormalization()])
    ema = EMA(model, decay=0.9)
    shadow = [w.numpy().copy() for w in model.weights]
    trainable = [any(w is t for t in model.trainable_weights) for w in model.weights]
    rng = np.random.default_rng(0)
    for _ in range(5):
        model.set_weights([rng.normal(size=w.shape) for w in model.weights])
        ema.update(model)
        shadow = [0.9 * s + 0.1 * w.numpy() if t else w.numpy()
                  for s, w, t in zip(shadow, model.weights, trainable)]
    for s, e in zip(shadow, ema.model.weights):
        np.testing.assert_allclose(e.numpy(), s, rtol=1e-5, atol=1e-6)
    with pytest.raises(GanLibError, match="ema_decay"):
        EMA(model, decay=1.0)


def test_train_with_ema_saves_the_average_as_generator_keras(tmp_path, tiny_toy):
    from gan_lib import train

    result = train(dataclasses.replace(tiny_toy, steps=20, ema_decay=0.9), tmp_path / "run",
                   progress=False)
    saved = keras.models.load_model(tmp_path / "run" / "generator.keras")
    for a, b in zip(saved.weights, result.gan.ema.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(not np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(saved.weights, result.gan.generator.weights))
    again = train(dataclasses.replace(tiny_toy, steps=20, ema_decay=0.9), tmp_path / "run",
                  resume=True, progress=False)  # the average is in the checkpoint
    for a, b in zip(again.gan.ema.model.weights, result.gan.ema.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# --- DiffAugment ----------------------------------------------------------------------------

def test_diffaugment_keeps_shape_passes_gradients_and_changes_pixels():
    x = tf.Variable(tf.random.stateless_uniform([16, 12, 12, 3], [1, 2], -1, 1))
    rng = tf.random.Generator.from_seed(3)
    for policy in list(AUGMENTATIONS) + ["color,translation,cutout"]:
        with tf.GradientTape() as tape:
            y = diff_augment(x, policy, rng=rng)
            loss = tf.reduce_sum(y * y)
        assert y.shape == x.shape, policy
        grad = tape.gradient(loss, x)
        assert grad is not None and np.abs(grad.numpy()).sum() > 0, policy
        assert not np.allclose(y.numpy(), x.numpy()), policy
    assert diff_augment(x, "") is x
    with pytest.raises(GanLibError, match="unknown DiffAugment rotate"):
        diff_augment(x, "rotate")


def _shifted(image, dy, dx):
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_translation_shifts_whole_images_with_zero_fill():
    x = tf.reshape(tf.range(1, 16 * 16 * 8 + 1, dtype=tf.float32), [8, 16, 16, 1])
    y = rand_translation(x, rng=tf.random.Generator.from_seed(0)).numpy()
    shifts = []
    for xi, yi in zip(x.numpy()[..., 0], y[..., 0]):  # each output is x shifted by <= 2 pixels
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(yi, _shifted(xi, dy, dx))]
        assert len(found) == 1
        shifts += found
    assert len(set(shifts)) > 1


def test_cutout_zeroes_one_square_of_half_the_size():
    y = rand_cutout(tf.ones([32, 16, 16, 1]), rng=tf.random.Generator.from_seed(0)).numpy()
    zeros = (y[..., 0] == 0).sum(axis=(1, 2))
    assert zeros.max() == 64 and zeros.min() > 0  # 8x8, clipped at the border


# --- diagnostics ----------------------------------------------------------------------------

def test_discriminator_wins_alarm_fires_once_after_patience_rows():
    alarm = DiscriminatorWinsAlarm(patience=3)
    winning = {"d_loss": 0.01, "d_fake": 0.002}
    with pytest.warns(DiscriminatorWinsWarning, match="discriminator is winning") as record:
        fired = [alarm.check(winning, step=10 * i) for i in range(1, 8)]
    assert fired == [False, False, True, False, False, False, False]
    assert len(record) == 1
    assert "label_smoothing" in str(record[0].message) and "d_learning_rate" in str(
        record[0].message)


def test_discriminator_wins_alarm_is_quiet_for_healthy_or_broken_streaks():
    healthy = DiscriminatorWinsAlarm(patience=3)
    broken = DiscriminatorWinsAlarm(patience=3)
    wgan = DiscriminatorWinsAlarm.for_loss("wgan_gp", patience=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(20):
            assert not healthy.check({"d_loss": 1.2, "d_fake": 0.4})
            low = {"d_loss": 0.01, "d_fake": 0.01}
            assert not broken.check(low if i % 3 else {"d_loss": 0.5, "d_fake": 0.3})
            assert not wgan.check({"d_loss": -3.0, "d_fake": 0.0})


def test_class_histogram_entropy():
    probs = np.eye(10)[np.arange(100) % 10]
    assert class_histogram_entropy(probs) == pytest.approx(1.0)
    assert class_histogram_entropy(np.eye(10)[np.zeros(50, int)]) == 0.0
    classes = np.array([0, 0, 0, 1, 2, 2])
    share = np.array([3, 1, 2]) / 6
    assert class_histogram_entropy(classes, normalize=False) == pytest.approx(
        -(share * np.log(share)).sum())
    with pytest.raises(GanLibError, match="probabilities"):
        class_histogram_entropy(np.zeros((2, 2, 2)))


def test_nearest_neighbours_equals_brute_force():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (1000, 8, 8, 1), dtype=np.uint8)
    samples = rng.integers(0, 256, (20, 8, 8, 1), dtype=np.uint8)
    samples[3] = train[417]  # a memorised sample: distance 0
    idx, dist = nearest_neighbours(samples, train, k=3, batch_size=128)
    brute = np.linalg.norm(samples.reshape(20, 1, -1).astype(float)
                           - train.reshape(1, 1000, -1).astype(float), axis=-1)
    np.testing.assert_array_equal(idx, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(dist, np.sort(brute, axis=1)[:, :3], rtol=1e-12)
    assert idx[3, 0] == 417 and dist[3, 0] == 0
    assert idx.dtype == np.int64 and idx.shape == dist.shape == (20, 3)
    with pytest.raises(GanLibError, match="different shapes"):
        nearest_neighbours(samples, train[:, :4])


# --- latent tools ---------------------------------------------------------------------------

def test_interpolate_endpoints_and_slerp_norms():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=100), rng.normal(size=100)
    for method in ("linear", "slerp"):
        path = interpolate(z0, z1, 7, method)
        assert path.shape == (7, 100) and path.dtype == np.float32
        np.testing.assert_array_equal(path[0], z0.astype(np.float32))
        np.testing.assert_array_equal(path[-1], z1.astype(np.float32))
    np.testing.assert_allclose(interpolate(z0, z1, 3)[1], (z0 + z1) / 2, rtol=1e-5)
    z1 = z1 * np.linalg.norm(z0) / np.linalg.norm(z1)
    norms = np.linalg.norm(interpolate(z0, z1, 9, "slerp"), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(z0), rtol=1e-5)
    assert np.linalg.norm(interpolate(z0, z1, 9, "linear")[4]) < 0.8 * np.linalg.norm(z0)
    with pytest.raises(GanLibError, match="unknown interpolation"):
        interpolate(z0, z1, 3, "cubic")


def test_latent_arithmetic_and_interpolation_strip():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    np.testing.assert_allclose(latent_arithmetic(a, b, c),
                               a.mean(0) - b.mean(0) + c.mean(0), rtol=1e-6)
    gan = build_gan(toy())
    strip = interpolation_strip(gan.generator, a[0, :2], b[0, :2], n=5)
    assert strip.shape == (5, 2) and strip.dtype == np.float32
    np.testing.assert_allclose(strip[0], gan.generator(a[:1, :2].astype(np.float32))[0],
                               rtol=1e-5)
