"""gan_lib: the small library behind the GAN course notebooks.

One module per concept: ``config`` (recipes), ``data`` (datasets and the tf.data pipeline),
``models`` (generators and discriminators), ``losses``, ``train`` (the train step), ``loop``
(training runs that survive restarts), ``viz`` (pictures), ``gif``, ``metrics``.
"""

from gan_lib import recipes  # noqa: F401,E402  (registers the image recipes)
from gan_lib.config import CONFIGS, GANConfig, get_config, quick_mode
from gan_lib.errors import GanLibError

__version__ = "0.1.0"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (through Keras) in one call."""
    import keras

    keras.utils.set_random_seed(seed)


def __getattr__(name):  # TensorFlow-heavy names load on first use, so `import gan_lib` is quick
    import importlib

    lazy = {
        "RunResult": "gan_lib.loop", "GAN": "gan_lib.train",
        "build_gan": "gan_lib.train", "build_models": "gan_lib.models",
        "get_loss": "gan_lib.losses",
        "load_dataset": "gan_lib.data", "sample_toy": "gan_lib.data",
        "read_history": "gan_lib.runs", "sample_run": "gan_lib.sampling",
    }
    if name in lazy:
        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'gan_lib' has no attribute {name!r}")


# (The training loop is ``gan_lib.loop.train``: ``gan_lib.train`` is the train-step module.)
__all__ = ["CONFIGS", "GANConfig", "GanLibError", "get_config", "quick_mode", "seed_everything",
           "RunResult", "GAN", "build_gan", "build_models", "get_loss", "load_dataset",
           "sample_toy", "read_history", "sample_run"]
