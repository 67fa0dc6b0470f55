"""Each fact once: the names declared in gan_lib.names (TensorFlow-free) are what the TF modules
implement, the config's field metadata is what validate, STRUCTURAL_FIELDS, the command line and
Tricks derive from, and a run's config.json holds only the fields that shaped it."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from gan_lib import CONFIGS, GANConfig, RunFolder, build_gan, get_config, train
from gan_lib.config import STRUCTURAL_FIELDS, field_choices, fields_where
from gan_lib.errors import GanLibError
from gan_lib.models import BUILDERS
from gan_lib.names import (
    ARCHITECTURE_FIELDS,
    AUGMENTATION_NAMES,
    IMAGE_SIZES,
    LOSS_NAMES,
    TOY_DISTRIBUTIONS,
    registry,
)
from gan_lib.training.augment import AUGMENTATIONS
from gan_lib.training.losses import LOSSES


def test_every_declared_name_has_its_implementation_and_no_other():
    assert tuple(LOSSES) == LOSS_NAMES
    assert tuple(AUGMENTATIONS) == AUGMENTATION_NAMES
    assert set(BUILDERS) == set(ARCHITECTURE_FIELDS)
    from gan_lib.data.toy import sample_toy
    assert all(sample_toy(name, 4).shape == (4, 2) for name in TOY_DISTRIBUTIONS)
    with pytest.raises(RuntimeError, match=r"no implementation for \['b'\].*: \['c'\]"):
        registry({"a": 1, "c": 3}, ("a", "b"), "test")


def test_config_and_command_line_do_not_import_tensorflow():
    code = ("import sys, gan_lib.config, gan_lib.cli; gan_lib.cli.build_parser(); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_the_field_metadata_says_what_the_old_lists_said():
    assert set(STRUCTURAL_FIELDS) == {
        "dataset", "toy_distribution", "image_size", "channels", "architecture", "latent_dim",
        "g_hidden", "model_width", "d_batch_norm", "num_classes", "images", "loss", "spectral_norm",
        "ema_decay", "mixed_precision"}
    assert field_choices("loss") == LOSS_NAMES
    assert field_choices("update") == ("simultaneous", "alternating")
    assert field_choices("batchnorm") == ("keras", "pytorch")
    assert field_choices("optimizer") == ("adam", "rmsprop")
    assert set(field_choices("architecture")) == set(BUILDERS)
    assert fields_where("scope", "architecture") == ("g_hidden", "dropout", "model_width",
                                                     "d_batch_norm")
    from gan_lib.cli import build_parser
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {a.dest: a.choices for a in train_parser._actions if a.choices}
    assert flags == {"distribution": TOY_DISTRIBUTIONS, "loss": LOSS_NAMES,
                     "update": field_choices("update"), "batchnorm": field_choices("batchnorm"),
                     "image_size": IMAGE_SIZES}
    assert IMAGE_SIZES == (28, 32, 64, 128)


@pytest.mark.parametrize("changes, message", [
    (dict(batch_size=0), "batch_size must be positive; got 0"),
    (dict(g_learning_rate=float("nan")), "g_learning_rate must be positive; got nan"),
    (dict(max_seconds=0.0), "max_seconds must be positive, or None; got 0.0"),
    (dict(dropout=1.0), r"dropout must be in \[0, 1\); got 1.0"),
    (dict(loss="wasserstein"), "loss must be one of minimax, .*; got 'wasserstein'"),
    (dict(optimizer="sgd"), "optimizer must be one of adam, rmsprop; got 'sgd'"),
    (dict(toy_distribution="moon"), "toy_distribution must be one of ring, grid, sine"),
    (dict(steps_per_execution=0), r"steps_per_execution must be positive, e.g. 1 \(one step"),
])
def test_validate_says_each_fields_range_or_choices(changes, message):
    with pytest.raises(GanLibError, match=message):
        dataclasses.replace(get_config("toy2d"), **changes).validate()
    for optional in ("max_seconds", "gp_weight", "ema_decay", "clipvalue"):
        dataclasses.replace(get_config("toy2d"), **{optional: None}).validate()


def test_tricks_carry_the_trick_fields_of_the_config():
    """Each trick is stated once, on the config: Tricks has a field of the same name, type and
    default for each (gp_weight resolved to a number), plus anneal_steps."""
    from gan_lib.training.tricks import Tricks
    tricks = {f.name: f for f in dataclasses.fields(Tricks)}
    config = {f.name: f for f in dataclasses.fields(GANConfig)}
    assert list(tricks) == [*fields_where("trick"), "anneal_steps"]
    for name in fields_where("trick"):
        resolved = {"float | None": "float"}.get(str(config[name].type), str(config[name].type))
        assert str(tricks[name].type) == resolved, name
        assert tricks[name].default == (config[name].default if name != "gp_weight" else 0.0)
    config = dataclasses.replace(get_config("mnist_dcgan"), d_steps=2, label_flip=0.1,
                                 diffaugment=" color ,cutout", steps=70)
    tricks = Tricks.from_config(config, LOSSES["wgan_gp"])
    assert (tricks.label_flip, tricks.gp_weight, tricks.diffaugment, tricks.anneal_steps) == (
        0.1, 10.0, "color,cutout", 70)
    assert Tricks.from_config(dataclasses.replace(config, gp_weight=0.0),
                              LOSSES["wgan_gp"]).gp_weight == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        tricks.label_flip = 0.2


def test_config_json_says_only_what_shaped_the_run(tmp_path):
    cats = get_config("cats64", quick=False)
    saved = cats.to_dict()
    for unused in ("toy_distribution", "g_hidden", "dropout", "model_width", "d_batch_norm"):
        assert unused not in saved
    assert saved["latent_dim"] == 128 and saved["architecture"] == "cats64"
    assert GANConfig.from_dict(saved) == cats  # the left-out fields come back as defaults
    toy = get_config("toy2d", quick=False).to_dict()
    assert toy["toy_distribution"] == "ring" and toy["g_hidden"] == (128, 128)
    assert "model_width" not in toy
    folder = RunFolder(tmp_path)
    folder.write_config(cats)
    assert json.loads(folder.config_path.read_text()) == json.loads(json.dumps(saved))
    assert folder.read_config() == cats


def test_every_recipe_is_registered_and_valid():
    assert "toy2d" in CONFIGS and "cats64" in CONFIGS  # one registry, gan_lib.recipes
    for config in CONFIGS.values():
        assert config.validate() is config
    with pytest.raises(GanLibError, match="update must be one of simultaneous, alternating"):
        dataclasses.replace(get_config("toy2d"), update="sideways").validate()


def toy(**changes):
    return dataclasses.replace(get_config("toy2d", quick=False), num_train=512, batch_size=64,
                               g_hidden=(32, 32), **changes)


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_both_update_orders_train_both_models(update):
    import tensorflow as tf

    gan = build_gan(toy(update=update))
    assert gan.update == update
    g = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    metrics = gan.train_step(tf.random.normal([64, 2], seed=1))
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(g, gan.generator.trainable_weights))
    assert all(not np.array_equal(a, b.numpy())
               for a, b in zip(d, gan.discriminator.trainable_weights))


def test_alternating_g_loss_is_measured_against_the_updated_discriminator():
    """Alternating: G's loss comes from D after D's update; simultaneous: from D before it.
    Both GANs start from the same weights and noise, so their D losses agree and their G losses
    differ by exactly what D's update changed."""
    import tensorflow as tf

    real = tf.random.normal([64, 2], seed=3)
    sim, alt = build_gan(toy()), build_gan(toy(update="alternating"))
    m_sim, m_alt = sim.train_step(real), alt.train_step(real)
    np.testing.assert_allclose(float(m_sim["d_loss"]), float(m_alt["d_loss"]), rtol=1e-5)
    assert abs(float(m_sim["g_loss"]) - float(m_alt["g_loss"])) > 1e-6


