"""Write a course notebook from a list of (kind, source) cells, without outputs.

Usage from a build script: ``write_notebook(path, [("md", "# Title"), ("code", "x = 1")])``.
Every notebook gets the same metadata: Python 3 kernel, Colab with a GPU accelerator.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = "gan-course/gan-course"  # GitHub owner/name the Colab links and install cells point at


def colab_badge(notebook: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{notebook}"
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")


SETUP = f'''import sys

if "google.colab" in sys.modules:  # on Colab: install gan_lib; locally it is installed already
    !pip install -q "git+https://github.com/{REPO}"
'''


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
