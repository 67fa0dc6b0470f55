import dataclasses
import re

import numpy as np
import pytest
import tensorflow as tf

from gan_lib import build_gan, get_config, train
from gan_lib.data import sample_toy
from gan_lib.errors import GanLibError
from gan_lib.run.history import read_history
from gan_lib.training.step import STEP_METRICS


def test_one_step_changes_both_networks_and_reports_finite_metrics():
    gan = build_gan(get_config("toy2d", quick=False))
    real = tf.constant(sample_toy("ring", 64, seed=0))
    before_g = [w.numpy().copy() for w in gan.generator.trainable_variables]
    before_d = [w.numpy().copy() for w in gan.discriminator.trainable_variables]
    metrics = gan.train_step(real)
    assert set(metrics) == set(STEP_METRICS)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert 0 <= float(metrics["d_real"]) <= 1 and 0 <= float(metrics["d_acc_fake"]) <= 1
    np.testing.assert_allclose(float(metrics["d_loss"]),
                               float(metrics["d_loss_real"]) + float(metrics["d_loss_fake"]),
                               rtol=1e-6)
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(before_g, gan.generator.trainable_variables))
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(before_d, gan.discriminator.trainable_variables))
    assert int(gan.step.numpy()) == 1


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
@pytest.mark.parametrize("loss", ["non_saturating", "wgan_gp"])
def test_every_update_returns_the_metric_names_history_stores(update, loss):
    """STEP_METRICS (and "gp" with a penalty) are history.csv's columns; each update function
    writes its values under those names."""
    config = dataclasses.replace(get_config("toy2d", quick=False), update=update, loss=loss,
                                 g_steps=2, d_steps=2)
    gan = build_gan(config)
    metrics = gan.train_step(tf.constant(sample_toy("ring", 64, seed=0)))
    assert tuple(sorted(metrics)) == tuple(sorted(gan.metric_names))
    assert ("gp" in metrics) == (loss == "wgan_gp")
    assert all(np.isfinite(float(v)) for v in metrics.values())


def test_same_seed_gives_the_same_first_losses():
    config = get_config("toy2d", quick=False)
    real = tf.constant(sample_toy("ring", 64, seed=0))
    runs = []
    for _ in range(2):
        gan = build_gan(config)
        runs.append([float(gan.train_step(real)["g_loss"]) for _ in range(3)])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6)


