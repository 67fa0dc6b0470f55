"""Run configuration: one frozen dataclass, grouped by concern, checked before anything runs.

The named recipes are in ``gan_lib.recipes`` (``get_config("toy2d")``); vary one with
``dataclasses.replace`` (``replace(get_config("toy2d"), steps=500)``). ``GANConfig.quick()``
gives the few-steps variant used by ``GAN_LIB_QUICK=1`` and CI. This module does not import
TensorFlow, so the command line can check its arguments fast.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from gan_lib.errors import GanLibError

# Names of gan_lib.losses.LOSSES and gan_lib.augment.AUGMENTATIONS, known here so arguments are
# checked before TensorFlow loads (tests/test_config.py checks that they stay equal).
LOSS_NAMES = ("minimax", "non_saturating", "lsgan", "hinge", "wgan_gp", "relativistic")
AUGMENTATION_NAMES = ("color", "translation", "cutout")
UPDATES = ("simultaneous", "alternating")
BATCHNORMS = {"keras": (0.99, 1e-3), "pytorch": (0.9, 1e-5)}  # (momentum, epsilon)

# The model fields each architecture reads (gan_lib.models.BUILDERS builds them); a run's
# config.json leaves out the others, so it says only what shaped the run.
ARCHITECTURE_FIELDS = {
    "mlp2d": ("g_hidden", "dropout"),
    "mlp_image": ("dropout",),
    "dcgan28": ("model_width", "dropout", "d_batch_norm"),
    "tutorial28": (),
    "cgan28": ("model_width",),
    "cgan_mlp": ("dropout",),
    "cats64": (),
    "dcgan64": ("model_width",),
    "upsample_mlp64": (),
    "chollet64": ("model_width",),
}
_MODEL_FIELDS = ("g_hidden", "dropout", "model_width", "d_batch_norm")
_TOY_FIELDS = ("toy_distribution",)

# Fields that fix the shape of the networks or the game: a run cannot be resumed with others.
STRUCTURAL_FIELDS = ("dataset", "toy_distribution", "image_size", "channels", "architecture",
                     "latent_dim", "g_hidden", "model_width", "d_batch_norm", "num_classes", "loss",
                     "spectral_norm", "ema_decay", "mixed_precision")


@dataclass(frozen=True)
class GANConfig:
    """Everything a run needs to be rebuilt: data, models, optimisation and bookkeeping."""

    name: str
    description: str

    # --- data ---
    dataset: str  # "toy2d" or an image dataset name (later lessons add them)
    toy_distribution: str = "ring"  # toy2d only: "sine", "ring" (8 Gaussians) or "grid" (5x5)
    num_train: int = 0  # toy2d: points drawn once; images: 0 = use every image found
    image_size: int = 0  # 0 for 2D data
    channels: int = 0  # 0 for 2D data
    random_flip: bool = False  # random horizontal flips of real images (cats, faces)
    num_classes: int = 0  # > 0: a class-conditional GAN fed (images, labels)

    # --- models ---
    architecture: str = "mlp2d"  # key into gan_lib.models.BUILDERS
    latent_dim: int = 2  # size of the noise vector z
    g_hidden: tuple[int, ...] = (16, 32)  # MLP generator widths (Russian presentation: 16, 32)
    dropout: float = 0.3  # discriminator dropout (Russian presentation: 0.3)
    model_width: int = 0  # base number of filters of conv builders; 0 = the builder's default
    d_batch_norm: bool = False  # BatchNorm in dcgan28's D (Radford et al.); off: D won less
    # BatchNorm's moving averages: "keras" (momentum 0.99, epsilon 1e-3) or "pytorch" (PyTorch's
    # momentum 0.1 = Keras' 0.9, epsilon 1e-5: statistics that follow a changing G 10x faster)
    batchnorm: str = "keras"

    # --- optimisation ---
    loss: str = "non_saturating"  # key into gan_lib.losses.LOSSES
    batch_size: int = 64
    g_learning_rate: float = 1e-3  # Russian presentation's toy GAN: 0.001
    d_learning_rate: float = 1e-3
    beta_1: float = 0.5  # Radford et al. (2015): 0.9 oscillates, 0.5 is stable
    beta_2: float = 0.999
    optimizer: str = "adam"  # "adam" or "rmsprop" (the Russian presentation's faces GAN)
    # clip each gradient value (Russian presentation: 1.0 with RMSprop)
    clipvalue: float | None = None
    g_steps: int = 1  # generator updates per step (carpedm20's DCGAN-tensorflow: 2)
    # "simultaneous": both models updated from one forward pass (the TF DCGAN tutorial);
    # "alternating": D first, then G against the updated D (the PyTorch DCGAN tutorial)
    update: str = "simultaneous"
    steps: int = 3000  # generator updates in a full run
    max_seconds: float | None = None  # wall-clock budget; None = no limit
    seed: int = 0

    # --- stabilisation tricks (gan_lib.tricks; the defaults switch every one off) ---
    d_steps: int = 1  # discriminator updates per step, on the same real batch (WGAN-GP: 5)
    gp_weight: float | None = None  # gradient penalty weight; None = the loss's (wgan_gp: 10)
    label_smoothing: float = 0.0  # one-sided: D's real target is 1 - s (Salimans et al.: 0.1)
    label_flip: float = 0.0  # chance that D sees a real/fake pair with targets swapped
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, annealed to 0 by `steps`
    spectral_norm: bool = False  # spectral normalisation on D's Dense/Conv2D (Miyato et al.)
    ema_decay: float | None = None  # average of G's weights for samples (e.g. 0.999); None = off
    diffaugment: str = ""  # DiffAugment on D's inputs, e.g. "color,translation,cutout"

    # --- bookkeeping ---
    log_every: int = 10  # one history row per this many steps (values averaged over them)
    sample_every: int = 100  # one GIF frame of the fixed noise per this many steps
    num_fixed: int = 512  # size of the fixed noise batch (points for 2D, images for a grid)
    checkpoint_every: int = 1000  # steps between checkpoints ...
    checkpoint_minutes: float = 5.0  # ... or minutes, whichever comes first
    keep_checkpoints: int = 3  # older checkpoints are deleted
    eval_every: int = 0  # steps between quality metrics (image configs); 0 = only at the end
    eval_samples: int = 1000  # generated samples per quality measurement
    gif_fps: float = 8.0
    tensorboard: bool = False  # also write TensorBoard scalars and sample images to DIR/tensorboard

    # --- speed and scale (gan_lib.build, gan_lib.distribute; defaults keep one step per call) ---
    steps_per_execution: int = 1  # train steps per tf.function call (a tf.range loop inside it)
    jit_compile: bool = False  # XLA-compile the train step (opt-in: slower on the course's CPU)
    mixed_precision: bool = False  # "mixed_float16" layers with loss scaling (GPUs); outputs f32

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
        """Fields this config's data and architecture do not read (left out of config.json)."""
        read = ARCHITECTURE_FIELDS.get(self.architecture, _MODEL_FIELDS)
        unused = tuple(f for f in _MODEL_FIELDS if f not in read)
        return unused + (() if self.is_2d else _TOY_FIELDS)

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
        positive = ("batch_size", "steps", "latent_dim", "log_every", "sample_every", "g_steps",
                    "num_fixed", "checkpoint_every", "keep_checkpoints")
        for key in positive:
            if getattr(self, key) <= 0:
                raise GanLibError(f"{key} must be positive, got {getattr(self, key)}")
        for key in ("g_learning_rate", "d_learning_rate", "checkpoint_minutes", "gif_fps"):
            if not getattr(self, key) > 0:
                raise GanLibError(f"{key} must be positive, got {getattr(self, key)}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise GanLibError(f"max_seconds must be positive, got {self.max_seconds}")
        if self.loss not in LOSS_NAMES:
            raise GanLibError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSS_NAMES)}")
        if not 0.0 <= self.dropout < 1.0:
            raise GanLibError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.update not in UPDATES:
            raise GanLibError(f"update must be one of {', '.join(UPDATES)}; got {self.update!r}")
        if self.batchnorm not in BATCHNORMS:
            raise GanLibError(f"batchnorm must be one of {', '.join(BATCHNORMS)}; got "
                              f"{self.batchnorm!r}")
        if self.architecture not in ARCHITECTURE_FIELDS:
            raise GanLibError(f"unknown architecture {self.architecture!r}; known: "
                              f"{', '.join(ARCHITECTURE_FIELDS)}")
        if self.d_steps <= 0:
            raise GanLibError(f"d_steps must be positive, got {self.d_steps}")
        if self.steps_per_execution <= 0:
            raise GanLibError(f"steps_per_execution must be positive (1 = one step per call), "
                              f"got {self.steps_per_execution}")
        if self.gp_weight is not None and not self.gp_weight >= 0:
            raise GanLibError(f"gp_weight must be >= 0 (or None), got {self.gp_weight}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise GanLibError(f"label_smoothing must be in [0, 1), e.g. 0.1; got "
                              f"{self.label_smoothing}")
        if not 0.0 <= self.label_flip < 0.5:
            raise GanLibError(f"label_flip must be in [0, 0.5), e.g. 0.05; got {self.label_flip}")
        if not self.instance_noise >= 0:
            raise GanLibError(f"instance_noise must be >= 0, got {self.instance_noise}")
        if self.ema_decay is not None:
            check_ema_decay(self.ema_decay)
        augment = [p.strip() for p in self.diffaugment.split(",") if p.strip()]
        if any(p not in AUGMENTATION_NAMES for p in augment) or (
                augment and self.is_2d):
            raise GanLibError(f"diffaugment={self.diffaugment!r}: use a comma-separated subset "
                              "of color,translation,cutout, and only for images, not toy2d")
        return self


def check_ema_decay(decay: float) -> float:
    """The one check of an EMA decay (``GANConfig.ema_decay``, ``gan_lib.ema.EMA``)."""
    if not 0.0 < decay < 1.0:
        raise GanLibError(f"ema_decay must be in (0, 1), e.g. 0.999, or None; got {decay}")
    return float(decay)


def quick_mode() -> bool:
    """True when ``GAN_LIB_QUICK`` is set to something other than "", "0" or "false"."""
    return os.environ.get("GAN_LIB_QUICK", "").strip().lower() not in ("", "0", "false", "no")