def test_a_toy_run_trains_with_the_alternating_update(tmp_path):
    config = toy(update="alternating", steps=20, log_every=10, sample_every=20,
                 checkpoint_every=20)
    result = train(config, tmp_path / "alt", progress=False)
    assert result.step == 20 and list(result.history["step"]) == [10, 20]
    assert RunFolder(tmp_path / "alt").read_config().update == "alternating"


def test_pytorch_batchnorm_sets_every_batchnorm_layer():
    import keras

    def batchnorms(model):
        return [layer for layer in model.layers
                if isinstance(layer, keras.layers.BatchNormalization)]

    config = get_config("cats64_alternating", quick=True)  # the course's PyTorch-style step
    assert config.batchnorm == "pytorch" and get_config("mnist_dcgan").batchnorm == "keras"
    keras_style = build_gan(dataclasses.replace(config, batchnorm="keras"))
    torch_style = build_gan(config)
    for model in (torch_style.generator, torch_style.discriminator):
        assert batchnorms(model) and all(
            (b.momentum, b.epsilon) == (0.9, 1e-5) for b in batchnorms(model))
    assert all((b.momentum, b.epsilon) == (0.99, 1e-3)
               for b in batchnorms(keras_style.generator))
    with pytest.raises(GanLibError, match="batchnorm must be one of keras, pytorch"):
        dataclasses.replace(config, batchnorm="jax").validate()
