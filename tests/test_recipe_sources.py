"""Each presentation's recipe trains with its source's own step; the course's changes are named
variants beside it (issue 20).

The table below is written from the sources themselves (``../shared/presentations`` and the
anchors' code), not from ``gan_lib/recipes.py``, so that a recipe switched to another order fails
here and has to say why.
"""

from __future__ import annotations

import dataclasses

import keras
import pytest

from gan_lib import get_config
from gan_lib.config import BATCHNORMS
from gan_lib.recipes import CONFIGS
from gan_lib.training.build import build_gan

# recipe: (its source and the source's step, update order, BatchNorm settings)
SOURCE_STEPS = {
    "cats64": ("the English presentation: 'Calculate Generator Loss, Calculate Discriminator "
               "Loss, Apply gradients' from one forward pass (the TF tutorial's step), tf.keras "
               "BatchNormalization defaults", "simultaneous", "keras"),
    "dcgan64": ("the German presentation's PyTorch loop: D on real and fake, then G against the "
                "updated D; nn.BatchNorm2d", "alternating", "pytorch"),
    "faces64": ("the PyTorch DCGAN tutorial: netD updated, then netG through the updated netD; "
                "nn.BatchNorm2d", "alternating", "pytorch"),
    "mnist_mlp": ("the Russian presentation's PyTorch MNIST code, steps 1-5 of its slides: D on "
                  "real and fake, then G on new fakes; no BatchNorm", "alternating", "keras"),
    "fashion_mlp": ("the same network on clothes (the Russian presentation's 'for fun' run)",
                    "alternating", "keras"),
    "faces64_upsample": ("the Serbian presentation's Keras 2 loop: D on half real, half "
                         "generated, 'then we switch sides' to G through the frozen D; Keras' "
                         "BatchNormalization", "alternating", "keras"),
    "faces64_rmsprop": ("the Russian presentation's Keras 2 face GAN (after Chollet): steps 3-5, "
                        "D, then the combined model on new fakes; no BatchNorm", "alternating",
                        "keras"),
    "mnist_tutorial": ("the TensorFlow DCGAN tutorial's train_step: two tapes, one forward "
                       "pass; Keras' BatchNormalization", "simultaneous", "keras"),
}
# the course's own recipes: no source step to keep (each recipe's comment says how it was chosen)
COURSE_RECIPES = {"toy2d", "mnist_dcgan", "fashion_dcgan", "mnist_cgan", "fashion_cgan",
                  "mnist_cgan_mlp", "fashion_cgan_mlp", "cats64_fast", "faces64_fast",
                  "dcgan128", "dcgan128_fast"}
# a course change to a presentation's recipe: (the recipe it varies, the fields it changes)
VARIANTS = {"cats64_alternating": ("cats64", {"update": "alternating", "batchnorm": "pytorch"})}


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # a nested model
            yield from _all_layers(layer)


def test_every_recipe_says_whose_step_it_trains_with():
    named = set(SOURCE_STEPS) | COURSE_RECIPES | set(VARIANTS)
    assert set(CONFIGS) == named, (
        f"recipes without a named step: {sorted(set(CONFIGS) - named)}; "
        f"named but gone: {sorted(named - set(CONFIGS))}")


@pytest.mark.parametrize("name", sorted(SOURCE_STEPS))
def test_a_presentation_recipe_trains_with_its_sources_step(name):
    source, update, batchnorm = SOURCE_STEPS[name]
    config = get_config(name, quick=True)  # quick mode must not change the step
    assert (config.update, config.batchnorm) == (update, batchnorm), source
    assert (get_config(name, quick=False).update,
            get_config(name, quick=False).batchnorm) == (update, batchnorm), source


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_course_variant_differs_from_its_recipe_only_in_what_it_names(name):
    base_name, changes = VARIANTS[name]
    variant, base = get_config(name, quick=False), get_config(base_name, quick=False)
    assert dataclasses.replace(base, name=name, description=variant.description,
                               **changes) == variant
    assert all(getattr(base, field) != value for field, value in changes.items())


@pytest.mark.parametrize("name", ["cats64", "cats64_alternating", "faces64_upsample",
                                  "mnist_mlp"])
def test_the_built_gan_runs_the_named_step(name):
    """The step and BatchNorm settings reach the GAN and every BatchNorm layer of both models."""
    config = get_config(name, quick=True)
    gan = build_gan(config)
    assert (gan.update, gan.d_steps, gan.g_steps) == (config.update, config.d_steps,
                                                       config.g_steps)
    layers = [layer for model in (gan.generator, gan.discriminator)
              for layer in _all_layers(model)
              if isinstance(layer, keras.layers.BatchNormalization)]
    if name == "mnist_mlp":
        assert layers == []  # the presentation's MLPs have none: the setting cannot matter
    else:
        assert layers
        assert {(layer.momentum, layer.epsilon) for layer in layers} == {
            BATCHNORMS[config.batchnorm]}


def test_a_registered_builder_that_ignores_the_batchnorm_setting_is_named():
    """gan_lib's builders take the BatchNorm settings as an argument; a pair registered by
    hand that builds Keras' default BatchNorm under batchnorm="pytorch" gets a warning."""
    from gan_lib import config as config_module
    from gan_lib import models
    from gan_lib.models import presentations64
    from gan_lib.models.batchnorm import batchnorm_of

    models.register_architecture("bn_default", lambda c: (
        presentations64.build_dcgan64_generator(c.latent_dim, width=4),
        presentations64.build_dcgan64_discriminator(width=4)))
    models.register_architecture("bn_passed", lambda c: (
        presentations64.build_dcgan64_generator(c.latent_dim, 4, batchnorm_of(c)),
        presentations64.build_dcgan64_discriminator(4, batchnorm_of(c))))
    try:
        config = dataclasses.replace(get_config("faces64", quick=True), architecture="bn_default")
        assert config.batchnorm == "pytorch"
        with pytest.warns(UserWarning, match="not batchnorm='pytorch'"):
            build_gan(config)
        build_gan(dataclasses.replace(config, architecture="bn_passed"))  # no warning
    finally:
        for name in ("bn_default", "bn_passed"):
            models.BUILDERS.pop(name, None)
            config_module.ARCHITECTURE_FIELDS.pop(name, None)
