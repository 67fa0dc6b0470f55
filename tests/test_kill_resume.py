"""Kill training for real (SIGKILL) at random moments and in every phase, resume, lose nothing.

Each session is a child process running ``gan_lib.train(..., resume="auto")`` on a small
toy2d config. It is killed either by this test after a seeded random amount of training, or by
itself at a chosen point (the k-th checkpoint state update, GIF frame, file rename, ...), the
way a Colab runtime dies: no ``finally``, no flush. After each kill the checkpoint state must
name a complete checkpoint and the next session must start from it; after the last session the
run folder must be whole: history without gaps or duplicates, one frame per sample step, a
valid GIF, a checkpoint that restores, ``generator.keras`` that loads, no temporary files.

The default test makes 3 kills; the slow one makes 24 (``GAN_LIB_SLOW=1 pytest -m slow``;
``GAN_LIB_KILL_SEED=N`` picks other random moments). Tests that use strace to kill inside
TensorFlow's checkpoint writer fall back to other kills where strace (ptrace) is unavailable.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gan_lib.run.history import read_history

REPO = Path(__file__).resolve().parents[1]
SLOW = os.environ.get("GAN_LIB_SLOW", "").strip() not in ("", "0")
LAUNCH_TIMEOUT = 600  # seconds for one session (a loaded 2-core CI machine is slow)

# The child: small toy2d run, optional self-kill hook, resume="auto" (as a notebook re-run).
CHILD = r'''
import dataclasses, fnmatch, json, os, signal, sys
out, overrides, kill_at, starts, session = sys.argv[1], json.loads(sys.argv[2]), *sys.argv[3:]
name, _, rest = kill_at.partition(":")
pattern, _, count = rest.rpartition(":") if name == "replace" else ("", "", rest)
count = int(count or 0)
calls = [0]

def due():
    calls[0] += 1
    return calls[0] == count

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import gan_lib.viz.gif as gif
import gan_lib.run.run as run_module
import gan_lib.run.training as training
from tensorflow.python.checkpoint import checkpoint_management as cm
from gan_lib import get_config

build_gan = run_module.build_gan

def build_and_watch(config, strategy=None):
    gan = build_gan(config, strategy)
    step_fn = gan.train_step
    def train_step(batch):
        if not hasattr(train_step, "seen"):  # the first step after restoring: where we start
            train_step.seen = True
            with open(starts, "a") as f:
                f.write(f"{session} {int(gan.step.numpy())}\n")
        metrics = step_fn(batch)
        if name == "step" and due():  # weights updated in memory, nothing saved yet
            die()
        return metrics
    gan.train_step = train_step
    return gan
run_module.build_gan = build_and_watch

if name == "state":  # checkpoint data and index written, the state file not yet updated
    update = cm.update_checkpoint_state_internal
    def update_or_die(*a, **k):
        if due():
            die()
        return update(*a, **k)
    cm.update_checkpoint_state_internal = update_or_die
elif name == "sweep":  # between deleting an old checkpoint's index and its data
    delete = cm._delete_file_if_exists
    def delete_then_die(*a, **k):
        delete(*a, **k)
        if due():
            die()
    cm._delete_file_if_exists = delete_then_die
elif name == "gif":  # halfway through encoding the GIF into its temporary file
    images = gif._images
    def images_then_die(*a, **k):
        for image in images(*a, **k):
            yield image
            if due():
                die()
    gif._images = images_then_die
elif name == "replace":  # a file fully written under its temporary name, not yet renamed
    replace = os.replace
    def replace_or_die(src, dst, *a, **k):
        if fnmatch.fnmatch(os.path.basename(os.fspath(dst)), pattern) and due():
            die()
        return replace(src, dst, *a, **k)
    os.replace = replace_or_die

overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
config = dataclasses.replace(get_config("toy2d", quick=False), **overrides)
result = training.train(config, out, resume="auto", progress=False)
print(f"finished at step {result.step}")
'''

# Fast toy2d settings with a log row, a frame or a checkpoint every few steps, so random kills
# land in every phase; one step per call, so a kill can land between any two steps.
SMALL = {"log_every": 5, "sample_every": 10, "checkpoint_every": 10, "keep_checkpoints": 3,
         "num_train": 512, "batch_size": 64, "num_fixed": 64, "g_hidden": [32, 32],
         "steps_per_execution": 1}


class KillHarness:
    """Launches sessions of one run, kills them, and checks the run folder after each."""

    def __init__(self, tmp_path: Path, overrides: dict, seed: int):
        self.run = tmp_path / "run"
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.child = tmp_path / "child.py"
        self.child.write_text(CHILD)
        self.starts = tmp_path / "starts.txt"
        self.overrides = overrides
        self.steps = overrides["steps"]
        self.rng = np.random.default_rng(seed)
        self.expected_starts: dict[int, int] = {}  # session -> last checkpoint before it
        self.kills: list[str] = []  # what each kill hit
        self.sessions = 0

    def latest_step(self) -> int:
        """Step of the checkpoint the state file names (0 without one)."""
        state = self.run / "checkpoints" / "checkpoint"
        if not state.exists():
            return 0
        found = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', state.read_text(), re.M)
        assert found, state.read_text()
        return int(found.group(1))

    def launch(self, kill_at: str = "none", strace_index: int | None = None):
        """Start one session; ``strace_index``: SIGKILL it when it first writes to
        ``ckpt-<strace_index>.index`` (opened and truncated, nothing written yet)."""
        self.sessions += 1
        self.expected_starts[self.sessions] = self.latest_step()
        cmd = [sys.executable, str(self.child), str(self.run), json.dumps(self.overrides),
               kill_at, str(self.starts), str(self.sessions)]
        if strace_index is not None:  # inside TensorFlow's C++: strace delivers the signal
            index = self.run / "checkpoints" / f"ckpt-{strace_index}.index"
            cmd = ["strace", "-f", "-qq", "-o", os.devnull, "-e", "signal=none",
                   "-e", "trace=write,pwrite64,writev", "-P", str(index),
                   "-e", "inject=write,pwrite64,writev:signal=KILL:when=1", *cmd]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
        with open(self.logs / f"session_{self.sessions:02d}.log", "w") as log:
            return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, proc, what: str) -> bool:
        """Wait for a session; True if it was SIGKILLed, False if it finished."""
        try:
            code = proc.wait(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"session {self.sessions} ({what}) hung")
        if code == -signal.SIGKILL:
            self.kills.append(what)
            self.check_after_kill()
            return True
        log = (self.logs / f"session_{self.sessions:02d}.log").read_text()
        assert code == 0, f"session {self.sessions} ({what}) failed:\n{log[-3000:]}"
        return False

    def kill_after_training_to(self, target: int) -> bool:
        """Run a session and SIGKILL it a random moment after it logged step ``target``."""
        proc = self.launch()
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            history = read_history(self.run / "history.csv")
            if len(history.get("step", [])) and history["step"].max() >= target:
                time.sleep(self.rng.uniform(0.0, 0.05))
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        return self.wait(proc, f"random:after step {target}")

    def kill_at(self, kill_at: str, **kw) -> bool:
        return self.wait(self.launch(kill_at, **kw), kill_at)

    def check_after_kill(self) -> None:
        """Whatever a kill interrupted, the state file names a complete, readable checkpoint."""
        if (self.run / "checkpoints" / "checkpoint").exists():
            _read_every_tensor(self.run / "checkpoints" / f"ckpt-{self.latest_step()}")

    def check_finished_run(self) -> None:
        run, o = self.run, self.overrides
        # Every session that trained started from the last checkpoint before it.
        starts = dict(map(int, line.split()) for line in self.starts.read_text().splitlines())
        assert starts and starts == {s: self.expected_starts[s] for s in starts}, starts
        history = read_history(run)
        np.testing.assert_array_equal(history["step"],
                                      np.arange(o["log_every"], self.steps + 1, o["log_every"]))
        assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
        frames = sorted((run / "frames").iterdir())
        assert [p.name for p in frames] == [
            f"step_{s:07d}.png" for s in range(0, self.steps + 1, o["sample_every"])]
        from PIL import Image
        with Image.open(run / "progress.gif") as gif:
            assert gif.n_frames == len(frames)  # one GIF frame per frame file
            for i in range(gif.n_frames):
                gif.seek(i)
                gif.load()
        assert self.latest_step() == self.steps
        values = _read_every_tensor(run / "checkpoints" / f"ckpt-{self.steps}")
        assert int(values["gan/step/.ATTRIBUTES/VARIABLE_VALUE"]) == self.steps
        kept = {p.name.split(".")[0] for p in (run / "checkpoints").glob("ckpt-*")}
        assert len(kept) <= o["keep_checkpoints"] and f"ckpt-{self.steps}" in kept
        leftovers = [str(p.relative_to(run)) for p in run.rglob("*")
                     if re.search(r"(^\.tmp|\.tmp|_temp$|tempstate|^\.write_test)", p.name)]
        assert not leftovers, leftovers
        import keras
        generator = keras.models.load_model(run / "generator.keras")
        points = generator.predict(np.zeros((5, 2), np.float32), verbose=0)
        assert points.shape == (5, 2) and np.isfinite(points).all()


def _read_every_tensor(prefix: Path) -> dict[str, np.ndarray]:
    """Read a checkpoint in full: the index parses and every tensor passes its checksum."""
    import tensorflow as tf
    reader = tf.train.load_checkpoint(str(prefix))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


def test_three_kills_in_three_phases_lose_nothing(tmp_path):
    h = KillHarness(tmp_path, {**SMALL, "steps": 40}, seed=0)
    # 1. Killed with ckpt-20's data and index written but the state file still on ckpt-10.
    assert h.kill_at("state:3")
    assert h.latest_step() == 10 and (h.run / "checkpoints" / "ckpt-20.index").exists()
    # 2. Killed at a random moment after some training.
    assert h.kill_after_training_to(int(h.rng.integers(15, 35)))
    # 3. Killed in the end phase, with the GIF half streamed into its temporary file.
    assert h.kill_at("gif:2")
    assert h.latest_step() == 40
    # The last session only rewrites the outputs. It must not save ckpt-40 again: TensorFlow
    # would truncate the .index the state names, and a kill then leaves an unreadable run;
    # strace kills it at such a write, if one happens (check_after_kill then fails).
    assert not h.kill_at("none", strace_index=40 if _can_strace() else None)
    assert len(h.kills) == 3
    h.check_finished_run()


@functools.cache
def _can_strace() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"],
                           capture_output=True, timeout=60)
    return probe.returncode == 0  # ptrace may be forbidden in a container


# Kills while training (each session gets a little further), then kills in the end phase.
TRAINING_KILLS = (["random"] * 6 + ["step"] * 2 + ["state"] * 3 + ["sweep"] * 2
                  + ["frame"] * 2 + ["index"] * 2 + ["config", "history"])
END_KILLS = ["gif"] * 3 + ["gif_rename", "generator"]
RENAMED = {"frame": "step_*.png", "gif_rename": "progress.gif", "generator": "generator.keras",
           "config": "config.json", "history": "history.csv"}


@pytest.mark.slow
def test_twenty_kills_at_random_moments_and_in_every_phase(tmp_path, request):
    wanted = request.config.getoption("markexpr", "") or ""
    if not SLOW and not ("slow" in wanted and "not slow" not in wanted):
        pytest.skip("slow (~25 sessions): run with GAN_LIB_SLOW=1 pytest -m slow")
    steps, every = 400, SMALL["checkpoint_every"]
    seed = int(os.environ.get("GAN_LIB_KILL_SEED", "1"))  # another seed, other moments
    h = KillHarness(tmp_path, {**SMALL, "steps": steps}, seed=seed)
    training = list(h.rng.permutation(TRAINING_KILLS))
    if not _can_strace():
        training = [p if p != "index" else "state" for p in training]
    for phase in training + list(h.rng.permutation(END_KILLS)):
        start, k = h.latest_step(), int(h.rng.integers(1, 5))
        if phase == "random":  # a seeded random moment after some new training
            h.kill_after_training_to(min(steps, start + int(h.rng.integers(1, 30))))
        elif phase == "step":  # weights updated in memory, nothing written yet
            h.kill_at(f"step:{k * 7}")
        elif phase in ("state", "sweep"):
            h.kill_at(f"{phase}:{k}")
        elif phase == "index":  # the next checkpoint's index opened, nothing written yet
            h.kill_at("index", strace_index=min(steps, start + every))
        elif phase == "gif":
            h.kill_at(f"gif:{int(h.rng.integers(1, steps // SMALL['sample_every'] + 5))}")
        else:  # a file complete under its temporary name, not renamed yet
            h.kill_at(f"replace:{RENAMED[phase]}:{k if phase == 'frame' else 1}")
        if phase in END_KILLS:  # the end phase comes after the last step
            assert h.latest_step() == steps
    assert not h.kill_at("none")  # let the run finish
    kinds = [k.split(":")[0] for k in h.kills]
    print(f"\n{len(h.kills)} of {len(h.kills)} kills survived, nothing lost, in {h.sessions} "
          f"sessions: " + ", ".join(f"{p} x{kinds.count(p)}" for p in sorted(set(kinds))))
    assert len(h.kills) >= 20
    h.check_finished_run()


def test_a_cut_off_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, tiny_toy):
    from gan_lib import train
    from gan_lib.errors import GanLibError

    run = tmp_path / "run"
    train(tiny_toy, run, progress=False)  # checkpoints at 20 and 40
    # What a kill during an in-place rewrite of ckpt-40.index leaves (seen with strace above).
    (run / "checkpoints" / "ckpt-40.index").write_bytes(b"")
    # ... and what other killed writes leave behind.
    planted = [run / ".tmp_progress.gif", run / ".tmp_generator.keras",
               run / ".tmp_history.csv", run / ".tmp_config.json", run / ".tmp_write_test",
               run / "frames" / ".tmp_step_0000040.png",
               run / "checkpoints" / "checkpoint.tmp0123abcd",
               run / "checkpoints" / "ckpt-60.data-00000-of-00001.tempstate123"]
    for path in planted:
        path.write_bytes(b"half")
    (run / "checkpoints" / "ckpt-60_temp").mkdir()
    (run / "notes.tmp").write_text("the user's, not ours: kept")
    cut_off = r"resuming from ckpt-20; the newer ckpt-40 \(file is too short"
    with pytest.warns(UserWarning, match=cut_off):
        result = train(tiny_toy, run, resume=True, progress=False)
    assert result.step == 40
    assert not [p for p in planted if p.exists()]
    assert not (run / "checkpoints" / "ckpt-60_temp").exists()
    assert (run / "notes.tmp").exists()
    np.testing.assert_array_equal(read_history(run)["step"], np.arange(5, 41, 5))
    assert _read_every_tensor(run / "checkpoints" / "ckpt-40")[
        "gan/step/.ATTRIBUTES/VARIABLE_VALUE"] == 40

    for index in (run / "checkpoints").glob("*.index"):
        index.write_bytes(b"")
    with pytest.raises(GanLibError, match=r"no checkpoint in .* can be read: ckpt-40 .*new --out"):
        train(tiny_toy, run, resume=True, progress=False)


def test_config_json_is_replaced_whole(tmp_path, tiny_toy, monkeypatch):
    """A session killed while rewriting config.json leaves the old one (write-then-rename)."""
    import gan_lib.run.folder as run_folder

    folder = run_folder.RunFolder(tmp_path)
    folder.write_config(tiny_toy)

    def killed(src, dst):
        raise KeyboardInterrupt  # stands in for the kill: the rename never happens
    monkeypatch.setattr(run_folder.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        folder.write_config(tiny_toy)
    monkeypatch.undo()
    assert folder.read_config() == tiny_toy
    assert not list(tmp_path.glob(".tmp_*"))  # the failed write left nothing behind


def test_killed_before_its_first_checkpoint_the_same_command_with_resume_continues(tmp_path):
    """SIGKILL a CLI run a few steps in (long before any checkpoint), then run the same command
    with --resume: it starts again from step 0, says so in one line, and finishes."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "gan_lib", "train", "toy2d", "--out", str(run),
           "--no-progress", "--steps-per-execution", "1"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd + ["--steps", "900"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        if len(read_history(run).get("step", [])):  # training has begun: kill it now
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=LAUNCH_TIMEOUT) == -signal.SIGKILL
    assert not (run / "checkpoints" / "checkpoint").exists()  # killed before the first one
    done = subprocess.run(cmd + ["--steps", "60", "--resume"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("nothing to resume, no checkpoint yet (the run stopped before "
                             "its first one): training starts from step 0") == 1
    assert "step 60 (steps)" in done.stdout
    np.testing.assert_array_equal(read_history(run)["step"], np.arange(10, 61, 10))
    assert [p.name for p in sorted((run / "frames").iterdir())] == [
        "step_0000000.png", "step_0000060.png"]  # the killed session's frames are gone
