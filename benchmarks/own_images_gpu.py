"""Lesson 08's own-images cells on a GPU without TensorFlow: the fast recipes under Keras' JAX
backend, at their full 5,500 steps, three seeds a cell.

The same cells as ``own_images.py`` (folders of N images cut from the shared faces or cat faces
by the same fixed pick, so a folder of 300 holds the folder of 100; DiffAugment off and on with
lesson 08's policy), trained with the recipe's own networks (``gan_lib.models.build_models``)
and its settings (batch, Adam, PyTorch's BatchNorm, random flips, the 0.999 weight average that
samples are drawn from with ``training=False``) and its step much as gan_lib takes it: D on real
images and G(z1), then G against the updated D, the non-saturating loss, and DiffAugment on
everything D sees in both updates. The step is written here for JAX, so these are *not*
gan_lib's TensorFlow step; two more differences: G's half draws fresh noise z2 (gan_lib reuses
z1), and batches are drawn with replacement rather than by epochs. The seeds of a cell train one
after another through one compiled function of 250 steps (``lax.fori_loop``); cells run as
processes beside each other on the one GPU.

Each seed is scored there as ``own_images.py`` scores a run: OpenCV's detector on 500 samples
and on the folder's images (where that machine's OpenCV has no detector, on 100 samples kept as
JPEG files, by ``score`` here), KID in the shipped 64x64 encoder's features against 500 images
the folder does not hold, and the copy check (``nn_ratio``, mirrored images searched). Rows
carry ``"backend": "jax"`` and go where ``own_images.py --report`` reads them.

    python benchmarks/own_images_gpu.py prepare --out gpu_data     # here: the images it needs
    python benchmarks/own_images_gpu.py all --data gpu_data --out DIR --budget 480   # there
    python benchmarks/own_images_gpu.py score --out DIR --data gpu_data  # here, if OpenCV 5 there
    python benchmarks/own_images_gpu.py cell --data gpu_data --out DIR --recipe faces64_fast \\
        --dataset faces --images 300 --augment --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# (recipe, dataset, folder sizes) in the order they run: the open question first
PLAN = [("dcgan128_fast", "faces", (100, 300, 1000)),
        ("faces64_fast", "faces", (100, 300, 1000)),
        ("cats64_fast", "cat_faces", (100, 300, 1000)),
        ("dcgan128_fast", "faces", (2900,))]
HELD_OUT = 500  # images the folder does not hold, for KID (fewer where the dataset ends)
CHUNK = 250  # steps per compiled call


def prepare(out: Path) -> None:
    """Copy each dataset's images in pick order (``own_images.pick_order``) as
    ``NNNN_name``: as many as the largest folder and its held-out images need."""
    from benchmarks.own_images import pick_order

    largest: dict[str, int] = {}
    for _, dataset, sizes in PLAN:
        largest[dataset] = max(largest.get(dataset, 0), *sizes)
    for dataset, size in largest.items():
        files = pick_order(dataset)[:size + HELD_OUT]
        target = out / dataset
        target.mkdir(parents=True, exist_ok=True)
        for rank, path in enumerate(files):
            shutil.copy(path, target / f"{rank:04d}_{path.name}")
        print(f"{dataset}: {len(files)} files -> {target}")


def _load(data: Path, dataset: str, first: int, count: int, side: int, tmp: Path):
    """Images ``first`` .. ``first + count`` of the pick order, loaded as lesson 08 loads a
    folder (``load_own_images``: three sub-folders, centre crop, resize)."""
    from gan_lib.data.own_images import load_own_images

    files = sorted((data / dataset).iterdir())[first:first + count]
    folder = tmp / f"{dataset}_{first}_{count}"
    for i, path in enumerate(files):
        (folder / f"album_{i % 3}").mkdir(parents=True, exist_ok=True)
        os.symlink(path.resolve(), folder / f"album_{i % 3}" / path.name)
    return load_own_images(folder, side, progress=False)


def _at_64(images):
    """uint8 images at 64x64 (an exact 2x2 area mean for 128x128), as the scores need."""
    import numpy as np

    side = images.shape[1]
    if side == 64:
        return images
    k = side // 64
    small = images.reshape(len(images), 64, k, 64, k, 3).astype(np.float32).mean(axis=(2, 4))
    return np.rint(small).astype(np.uint8)


def diff_augment(jax, x, key, policy):
    """gan_lib.training.augment's DiffAugment (same ranges, per image) in jax.numpy."""
    jnp = jax.numpy
    b, h, w, _ = x.shape
    for name, k in zip(policy, jax.random.split(key, len(policy))):
        k1, k2, k3 = jax.random.split(k, 3)
        if name == "color":
            u = [jax.random.uniform(kk, (b, 1, 1, 1)) for kk in (k1, k2, k3)]
            x = x + (u[0] - 0.5)
            mean = x.mean(axis=3, keepdims=True)
            x = (x - mean) * (u[1] * 2.0) + mean
            mean = x.mean(axis=(1, 2, 3), keepdims=True)
            x = (x - mean) * (u[2] + 0.5) + mean
        elif name == "translation":
            for axis, size, kk in ((1, h, k1), (2, w, k2)):
                most = int(size * 0.125 + 0.5)
                shift = jax.random.randint(kk, (b,), -most, most + 1)
                pad = [(0, 0)] * 4
                pad[axis] = (1, 1)
                index = jnp.clip(jnp.arange(size)[None, :] - shift[:, None] + 1, 0, size + 1)
                index = index[:, :, None, None] if axis == 1 else index[:, None, :, None]
                x = jnp.take_along_axis(jnp.pad(x, pad), index, axis=axis)
        elif name == "cutout":
            ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
            cy = jax.random.randint(k1, (b, 1), 0, h + (1 - ch % 2))
            cx = jax.random.randint(k2, (b, 1), 0, w + (1 - cw % 2))
            rows = jnp.arange(h)[None, :] - cy + ch // 2
            cols = jnp.arange(w)[None, :] - cx + cw // 2
            box = (((rows >= 0) & (rows < ch))[:, :, None]
                   & ((cols >= 0) & (cols < cw))[:, None, :])
            x = x * (~box)[..., None].astype(x.dtype)
    return x


