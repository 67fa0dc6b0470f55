"""Test-session settings shared by the unit tests and the notebooks nbval executes.

The whole suite runs in quick mode: notebooks read GAN_LIB_QUICK (inherited by their kernels)
and shrink their training to seconds. TensorFlow's start-up chatter is kept out of the logs.
"""

import os

os.environ.setdefault("GAN_LIB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config, items):
    """The student paths first (each test runs a notebook twice, 20-60 s): pytest-xdist hands
    out tests in this order, so the short unit tests, last, fill in until both workers are done,
    instead of one worker running a long notebook alone at the end. Elsewhere they are skipped."""
    items.sort(key=lambda item: "test_student_paths.py::" not in item.nodeid)
