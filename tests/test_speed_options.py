"""Speed options of the train step: several steps per call, XLA, mixed precision.

Each option must give the training it promises (the same numbers, or finite ones), not speed:
speed lives in benchmarks/run.py.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lib import build_gan, get_config, train
from gan_lib.errors import GanLibError


def _toy(**overrides):
    base = dict(dropout=0.0, batch_size=32, num_train=256)
    return dataclasses.replace(get_config("toy2d", quick=False), **{**base, **overrides})


def _points(n_batches=6, batch=32, seed=0):
    points = np.random.default_rng(seed).normal(size=(n_batches * batch, 2)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(points).batch(batch)


def _weights(gan):
    return gan.generator.get_weights() + gan.discriminator.get_weights()


def test_train_steps_equals_the_same_steps_one_call_at_a_time():
    one, many = build_gan(_toy()), build_gan(_toy())
    rows = [one.train_step(b) for b in _points()]
    mean = many.train_steps(iter(_points()), 6)
    for key in one.metric_names:  # the mean of the six steps' values, as NumPy computes it
        expected = np.mean([float(r[key]) for r in rows])
        np.testing.assert_allclose(float(mean[key]), expected, rtol=1e-5, err_msg=key)
    assert int(many.step.numpy()) == int(one.step.numpy()) == 6
    assert int(many.g_optimizer.iterations.numpy()) == 6
    for a, b in zip(_weights(one), _weights(many)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_loop_with_steps_per_execution_keeps_one_row_per_log_every(tmp_path, tiny_toy):
    config = dataclasses.replace(tiny_toy, steps=30, log_every=5, sample_every=15,
                                 checkpoint_every=15)
    plain = train(config, tmp_path / "plain", progress=False)
    fused = train(dataclasses.replace(config, steps_per_execution=4), tmp_path / "fused",
                  progress=False)
    assert fused.step == plain.step == 30
    np.testing.assert_array_equal(fused.history["step"], np.arange(5, 31, 5))
    # Same seed, same batches, same noise: a row averages the same five steps either way.
    for key in ("d_loss", "g_loss", "d_real", "d_grad_norm"):
        np.testing.assert_allclose(fused.history[key], plain.history[key], rtol=1e-4,
                                   err_msg=key)
    assert sorted(p.name for p in (tmp_path / "fused" / "frames").iterdir()) == [
        "step_0000000.png", "step_0000015.png", "step_0000030.png"]


def test_steps_per_execution_must_be_positive():
    with pytest.raises(GanLibError, match="steps_per_execution must be positive"):
        _toy(steps_per_execution=0).validate()


def test_jit_compile_step_matches_the_plain_step_on_real_data_and_trains():
    batch = next(iter(_points()))
    plain, xla = build_gan(_toy()), build_gan(_toy(jit_compile=True))
    a, b = plain.train_step(batch), xla.train_step(batch)
    # Same weights, same real batch: D's view of it agrees. (XLA draws its own noise stream,
    # so the fake side differs by the noise, not by the computation.)
    for key in ("d_loss_real", "d_real", "d_acc_real"):
        np.testing.assert_allclose(float(b[key]), float(a[key]), rtol=1e-5, err_msg=key)
    before = _weights(xla)
    many = xla.train_steps(iter(_points().repeat()), 4)  # XLA step inside the tf.range loop
    assert int(xla.step.numpy()) == 5
    assert all(np.isfinite(float(v)) for v in many.values())
    assert any(not np.allclose(x, y) for x, y in zip(before, _weights(xla)))


@pytest.mark.parametrize("overrides", [
    {},
    {"loss": "wgan_gp", "ema_decay": 0.9},  # the gradient penalty's inner gradient in float16
], ids=["non_saturating", "wgan_gp"])
def test_mixed_precision_builds_float16_layers_with_float32_outputs(overrides):
    config = dataclasses.replace(get_config("mnist_dcgan", quick=False), mixed_precision=True,
                                 batch_size=8, model_width=8, **overrides)
    gan = build_gan(config)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    for model in (gan.generator, gan.discriminator):
        policies = {layer.dtype_policy.name for layer in model.layers}
        assert "mixed_float16" in policies
        assert model.layers[-1].dtype_policy.name == "float32"
        assert model.outputs[0].dtype == "float32"
        assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    before = [w.copy() for w in gan.generator.get_weights()]
    real = tf.random.stateless_uniform([8, 28, 28, 1], [0, 1], -1.0, 1.0)
    for _ in range(3):  # a first step may overflow and be skipped while the scale adapts
        metrics = gan.train_step(real)
    for key in ("d_loss", "g_loss") + (("gp",) if "loss" in overrides else ()):
        assert np.isfinite(float(metrics[key])), key
    assert any(not np.allclose(a, b) for a, b in zip(before, gan.generator.get_weights()))
    fake = gan.generate(tf.zeros([2, config.latent_dim]))
    assert fake.dtype == tf.float32 and float(tf.reduce_max(tf.abs(fake))) <= 1.0


def test_mixed_precision_loop_runs_a_conditional_gan(tmp_path, shared_data):
    config = dataclasses.replace(get_config("mnist_cgan", quick=True), mixed_precision=True,
                                 steps=4, log_every=2, sample_every=4, checkpoint_every=4,
                                 model_width=8, num_train=64, batch_size=16, eval_samples=50)
    result = train(config, tmp_path / "run", data_root=shared_data, progress=False)
    assert result.step == 4 and np.isfinite(result.history["d_loss"]).all()
    assert (tmp_path / "run" / "generator.keras").is_file()
