"""The course's named recipes, one registry: the 2D toy (lesson 01), MNIST and Fashion-MNIST
(lessons 02-04, 07), 64x64 cats and faces (lessons 05-06). Each says where its numbers come from.

Full settings are what a Colab GPU runs in the time the README's lesson table estimates;
``quick_overrides`` shrink each to seconds on a CPU (GAN_LIB_QUICK=1, for the tests).
"""

from __future__ import annotations

from gan_lib.config import GANConfig, quick_mode
from gan_lib.errors import GanLibError

CONFIGS: dict[str, GANConfig] = {}


def register(config: GANConfig) -> GANConfig:
    """Add ``config`` to ``CONFIGS`` under its name (checked first)."""
    CONFIGS[config.name] = config.validate()
    return config


def get_config(name: str, quick: bool | None = None) -> GANConfig:
    """The named recipe; in quick mode (argument, else ``GAN_LIB_QUICK``) its quick variant."""
    if name not in CONFIGS:
        raise GanLibError(f"unknown config {name!r}; known: {', '.join(sorted(CONFIGS))}")
    config = CONFIGS[name]
    if quick if quick is not None else quick_mode():
        config = config.quick()
    return config


register(
    GANConfig(
        name="toy2d",
        description="2D toy GAN (MLPs after the Russian presentation) on a ring of 8 Gaussians, "
                    "sine, grid",
        dataset="toy2d",
        toy_distribution="ring",
        num_train=8192,
        architecture="mlp2d",
        latent_dim=2,
        g_hidden=(128, 128),  # the presentation's 16-32 generator misses modes of the ring
        batch_size=128,
        steps=5000,  # the MLPs are tiny: a minute of a CPU (README, quick start)
        sample_every=100,
        # tiny steps: ten per tf.function call save the Python call's overhead (benchmarks/)
        steps_per_execution=10,
        quick_overrides={"steps": 1500, "sample_every": 250, "checkpoint_every": 500},
    )
)

# A CPU-sized quick mode for every image recipe: a small subset, a few steps.
_QUICK_28 = {"steps": 30, "num_train": 512, "batch_size": 32, "sample_every": 15, "log_every": 5,
             "checkpoint_every": 30, "num_fixed": 64, "eval_every": 0, "eval_samples": 200}
_QUICK_64 = {"steps": 6, "num_train": 64, "batch_size": 8, "sample_every": 3, "log_every": 3,
             "checkpoint_every": 6, "num_fixed": 16, "eval_samples": 64}

# Each presentation's recipe trains with its source's own step (tests/test_recipe_sources.py
# names each source's order); what the course changes is a named variant beside it. PyTorch code
# (the German presentation, the PyTorch DCGAN tutorial) updates D first, then G against the
# updated D, with PyTorch's BatchNorm (momentum 0.1, eps 1e-5): `_PYTORCH_STEP`.
_PYTORCH_STEP = dict(update="alternating", batchnorm="pytorch")
# Keras 2 code with a combined model (the Serbian and the Russian presentations) and the Russian
# presentation's PyTorch MNIST code train in turn too, with Keras' (or no) BatchNorm.
_IN_TURN = dict(update="alternating")

def _gray28(name: str, description: str, dataset: str, architecture: str, **fields) -> None:
    """A 28x28 grey recipe: 100-d noise, progress every 500 steps, quality every 2,000."""
    defaults = dict(image_size=28, channels=1, latent_dim=100, log_every=50, sample_every=500,
                    num_fixed=64, checkpoint_every=5000, eval_every=2000,
                    quick_overrides=_QUICK_28)
    register(GANConfig(name=name, description=description, dataset=dataset,
                       architecture=architecture, **{**defaults, **fields}))


for dataset, prefix, label in (("mnist", "mnist", "MNIST"),
                               ("fashion_mnist", "fashion", "Fashion-MNIST")):
    _gray28(f"{prefix}_mlp",
            f"{label}: the Russian presentation's MLP GAN (G 100-256-512-1024-784, D with dropout)",
            dataset, "mlp_image", dropout=0.3, batch_size=32,
            # the presentation: lr = 0.0001 (its slides show no optimiser and no batch size;
            # Adam with its default beta_1 and batch 32 are the recipe's choice)
            g_learning_rate=1e-4, d_learning_rate=1e-4, beta_1=0.9, **_IN_TURN,
            steps=30_000,  # 14 epochs of 70,000 at batch 32
            sample_every=1000, eval_every=5000)
    _gray28(f"{prefix}_dcgan",
            f"{label}: a small, fast DCGAN at 28x28 (Adam: G 1e-3, D 2e-4, beta_1 0.5)",
            dataset, "dcgan28", model_width=32, dropout=0.3, batch_size=64,
            # Radford et al.'s Adam, G learning faster than D (as TF-GAN's MNIST example), tuned
            # for 4 minutes of a 2-core CPU: docs/TEACHING.md, lesson 04.
            g_learning_rate=1e-3, d_learning_rate=2e-4, beta_1=0.5, steps_per_execution=10,
            steps=20_000)  # ~21 epochs of 60,000
    _gray28(f"{prefix}_cgan_mlp",
            f"{label}: lesson 02's MLP GAN told the class (label embedding in G, projection in D)",
            dataset, "cgan_mlp", num_classes=10, dropout=0.3, batch_size=64,
            # Radford et al.'s Adam: with the MLP recipe's D won (docs/TEACHING.md, lesson 03).
            g_learning_rate=2e-4, d_learning_rate=2e-4, beta_1=0.5, steps=20_000,
            sample_every=1000, eval_every=5000, num_fixed=100,
            quick_overrides={**_QUICK_28, "num_fixed": 100})
    _gray28(f"{prefix}_cgan", f"{label}: class-conditional DCGAN (label embeddings in G and D)",
            dataset, "cgan28", num_classes=10, model_width=32, dropout=0.3, batch_size=64,
            g_learning_rate=2e-4, d_learning_rate=2e-4, beta_1=0.5, steps=20_000,
            num_fixed=100, quick_overrides={**_QUICK_28, "num_fixed": 100})

