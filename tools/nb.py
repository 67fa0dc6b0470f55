"""Helpers to write a new notebook in the shape of the course's lessons; nothing imports them.

The lessons in notebooks/ are edited as notebooks. ``write_notebook(path, cells)`` writes a
new one from (kind, source) cells, e.g. ``[("md", "# 08 · Title"), ("code", "x = 1")]``: no
outputs, the lessons' metadata (Python 3 kernel, Colab with a T4 GPU) and their cell ids
(``cell-00``, ``cell-01``, ...). ``colab_badge(notebook)`` is the "Open In Colab" badge each
lesson's first cell shows, for a notebook in ``REPO``. A new lesson's Setup cell is copied from
an existing lesson (it installs gan_lib from ``GAN_COURSE_REPO`` on Colab).
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = "gan-course/gan-course"  # GitHub owner/name the lessons' Colab badges point at


def colab_badge(notebook: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{notebook}"
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb_cells = []
    for kind, source in cells:
        source = source.strip("\n")
        lines = [line + "\n" for line in source.split("\n")]
        lines[-1] = lines[-1].rstrip("\n")
        if kind == "md":
            nb_cells.append({"cell_type": "markdown", "metadata": {}, "source": lines})
        else:
            nb_cells.append({"cell_type": "code", "execution_count": None, "metadata": {},
                             "outputs": [], "source": lines})
    notebook = {
        "cells": nb_cells,
        "metadata": {
            "accelerator": "GPU",
            "colab": {"provenance": [], "gpuType": "T4"},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, cell in enumerate(nb_cells):
        cell["id"] = f"cell-{i:02d}"
    Path(path).write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