def _trainer(keras, jax, config, G, D, policy):
    """(initial state of G, D, their optimisers and G's weight average; a jitted function
    that runs ``n`` steps: (state, key, table, n) -> (state, the last step's metrics))."""
    jnp, sp = jax.numpy, jax.nn.softplus
    g_opt = keras.optimizers.Adam(config.g_learning_rate, beta_1=config.beta_1)
    d_opt = keras.optimizers.Adam(config.d_learning_rate, beta_1=config.beta_1)
    g_opt.build(G.trainable_variables)
    d_opt.build(D.trainable_variables)
    B, decay = config.batch_size, config.ema_decay
    augment = (lambda x, k: diff_augment(jax, x, k, policy)) if policy else (lambda x, k: x)

    def state_of(G, D, g_opt, d_opt):
        values = lambda vs: [v.value for v in vs]  # noqa: E731
        g_tv = values(G.trainable_variables)
        return (g_tv, values(G.non_trainable_variables), values(D.trainable_variables),
                values(D.non_trainable_variables), values(g_opt.variables),
                values(d_opt.variables), [jnp.array(v) for v in g_tv])

    def step(state, table, key):
        g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, ema = state
        kb, kf, kz1, kz2, ka1, ka2, ka3 = jax.random.split(key, 7)
        index = jax.random.randint(kb, (B,), 0, table.shape[0])
        real = table[index].astype(jnp.float32) / 127.5 - 1.0
        real = jnp.where(jax.random.bernoulli(kf, 0.5, (B, 1, 1, 1)), real[:, :, ::-1], real)
        z1 = jax.random.normal(kz1, (B, config.latent_dim))
        fake, g_ntv = G.stateless_call(g_tv, g_ntv, z1, training=True)

        def d_loss(dt, d_ntv):  # D on real images and G(z1), G fixed
            rl, d_ntv = D.stateless_call(dt, d_ntv, augment(real, ka1), training=True)
            fl, d_ntv = D.stateless_call(dt, d_ntv, augment(fake, ka2), training=True)
            return jnp.mean(sp(-rl)) + jnp.mean(sp(fl)), (d_ntv, rl, fl)

        (dl, (d_ntv, rl, fl)), grads = jax.value_and_grad(d_loss, has_aux=True)(d_tv, d_ntv)
        d_tv, d_ov = d_opt.stateless_apply(d_ov, grads, d_tv)
        z2 = jax.random.normal(kz2, (B, config.latent_dim))

        def g_loss(gt, g_ntv, d_ntv):  # G on fresh noise against the updated D
            f, g_ntv = G.stateless_call(gt, g_ntv, z2, training=True)
            logits, d_ntv = D.stateless_call(d_tv, d_ntv, augment(f, ka3), training=True)
            return jnp.mean(sp(-logits)), (g_ntv, d_ntv)

        (gl, (g_ntv, d_ntv)), grads = jax.value_and_grad(g_loss, has_aux=True)(g_tv, g_ntv,
                                                                               d_ntv)
        g_tv, g_ov = g_opt.stateless_apply(g_ov, grads, g_tv)
        ema = [decay * e + (1.0 - decay) * w for e, w in zip(ema, g_tv)]
        metrics = {"d_loss": dl, "g_loss": gl, "d_real": jax.nn.sigmoid(rl).mean(),
                   "d_fake": jax.nn.sigmoid(fl).mean()}
        return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov, ema), metrics

    def run(state, key, table, n):
        zero = {k: jnp.zeros(()) for k in ("d_loss", "g_loss", "d_real", "d_fake")}

        def body(i, carry):
            return step(carry[0], table, jax.random.fold_in(key, i))

        return jax.lax.fori_loop(0, n, body, (state, zero))

    return state_of(G, D, g_opt, d_opt), jax.jit(run, static_argnums=3)


