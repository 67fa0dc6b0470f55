"""Test-session settings shared by the unit tests and the notebooks nbval executes.

The whole suite runs in quick mode: notebooks read GAN_LIB_QUICK (inherited by their kernels)
and shrink their training to seconds. TensorFlow's start-up chatter is kept out of the logs.
"""

import os

os.environ.setdefault("GAN_LIB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
