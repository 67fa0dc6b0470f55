"""Training under tf.distribute: MirroredStrategy over two logical CPUs against one device.

Logical devices must be set before TensorFlow initialises its devices, which the other tests
have long done in this process, so the two-replica checks run in a fresh subprocess that prints
its measurements as JSON; the assertions are here.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent("""
    import dataclasses, json, os, sys
    from pathlib import Path
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from gan_lib import get_config
    from gan_lib.errors import GanLibError
    from gan_lib import train
    from gan_lib import build_gan

    tmp = Path(sys.argv[1])
    out = {}
    # No dropout or BatchNorm: the only randomness is z, drawn for the global batch and split.
    config = dataclasses.replace(get_config("toy2d", quick=False), dropout=0.0, batch_size=64,
                                 num_train=512, steps=20, log_every=5, sample_every=10,
                                 checkpoint_every=10, num_fixed=64, ema_decay=0.9)
    points = np.random.default_rng(0).normal(size=(4 * 64, 2)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices(points).batch(64)

    def state(gan):
        return {"weights": [w.tolist() for w in gan.generator.get_weights()
                            + gan.discriminator.get_weights()],
                "adam_m": [v.numpy().tolist() for v in gan.d_optimizer.variables[2:4]],
                "step": int(gan.step.numpy()),
                "iterations": int(gan.d_optimizer.iterations.numpy()),
                "noise": gan.rng.state.numpy().tolist(),
                "ema": [w.tolist() for w in gan.ema.model.get_weights()]}

    one = build_gan(config)
    saved = tf.train.Checkpoint(gan=one).save(str(tmp / "one" / "ckpt"))
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    devices = ", ".join(d.rsplit("/", 1)[-1].lower().replace("device:", "")
                        for d in mirrored.extended.worker_devices)
    out["describe"] = (f"{type(mirrored).__name__}, {mirrored.num_replicas_in_sync} replica(s): "
                       f"{devices}")
    two = build_gan(config, strategy=mirrored)
    # one device -> Mirrored: the same starting weights, moments and noise state
    tf.train.Checkpoint(gan=two).restore(saved).assert_existing_objects_matched()

    out["one"] = [{k: float(v) for k, v in one.train_step(b).items()} for b in data]
    batches = iter(two.distribute(data))
    first = next(batches)
    out["replica_batches"] = [list(t.shape) for t in
                              mirrored.experimental_local_results(first)]
    out["two"] = [{k: float(v) for k, v in two.train_step(first).items()}]
    out["two"] += [{k: float(v) for k, v in two.train_step(b).items()} for b in batches]
    out["state_one"], out["state_two"] = state(one), state(two)

    # Mirrored -> one device
    saved = tf.train.Checkpoint(gan=two).save(str(tmp / "two" / "ckpt"))
    three = build_gan(config)
    tf.train.Checkpoint(gan=three).restore(saved).assert_existing_objects_matched()
    out["state_three"] = state(three)

    # A global batch that does not split over the replicas is refused before anything is built
    try:
        build_gan(dataclasses.replace(config, batch_size=63), strategy=mirrored)
    except GanLibError as error:
        out["odd_batch"] = str(error)

    # The training loop under the strategy (two steps per call), resumed on one device
    run = train(dataclasses.replace(config, steps=10, steps_per_execution=2), tmp / "run",
                strategy=mirrored, progress=False)
    resumed = train(config, tmp / "run", resume=True, progress=False)
    out["run"] = {"steps": [int(s) for s in resumed.history["step"]],
                  "d_loss": [float(x) for x in resumed.history["d_loss"]],
                  "files": sorted(p.name for p in (tmp / "run").iterdir())}
    print("RESULT " + json.dumps(out), flush=True)
    os._exit(0)  # skip the strategy's slow teardown at interpreter exit
""")


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mirrored")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp)], capture_output=True,
                            text=True, timeout=300, env=env)
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")]
    assert result.returncode == 0 and line, result.stderr[-3000:]
    return json.loads(line[0][len("RESULT "):])


def test_the_global_batch_is_split_over_two_replicas(mirrored):
    assert mirrored["describe"] == "MirroredStrategy, 2 replica(s): cpu:0, cpu:1"
    assert mirrored["replica_batches"] == [[32, 2], [32, 2]]


def test_two_replicas_give_the_one_device_losses_for_the_same_seed_and_data(mirrored):
    assert len(mirrored["one"]) == len(mirrored["two"]) == 4
    for step, (a, b) in enumerate(zip(mirrored["one"], mirrored["two"])):
        for key in ("d_loss", "g_loss", "d_loss_real", "d_loss_fake", "d_real", "d_fake",
                    "d_acc_real", "d_acc_fake"):
            np.testing.assert_allclose(b[key], a[key], rtol=1e-4, atol=1e-6,
                                       err_msg=f"step {step}: {key}")
        # Norms: the mean of each replica's own gradient norm, an upper bound of the global one
        assert b["d_grad_norm"] >= a["d_grad_norm"] * (1 - 1e-4)
    one, two = mirrored["state_one"], mirrored["state_two"]
    assert one["step"] == two["step"] == 4 and one["iterations"] == two["iterations"] == 4
    for key in ("weights", "adam_m", "ema"):  # gradients summed over replicas = global gradient
        for a, b in zip(one[key], two[key]):
            np.testing.assert_allclose(np.array(b), np.array(a), rtol=1e-4, atol=1e-6,
                                       err_msg=key)
    assert one["noise"] == two["noise"]  # z for the global batch, drawn once per step


def test_a_mirrored_checkpoint_restores_on_one_device(mirrored):
    two, three = mirrored["state_two"], mirrored["state_three"]
    for key in ("step", "iterations", "noise"):
        assert three[key] == two[key], key
    for key in ("weights", "adam_m", "ema"):
        for a, b in zip(two[key], three[key]):
            np.testing.assert_array_equal(np.array(b), np.array(a), err_msg=key)


def test_the_loop_runs_under_the_strategy_and_resumes_on_one_device(mirrored):
    run = mirrored["run"]  # 10 steps under Mirrored (2 per call), then 10 more on one device
    assert run["steps"] == [5, 10, 15, 20]
    assert np.isfinite(run["d_loss"]).all()
    assert {"history.csv", "progress.gif", "generator.keras", "checkpoints"} <= set(run["files"])


def test_pick_strategy_on_this_machine_is_the_default_one():
    import tensorflow as tf

    from gan_lib.training.distribute import pick_strategy

    strategy, text = pick_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        assert isinstance(strategy, tf.distribute.MirroredStrategy)
    else:
        assert strategy is tf.distribute.get_strategy()
        assert text.startswith("default strategy on ")
        assert ("one GPU" in text) == bool(gpus)
    expected = ("default strategy" if strategy is tf.distribute.get_strategy()
                else type(strategy).__name__)
    assert text.startswith(expected)  # the description names the strategy it picked


def test_a_batch_that_does_not_split_over_the_replicas_is_a_clear_error(mirrored):
    assert mirrored["odd_batch"] == (
        "batch_size 63 does not split evenly over 2 replicas; use a multiple of 2 such as 62 "
        "or 64 (--batch-size, or dataclasses.replace(config, batch_size=...))")


def test_the_default_strategy_takes_the_one_device_path():
    import tensorflow as tf

    from gan_lib import build_gan, get_config
    from gan_lib.training.distribute import pick_strategy, replicated_strategy

    default = tf.distribute.get_strategy()
    assert replicated_strategy(None, 7) is None
    assert replicated_strategy(default, 7) is None  # one replica: any batch splits
    if len(tf.config.list_logical_devices("GPU")) <= 1:
        strategy, _ = pick_strategy(tpu=False)
        gan = build_gan(get_config("toy2d", quick=True), strategy)
        assert gan._strategy is None
        batch = tf.zeros([8, 2])
        assert gan.distribute(batch) is batch  # no distributed dataset wrapper on one device


def test_a_tpu_that_cannot_be_used_is_a_clear_error_not_a_silent_cpu_run(monkeypatch):
    import tensorflow as tf

    from gan_lib.errors import GanLibError
    from gan_lib.training import distribute

    def no_tpu_here(address):
        raise ValueError(f"Could not connect to {address}")

    monkeypatch.setattr(distribute, "_tpu_address", lambda: "grpc://10.0.0.2:8470")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", no_tpu_here)
    with pytest.raises(GanLibError) as error:
        distribute.pick_strategy()
    message = str(error.value)
    assert "names a TPU (grpc://10.0.0.2:8470)" in message
    assert "Could not connect to grpc://10.0.0.2:8470" in message
    assert "T4 GPU" in message and "pick_strategy(tpu=False)" in message
    strategy, text = distribute.pick_strategy(tpu=False)  # the way around it still works
    assert text.startswith(("default strategy on ", "MirroredStrategy"))


def test_a_colab_runtime_without_a_gpu_is_told_how_to_get_one(monkeypatch):
    import tensorflow as tf

    from gan_lib.training.distribute import pick_strategy

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-20261101")
    assert pick_strategy(tpu=False)[1] == ("default strategy on the CPU (no GPU found): on Colab "
                                           "choose Runtime > Change runtime type > T4 GPU")
    monkeypatch.delenv("COLAB_RELEASE_TAG")
    assert pick_strategy(tpu=False)[1] == "default strategy on the CPU (no GPU found)"


def test_the_cpu_branch_is_taken_by_runtime_or_forced(monkeypatch):
    from gan_lib.errors import GanLibError
    from gan_lib.training.distribute import CPU_RUN_MINUTES, cpu_run_minutes

    monkeypatch.delenv("GAN_LIB_CPU_BRANCH_SECONDS", raising=False)
    monkeypatch.setenv("GAN_LIB_QUICK", "1")
    assert cpu_run_minutes() is None  # quick runs take seconds anyway
    monkeypatch.setenv("GAN_LIB_QUICK", "0")
    assert cpu_run_minutes() == CPU_RUN_MINUTES  # this machine has no GPU
    assert cpu_run_minutes(long_run_on_cpu=True) is None
    monkeypatch.setenv("GAN_LIB_CPU_BRANCH_SECONDS", "30")
    monkeypatch.setenv("GAN_LIB_QUICK", "1")
    assert cpu_run_minutes() == 0.5  # forced, in quick mode too: how the tests walk the branch
    for bad in ("0", "-3", "soon"):
        monkeypatch.setenv("GAN_LIB_CPU_BRANCH_SECONDS", bad)
        with pytest.raises(GanLibError, match="GAN_LIB_CPU_BRANCH_SECONDS"):
            cpu_run_minutes()