def cell(data: Path, out: Path, recipe: str, dataset: str, size: int, augment: bool,
         seeds: list[int], steps: int, samples: int) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import dataclasses

    import jax
    import keras
    import numpy as np
    from PIL import Image

    from benchmarks.own_images import POLICY
    from gan_lib import get_config
    from gan_lib.data.images import unscale_images
    from gan_lib.metrics.encoder import kernel_inception_distance
    from gan_lib.metrics.evaluate import memorisation
    from gan_lib.models import build_models
    from gan_lib.viz import image_grid

    config = get_config(recipe, quick=False)
    policy = POLICY.split(",") if augment else []
    name = f"{recipe}_{dataset}_{size}_{'da' if augment else 'noda'}"
    with tempfile.TemporaryDirectory() as tmp:
        side = config.image_size
        mine = _load(data, dataset, 0, size, side, Path(tmp))
        others = _load(data, dataset, size, HELD_OUT, side, Path(tmp))
    table, many = jax.numpy.asarray(mine), None
    mine64, others64 = _at_64(mine[:samples]), _at_64(others)
    real_rate, real_kid = _detection(mine64, dataset), kernel_inception_distance(mine64,
                                                                                 others64)
    (out / "grids").mkdir(parents=True, exist_ok=True)
    for seed in seeds:  # each seed's row is written when it is done
        start, history = time.perf_counter(), []
        keras.utils.set_random_seed(seed)
        G, D = build_models(dataclasses.replace(config, seed=seed))
        state, fn = _trainer(keras, jax, config, G, D, policy)
        many = many or fn  # the same networks: compiled once, for every seed
        key = jax.random.PRNGKey(1000 + seed)
        for done in range(0, steps, CHUNK):
            state, metrics = many(state, jax.random.fold_in(key, done), table,
                                  min(CHUNK, steps - done))
            history.append({"step": done + min(CHUNK, steps - done),
                            "seconds": round(time.perf_counter() - start, 1),
                            **{k: round(float(v), 4) for k, v in metrics.items()}})
        z = jax.random.normal(jax.random.PRNGKey(seed + 7), (samples, config.latent_dim))
        fake = G.stateless_call(state[6], state[1], z, training=False)[0]  # the average's
        fake = unscale_images(np.asarray(fake))
        fake64 = _at_64(fake)
        row = {"recipe": recipe, "dataset": dataset, "images": size, "diffaugment": augment,
               "seed": seed, "steps": steps, "budget_minutes": None, "backend": "jax",
               "machine": _gpu_name(), "batch_size": config.batch_size,
               "model_width": config.model_width,
               "views_per_image": round(steps * config.batch_size / size, 1),
               "train_seconds": history[-1]["seconds"],  # the first seed's: compiling too
               "ms_per_step": round(1000 * (history[-1]["seconds"] - history[0]["seconds"])
                                    / max(1, steps - history[0]["step"]), 2),
               "detection_rate": _detection(fake64, dataset),
               "real_detection_rate": real_rate,
               "kid": kernel_inception_distance(fake64, others64), "real_kid": real_kid,
               "held_out": len(others),
               **memorisation(fake, mine, seed=seed, flipped=config.random_flip),
               "history": history, "picture": f"{name}_seed{seed}.jpg"}
        Image.fromarray(image_grid(fake[:32], ncols=8)).save(out / "grids" / row["picture"],
                                                             quality=90)
        for i, image in enumerate(fake64[:100] if row["detection_rate"] is None else []):
            (out / "samples").mkdir(exist_ok=True)  # to score the detector where it runs
            Image.fromarray(image).save(out / "samples" / f"{name}_seed{seed}_{i:03d}.jpg",
                                        quality=90)
        with open(out / "results.jsonl", "a") as f:  # cells run side by side: one line each
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(json.dumps(row) + "\n")
        print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)


def _detection(images, dataset: str) -> float | None:
    """The detection rate, or None where this OpenCV has no cascade detector (OpenCV 5;
    then 100 samples of each run are kept as JPEG files, to be scored where it has one)."""
    from gan_lib.errors import GanLibError
    from gan_lib.metrics.detect import detection_rate

    try:
        return detection_rate(images, dataset)
    except GanLibError:
        return None


