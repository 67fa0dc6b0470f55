"""The one check that Keras runs on TensorFlow, gan_lib's train step being TensorFlow code."""

from __future__ import annotations

import os
import sys

from gan_lib.errors import GanLibError


def check_keras_backend() -> None:
    """Refuse another Keras backend in one clear sentence.

    ``KERAS_BACKEND`` is read before Keras loads (an uninstalled backend would end in a
    traceback); once Keras is loaded, its own answer counts too (``~/.keras/keras.json``).
    """
    backend = os.environ.get("KERAS_BACKEND", "tensorflow").strip().lower() or "tensorflow"
    where, fix = "KERAS_BACKEND", "unset it or set it to tensorflow"
    if backend == "tensorflow" and "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
        where, fix = ("Keras' backend (~/.keras/keras.json)",
                      "set KERAS_BACKEND=tensorflow or fix ~/.keras/keras.json")
    if backend != "tensorflow":
        raise GanLibError(f"gan_lib trains with TensorFlow, but {where} is {backend!r}: {fix}, "
                          "then restart Python (on Colab: Runtime > Restart session)")
