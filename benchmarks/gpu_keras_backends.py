"""The 64x64 architectures on a GPU where TensorFlow is not installed: Keras 3 on JAX and PyTorch.

The device machine this project was once lent (one NVIDIA H200) has JAX and PyTorch but no
TensorFlow, and TensorFlow's GPU wheels with their CUDA libraries are far larger than what can be
carried to it. gan_lib's models are plain Keras 3 layers, so this script builds exactly them
(``gan_lib.models.build_models``) under ``KERAS_BACKEND=jax`` (every step compiled by XLA) or
``torch`` (eager PyTorch: no XLA), with float32 or ``mixed_bfloat16`` layers, and times a GAN step
written for that backend the way ``gan_lib`` writes it: one forward pass of G and D, the
non-saturating loss, two gradients (G's through D), Adam(2e-4, beta_1 0.5) for both.

These are *the architectures'* costs on that GPU, not gan_lib's TensorFlow step: read them as an
estimate of what the recipes cost on a GPU and how the speed options compare. PyTorch runs
Keras' channels-last convolutions with layout changes, so its column is pessimistic.

    python benchmarks/gpu_keras_backends.py all --out DIR --data DIR_WITH_cat_faces
    python benchmarks/gpu_keras_backends.py speed --backend jax        # one backend, JSON lines
    python benchmarks/gpu_keras_backends.py lesson --seconds 60 --seed 0 --update simultaneous

``lesson`` trains cats64 at its full settings (batch 128, latent 128, Adam 2e-4 / 0.5, random
flips) on the cat faces it finds, and reports D(x), D(G(z)) over time, a grid of samples and the
share of 500 samples in which OpenCV's Haar cat-face detector finds a face (real faces beside).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONFIGS_64 = ("cats64", "dcgan64", "faces64", "faces64_upsample", "faces64_rmsprop")


def _setup(backend: str):
    os.environ["KERAS_BACKEND"] = backend
    import keras

    from gan_lib import get_config
    from gan_lib.models import build_models
    return keras, get_config, build_models


def _pytorch_batchnorm(model) -> None:
    """PyTorch's BatchNorm defaults (momentum 0.1 = Keras 0.9, eps 1e-5) instead of Keras'."""
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            layer.momentum, layer.epsilon = 0.9, 1e-5


class JaxGAN:
    """State and jitted steps of a GAN under Keras' JAX backend."""

    def __init__(self, keras, generator, discriminator, lr=2e-4, beta_1=0.5):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.G, self.D = jax, jnp, generator, discriminator
        self.g_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
        self.d_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
        self.g_opt.build(generator.trainable_variables)
        self.d_opt.build(discriminator.trainable_variables)
        self.latent = generator.input_shape[-1]
        values = lambda vs: [v.value for v in vs]  # noqa: E731
        self.state = (values(generator.trainable_variables),
                      values(generator.non_trainable_variables),
                      values(discriminator.trainable_variables),
                      values(discriminator.non_trainable_variables),
                      values(self.g_opt.variables), values(self.d_opt.variables))
        self.simultaneous = jax.jit(self._simultaneous)
        self.alternating = jax.jit(self._alternating)

    def _forward(self, g_tv, d_tv, g_ntv, d_ntv, real, z):
        jnp, sp = self.jnp, self.jax.nn.softplus
        fake, g_ntv = self.G.stateless_call(g_tv, g_ntv, z, training=True)
        real_logits, d_ntv = self.D.stateless_call(d_tv, d_ntv, real, training=True)
        fake_logits, d_ntv = self.D.stateless_call(d_tv, d_ntv, fake, training=True)
        real_logits = real_logits.astype(jnp.float32)
        fake_logits = fake_logits.astype(jnp.float32)
        g_loss = jnp.mean(sp(-fake_logits))
        d_loss = jnp.mean(sp(-real_logits)) + jnp.mean(sp(fake_logits))
        return (g_loss, d_loss), (g_ntv, d_ntv, real_logits, fake_logits)

    def _simultaneous(self, state, real, key):
        """gan_lib's step: both losses from one forward pass, both models updated at once."""
        jax, jnp = self.jax, self.jnp
        g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov = state
        z = jax.random.normal(key, (real.shape[0], self.latent))
        (g_loss, d_loss), vjp, aux = jax.vjp(
            lambda gt, dt: self._forward(gt, dt, g_ntv, d_ntv, real, z), g_tv, d_tv,
            has_aux=True)
        one, zero = jnp.ones((), jnp.float32), jnp.zeros((), jnp.float32)
        g_grads = vjp((one, zero))[0]
        d_grads = vjp((zero, one))[1]
        g_ntv, d_ntv, real_logits, fake_logits = aux
        g_tv, g_ov = self.g_opt.stateless_apply(g_ov, g_grads, g_tv)
        d_tv, d_ov = self.d_opt.stateless_apply(d_ov, d_grads, d_tv)
        return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov), self._metrics(
            g_loss, d_loss, real_logits, fake_logits)

    def _metrics(self, g_loss, d_loss, real_logits, fake_logits):
        s = self.jax.nn.sigmoid
        return {"g_loss": g_loss, "d_loss": d_loss, "d_real": s(real_logits).mean(),
                "d_fake": s(fake_logits).mean()}

    def _alternating(self, state, real, key):
        """The PyTorch DCGAN tutorial's step: D first, then G against the updated D."""
        jax, jnp, sp = self.jax, self.jnp, self.jax.nn.softplus
        g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov = state
        z = jax.random.normal(key, (real.shape[0], self.latent))
        fake, g_ntv = self.G.stateless_call(g_tv, g_ntv, z, training=True)
        fake = jax.lax.stop_gradient(fake)

        def d_loss_fn(dt, d_ntv):
            rl, d_ntv = self.D.stateless_call(dt, d_ntv, real, training=True)
            fl, d_ntv = self.D.stateless_call(dt, d_ntv, fake, training=True)
            rl, fl = rl.astype(jnp.float32), fl.astype(jnp.float32)
            return jnp.mean(sp(-rl)) + jnp.mean(sp(fl)), (d_ntv, rl, fl)

        (d_loss, (d_ntv, real_logits, fake_logits)), d_grads = jax.value_and_grad(
            d_loss_fn, has_aux=True)(d_tv, d_ntv)
        d_tv, d_ov = self.d_opt.stateless_apply(d_ov, d_grads, d_tv)

        def g_loss_fn(gt, g_ntv, d_ntv):
            f, g_ntv = self.G.stateless_call(gt, g_ntv, z, training=True)
            fl, d_ntv = self.D.stateless_call(d_tv, d_ntv, f, training=True)
            return jnp.mean(sp(-fl.astype(jnp.float32))), (g_ntv, d_ntv)

        (g_loss, (g_ntv, d_ntv)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
            g_tv, g_ntv, d_ntv)
        g_tv, g_ov = self.g_opt.stateless_apply(g_ov, g_grads, g_tv)
        return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov), self._metrics(
            g_loss, d_loss, real_logits, fake_logits)

    def generate(self, z):
        g_tv, g_ntv = self.state[0], self.state[1]
        out, _ = self.G.stateless_call(g_tv, g_ntv, z, training=False)
        return out