def _gpu_name() -> str:
    import jax

    device = jax.devices()[0]
    return f"{device.platform}: {getattr(device, 'device_kind', device)}"


def run_all(data: Path, out: Path, budget: float, parallel: int, steps: int,
            samples: int) -> None:
    """Every cell of PLAN, three seeds each, ``parallel`` at a time, until ``budget`` seconds;
    then the grids are packed as ``grids.tar`` (what is done by then comes back)."""
    out.mkdir(parents=True, exist_ok=True)
    cells = [(recipe, dataset, size, augment) for recipe, dataset, sizes in PLAN
             for size in sizes for augment in (False, True)]
    deadline, running = time.monotonic() + budget, []
    env = {**os.environ, "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 / parallel:.2f}",
           "JAX_COMPILATION_CACHE_DIR": str(Path(tempfile.gettempdir()) / "jax_cache")}
    log = open(out / "log.txt", "a")
    while (cells or running) and time.monotonic() < deadline:
        running = [p for p in running if p.poll() is None]
        while cells and len(running) < parallel:
            recipe, dataset, size, augment = cells.pop(0)
            command = [sys.executable, __file__, "cell", "--data", str(data), "--out", str(out),
                       "--recipe", recipe, "--dataset", dataset, "--images", str(size),
                       "--steps", str(steps), "--samples", str(samples),
                       *(["--augment"] if augment else [])]
            running.append(subprocess.Popen(command, stdout=log, stderr=log, env=env))
        time.sleep(2)
    for p in running:
        p.kill()
    log.write(f"not started: {cells}\nstopped {len(running)} at the budget\n")
    log.close()
    for folder in ("grids", "samples"):  # a few files come back from that machine, not many
        if (out / folder).is_dir():
            with tarfile.open(out / f"{folder}.tar", "w") as tar:
                tar.add(out / folder, arcname=folder)
            shutil.rmtree(out / folder)


def score(out: Path, data: Path, results: Path) -> None:
    """Fill the detection rates that machine could not measure (OpenCV 5 has no cascade
    detector) from the 100 JPEG samples each run kept (``samples.tar`` unpacked in ``out``),
    beside 100 of the folder's own images through the same JPEG round trip; the rows are
    appended to ``results``."""
    import io

    import numpy as np
    from PIL import Image

    from gan_lib import get_config
    from gan_lib.metrics.detect import detection_rate

    def jpeg(image):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=90)
        return np.asarray(Image.open(buffer))

    real = {}
    for line in (out / "results.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["detection_rate"] is None:
            name = row["picture"][:-len(".jpg")]
            files = sorted((out / "samples").glob(f"{name}_[0-9][0-9][0-9].jpg"))
            fake = np.stack([np.asarray(Image.open(f)) for f in files])
            key = (row["recipe"], row["dataset"], row["images"])
            if key not in real:
                with tempfile.TemporaryDirectory() as tmp:
                    side = get_config(row["recipe"], quick=False).image_size
                    mine = _at_64(_load(data, row["dataset"], 0, row["images"], side,
                                        Path(tmp))[:len(fake)])
                real[key] = detection_rate(np.stack([jpeg(x) for x in mine]), row["dataset"])
            row.update(detection_rate=detection_rate(fake, row["dataset"]),
                       real_detection_rate=real[key], detection_samples=len(fake),
                       detection_scored="here, on JPEG (quality 90) copies")
        with open(results, "a") as f:
            f.write(json.dumps(row) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("prepare", "all", "cell", "score"))
    p.add_argument("--data", type=Path, default=Path("gpu_data"))
    p.add_argument("--out", type=Path, default=Path("outputs/own_images_gpu"))
    p.add_argument("--budget", type=float, default=480, help="all: seconds for every cell")
    p.add_argument("--parallel", type=int, default=6, help="all: cells at a time")
    p.add_argument("--steps", type=int, default=5_500)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--recipe", default="faces64_fast")
    p.add_argument("--dataset", default="faces")
    p.add_argument("--images", type=int, default=300)
    p.add_argument("--augment", action="store_true")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = p.parse_args()
    if a.what == "prepare":
        prepare(a.out)
    elif a.what == "score":
        import datetime

        score(a.out, a.data, HERE / "results" / f"own_images_gpu_{datetime.date.today()}.jsonl")
    elif a.what == "all":
        run_all(a.data, a.out, a.budget, a.parallel, a.steps, a.samples)
    else:
        a.out.mkdir(parents=True, exist_ok=True)
        cell(a.data, a.out, a.recipe, a.dataset, a.images, a.augment, a.seeds, a.steps,
             a.samples)


if __name__ == "__main__":
    main()
