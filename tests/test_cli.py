import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_lib.cli import main


def run_cli(*args, env_extra=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "gan_lib", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_list_names_every_config(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    from gan_lib import CONFIGS
    assert [line.split()[0] for line in lines] == sorted(CONFIGS)
    assert any(line.startswith("toy2d") and "ring" in line for line in lines)


@pytest.mark.parametrize("argv,message", [
    (["train", "no_such_config"], "unknown config 'no_such_config'"),
    (["train", "toy2d", "--steps", "0"], "must be positive"),
    (["train", "toy2d", "--steps", "-3"], "must be positive"),
    (["train", "toy2d", "--batch-size", "abc"], "expected a whole number"),
    (["train", "toy2d", "--max-seconds", "-1"], "must be positive"),
    (["train", "toy2d", "--steps-per-execution", "0"], "must be positive"),
    (["train", "toy2d", "--steps", "5", "--epochs", "1"], "not allowed with argument"),
    (["train", "cats64", "--diffaugment", "blur"], "unknown DiffAugment blur"),
    (["train", "toy2d", "--diffaugment", "color"], "is for images, not toy2d"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_folders_give_one_line(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    assert main(["train", "toy2d", "--out", str(tmp_path / "file"), "--steps", "5"]) == 2
    assert "is a file" in capsys.readouterr().err
    # --resume on a folder without a checkpoint starts from step 0 and says so in one line
    assert main(["train", "toy2d", "--out", str(tmp_path / "none"), "--resume", "--steps", "5",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "nothing to resume, no checkpoint yet (a new run): training starts from step 0" in out
    assert "step 5 (steps)" in out
    assert main(["sample", str(tmp_path), "--out", str(tmp_path / "s.npz")]) == 2
    assert "no generator.keras" in capsys.readouterr().err


def test_train_resume_and_sample_end_to_end(tmp_path):
    out = tmp_path / "run"
    first = run_cli("train", "toy2d", "--out", str(out), "--steps", "30", "--no-progress",
                    "--steps-per-execution", "5")
    assert first.returncode == 0, first.stderr
    assert "step 30" in first.stdout
    assert "toy2d: training on default strategy on " in first.stdout  # no TPU, at most one GPU
    assert json.loads((out / "config.json").read_text())["steps_per_execution"] == 5
    second = run_cli("train", "toy2d", "--out", str(out), "--steps", "60", "--resume",
                     "--no-progress", "--one-device")
    assert second.returncode == 0, second.stderr
    assert "step 60" in second.stdout and "training on one device (--one-device)" in second.stdout
    for name in ("config.json", "history.csv", "losses.png", "samples.png", "progress.gif",
                 "generator.keras"):
        assert (out / name).exists()
    header = (out / "history.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["step", "seconds", "d_loss", "g_loss"]

    sampled = run_cli("sample", str(out), "--n", "100", "--out", str(tmp_path / "s.npz"))
    assert sampled.returncode == 0, sampled.stderr
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (100, 2) and images.dtype == np.float32
    assert np.isfinite(images).all()


def test_another_keras_backend_is_one_clear_error():
    done = run_cli("train", "toy2d", "--steps", "5", env_extra={"KERAS_BACKEND": "jax"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: gan_lib trains with TensorFlow, but KERAS_BACKEND is 'jax': unset it or set it "
        "to tensorflow, then restart Python (on Colab: Runtime > Restart session)"]


def test_a_loaded_keras_on_another_backend_is_the_same_clear_error(monkeypatch):
    """The same check, once Keras is loaded with another backend (``~/.keras/keras.json``)."""
    import types

    from gan_lib import GanLibError
    from gan_lib.backend import check_keras_backend

    check_keras_backend()  # this interpreter: TensorFlow
    other = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setitem(sys.modules, "keras", other)
    with pytest.raises(GanLibError, match=r"^gan_lib trains with TensorFlow, but Keras' backend "
                       r"\(~/.keras/keras.json\) is 'jax': set KERAS_BACKEND=tensorflow or fix "
                       r"~/.keras/keras.json, then restart Python"):
        check_keras_backend()
