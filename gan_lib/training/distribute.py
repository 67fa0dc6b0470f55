"""Train on whatever the runtime has: a TPU, several GPUs, one GPU or the CPU (``tf.distribute``).

``pick_strategy()`` chooses the strategy and says what it chose, for a notebook to print;
``gan_lib.training.build.build_gan(config, strategy)`` builds the models and optimisers in its scope
and ``gan_lib.run.training.train(config, strategy=...)`` feeds it. What one step does under a
strategy (synchronous data parallelism: the global batch split over the replicas, z drawn once
and split, each replica's loss counted 1/replicas, the metrics averaged) is
``gan_lib.training.step``'s.

Checkpoints store one copy of each variable, so a run saved under a MirroredStrategy restores
on one device and vice versa. BatchNorm statistics are per replica (Keras' default).

Mixed precision (``GANConfig.mixed_precision``), the other half of using a GPU or TPU well:
layers compute in float16 with float32 variables (``mixed_precision_policy``), the last layer of
each model in float32 (``float32_output``), and the optimisers scale the loss
(``keras.optimizers.LossScaleOptimizer``, applied in ``gan_lib.training.build``;
``gan_lib.training.step`` gives its ``scale_loss`` to the tape's gradient). It pays on GPUs
with tensor cores (T4 and later); on a CPU it only runs slower.
"""

from __future__ import annotations

import contextlib
import os

import keras
import tensorflow as tf

from gan_lib.config import quick_mode
from gan_lib.errors import GanLibError


def pick_strategy(tpu: bool = True) -> tuple[tf.distribute.Strategy, str]:
    """The best strategy for this runtime and a one-line description of it.

    Tries a TPU first (a TPU VM with TensorFlow's TPU build; skipped with ``tpu=False``), then
    several GPUs (``MirroredStrategy``), else the default strategy on the one GPU or the CPU.
    Colab's TPU runtimes ship no TensorFlow at all (since 2025), so on Colab choose a GPU.

    Returns:
        ``(strategy, description)``, e.g. ``(<MirroredStrategy>, "MirroredStrategy over 2 GPUs
        (global batch split 2 ways)")``.
    Raises:
        GanLibError: this runtime names a TPU but TensorFlow cannot use it. Never a silent
            fall-back to the CPU: that would turn minutes into days.
    """
    address = _tpu_address() if tpu else None
    if address is not None:
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(address)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            strategy = tf.distribute.TPUStrategy(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as e:
            reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise GanLibError(
                f"this runtime names a TPU ({address}) but TensorFlow {tf.__version__} cannot "
                f"use it: {reason}. Colab's TPU runtimes have no TensorFlow TPU support: choose "
                "Runtime > Change runtime type > T4 GPU, or call pick_strategy(tpu=False) "
                "(--one-device in the CLI) to train on this machine without the TPU") from None
        n = strategy.num_replicas_in_sync
        return strategy, f"TPUStrategy over {n} TPU cores (global batch split {n} ways)"
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        return strategy, (f"MirroredStrategy over {len(gpus)} GPUs "
                          f"(global batch split {len(gpus)} ways)")
    where = f"one GPU ({gpus[0].name})" if gpus else "the CPU (no GPU found)"
    if not gpus and "COLAB_RELEASE_TAG" in os.environ:  # a Colab runtime without a GPU
        where += ": on Colab choose Runtime > Change runtime type > T4 GPU"
    return tf.distribute.get_strategy(), f"default strategy on {where}"


CPU_RUN_MINUTES = 15  # what a runtime without an accelerator gives each long run


def cpu_run_minutes(long_run_on_cpu: bool = False) -> float | None:
    """Minutes each long run gets on a runtime with no GPU or TPU, else None (no limit).

    A full 64x64 run takes many hours on a 2-core CPU (cats64: ~1.1 s a step, 23,300 steps;
    benchmarks/README.md), so lessons 05, 06 and 08 cut each session
    to ``CPU_RUN_MINUTES`` there (re-running the cell continues it). None in quick mode (its runs
    take seconds anyway) or with ``long_run_on_cpu``. ``GAN_LIB_CPU_BRANCH_SECONDS=S`` takes the
    CPU branch whatever the runtime has, with S seconds a run: how the test suite walks the path
    a student on a CPU-only runtime takes.
    """
    forced = os.environ.get("GAN_LIB_CPU_BRANCH_SECONDS", "").strip()
    if forced:
        try:
            seconds = float(forced)
        except ValueError:
            seconds = 0.0
        if seconds <= 0:
            raise GanLibError(f"GAN_LIB_CPU_BRANCH_SECONDS must be a positive number of seconds, "
                              f"got {forced!r}")
        return seconds / 60
    if long_run_on_cpu or quick_mode():
        return None
    if tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"):
        return None
    return CPU_RUN_MINUTES


def replicated_strategy(strategy: tf.distribute.Strategy | None,
                        batch_size: int) -> tf.distribute.Strategy | None:
    """``strategy`` if it spreads the work over replicas, else None (one device, no scope).

    TensorFlow's default strategy (``pick_strategy`` on one GPU or the CPU) is one device: the
    GAN then takes the plain single-device path, exactly as without a strategy.

    Raises:
        GanLibError: ``batch_size`` (the global batch) does not split evenly over the replicas.
    """
    if strategy is None or (strategy is tf.distribute.get_strategy()
                            and not tf.distribute.has_strategy()):
        return None
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        lower = max(replicas, batch_size - batch_size % replicas)
        raise GanLibError(
            f"batch_size {batch_size} does not split evenly over {replicas} replicas; use a "
            f"multiple of {replicas} such as {lower} or {lower + replicas} "
            f"(--batch-size, or dataclasses.replace(config, batch_size=...))")
    return strategy


def _tpu_address() -> str | None:
    """"local" on a TPU VM, the address Colab's older TPU runtime sets, else None.

    Asked first so that a machine without a TPU never probes the network for one.
    """
    if tf.config.list_physical_devices("TPU"):
        return "local"
    return os.environ.get("TPU_NAME") or (
        f"grpc://{os.environ['COLAB_TPU_ADDR']}" if os.environ.get("COLAB_TPU_ADDR") else None)


@contextlib.contextmanager
def mixed_precision_policy(mixed: bool):
    """Layers built inside compute in float16 (variables stay float32) when ``mixed``."""
    if not mixed:
        yield
        return
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def float32_output(model: keras.Model) -> keras.Model:
    """A copy of ``model`` whose last layer computes in float32: tanh images and D's logits
    keep full precision for the losses, as the Keras mixed precision guide advises."""
    last = model.layers[-1]

    def clone(layer):
        config = layer.get_config()
        if layer is last:
            config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    if copy.outputs[0].dtype != "float32":  # a model whose last layer is not its output
        out = keras.layers.Activation("linear", dtype="float32")(copy.outputs[0])
        copy = keras.Model(copy.inputs, out, name=model.name)
    return copy
