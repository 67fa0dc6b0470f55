"""A trained run packed into one file and loaded elsewhere: from a path, from a local HTTP server
in a fresh process, and refused in one sentence when the file is cut off or changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from gan_lib import GanLibError, get_config, sample, train
from gan_lib.cli import main
from gan_lib.share import MANIFEST, fetch_packed_run, load_run, pack_run


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A quick run (the toy GAN: no dataset needed), trained once, and its packed file with the
    file's SHA-256."""
    root = tmp_path_factory.mktemp("share")
    run = train(get_config("toy2d", quick=True), root / "toy_run", progress=False)
    path, sha256 = pack_run(run.out_dir)
    return run, path, sha256


def test_pack_lists_every_member_with_its_checksum(packed):
    run, path, sha256 = packed
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read(MANIFEST))
        names = set(z.namelist())
    assert names - {MANIFEST} == set(manifest["files"])
    assert {"config.json", "history.csv", "generator.keras", "progress.gif",
            "checkpoints/checkpoint"} <= names
    assert any(n.startswith("frames/step_") for n in names)
    checkpoints = {n for n in names if n.startswith("checkpoints/ckpt-")}
    assert {n.split(".")[0] for n in checkpoints} == {f"checkpoints/ckpt-{run.step}"}  # the last
    assert len(sha256) == 64


def test_training_images_stay_out_of_the_pack(packed, tmp_path):
    """The copy check's picture shows training images (in lesson 08, a student's photos): a packed
    run holds the samples' pictures, never it."""
    run, _, _ = packed
    folder = tmp_path / "run"
    shutil.copytree(run.out_dir, folder)
    (folder / "nearest_neighbours.png").write_bytes(b"training photos")
    (folder / "samples.png").write_bytes(b"samples")
    with zipfile.ZipFile(pack_run(folder, tmp_path / "p.ganrun.zip")[0]) as z:
        names = set(z.namelist())
    assert "samples.png" in names and "nearest_neighbours.png" not in names


def test_loaded_run_is_the_trained_one(packed, tmp_path):
    run, path, sha256 = packed
    loaded = load_run(path, sha256=sha256, cache_dir=tmp_path)
    assert loaded.stopped == "loaded" and loaded.step == run.step
    assert loaded.config.name == run.config.name
    np.testing.assert_array_equal(loaded.history["d_loss"], run.history["d_loss"])
    np.testing.assert_array_equal(loaded.fixed_noise.numpy(), run.fixed_noise.numpy())
    np.testing.assert_allclose(loaded.gan.generate(loaded.fixed_noise[:4]),
                               run.gan.generate(run.fixed_noise[:4]), atol=1e-6)
    np.testing.assert_array_equal(sample(loaded.out_dir, 8), sample(run.out_dir, 8))
    # a second load reuses the unpacked folder
    assert fetch_packed_run(path, sha256, tmp_path) == loaded.out_dir


