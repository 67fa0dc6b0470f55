"""Run configuration: one frozen dataclass, grouped by concern, checked before anything runs.

The named recipes are in ``gan_lib.recipes`` (``get_config("toy2d")``); vary one with
``dataclasses.replace`` (``replace(get_config("toy2d"), steps=500)``). ``GANConfig.quick()``
gives the few-steps variant used by ``GAN_LIB_QUICK=1`` and CI. This module does not import
TensorFlow, so the command line can check its arguments fast.

Each field says what it is once, on itself (``_f``'s metadata): ``structural`` (it fixes the
networks or the game: a run cannot be resumed with another value; ``STRUCTURAL_FIELDS``),
``choices`` (the names it takes, from ``gan_lib.names``), ``within`` (its range), ``trick`` (a
stabilisation trick the train step reads: ``training.tricks.Tricks`` carries it) and ``scope``
(only runs on that dataset, or only the architectures that list it in ``ARCHITECTURE_FIELDS``,
read it).
``validate``, the command line's choices and config.json's unused fields are derived from them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from gan_lib.errors import GanLibError
from gan_lib.names import (
    ARCHITECTURE_FIELDS,
    BATCHNORMS,
    LOSS_NAMES,
    OPTIMIZERS,
    TOY_DISTRIBUTIONS,
    UPDATES,
    check_image_size,
    parse_policy,
)


def _f(default=dataclasses.MISSING, *, structural: bool = False, choices=None,
       within: str | None = None, example: str = "", trick: bool = False,
       scope: str | None = None):
    """A field with its facts. ``within``: "> 0", ">= 0" or an interval such as "[0, 1)";
    ``example``: a typical value for the error message; a field typed ``... | None`` may be None."""
    return field(default=default, metadata={
        "structural": structural, "choices": choices, "within": within, "example": example,
        "trick": trick, "scope": scope})

POSITIVE = "> 0"
OWN_IMAGES = "own_images"  # the dataset of a recipe trained on the student's own images


@dataclass(frozen=True)
class GANConfig:
    """Everything a run needs to be rebuilt: data, models, optimisation and bookkeeping."""

    name: str
    description: str

    # --- data ---
    dataset: str = _f(structural=True)  # "toy2d" or an image dataset name (later lessons add them)
    # toy2d only: "sine", "ring" (8 Gaussians) or "grid" (5x5)
    toy_distribution: str = _f("ring", structural=True, choices=TOY_DISTRIBUTIONS, scope="toy2d")
    num_train: int = 0  # toy2d: points drawn once; images: 0 = use every image found
    image_size: int = _f(0, structural=True)  # 0 for 2D data
    channels: int = _f(0, structural=True)  # 0 for 2D data
    random_flip: bool = False  # random horizontal flips of real images (cats, faces)
    num_classes: int = _f(0, structural=True)  # > 0: a class-conditional GAN fed (images, labels)
    # your own images (dataset "own_images"): a folder, a .zip or the http(s) URL of one, as
    # gan_lib.data.own_images.on_images (train(images=), --images) sets it
    images: str = _f("", structural=True, scope=OWN_IMAGES)

    # --- models ---
    # a name of gan_lib.names.ARCHITECTURE_FIELDS, built by gan_lib.models.BUILDERS
    architecture: str = _f("mlp2d", structural=True, choices=ARCHITECTURE_FIELDS)
    latent_dim: int = _f(2, structural=True, within=POSITIVE)  # size of the noise vector z
    # MLP generator widths (Russian presentation: 16, 32)
    g_hidden: tuple[int, ...] = _f((16, 32), structural=True, scope="architecture")
    dropout: float = _f(0.3, within="[0, 1)", scope="architecture")  # D's (Russian: 0.3)
    # base number of filters of conv builders; 0 = the builder's default
    model_width: int = _f(0, structural=True, scope="architecture")
    # BatchNorm in dcgan28's D (Radford et al.); off: D won less
    d_batch_norm: bool = _f(False, structural=True, scope="architecture")
    # BatchNorm's moving averages: "keras" (momentum 0.99, epsilon 1e-3) or "pytorch" (PyTorch's
    # momentum 0.1 = Keras' 0.9, epsilon 1e-5: statistics that follow a changing G 10x faster)
    batchnorm: str = _f("keras", choices=BATCHNORMS)

    # --- optimisation ---
    # a name of gan_lib.names.LOSS_NAMES: the pair gan_lib.training.losses.LOSSES holds
    loss: str = _f("non_saturating", structural=True, choices=LOSS_NAMES)
    batch_size: int = _f(64, within=POSITIVE)
    g_learning_rate: float = _f(1e-3, within=POSITIVE)  # Russian presentation's toy GAN: 0.001
    d_learning_rate: float = _f(1e-3, within=POSITIVE)
    beta_1: float = 0.5  # Radford et al. (2015): 0.9 oscillates, 0.5 is stable
    beta_2: float = 0.999
    optimizer: str = _f("adam", choices=OPTIMIZERS)  # or "rmsprop" (Russian presentation's faces)
    # clip each gradient value (Russian presentation: 1.0 with RMSprop)
    clipvalue: float | None = None
    g_steps: int = _f(1, within=POSITIVE)  # G updates per step (carpedm20's DCGAN: 2)
    # "simultaneous": both models updated from one forward pass (the TF DCGAN tutorial);
    # "alternating": D first, then G against the updated D (the PyTorch DCGAN tutorial)
    update: str = _f("simultaneous", choices=UPDATES)
    steps: int = _f(3000, within=POSITIVE)  # generator updates in a full run
    max_seconds: float | None = _f(None, within=POSITIVE)  # wall-clock budget; None = no limit
    seed: int = 0

    # --- stabilisation tricks (gan_lib.training.tricks and .step; the defaults switch each off) ---
    # discriminator updates per step, the extra ones first, each with fresh noise on the same
    # real batch (WGAN-GP: 5)
    d_steps: int = _f(1, within=POSITIVE)
    # gradient penalty weight (train.losses.gradient_penalty); None = the loss's (wgan_gp: 10)
    gp_weight: float | None = _f(None, within=">= 0", trick=True)
    # one-sided label smoothing: D's real target is 1 - s (Salimans et al. 2016: 0.1); needs a
    # loss with targets (minimax, non_saturating, lsgan, relativistic)
    label_smoothing: float = _f(0.0, within="[0, 1)", example="0.1", trick=True)
    # chance that D sees a real/fake pair with their roles (targets) swapped
    label_flip: float = _f(0.0, within="[0, 0.5)", example="0.05", trick=True)
    # std of Gaussian noise on D's inputs (real and fake), annealed linearly to 0 by `steps`
    # (Sønderby et al. 2016)
    instance_noise: float = _f(0.0, within=">= 0", trick=True)
    # spectral normalisation on D's Dense/Conv2D (Miyato et al. 2018; training.spectral_norm)
    spectral_norm: bool = _f(False, structural=True)
    # average of G's weights for samples (e.g. 0.999; gan_lib.training.ema); None = off
    ema_decay: float | None = _f(None, structural=True, within="(0, 1)", example="0.999")
    # DiffAugment (Zhao et al. 2020) of D's real and fake inputs, images only: a comma-separated
    # subset of gan_lib.names.AUGMENTATION_NAMES, e.g. "color,translation,cutout"
    diffaugment: str = _f("", trick=True)

    # --- bookkeeping ---
    # one history row per this many steps (values averaged over them)
    log_every: int = _f(10, within=POSITIVE)
    # one GIF frame of the fixed noise per this many steps
    sample_every: int = _f(100, within=POSITIVE)
    # size of the fixed noise batch (points for 2D, images for a grid)
    num_fixed: int = _f(512, within=POSITIVE)
    checkpoint_every: int = _f(1000, within=POSITIVE)  # steps between checkpoints ...
    checkpoint_minutes: float = _f(5.0, within=POSITIVE)  # ... or minutes, whichever comes first
    keep_checkpoints: int = _f(3, within=POSITIVE)  # older checkpoints are deleted
    eval_every: int = 0  # steps between quality metrics (image configs); 0 = only at the end
    eval_samples: int = 1000  # generated samples per quality measurement
    gif_fps: float = _f(8.0, within=POSITIVE)
    tensorboard: bool = False  # also write TensorBoard scalars and sample images to DIR/tensorboard

    # --- speed and scale (gan_lib.training.build and .distribute; defaults: one step per call) ---
    # train steps per tf.function call (a tf.range loop inside it)
    steps_per_execution: int = _f(1, within=POSITIVE, example="1 (one step per call)")
    jit_compile: bool = False  # XLA-compile the train step (opt-in: slower on the course's CPU)
    mixed_precision: bool = _f(False, structural=True)  # "mixed_float16", loss scaling; f32 out

    # --- quick mode (GAN_LIB_QUICK=1): what quick() changes ---
    quick_overrides: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_2d(self) -> bool:
        return self.dataset == "toy2d"

    def quick(self) -> GANConfig:
        """The same recipe shrunk to run in seconds on a CPU (CI, classroom demos)."""
        base = {"steps": 200, "sample_every": 50, "log_every": 10, "checkpoint_every": 100}
        base.update(self.quick_overrides)
        return dataclasses.replace(self, **base)

    def unused_fields(self) -> tuple[str, ...]:
        """Fields this config's data and architecture do not read (left out of config.json): a
        field scoped to another dataset, a model field its architecture does not list in
        ``ARCHITECTURE_FIELDS`` (an unknown architecture keeps them all)."""
        read = ARCHITECTURE_FIELDS.get(self.architecture)

        def unused(name: str, scope: str | None) -> bool:
            if scope == "architecture":
                return read is not None and name not in read
            return scope is not None and scope != self.dataset
        return tuple(n for n, f in _FIELDS.items() if unused(n, f.metadata.get("scope")))

    def to_dict(self) -> dict:
        """The fields that shape this run (``from_dict`` fills the others with defaults)."""
        d = dataclasses.asdict(self)
        d.pop("quick_overrides")
        for name in self.unused_fields():
            d.pop(name)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GANConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise GanLibError(f"config has unknown keys: {', '.join(unknown)}")
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)

    def validate(self) -> GANConfig:
        """Every field against its ``choices`` and ``within`` (``check_field``), then the one
        check no single field says; returns the config. (label_smoothing's need of a loss with
        targets is checked by ``train.tricks.Tricks.from_config``, which has the loss pair.)"""
        for f in dataclasses.fields(self):
            check_field(f.name, getattr(self, f.name))
        check_image_size(self.name, self.architecture, self.image_size)
        if parse_policy(self.diffaugment) and self.is_2d:
            raise GanLibError(f"diffaugment={self.diffaugment!r} is for images, not toy2d; "
                              "set diffaugment=''")
        return self


_FIELDS = {f.name: f for f in dataclasses.fields(GANConfig)}


def fields_where(key: str, value=True) -> tuple[str, ...]:
    """The names of the fields whose metadata ``key`` is ``value``, in the class's order."""
    return tuple(name for name, f in _FIELDS.items() if f.metadata.get(key) == value)


