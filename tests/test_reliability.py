"""Reliability gaps the unit tests leave: a messy image folder trained on end to end, divergence
keeping the last good checkpoint, and command-line mistakes about folders and numbers."""

from __future__ import annotations

import dataclasses
import os
import re
import warnings

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gan_lib import build_gan, get_config, train
from gan_lib.cli import main
from gan_lib.errors import GanLibError
from gan_lib.run.history import read_history

# Solid colours, none its own BGR mirror, so a swapped channel order cannot pass.
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255),
           "orange": (255, 128, 0), "teal": (0, 128, 255)}


def _messy_cat_folder(folder, unreadable_images) -> tuple[dict[str, tuple], int]:
    """Every kind of file a student's folder holds; returns (readable: colour, unreadable count)."""
    folder.mkdir(parents=True)
    readable = {}
    for name, rgb in COLOURS.items():
        Image.new("RGB", (80, 60), rgb).save(folder / f"{name}.png")
        readable[f"{name}.png"] = rgb
    Image.new("L", (64, 64), 200).save(folder / "grey.jpg", quality=95)
    readable["grey.jpg"] = (200, 200, 200)
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[...] = (255, 0, 0, 255)
    Image.fromarray(rgba).save(folder / "rgba.png")
    readable["rgba.png"] = (255, 0, 0)
    palette = Image.new("P", (64, 64), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    palette.save(folder / "palette.png")
    readable["palette.png"] = (0, 255, 0)
    Image.fromarray(np.full((64, 64), 65535, np.uint16)).save(folder / "white16.png")
    readable["white16.png"] = (255, 255, 255)
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(folder / "cmyk.jpg", quality=95)
    readable["cmyk.jpg"] = (255, 0, 0)
    Image.new("RGB", (8, 8), (0, 0, 255)).save(folder / "tiny.png")
    readable["tiny.png"] = (0, 0, 255)
    big = Image.new("RGB", (6000, 4000), (255, 128, 0))
    big.save(folder / "huge.jpg", quality=90)
    readable["huge.jpg"] = (255, 128, 0)

    unreadable = unreadable_images(folder, np.random.default_rng(0))
    locked = folder / "locked.png"
    Image.new("RGB", (64, 64), (9, 9, 9)).save(locked)
    os.chmod(locked, 0)
    if os.access(locked, os.R_OK):  # root reads it anyway
        readable["locked.png"] = (9, 9, 9)
    else:
        unreadable += 1
    return readable, unreadable


def test_a_messy_image_folder_trains_end_to_end(tmp_path, unreadable_images):
    root = tmp_path / "data"
    readable, unreadable = _messy_cat_folder(root / "cat_faces", unreadable_images)
    config = dataclasses.replace(get_config("cats64", quick=True), steps=4, log_every=2,
                                 sample_every=2, checkpoint_every=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(config, tmp_path / "run", data_root=root, progress=False)
        from gan_lib.data import load_dataset
        data = load_dataset(config, root)  # again, as a notebook re-run does: from the cache
    os.chmod(root / "cat_faces" / "locked.png", 0o644)

    skips = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(skips) == 1, skips
    total = len(readable) + unreadable
    assert f"skipped {unreadable} of {total} image files" in skips[0]
    assert re.search(r"corrupt\.jpg|empty\.jpg|loop_a\.jpg", skips[0])
    assert result.step == 4 and data.num_examples == len(readable)
    history = read_history(tmp_path / "run")
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    assert (tmp_path / "run" / "generator.keras").exists()

    # Decoded in RGB order: the solid PNGs exactly, the JPEGs within compression error.
    from gan_lib.data.images import load_image_folder
    decoded = load_image_folder(root / "cat_faces", 64, progress=False)  # the cached array
    assert decoded.shape == (len(readable), 64, 64, 3) and decoded.dtype == np.uint8
    for image, name in zip(decoded, sorted(readable)):
        centre = np.median(image[16:48, 16:48].reshape(-1, 3), axis=0)
        tolerance = 0 if name.endswith(".png") else 30
        assert np.abs(centre - readable[name]).max() <= tolerance, (name, centre)

    # What the discriminator sees: float32 [8, 64, 64, 3], the same images scaled to [-1, 1].
    reference = decoded.astype(np.float32) / 127.5 - 1.0
    reference = np.concatenate([reference, reference[:, :, ::-1]])  # random flips
    for batch in data.dataset.take(3):
        assert batch.dtype == tf.float32 and batch.shape == (8, 64, 64, 3)
        images = batch.numpy()
        assert images.min() >= -1.0 and images.max() <= 1.0
        for image in images:
            assert np.abs(reference - image).max(axis=(1, 2, 3)).min() < 1e-6


def test_divergence_keeps_the_last_good_checkpoint_and_its_outputs(tmp_path, tiny_toy):
    # Five sane steps, then a learning rate that blows the toy GAN up within a few steps.
    sane = dataclasses.replace(tiny_toy, steps=5, log_every=1, checkpoint_every=1)
    config = dataclasses.replace(sane, g_learning_rate=1e12, d_learning_rate=1e12, beta_1=0.0,
                                 steps=200)
    run = tmp_path / "run"
    train(sane, run, progress=False)
    with pytest.raises(GanLibError, match=r"diverged at step (\d+)") as info:
        train(config, run, resume=True, progress=False)
    bad_step = int(re.search(r"diverged at step (\d+)", str(info.value)).group(1))
    # The loss at step s is computed from the weights saved at step s - 1: those are broken,
    # the last good checkpoint is the one before, and a resume must start there.
    last_good = tf.train.latest_checkpoint(str(run / "checkpoints"))
    assert last_good.endswith(f"ckpt-{bad_step - 2}") and last_good in str(info.value)

    history = read_history(run)
    assert history["step"][-1] == bad_step
    losses = np.stack([history["d_loss"], history["g_loss"]])
    assert not np.isfinite(losses[:, -1]).all() and np.isfinite(losses[:, :-1]).all()
    for name in ("samples.png", "losses.png", "progress.gif", "generator.keras"):
        assert (run / name).exists(), name

    # generator.keras holds the last good weights (finite), not the broken ones.
    gan = build_gan(config)
    tf.train.Checkpoint(gan=gan).restore(last_good).expect_partial()
    import keras
    saved = keras.models.load_model(run / "generator.keras").get_weights()
    for a, b in zip(saved, gan.sampling_generator.get_weights()):
        assert np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)

    # A resume with a sane learning rate continues from the last good step; the bad row goes.
    calm = dataclasses.replace(sane, steps=bad_step + 3)
    resumed = train(calm, run, resume=True, progress=False)
    assert resumed.step == bad_step + 3
    assert np.isclose(float(resumed.gan.g_optimizer.learning_rate.numpy()), 1e-3)  # not 1e12
    np.testing.assert_array_equal(read_history(run)["step"], np.arange(1, bad_step + 4))
    assert np.isfinite(read_history(run)["d_loss"]).all()


def test_divergence_before_any_checkpoint_says_so(tmp_path, tiny_toy):
    config = dataclasses.replace(tiny_toy, g_learning_rate=1e12, d_learning_rate=1e12,
                                 beta_1=0.0, steps=200, log_every=1, checkpoint_every=100)
    with pytest.raises(GanLibError, match="no checkpoint before it is known to be good.*lower"):
        train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "generator.keras").exists()  # no broken weights shipped
    assert len(read_history(tmp_path / "run")["step"]) >= 1


