"""gan_lib: the small library behind the GAN course notebooks.

    from gan_lib import get_config, train, sample
    run = train(get_config("toy2d"), "outputs/toy2d", resume="auto")
    images = sample("outputs/toy2d", 64)

One module per concept, in folders by layer (docs/ARCHITECTURE.md draws them): ``config``,
``names`` and ``recipes``; ``data`` (datasets and the tf.data pipeline); ``models``;
``training`` (the GAN, its train step, losses and tricks, and ``build``: a GAN from a config);
``run`` (a run from its config to its GIF: ``Run``, ``train``, its folder and files);
``metrics``; ``viz`` (plots, the GIF, latent walks, the explorer).
TensorFlow-heavy names load on first use, so ``import gan_lib`` and the command line are quick.
"""

from gan_lib.backend import check_keras_backend
from gan_lib.config import GANConfig, quick_mode
from gan_lib.errors import GanLibError
from gan_lib.recipes import CONFIGS, get_config

__version__ = "0.1.0"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (through Keras) in one call."""
    import keras

    keras.utils.set_random_seed(seed)


_LAZY = {
    "train": "gan_lib.run.training", "open_run": "gan_lib.run.training", "Run": "gan_lib.run.run",
    "pack_run": "gan_lib.share", "load_run": "gan_lib.share",
    "GAN": "gan_lib.training.gan", "build_gan": "gan_lib.training.build",
    "build_models": "gan_lib.models", "get_loss": "gan_lib.training.losses",
    "load_dataset": "gan_lib.data", "sample_toy": "gan_lib.data",
    "RunFolder": "gan_lib.run.folder", "read_history": "gan_lib.run.history",
    "sample": "gan_lib.run.finished", "sample_from": "gan_lib.run.sampling",
    "evaluate_run": "gan_lib.run.finished", "pick_strategy": "gan_lib.training.distribute",
}


def __getattr__(name):
    import importlib

    if name in _LAZY:
        check_keras_backend()
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    raise AttributeError(f"module 'gan_lib' has no attribute {name!r}")


__all__ = ["CONFIGS", "GANConfig", "GanLibError", "get_config", "quick_mode", "seed_everything",
           *_LAZY]