def _time(run_step, sync, min_seconds=1.5, max_steps=400):
    """ms/step over at least ``min_seconds`` (in syncs every 10 steps), warm-up seconds, steps."""
    t0 = time.perf_counter()
    sync(run_step())
    sync(run_step())  # compile (JAX) / warm the caches (PyTorch)
    warm = time.perf_counter() - t0
    n, t0 = 0, time.perf_counter()
    while True:
        out = run_step()
        n += 1
        if n % 10 == 0 or n >= max_steps:
            sync(out)
            if time.perf_counter() - t0 >= min_seconds or n >= max_steps:
                break
    return 1000 * (time.perf_counter() - t0) / n, warm, n


def speed(backend: str, configs=CONFIGS_64, batch: int | None = None) -> None:
    """One JSON line per (config, precision): ms/step at the recipe's batch (or ``batch``),
    random images."""
    keras, get_config, build_models = _setup(backend)
    for name in configs:
        for policy in ("float32", "mixed_bfloat16"):
            config = get_config(name, quick=False)
            if batch:
                config = dataclasses.replace(config, batch_size=batch)
            row = {"backend": backend, "xla": backend == "jax", "config": name,
                   "policy": policy, "batch": config.batch_size}
            try:
                keras.backend.clear_session()
                keras.config.set_dtype_policy(policy)
                keras.utils.set_random_seed(0)
                G, D = build_models(config)
                B, shape = config.batch_size, (config.image_size, config.image_size, 3)
                if backend == "jax":
                    import jax
                    gan = JaxGAN(keras, G, D)
                    real = jax.random.uniform(jax.random.key(1), (B, *shape), minval=-1, maxval=1)
                    keys = iter(jax.random.split(jax.random.key(2), 100_000))

                    def run_step(gan=gan, real=real, keys=keys):
                        gan.state, m = gan.simultaneous(gan.state, real, next(keys))
                        return m

                    ms, warm, n = _time(run_step, lambda m: float(m["d_loss"]))
                else:
                    ms, warm, n = _torch_speed(keras, G, D, B, shape)
                row.update(ms_per_step=round(ms, 2), images_per_s=round(1000 * B / ms),
                           warmup_s=round(warm, 1), timed_steps=n)
            except Exception as e:  # one failure must not cost the others
                row["error"] = f"{type(e).__name__}: {str(e)[:300]}"
            print(json.dumps(row), flush=True)
    keras.config.set_dtype_policy("float32")