_gray28("mnist_tutorial",
        "MNIST: the TensorFlow DCGAN tutorial's recipe (Adam 1e-4, batch 256), a baseline",
        "mnist", "tutorial28", batch_size=256, g_learning_rate=1e-4, d_learning_rate=1e-4,
        beta_1=0.9, steps=11_700)  # the tutorial's 50 epochs of 60,000 at batch 256


def _rgb64(name: str, description: str, dataset: str, architecture: str, **fields) -> None:
    """A 64x64 RGB recipe for long runs: Radford et al.'s Adam, checkpoints every 10 minutes."""
    defaults = dict(image_size=64, channels=3, latent_dim=100, g_learning_rate=2e-4,
                    d_learning_rate=2e-4, beta_1=0.5, log_every=50, sample_every=200,
                    num_fixed=64, checkpoint_every=1000, checkpoint_minutes=10.0,
                    quick_overrides=_QUICK_64)
    register(GANConfig(name=name, description=description, dataset=dataset,
                       architecture=architecture, **{**defaults, **fields}))


# cats64 is the English presentation's recipe, step included: both losses from one forward pass,
# both networks updated from it, Keras' BatchNorm (the TF tutorial's step, gan_lib's default).
_CATS64 = dict(latent_dim=128, random_flip=True, batch_size=128,
               steps=23_300,  # the presentation's 100 epochs of 29,843
               sample_every=233, num_fixed=100, checkpoint_every=2000)
_rgb64("cats64",
       "64x64 cat faces: the English presentation's Keras DCGAN (latent 128, batch 128, flips)",
       "cat_faces", "cats64", **_CATS64)
# The course's variant: the PyTorch step, which kept D from pulling ahead in short runs
# (benchmarks/README.md, "Update order and BatchNorm"; docs/TEACHING.md, lesson 05).
_rgb64("cats64_alternating",
       "cats64 with the course's step: D, then G against the updated D; PyTorch's BatchNorm",
       "cat_faces", "cats64", **_CATS64, **_PYTORCH_STEP)
_rgb64("dcgan64",
       "64x64 aligned cat faces (CAT landmarks): the German presentation's DCGAN in Keras",
       "cat_landmarks", "dcgan64", random_flip=True, batch_size=100,
       steps=5_000,  # the presentation: 5,000 batches of 100 images
       sample_every=100, **_PYTORCH_STEP)
# cats64_fast: the German presentation's DCGAN at half width (a quarter of the multiply-adds),
# batch 32 (twice the updates in the same seconds), the PyTorch step, samples from a weight
# average: what got furthest in 15 minutes of a 2-core CPU (benchmarks/README.md, "Time to
# quality at 64x64").
_FAST = dict(architecture="dcgan64", model_width=32, random_flip=True, batch_size=32,
             ema_decay=0.999, steps=5_500, sample_every=100, **_PYTORCH_STEP)
_rgb64("cats64_fast",
       "64x64 cat faces in 15 CPU minutes: DCGAN at half width, batch 32, EMA (a CPU recipe)",
       "cat_faces", **_FAST)
_rgb64("faces64", "64x64 CelebA faces: DCGAN as in the PyTorch DCGAN tutorial (research use only)",
       "faces", "dcgan64", random_flip=True, batch_size=128,
       steps=7_900,  # 5 epochs of 202,599 at batch 128, as the tutorial
       **_PYTORCH_STEP)
_rgb64("faces64_fast",
       "64x64 CelebA faces in 15 CPU minutes: cats64_fast's recipe (research use only)",
       "faces", **_FAST)
_rgb64("faces64_upsample",
       "64x64 faces: the Serbian presentation's upsample+conv generator vs an MLP discriminator",
       "faces", "upsample_mlp64", latent_dim=4096, dropout=0.0, batch_size=256,
       steps=4_700, **_IN_TURN)  # the presentation's 6 epochs of 200,000 at batch 256
_rgb64("faces64_rmsprop",
       "64x64 faces: the Russian presentation's GAN (RMSprop 1e-4, clipvalue 1, latent 32)",
       "faces", "chollet64", latent_dim=32, model_width=128, batch_size=32,
       optimizer="rmsprop", clipvalue=1.0, g_learning_rate=1e-4, d_learning_rate=1e-4,
       steps=5_000, quick_overrides={**_QUICK_64, "model_width": 32},  # full width: slow on a CPU
       **_IN_TURN)

# Your own images (lesson 08): these two train on the folder --images names (every image recipe
# above can too). dcgan128: the PyTorch DCGAN tutorial's pattern, one block more; dcgan128_fast
# draws by resize-convolution, which learned at 128 where transposed convolutions did not
# (benchmarks/README.md, "Your own images").
_QUICK_128 = {**_QUICK_64, "num_train": 32, "batch_size": 4, "num_fixed": 4}
_rgb64("dcgan128", "128x128 DCGAN for your own images (PyTorch DCGAN tutorial, one block more)",
       "own_images", "dcgan64", image_size=128, random_flip=True, batch_size=64,
       steps=10_000, sample_every=250, quick_overrides=_QUICK_128, **_PYTORCH_STEP)
_rgb64("dcgan128_fast",
       "128x128 on a CPU: resize-convolution G, width 16, batch 32, EMA (few images: DiffAugment)",
       "own_images", image_size=128,
       **{**_FAST, "architecture": "dcgan_resize", "model_width": 16},
       quick_overrides=_QUICK_128)
