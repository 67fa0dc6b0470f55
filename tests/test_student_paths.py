"""The other ways students go through a lesson, beside nbval's one run top to bottom.

For every notebook, in a fresh output folder:

1. **a CPU-only runtime**: the whole notebook with ``GAN_LIB_CPU_BRANCH_SECONDS`` set, which takes
   the branch a Colab runtime without a GPU takes (lessons 05 and 06 train their CPU recipes
   within a time budget, here a few seconds a run; the other lessons have no such branch and run
   as they would on a GPU);
2. **a restart after a disconnect**, as docs/TEACHING.md tells students: a fresh kernel runs only
   the cells of the "Setup" and "Load the data" sections, then the "Train" section and everything
   after it. Every cell must work, and every run must continue from its checkpoint or find itself
   finished: no run folder goes back to an earlier step. So a Train cell that needs a name from
   "Build the models" or "Define the losses" fails here.

Each notebook runs about twice, so CI runs this on one leg only (Colab's stack, .ci/run), with
``GAN_LIB_STUDENT_PATHS=1``; ``GAN_LIB_STUDENT_PATHS=1 pytest tests/test_student_paths.py``
runs it here.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import warnings
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RESTART_SECTIONS = ("Setup", "Load the data")  # re-run after a restart, then "Train" onwards

pytestmark = pytest.mark.skipif(
    not os.environ.get("GAN_LIB_STUDENT_PATHS"),
    reason="the CPU-only and restart paths run on CI's second leg (GAN_LIB_STUDENT_PATHS=1)")


def cell_sections(cells) -> list[str]:
    """The ``## `` heading each cell stands under; a markdown cell counts under its last one."""
    sections, current = [], ""
    for cell in cells:
        if cell["cell_type"] == "markdown":
            headings = re.findall(r"^## +(.+?)\s*$", cell["source"], flags=re.M)
            current = headings[-1] if headings else current
        sections.append(current)
    return sections


def restart_cells(cells) -> list[int]:
    """The code cells a student re-runs after a restart: Setup, Load the data, Train onwards."""
    sections = cell_sections(cells)
    train = [i for i, s in enumerate(sections) if s.startswith("Train")]
    assert train, "the notebook has no '## Train' section"
    return [i for i, (cell, section) in enumerate(zip(cells, sections))
            if cell["cell_type"] == "code"
            and (section.startswith(RESTART_SECTIONS) or i >= train[0])]


def last_steps(outputs: Path) -> dict[str, int]:
    """Each run folder under ``outputs`` and the last step in its history.csv."""
    steps = {}
    for history in outputs.rglob("history.csv"):
        with open(history, newline="") as f:
            rows = list(csv.DictReader(f))
        steps[str(history.parent.relative_to(outputs))] = int(rows[-1]["step"]) if rows else 0
    return steps


def test_restart_cells_follow_the_sections():
    cells = [{"cell_type": "markdown", "source": "# Title\n## Setup"},
             {"cell_type": "code", "source": "setup"},
             {"cell_type": "markdown", "source": "## Load the data"},
             {"cell_type": "code", "source": "data"},
             {"cell_type": "markdown", "source": "## Build the models"},
             {"cell_type": "code", "source": "build"},
             {"cell_type": "markdown", "source": "text\n\n## Train\nmore text"},
             {"cell_type": "code", "source": "train"},
             {"cell_type": "markdown", "source": "## Look at the results"},
             {"cell_type": "code", "source": "look"}]
    assert restart_cells(cells) == [1, 3, 7, 9]
    with pytest.raises(AssertionError):
        restart_cells(cells[:6])


# Seconds a cell may run: the slowest quick-mode cell takes under a minute on a loaded 2-core CPU.
CELL_TIMEOUT = 240


def execute(nb, indices=None):
    """Run the cells ``indices`` (default all) of ``nb`` in one fresh kernel, outputs kept."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    if indices is None:
        client.execute()
        return
    with client.setup_kernel():
        for i in indices:
            client.execute_cell(nb.cells[i], i)


def execute_once_more_if_stuck(read, indices=None):
    """``execute`` a freshly read notebook; once more, in a new kernel, if a cell got no reply
    within ``CELL_TIMEOUT``. On Colab's stack (Python 3.13) the test client has waited on a kernel
    that had finished its cell and sat idle (2026-12-04, twice in four CI runs, in two different
    notebooks): a lost message between client and kernel, not the lesson's code. A second timeout
    fails the test, as does any error. The runs resume, so the second try finishes them."""
    from nbclient.exceptions import CellTimeoutError

    nb = read()
    try:
        execute(nb, indices)
    except CellTimeoutError as stuck:
        warnings.warn(f"no reply from the kernel in {CELL_TIMEOUT} s ({stuck}); "
                      "running the notebook once more in a fresh kernel", stacklevel=2)
        nb = read()
        execute(nb, indices)
    return nb


def text_of(nb, indices) -> str:
    return "\n".join(out.get("text", "") for i in indices for out in nb.cells[i].get("outputs", [])
                     if out.get("output_type") == "stream")


def test_a_stuck_cell_gets_one_more_fresh_kernel_and_a_second_fails(monkeypatch):
    from nbclient.exceptions import CellTimeoutError

    calls = []

    def stuck(nb, indices=None):
        calls.append(nb)
        if len(calls) <= failures:
            raise CellTimeoutError("Cell execution timed out")

    monkeypatch.setattr(sys.modules[__name__], "execute", stuck)
    failures = 1
    with pytest.warns(UserWarning, match="once more in a fresh kernel"):
        nb = execute_once_more_if_stuck(lambda: {"read": len(calls)})
    assert len(calls) == 2 and nb is calls[1] and nb == {"read": 1}  # read again, then run
    calls.clear()
    failures = 2
    with pytest.warns(UserWarning), pytest.raises(CellTimeoutError):
        execute_once_more_if_stuck(lambda: {})


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_cpu_only_runtime_then_restart(name, tmp_path, monkeypatch):
    import nbformat

    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GAN_LIB_OUTPUTS", str(outputs))  # no run of another test resumed here
    monkeypatch.setenv("GAN_LIB_CPU_BRANCH_SECONDS", "4")
    def read():
        return nbformat.read(NOTEBOOKS / name, as_version=4)

    first = execute_once_more_if_stuck(read)
    before = last_steps(outputs)
    printed = text_of(first, range(len(first.cells)))
    if "CPU_MINUTES" in "".join(c.source for c in first.cells):
        assert "No GPU here" in printed, "the CPU-only branch was not taken"

    cells = restart_cells(first.cells)  # the same notebook file: the same cells
    again = execute_once_more_if_stuck(read, cells)
    after = last_steps(outputs)
    assert "nothing to resume" not in text_of(again, cells), "a run started again from step 0"
    assert after.keys() == before.keys(), "the restart trained other runs than the first pass"
    went_back = {run: (before[run], after[run]) for run in before if after[run] < before[run]}
    assert not went_back, f"runs started again instead of continuing: {went_back}"