def _torch_speed(keras, G, D, B, shape):
    import torch
    import torch.nn.functional as F

    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    g_opt.build(G.trainable_variables)
    d_opt.build(D.trainable_variables)
    real = torch.rand((B, *shape), device="cuda") * 2 - 1
    latent = G.input_shape[-1]

    def run_step():
        z = torch.randn((B, latent), device="cuda")
        fake = G(z, training=True)
        rl, fl = D(real, training=True).float(), D(fake, training=True).float()
        g_loss = F.softplus(-fl).mean()
        d_loss = F.softplus(-rl).mean() + F.softplus(fl).mean()
        gv = [v.value for v in G.trainable_variables]
        dv = [v.value for v in D.trainable_variables]
        g_grads = torch.autograd.grad(g_loss, gv, retain_graph=True)
        d_grads = torch.autograd.grad(d_loss, dv)
        g_opt.apply(list(g_grads), G.trainable_variables)
        d_opt.apply(list(d_grads), D.trainable_variables)
        return d_loss

    return _time(run_step, lambda t: float(t.detach().cpu()))


def load_cat_faces(folder: Path, n: int | None = None):
    import numpy as np
    from PIL import Image

    files = sorted(folder.glob("*.png"))[:n]
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((64, 64))) for f in files])


def haar_rate(images, dataset: str = "cat_faces") -> float | None:
    """``gan_lib.metrics.detect.detection_rate``, or None where it cannot run on this machine
    (importing gan_lib.metrics loads TensorFlow; OpenCV 5 has no cascades): the samples are
    saved so that they can be scored where it runs."""
    try:
        from gan_lib.errors import GanLibError
        from gan_lib.metrics.detect import detection_rate

        return detection_rate(images, dataset)
    except (ImportError, GanLibError):
        return None


def lesson(data: Path, seconds: float, seed: int, update: str, out: Path,
           torch_bn: bool = False, log_every: int = 100, batch: int | None = None) -> dict:
    """cats64 at full settings for ``seconds`` on the JAX backend; writes a grid and a JSON."""
    keras, get_config, build_models = _setup("jax")
    import jax
    import jax.numpy as jnp
    import numpy as np

    config = get_config("cats64", quick=False)
    if batch:
        config = dataclasses.replace(config, batch_size=batch)
    images = load_cat_faces(data)
    keras.utils.set_random_seed(seed)
    G, D = build_models(config)
    if torch_bn:
        _pytorch_batchnorm(G)
        _pytorch_batchnorm(D)
    gan = JaxGAN(keras, G, D, config.g_learning_rate, config.beta_1)
    step_fn = gan.simultaneous if update == "simultaneous" else gan.alternating
    table = jnp.asarray(images)
    B = config.batch_size

    @jax.jit
    def batch(key):
        k1, k2 = jax.random.split(key)
        idx = jax.random.randint(k1, (B,), 0, table.shape[0])
        x = table[idx].astype(jnp.float32) / 127.5 - 1.0
        flip = jax.random.bernoulli(k2, 0.5, (B, 1, 1, 1))
        return jnp.where(flip, x[:, :, ::-1], x)

    key = jax.random.key(seed + 100)
    history, step, t0 = [], 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        key, kb, ks = jax.random.split(key, 3)
        gan.state, m = step_fn(gan.state, batch(kb), ks)
        step += 1
        if step % log_every == 0:
            history.append({"step": step, "seconds": round(time.perf_counter() - t0, 1),
                            **{k: round(float(v), 4) for k, v in m.items()}})
    z = jax.random.normal(jax.random.key(7), (500, config.latent_dim))
    fake = np.asarray(gan.generate(z), np.float32)
    fake_u8 = np.clip((fake + 1) * 127.5, 0, 255).round().astype(np.uint8)
    tag = f"cats64_{update}_seed{seed}" + ("_torchbn" if torch_bn else "")
    np.savez_compressed(out / f"{tag}.npz", samples=fake_u8)  # scored again where OpenCV 4 is
    result = {"run": tag, "steps": step, "seconds": round(time.perf_counter() - t0, 1),
              "ms_per_step": round(1000 * (time.perf_counter() - t0) / max(step, 1), 2),
              "cat_rate_samples": haar_rate(fake_u8),
              "sample_std": round(float(fake.std()), 4),
              "sample_channel_means": [round(float(c), 1) for c in
                                       fake_u8.reshape(-1, 3).mean(0)],
              "data_channel_means": [round(float(c), 1) for c in images.reshape(-1, 3).mean(0)],
              "history": history}
    print(json.dumps(result), flush=True)
    return result


