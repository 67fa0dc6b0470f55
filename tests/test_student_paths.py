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
POLL_SECONDS = 1.0  # the longest a reply already on the socket waits to be read (below)


def polled_kernel_manager():
    """nbclient's kernel manager, with channels that look at their socket every ``POLL_SECONDS``.

    nbclient waits for a reply with one asyncio poll of a zmq socket, as long as the cell may run.
    On Colab's stack (Python 3.13, pyzmq 27) that poll twice missed its wake-up (2026-12-04, CI's
    second leg): the reply was on the socket, the kernel sat idle, and the poll saw the reply only
    when its timeout ran out (pyzmq then polls once more without waiting), so a 5-second cell
    returned after exactly ``CELL_TIMEOUT``. zmq's file descriptors are edge-triggered: a missed
    edge is never signalled again. Polling in slices bounds what a missed wake-up costs."""
    import time
    from queue import Empty

    from jupyter_client import AsyncKernelClient, AsyncKernelManager
    from jupyter_client.channels import AsyncZMQSocketChannel
    from traitlets import Type, default

    class PolledChannel(AsyncZMQSocketChannel):
        async def get_msg(self, timeout=None):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = POLL_SECONDS if deadline is None else deadline - time.monotonic()
                if await self.socket.poll(int(1000 * max(0.0, min(POLL_SECONDS, left)))):
                    return await self._recv()
                if deadline is not None and time.monotonic() >= deadline:
                    raise Empty

    class PolledClient(AsyncKernelClient):
        shell_channel_class = iopub_channel_class = Type(PolledChannel)
        stdin_channel_class = control_channel_class = Type(PolledChannel)

    class PolledKernelManager(AsyncKernelManager):
        @default("client_factory")
        def _polled_client(self):
            return PolledClient

    return PolledKernelManager


def execute(nb, indices=None):
    """Run the cells ``indices`` (default all) of ``nb`` in one fresh kernel, outputs kept."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            kernel_manager_class=polled_kernel_manager(),
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    if indices is None:
        client.execute()
        return
    with client.setup_kernel():
        for i in indices:
            client.execute_cell(nb.cells[i], i)


def test_a_reply_whose_wake_up_was_missed_is_read_at_the_next_poll(monkeypatch):
    import asyncio
    from queue import Empty

    import zmq
    import zmq.asyncio

    monkeypatch.setattr(sys.modules[__name__], "POLL_SECONDS", 0.05)  # a quick test
    channel_class = polled_kernel_manager()().client_factory.shell_channel_class.default_value

    class MissedWakeUp(zmq.asyncio.Socket):
        """A socket with a reply waiting whose first ``missed`` polls wait their whole timeout."""
        polls: list
        missed: int

        def poll(self, timeout=None, flags=zmq.POLLIN):
            self.polls.append(timeout)
            async def answer():
                await asyncio.sleep(timeout / 1000)
                return 0 if len(self.polls) <= self.missed else zmq.POLLIN
            return answer()

    async def receive(timeout, missed=2):
        socket = MissedWakeUp(zmq.asyncio.Context.instance(), zmq.DEALER)
        socket.polls, socket.missed = [], missed
        channel = channel_class(socket, session=None)
        channel._recv = lambda: asyncio.sleep(0, result={"msg": "reply"})
        try:
            return await channel.get_msg(timeout=timeout), socket.polls
        finally:
            socket.close(linger=0)

    for timeout in (None, CELL_TIMEOUT):  # nbclient waits for output without a timeout
        msg, polls = asyncio.run(receive(timeout))
        assert msg == {"msg": "reply"} and polls == [50, 50, 50]
    with pytest.raises(Empty):  # a cell's timeout still ends the wait
        asyncio.run(receive(0.2, missed=10**6))


def text_of(nb, indices) -> str:
    return "\n".join(out.get("text", "") for i in indices for out in nb.cells[i].get("outputs", [])
                     if out.get("output_type") == "stream")


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_cpu_only_runtime_then_restart(name, tmp_path, monkeypatch):
    import nbformat

    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GAN_LIB_OUTPUTS", str(outputs))  # no run of another test resumed here
    monkeypatch.setenv("GAN_LIB_CPU_BRANCH_SECONDS", "4")
    first = nbformat.read(NOTEBOOKS / name, as_version=4)
    execute(first)
    before = last_steps(outputs)
    printed = text_of(first, range(len(first.cells)))
    if "CPU_MINUTES" in "".join(c.source for c in first.cells):
        assert "No GPU here" in printed, "the CPU-only branch was not taken"

    cells = restart_cells(first.cells)
    again = nbformat.read(NOTEBOOKS / name, as_version=4)  # a fresh copy: no outputs yet
    execute(again, cells)
    after = last_steps(outputs)
    assert "nothing to resume" not in text_of(again, cells), "a run started again from step 0"
    assert after.keys() == before.keys(), "the restart trained other runs than the first pass"
    went_back = {run: (before[run], after[run]) for run in before if after[run] < before[run]}
    assert not went_back, f"runs started again instead of continuing: {went_back}"
