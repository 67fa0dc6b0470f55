"""Every name a config field chooses from, declared once, here, without TensorFlow.

``gan_lib.config`` checks a config against these names (its fields' ``choices``), so the command
line checks its arguments before TensorFlow loads. The modules that implement the names build
their registries from them with ``registry``, which fails at import if an implementation is
missing or not named here: ``gan_lib.training.losses.LOSSES``,
``gan_lib.training.augment.AUGMENTATIONS`` and ``gan_lib.models.BUILDERS`` (whose
``register_architecture`` adds to ``ARCHITECTURE_FIELDS`` and to ``BUILDERS`` together).
"""

from __future__ import annotations

from collections.abc import Iterable

from gan_lib.errors import GanLibError

LOSS_NAMES = ("minimax", "non_saturating", "lsgan", "hinge", "wgan_gp", "relativistic")
AUGMENTATION_NAMES = ("color", "translation", "cutout")  # DiffAugment's, in its paper's order
UPDATES = ("simultaneous", "alternating")
BATCHNORMS = {"keras": (0.99, 1e-3), "pytorch": (0.9, 1e-5)}  # (momentum, epsilon)
OPTIMIZERS = ("adam", "rmsprop")
TOY_DISTRIBUTIONS = ("ring", "grid", "sine")  # gan_lib.data.toy draws them

# Each architecture and the model fields its builder reads (gan_lib.models.BUILDERS builds
# them); a run's config.json leaves out the others, so it says only what shaped the run.
ARCHITECTURE_FIELDS: dict[str, tuple[str, ...]] = {
    "mlp2d": ("g_hidden", "dropout"),
    "mlp_image": ("dropout",),
    "dcgan28": ("model_width", "dropout", "d_batch_norm"),
    "tutorial28": (),
    "cgan28": ("model_width",),
    "cgan_mlp": ("dropout",),
    "cats64": (),
    "dcgan64": ("model_width",),
    "dcgan_resize": ("model_width",),
    "upsample_mlp64": (),
    "chollet64": ("model_width",),
}

# The image sides each architecture draws (the others' builders take any size: the MLPs);
# GANConfig.validate refuses another image_size with one sentence.
ARCHITECTURE_SIZES: dict[str, tuple[int, ...]] = {
    "dcgan28": (28,), "tutorial28": (28,), "cgan28": (28,), "cats64": (64,),
    "upsample_mlp64": (64,), "dcgan64": (32, 64, 128),
    "dcgan_resize": (32, 64, 128), "chollet64": (32, 64, 128),
}
IMAGE_SIZES = tuple(sorted(set().union(*ARCHITECTURE_SIZES.values())))  # --image-size's choices


def check_image_size(name: str, architecture: str, image_size: int) -> None:
    """One sentence if ``architecture`` cannot draw ``image_size``-pixel images."""
    sizes = ARCHITECTURE_SIZES.get(architecture)
    if sizes and image_size not in sizes:
        raise GanLibError(f"{name}'s architecture {architecture} draws "
                          f"{' or '.join(f'{s}x{s}' for s in sizes)} images, not "
                          f"{image_size}x{image_size}; for 128x128 use dcgan128 or dcgan128_fast")


def registry(implementations: dict, names: Iterable[str], what: str) -> dict:
    """``implementations`` in the order of ``names``, which they must implement exactly."""
    names = tuple(names)
    missing = [n for n in names if n not in implementations]
    unnamed = [n for n in implementations if n not in names]
    if missing or unnamed:
        raise RuntimeError(f"gan_lib.names and the {what} implementations disagree: no "
                           f"implementation for {missing}, not named in gan_lib.names: {unnamed}")
    return {n: implementations[n] for n in names}


def parse_policy(policy: str) -> tuple[str, ...]:
    """A DiffAugment policy as names: ``"color, translation"`` -> ``("color", "translation")``."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in AUGMENTATION_NAMES]
    if unknown:
        raise GanLibError(f"unknown DiffAugment {', '.join(unknown)} in diffaugment={policy!r}; "
                          f"use a comma-separated subset of {', '.join(AUGMENTATION_NAMES)}")
    return names