# Fields that fix the shape of the networks or the game: a run cannot be resumed with others.
STRUCTURAL_FIELDS = fields_where("structural")


def field_choices(name: str) -> tuple[str, ...]:
    """The names field ``name`` may take (the command line's choices for it)."""
    return tuple(_FIELDS[name].metadata["choices"])


def _inside(value, within: str) -> bool:
    if within.startswith(">"):
        return value > 0 if within == "> 0" else value >= 0
    low, high = (float(end) for end in within[1:-1].split(","))
    above = value >= low if within[0] == "[" else value > low
    return above and (value <= high if within[-1] == "]" else value < high)


def check_field(name: str, value):
    """``value`` if field ``name`` may take it (its choices, its range, None where typed so)."""
    f = _FIELDS[name]
    if value is None and str(f.type).endswith("| None"):
        return value
    choices, within = f.metadata.get("choices"), f.metadata.get("within")
    if choices is not None and value not in choices:
        raise GanLibError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    if within is not None and not _inside(value, within):
        allowed = ("positive" if within == POSITIVE else within if within.startswith(">")
                   else f"in {within}")
        example = f", e.g. {f.metadata['example']}" if f.metadata.get("example") else ""
        none = ", or None" if str(f.type).endswith("| None") else ""
        raise GanLibError(f"{name} must be {allowed}{example}{none}; got {value!r}")
    return value


def check_ema_decay(decay: float) -> float:
    """The one check of an EMA decay (``GANConfig.ema_decay``, ``gan_lib.training.ema.EMA``)."""
    return float(check_field("ema_decay", decay))


def quick_mode() -> bool:
    """True when ``GAN_LIB_QUICK`` is set to something other than "", "0" or "false"."""
    return os.environ.get("GAN_LIB_QUICK", "").strip().lower() not in ("", "0", "false", "no")
