"""A cold start: a notebook's first data cell, on a runtime with no data and no network, stops
with one sentence that says what to do (no traceback), as on a fresh Colab runtime offline."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DEAD = "http://127.0.0.1:9"  # a closed port: every download fails at once, network or not


@pytest.mark.parametrize("name, data_cell, says", [
    ("02_mnist_mlp_gan", 'load_images("mnist")', "By hand: put train-images-idx3-ubyte.gz"),
    ("05_cats_64x64", "load_cat_faces(download=True)", "could not download"),
])
def test_first_data_cell_without_data_or_network_says_what_to_do(name, data_cell, says,
                                                                 tmp_path, monkeypatch):
    empty = tmp_path / "data"
    empty.mkdir()
    for key, value in {"GAN_LIB_DATA": str(empty), "GAN_LIB_QUICK": "1", "http_proxy": DEAD,
                       "https_proxy": DEAD, "HTTP_PROXY": DEAD, "HTTPS_PROXY": DEAD}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and data_cell in c.source)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=dict(os.environ)):
        for index in range(first):
            if nb.cells[index].cell_type == "code":
                client.execute_cell(nb.cells[index], index)
        with pytest.raises(CellExecutionError):
            client.execute_cell(nb.cells[first], first)
    errors = [o for o in nb.cells[first].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename in ("GanLibError", "DownloadError")
    assert len(errors[0].traceback) == 1, errors[0].traceback  # one line, no traceback
    line = errors[0].traceback[0]
    assert line.startswith(f"{errors[0].ename}: ") and says in line and str(empty) in line
    assert "Traceback" not in line and "\n" not in line


def test_a_gan_lib_error_in_ipython_is_its_sentence_and_another_error_its_traceback():
    """IPython's own shell (no kernel, no notebook): GanLibError renders as one line."""
    script = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="NoColor")
        shell.run_cell("from gan_lib.errors import GanLibError")
        print("@@ next cell @@")
        shell.run_cell("def f():\\n    raise GanLibError('no data in data/: put it there')\\nf()")
        print("@@ next cell @@")
        shell.run_cell("1 / 0")
    """)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    _, ours, other = done.stdout.split("@@ next cell @@\n")
    assert ours.strip().splitlines() == ["GanLibError: no data in data/: put it there"]
    assert "Traceback" in other and "ZeroDivisionError" in other
