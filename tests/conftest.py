import dataclasses
import os
from pathlib import Path

import pytest

from gan_lib.config import get_config


@pytest.fixture
def shared_data() -> Path:
    """The offline datasets root (GAN_LIB_DATA); tests that need it skip without it."""
    root = os.environ.get("GAN_LIB_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    return Path(root)


@pytest.fixture
def tiny_toy():
    """toy2d shrunk to a handful of steps: for loop mechanics, not quality."""
    return dataclasses.replace(get_config("toy2d", quick=False), steps=40, log_every=5,
                               sample_every=20, checkpoint_every=20, num_train=512,
                               batch_size=64, num_fixed=64)