def test_train_writes_every_output(tmp_path, tiny_toy):
    result = train(tiny_toy, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    for name in ("config.json", "history.csv", "losses.png", "samples.png", "progress.gif",
                 "generator.keras", "checkpoints/checkpoint"):
        assert (run / name).exists(), name
    history = read_history(run)
    assert list(history)[:4] == ["step", "seconds", "d_loss", "g_loss"]
    np.testing.assert_array_equal(history["step"], np.arange(5, 41, 5))
    assert np.isfinite(history["d_loss"]).all()
    # frames at step 0 and every sample_every steps, and the GIF holds them all
    from PIL import Image
    assert sorted(p.name for p in (run / "frames").iterdir()) == [
        "step_0000000.png", "step_0000020.png", "step_0000040.png"]
    assert Image.open(run / "progress.gif").n_frames >= 3
    assert result.step == 40 and result.stopped == "steps"


def test_resume_restores_step_optimizer_state_and_fixed_noise(tmp_path, tiny_toy):
    first = train(dataclasses.replace(tiny_toy, steps=20), tmp_path / "run", progress=False)
    saved_noise = first.fixed_noise.numpy().copy()
    saved_adam = [v.numpy().copy() for v in first.gan.g_optimizer.variables]
    saved_weights = [w.numpy().copy() for w in first.gan.generator.weights]

    # Rebuild from disk with 0 further steps: state must equal what was saved.
    again = train(dataclasses.replace(tiny_toy, steps=20), tmp_path / "run", resume=True,
                  progress=False)
    assert again.step == 20
    np.testing.assert_array_equal(again.fixed_noise.numpy(), saved_noise)
    for a, b in zip(saved_adam, again.gan.g_optimizer.variables):
        np.testing.assert_array_equal(a, b.numpy())
    for a, b in zip(saved_weights, again.gan.generator.weights):
        np.testing.assert_array_equal(a, b.numpy())

    more = train(tiny_toy, tmp_path / "run", resume=True, progress=False)
    assert more.step == 40
    steps = read_history(tmp_path / "run")["step"]
    np.testing.assert_array_equal(steps, np.arange(5, 41, 5))  # no gap, no duplicate


def test_resume_drops_history_and_frames_after_the_last_checkpoint(tmp_path, tiny_toy):
    run = tmp_path / "run"
    train(dataclasses.replace(tiny_toy, steps=20), run, progress=False)
    # Pretend the process died at step 35, after writing rows and a frame past the checkpoint.
    with open(run / "history.csv", "a") as f:
        f.write("25,1,0.5,0.5,0.2,0.3,0.5,0.5,0.5,0.5,8,1,1\n30,1,0.5")
    (run / "frames" / "step_0000030.png").write_bytes(b"")
    train(tiny_toy, run, resume=True, progress=False)
    np.testing.assert_array_equal(read_history(run)["step"], np.arange(5, 41, 5))
    assert (run / "frames" / "step_0000040.png").exists()


def test_run_folder_clashes_and_mismatches_are_refused(tmp_path, tiny_toy):
    run = tmp_path / "run"
    train(dataclasses.replace(tiny_toy, steps=10), run, progress=False)
    with pytest.raises(GanLibError, match="already holds a run"):
        train(tiny_toy, run, progress=False)
    with pytest.raises(GanLibError, match="latent_dim: 2 -> 3"):
        train(dataclasses.replace(tiny_toy, latent_dim=3), run, resume=True, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(GanLibError, match="is a file"):
        train(tiny_toy, tmp_path / "file", progress=False)


def test_max_seconds_stops_early_and_keeps_outputs(tmp_path, tiny_toy, capsys):
    result = train(dataclasses.replace(tiny_toy, steps=10**6, max_seconds=2.0), tmp_path / "r",
                   progress=True)
    assert result.stopped == "time" and 0 < result.step < 10**6
    assert (tmp_path / "r" / "generator.keras").exists()
    # the speed line says the budget, not the million steps, ends the session
    assert re.search(r"the time budget \(2 s a session\) ends it first, after about \d+ steps",
                     capsys.readouterr().out)


def test_divergence_stops_with_the_step_and_loss_named(tmp_path, tiny_toy):
    # A learning rate this large blows the toy GAN up within a few steps.
    config = dataclasses.replace(tiny_toy, g_learning_rate=1e12, d_learning_rate=1e12,
                                 beta_1=0.0, steps=200, log_every=1)
    with pytest.raises(GanLibError, match=r"diverged at step \d+: .*(d_loss|g_loss)"):
        train(config, tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "history.csv").exists()


def test_epochs_sets_the_number_of_steps(tmp_path, tiny_toy):
    result = train(tiny_toy, tmp_path / "run", epochs=2, progress=False)
    assert result.step == 2 * (tiny_toy.num_train // tiny_toy.batch_size)


def test_tensorboard_logs_scalars_and_frames(tmp_path, tiny_toy, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(dataclasses.replace(tiny_toy, tensorboard=True), tmp_path / "run", progress=True)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"),
                              size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {"d_loss", "g_loss", "d_real", "fixed_noise"} <= tags
    assert [e.step for e in events.Tensors("d_loss")] == list(range(5, 41, 5))
    # the speed estimate is printed once the first steps are timed
    assert "ms/step on this runtime" in capsys.readouterr().out


def test_a_run_shorter_than_log_every_has_its_row_and_plot(tmp_path, tiny_toy):
    """Whatever ends a run (its steps, its time budget), its last step is logged and plotted."""
    short = dataclasses.replace(tiny_toy, steps=3, log_every=50, sample_every=50)
    result = train(short, tmp_path / "short", progress=False)
    np.testing.assert_array_equal(result.history["step"], [3])
    assert np.isfinite(result.history["d_loss"]).all()
    assert (tmp_path / "short" / "losses.png").stat().st_size > 0
    assert (tmp_path / "short" / "frames" / "step_0000003.png").exists()
    timed = dataclasses.replace(tiny_toy, steps=10**6, log_every=10**5, sample_every=10**5,
                                checkpoint_every=10**5, max_seconds=1.5)
    result = train(timed, tmp_path / "timed", progress=False)
    assert result.stopped == "time"
    assert list(read_history(tmp_path / "timed")["step"]) == [result.step]
    assert (tmp_path / "timed" / "losses.png").exists()


def test_each_job_is_due_at_its_interval_and_a_call_stops_at_the_next_one(monkeypatch):
    from gan_lib.run import loop

    c = dataclasses.replace(get_config("toy2d"), steps=100, log_every=10, sample_every=25,
                            eval_every=0, checkpoint_every=50, checkpoint_minutes=10.0)
    assert [k for k in range(1, 101) if loop.row_due(c, k)] == [
        10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100]  # rows, frames' rows and the end
    assert [k for k in range(1, 101) if loop.due(k, c.sample_every)] == [25, 50, 75, 100]
    assert not any(loop.due(k, c.eval_every) for k in range(1, 101))  # 0: only at the end
    assert [loop.next_job(c, k) for k in (0, 10, 24, 90)] == [10, 20, 25, 100]
    now = [1000.0]
    monkeypatch.setattr(loop.time, "monotonic", lambda: now[0])
    clock = loop.Clock(seconds_before=30.0, config=c)
    now[0] += 61.0
    assert clock.checkpoint_due() and clock.total() == 91.0  # the session's early one
    clock.checkpointed()
    now[0] += 599.0
    assert not clock.checkpoint_due()
    now[0] += 1.0
    assert clock.checkpoint_due()  # then every checkpoint_minutes


def test_resume_restores_the_optimisers_state(tmp_path, tiny_toy):
    """Adam's moments and step count come back from the checkpoint (Keras >= 3.1.1); a resume
    that lost them would restart Adam's bias correction and this test would fail."""
    config = dataclasses.replace(tiny_toy, steps=20)
    first = train(config, tmp_path / "run", progress=False)
    again = train(config, tmp_path / "run", resume=True, progress=False)  # restore, 0 new steps
    for name in ("g_optimizer", "d_optimizer"):
        before = [v.numpy() for v in getattr(first.gan, name).variables]
        after = [v.numpy() for v in getattr(again.gan, name).variables]
        assert int(getattr(again.gan, name).iterations.numpy()) == 20
        assert any(np.abs(v).max() > 0 for v in after[2:])  # moments, not fresh zeros
        for b, a in zip(before, after):
            np.testing.assert_array_equal(a, b)


def test_a_run_saved_before_the_rng_was_renamed_resumes(tmp_path):
    """Checkpoints written before 2026-12-05 keep GAN.rng as "noise" (tests/data holds one, of a
    20-step toy2d run written by that code): they resume with every state, and save as "rng"."""
    import shutil
    from pathlib import Path

    from gan_lib import RunFolder

    run_dir = tmp_path / "run"
    shutil.copytree(Path(__file__).parent / "data" / "run_saved_2026-12-04", run_dir)
    old = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "ckpt-20"))
    rng_state = old.get_tensor("gan/noise/_state_var/.ATTRIBUTES/VARIABLE_VALUE")
    config = RunFolder(run_dir).read_config()

    again = train(config, run_dir, resume=True, progress=False)
    assert again.step == 20
    np.testing.assert_array_equal(again.gan.rng.state.numpy(), rng_state)
    np.testing.assert_array_equal(again.fixed_noise.numpy(),
                                  old.get_tensor("fixed_noise/.ATTRIBUTES/VARIABLE_VALUE"))
    np.testing.assert_array_equal(again.gan.ema.model.weights[0].numpy(), old.get_tensor(
        "gan/ema/model/_functional/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"))

    more = train(dataclasses.replace(config, steps=30), run_dir, resume=True, progress=False)
    assert more.step == 30
    new = {name for name, _ in tf.train.list_variables(str(run_dir / "checkpoints" / "ckpt-30"))}
    assert "gan/rng/_state_var/.ATTRIBUTES/VARIABLE_VALUE" in new
    assert not any(name.startswith("gan/noise/") for name in new)