def test_loads_from_a_local_http_server_in_a_fresh_process(packed, http_folder, tmp_path):
    run, path, sha256 = packed
    www, base = http_folder
    (www / path.name).write_bytes(path.read_bytes())
    code = textwrap.dedent(f"""
        from gan_lib import load_run, sample
        run = load_run("{base}/{path.name}", sha256="{sha256}", cache_dir=r"{tmp_path / 'cache'}")
        points = sample(run.out_dir, 5)
        print("LOADED", run.step, points.shape, points.dtype)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"LOADED {run.step} (5, 2) float32" in out.stdout.splitlines()
    assert len(list((tmp_path / "cache").glob(f"*-{path.name}"))) == 1  # kept: no new download


def test_wrong_checksum_from_the_server_is_one_error(packed, http_folder, tmp_path):
    _, path, _ = packed
    www, base = http_folder
    (www / path.name).write_bytes(path.read_bytes())
    with pytest.raises(GanLibError, match="checksum mismatch"):
        load_run(f"{base}/{path.name}", sha256="0" * 64, cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").rglob("*"))  # nothing half-downloaded left


def test_truncated_file_is_one_error(packed, tmp_path):
    _, path, _ = packed
    cut = tmp_path / "cut.ganrun.zip"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(GanLibError, match="not a complete packed run"):
        load_run(cut, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_tampered_member_is_one_error(packed, tmp_path):
    _, path, sha256 = packed
    tampered = tmp_path / "tampered.ganrun.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "history.csv":
                data = data.replace(b"0.", b"1.", 1)
            dst.writestr(info, data)
    with pytest.raises(GanLibError, match="history.csv does not match its checksum"):
        load_run(tampered, cache_dir=tmp_path / "cache")
    with pytest.raises(GanLibError, match="does not have the SHA-256"):
        load_run(tampered, sha256=sha256, cache_dir=tmp_path / "cache")


def test_a_zip_that_is_not_a_run_and_a_missing_file(tmp_path):
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("cat.png", b"not really")
    with pytest.raises(GanLibError, match="not a packed gan_lib run"):
        load_run(other, cache_dir=tmp_path)
    with pytest.raises(GanLibError, match="no packed run at"):
        load_run(tmp_path / "missing.ganrun.zip", cache_dir=tmp_path)


def test_open_run_needs_a_checkpoint_and_outputs_root_follows_its_variable(packed, tmp_path,
                                                                           monkeypatch):
    from gan_lib import open_run
    from gan_lib.data import outputs_root

    run, _, _ = packed
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((run.out_dir / "config.json").read_text())
    with pytest.raises(GanLibError, match="no checkpoint to open"):
        open_run(bare)
    with pytest.raises(GanLibError, match="no generator.keras"):
        pack_run(bare)
    (bare / "generator.keras").write_bytes((run.out_dir / "generator.keras").read_bytes())
    with pytest.raises(GanLibError, match="no checkpoint to share"):
        pack_run(bare)
    monkeypatch.setenv("GAN_LIB_OUTPUTS", str(tmp_path / "runs"))
    assert outputs_root() == tmp_path / "runs"


def test_a_generator_older_than_the_last_checkpoint_is_not_packed(packed, tmp_path):
    import os
    import shutil

    run, _, _ = packed
    cut = tmp_path / "cut_off"
    shutil.copytree(run.out_dir, cut)
    os.utime(cut / "generator.keras", (1_000_000_000, 1_000_000_000))  # a session killed later
    with pytest.raises(GanLibError, match="older than the last checkpoint"):
        pack_run(cut)


def test_urls_that_share_a_path_are_cached_apart(packed, http_folder, tmp_path):
    _, path, sha256 = packed
    www, base = http_folder
    for folder in ("a", "b"):
        (www / folder).mkdir()
        (www / folder / "uc").write_bytes(path.read_bytes())
    first = fetch_packed_run(f"{base}/a/uc", sha256, tmp_path / "cache")
    second = fetch_packed_run(f"{base}/b/uc", sha256, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*-uc"))) == 2
    assert first == second  # the same file unpacks once: its folder is named by its SHA-256


def test_cli_pack(packed, tmp_path, capsys):
    run, _, _ = packed
    out = tmp_path / "class.ganrun.zip"
    assert main(["pack", str(run.out_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "sha256 " in printed
    assert main(["pack", str(tmp_path / "nothing")]) == 2
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.parametrize("cpu_minutes, trained", [
    (15, ["faces64_fast", "faces64"]),  # a CPU-only runtime: the CPU recipe and the DCGAN
    (None, ["faces64"]),  # a GPU: the three recipes, two of them shared
])
def test_lesson_06_loads_every_shared_run_on_a_cpu_as_on_a_gpu(cpu_minutes, trained, tmp_path):
    """Lesson 06's Train cell with a teacher's runs listed: every shared recipe is loaded, also
    on a CPU runtime, where the cell trains other recipes than on a GPU; the rest are trained."""
    import dataclasses
    from pathlib import Path

    import nbformat

    import gan_lib

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "06_faces_64x64.ipynb"
    cell = next(c.source for c in nbformat.read(notebook, as_version=4).cells
                if c.cell_type == "code" and "TEACHER_RUNS = {}" in c.source)
    shared = {"faces64_upsample": ("serbian.ganrun.zip", "aa"),
              "faces64_rmsprop": ("russian.ganrun.zip", "")}
    calls = []

    class Done:
        step, stopped = 1, "steps"

    def fake_train(config, out_dir, **kwargs):
        calls.append(("train", config.name, config.max_seconds))
        return Done()

    def fake_load_run(source, sha256=None, cache_dir=None):
        calls.append(("load", source, sha256))
        return Done()

    namespace = {"CPU_MINUTES": cpu_minutes, "train": fake_train, "load_run": fake_load_run,
                 "gan_lib": gan_lib, "dataclasses": dataclasses, "RUN_ROOT": tmp_path,
                 "OUT": tmp_path / "06_faces", "strategy": None}
    exec(cell.replace("TEACHER_RUNS = {}", f"TEACHER_RUNS = {shared!r}"), namespace)
    assert sorted(c[1:] for c in calls if c[0] == "load") == [
        ("russian.ganrun.zip", None), ("serbian.ganrun.zip", "aa")]
    seconds = 60 * cpu_minutes if cpu_minutes else None
    assert [c[1:] for c in calls if c[0] == "train"] == [(name, seconds) for name in trained]
    assert set(namespace["runs"]) == set(trained) | set(shared)
