"""Where datasets are: an explicit folder, else ``GAN_LIB_DATA``, else the project's ``data/``."""

from __future__ import annotations

import os
from pathlib import Path

from gan_lib.errors import GanLibError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _project_or_cwd(folder: str) -> Path:
    """``<checkout>/folder`` when gan_lib runs from a checkout, else ``./folder``."""
    in_checkout = (PROJECT_ROOT / folder).is_dir() and (PROJECT_ROOT / "gan_lib").is_dir()
    return PROJECT_ROOT / folder if in_checkout else Path.cwd() / folder


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The dataset root: one sub-folder per dataset (``mnist/``, ``cat_faces/`` ...).

    Args:
        root: explicit folder; if None, ``$GAN_LIB_DATA``; if unset, the project's ``data/``
            (or ``./data`` when gan_lib is installed from pip, as in Colab).
    """
    if root is None:
        root = os.environ.get("GAN_LIB_DATA") or _project_or_cwd("data")
    return Path(root).expanduser()


def outputs_root() -> Path:
    """Where runs are written by default: ``$GAN_LIB_OUTPUTS`` if set, else the project's
    ``outputs/`` (or ``./outputs`` when gan_lib is installed from pip)."""
    root = os.environ.get("GAN_LIB_OUTPUTS")
    return Path(root).expanduser() if root else _project_or_cwd("outputs")


def dataset_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """``<data root>/<name>``, which must exist; the error says where it was looked for."""
    path = data_root(root) / name
    if not path.is_dir():
        raise GanLibError(
            f"dataset folder not found: {path} (set --data or GAN_LIB_DATA to a folder that "
            f"holds {name}/, or see data/README.md for how to get it)"
        )
    return path