def test_output_folder_that_cannot_be_written(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    assert main(["train", "toy2d", "--out", str(tmp_path / "file" / "run"), "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "cannot write to output folder" in err and "Traceback" not in err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes")
        assert main(["train", "toy2d", "--out", str(locked / "run"), "--steps", "5"]) == 2
        assert "cannot write to output folder" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_negative_seed_is_one_line(capsys, tmp_path):
    assert main(["train", "toy2d", "--out", str(tmp_path / "r"), "--steps", "5",
                 "--seed", "-5"]) == 2
    assert "seed" in capsys.readouterr().err


def test_a_history_from_an_older_gan_lib_is_migrated_by_column_name(tmp_path):
    from gan_lib.run.history import HistoryFile

    path = tmp_path / "history.csv"
    path.write_text("step,seconds,d_loss,g_loss,old_metric\n"
                    "10,1.5,0.7,0.9,3\n20,3.0,0.6,1.1,4\n30,4.5,0.5,1.2,5\n")
    history = HistoryFile(path, ("d_loss", "g_loss", "d_grad_norm"))
    with pytest.warns(UserWarning, match=r"added empty columns \['d_grad_norm'\]; "
                                         r"dropped columns \['old_metric'\]"):
        history.truncate_after(20)  # resuming from the checkpoint at step 20
    history.append({"step": 30, "seconds": 5.0, "d_loss": 0.4, "g_loss": 1.3,
                    "d_grad_norm": 2.5})
    data = read_history(path)
    np.testing.assert_array_equal(data["step"], [10, 20, 30])
    np.testing.assert_array_equal(data["g_loss"], [0.9, 1.1, 1.3])
    assert np.isnan(data["d_grad_norm"][:2]).all() and data["d_grad_norm"][2] == 2.5
    assert "old_metric" not in data

    path.write_text("epoch,loss\n1,0.5\n")  # not ours
    with pytest.raises(GanLibError, match="is not a gan_lib history"):
        HistoryFile(path, ("d_loss",)).truncate_after(5)


@pytest.mark.parametrize("where", ["frame", "checkpoint"])
def test_a_full_disk_is_one_clear_error_and_the_run_resumes(tmp_path, tiny_toy, monkeypatch,
                                                           where):
    import errno

    from gan_lib.run.frames import FrameStore

    calls = {"n": 0}
    if where == "frame":
        original = FrameStore.save

        def full(self, step, frame):
            calls["n"] += 1
            if calls["n"] == 3:  # the frame at step 40, after the checkpoint at step 20
                raise OSError(errno.ENOSPC, "No space left on device", str(self.folder))
            return original(self, step, frame)

        monkeypatch.setattr(FrameStore, "save", full)
    else:
        original = tf.train.CheckpointManager.save

        def full(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:  # TensorFlow's own wording for ENOSPC
                raise tf.errors.ResourceExhaustedError(
                    None, None, "ckpt-40_temp/part-00000: No space left on device")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(tf.train.CheckpointManager, "save", full)
    out = tmp_path / "run"
    with pytest.raises(GanLibError, match=r"the disk holding .*run is full \(.*No space left "
                                          r"on device.*\); free some space"):
        train(tiny_toy, out, progress=False)
    monkeypatch.undo()
    result = train(tiny_toy, out, resume=True, progress=False)  # space again: it continues
    assert result.step == tiny_toy.steps
    steps = read_history(out / "history.csv")["step"]
    np.testing.assert_array_equal(steps, np.arange(5, tiny_toy.steps + 1, 5))


def test_resuming_a_checkpoint_of_other_models_is_one_clear_error(tmp_path, tiny_toy,
                                                                 monkeypatch):
    from gan_lib import models

    train(tiny_toy, tmp_path / "run", progress=False)
    build = models.BUILDERS["mlp2d"]
    # the same config, but this version's builder makes a wider generator (as after an update)
    monkeypatch.setitem(models.BUILDERS, "mlp2d", lambda c: build(
        dataclasses.replace(c, g_hidden=tuple(2 * h for h in c.g_hidden))))
    with pytest.raises(GanLibError, match=r"cannot resume .*run: its checkpoint does not fit "
                                          r"the mlp2d models .*new --out folder"):
        train(dataclasses.replace(tiny_toy, steps=60), tmp_path / "run", resume=True,
              progress=False)