def run_all(out: Path, data: Path, lesson_seconds: float, budget: float) -> None:
    """Speed on both backends and cats64 runs: three seeds of gan_lib's simultaneous update and
    the PyTorch tutorial's alternating update with PyTorch's BatchNorm, each job in its own
    process (a fresh Keras session), within ``budget`` seconds in all."""
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "results.jsonl", "a")
    me = [sys.executable, str(Path(__file__).resolve())]

    def child(args, timeout):
        try:
            done = subprocess.run(me + args, capture_output=True, text=True, timeout=timeout)
            text = done.stdout + (f"\n[stderr tail] {done.stderr[-1500:]}" if done.returncode
                                  else "")
        except subprocess.TimeoutExpired as e:
            text = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            text += f"\n[timeout after {timeout} s]"
        print(text, flush=True)
        log.write(text + "\n")
        log.flush()

    deadline = time.monotonic() + budget
    lesson_args = ["lesson", "--data", str(data / "cat_faces"), "--seconds", str(lesson_seconds),
                   "--out", str(out)]
    jobs = [(["realrate", "--data", str(data)], 60),
            (["speed", "--backend", "jax"], 170),
            (lesson_args + ["--seed", "0"], lesson_seconds + 60),
            (["speed", "--backend", "torch"], 100),
            (lesson_args + ["--seed", "0", "--update", "alternating", "--torch-bn"],
             lesson_seconds + 60),
            (lesson_args + ["--seed", "1"], lesson_seconds + 60),
            (lesson_args + ["--seed", "2"], lesson_seconds + 60)]
    for args, timeout in jobs:
        left = deadline - time.monotonic()
        if left < min(timeout, lesson_seconds + 30):
            log.write(json.dumps({"skipped": args, "seconds_left": round(left)}) + "\n")
            continue
        child(args, min(timeout, left))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("all", "speed", "lesson", "realrate"))
    p.add_argument("--backend", default="jax", choices=("jax", "torch"))
    p.add_argument("--out", default="outputs/gpu")
    p.add_argument("--data", default=str(ROOT / "data"))
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--update", default="simultaneous", choices=("simultaneous", "alternating"))
    p.add_argument("--torch-bn", action="store_true")
    p.add_argument("--budget", type=float, default=500, help="all: seconds for every job")
    p.add_argument("--configs", default=",".join(CONFIGS_64))
    p.add_argument("--batch", type=int, help="speed: another batch size (a CPU check)")
    a = p.parse_args()
    if a.what == "all":
        run_all(Path(a.out), Path(a.data), a.seconds, a.budget)
    elif a.what == "speed":
        speed(a.backend, tuple(a.configs.split(",")), a.batch)
    elif a.what == "realrate":
        real = load_cat_faces(Path(a.data) / "cat_faces", 500)
        print(json.dumps({"cat_rate_real_500": haar_rate(real)}))
    else:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        lesson(Path(a.data), a.seconds, a.seed, a.update, Path(a.out), a.torch_bn,
               log_every=2 if a.batch else 100, batch=a.batch)


if __name__ == "__main__":
    main()
