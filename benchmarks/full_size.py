"""The course at its users' scale: full-size stand-ins of every dataset, every recipe's first steps.

    python benchmarks/full_size.py                  # builds the stand-ins, then every config
    python benchmarks/full_size.py --only faces64   # some configs
    python benchmarks/full_size.py --root /big/disk # stand-ins: links, ~60 MB; caches: ~3 GB
    python benchmarks/full_size.py --warm --only cats64 dcgan64  # starts with the caches built

Stand-ins: the shared subsets, repeated to the real datasets' sizes (hard links where the
filesystem allows, else copies), laid out as the real downloads are, so the loaders read them
as they would read the real thing: MNIST and Fashion-MNIST 60,000 + 10,000 in idx files,
29,843 cat-face PNGs, 202,599 CelebA JPEGs of 178x218, 9,997 CAT photos with their landmark
files in CAT_00/ ... CAT_06/; and for the recipes that train on your own images (dcgan128,
dcgan128_fast) a folder of 100,000 JPEGs (CelebA's, 178x218) in 10 sub-folders.

For each config, one fresh process runs what ``python -m gan_lib train CONFIG --steps 3`` runs
(the recipe's full batch, image size and pipeline; a history row at every step), and reports:
the seconds its data took to load (decoding when the config is the first of its dataset and the
decode cache was emptied before: "cold"; else reading the cache: "warm"), the decode cache's
size on disk, the process's peak resident memory (``VmHWM``, its own high-water mark) when
training starts (the data path and the models: what a GPU runtime holds in its RAM) and at the
end (on this CPU also the training's activations, which a GPU holds instead), and the
seconds from the process's start to the end of the first training step (imports, data,
models, tracing). A GPU memory estimate at the full batch is counted from the models' shapes
(float32 weights, gradients, two Adam moments; every layer's output kept for the backward pass,
twice over for its gradient), not measured. Results: ``benchmarks/results/full_size_<date>.jsonl``
and a Markdown table (what benchmarks/README.md shows).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

SIZES = {"mnist": (60_000, 10_000), "fashion_mnist": (60_000, 10_000), "cat_faces": 29_843,
         "faces": 202_599, "cat_landmarks": 9_997,
         "own_images": 100_000}  # a student's folder: CelebA's JPEGs in 10 sub-folders
_DONE = ".stand_in_done"

_CHILD = r"""
import dataclasses, json, sys, time
t_start = float(sys.argv[1])
name, root, out = sys.argv[2], sys.argv[3], sys.argv[4]
import gan_lib
from gan_lib.run import run as run_module, training
from gan_lib.recipes import get_config

marks = {}
load = run_module.load_dataset
def timed_load(*args, **kwargs):
    t = time.time()
    data = load(*args, **kwargs)
    marks["load_s"] = time.time() - t
    marks["examples"] = data.num_examples
    return data
run_module.load_dataset = timed_load
run = run_module.Run.train
def timed_run(self, *args, **kwargs):
    marks["session_start"] = time.time()
    for line in open("/proc/self/status"):  # the data path's and the models' peak
        if line.startswith("VmHWM:"):
            marks["peak_rss_before_steps_gb"] = int(line.split()[1]) * 1024 / 1e9
    return run(self, *args, **kwargs)
run_module.Run.train = timed_run

config = dataclasses.replace(get_config(name, quick=False), steps=3, log_every=1)
if config.dataset == "own_images":  # the recipes for your images: the 100,000-image folder
    from gan_lib.data.own_images import on_images
    config = on_images(config, f"{root}/own_images")
result = training.train(config, out, data_root=root, progress=False)
first = result.history["seconds"][list(result.history["step"]).index(1)]
marks["first_step_s"] = marks.pop("session_start") + first - t_start
marks["total_s"] = time.time() - t_start
gan = result.gan
marks["gpu_estimate_gb"] = None
try:
    import numpy as np
    def outputs(model, batch):
        n = 0
        for layer in model.layers:
            shape = layer.output.shape
            n += int(np.prod([d for d in shape[1:] if d is not None])) * batch
        return n
    params = sum(int(np.prod(w.shape)) for m in (gan.generator, gan.discriminator)
                 for w in m.weights)
    acts = outputs(gan.generator, config.batch_size) + outputs(gan.discriminator,
                                                               2 * config.batch_size)
    marks["gpu_estimate_gb"] = 4 * (4 * params + 2 * acts) / 1e9
except Exception as e:  # a model without static layer outputs: say so, measure the rest
    marks["gpu_estimate_error"] = repr(e)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        marks["peak_rss_gb"] = int(line.split()[1]) * 1024 / 1e9
print("RESULT " + json.dumps(marks))
"""


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or links not allowed: a copy
        shutil.copyfile(src, dst)


def _write_idx(path: Path, array) -> None:
    import numpy as np

    array = np.ascontiguousarray(array, np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                   *array.shape)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + array.tobytes())


def _mnist_like(name: str, shared: Path, root: Path) -> None:
    import numpy as np

    from gan_lib.data.mnist import load_mnist

    images, labels = load_mnist(name, shared)
    folder = root / name
    folder.mkdir(parents=True)
    for split, n in zip(("train", "t10k"), SIZES[name]):
        take = np.arange(n) % len(images)
        _write_idx(folder / f"{split}-images-idx3-ubyte.gz", images[take])
        _write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels[take])


def _files(name: str, shared: Path, root: Path) -> None:
    from gan_lib.data.images import list_image_files

    sources = list_image_files(shared / name)
    if name == "faces":
        folder = root / "faces" / "img_align_celeba"
        dst = [folder / f"{i + 1:06d}.jpg" for i in range(SIZES["faces"])]
    elif name == "own_images":  # CelebA's photos, as a student's nested folder of JPEGs
        sources = list_image_files(shared / "faces")
        folder = root / "own_images"
        dst = [folder / f"album_{i % 10}" / f"photo_{i:06d}.jpg" for i in range(SIZES[name])]
        for sub in {p.parent for p in dst}:
            sub.mkdir(parents=True)
    else:
        folder = root / "cat_faces" / "cats"
        dst = [folder / f"cat_{i}.png" for i in range(SIZES["cat_faces"])]
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(dst):
        _link(sources[i % len(sources)], path)


def _cat_landmarks(shared: Path, root: Path) -> None:
    annotations = sorted((shared / "cat_landmarks").rglob("*.jpg.cat"))
    per_folder = -(-SIZES["cat_landmarks"] // 7)
    for i in range(SIZES["cat_landmarks"]):
        folder = root / "cat_landmarks" / f"CAT_{i // per_folder:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        source = annotations[i % len(annotations)]
        _link(source.with_suffix(""), folder / f"{i:08d}_000.jpg")
        _link(source, folder / f"{i:08d}_000.jpg.cat")


def build_stand_ins(shared: Path, root: Path) -> dict[str, int]:
    """The five datasets at full size under ``root`` (kept: a second call reuses them)."""
    counts = {}
    for name, make in [("mnist", _mnist_like), ("fashion_mnist", _mnist_like),
                       ("cat_faces", _files), ("faces", _files), ("own_images", _files),
                       ("cat_landmarks", lambda _, s, r: _cat_landmarks(s, r))]:
        folder = root / name
        if not (folder / _DONE).is_file():
            shutil.rmtree(folder, ignore_errors=True)
            t = time.time()
            make(name, shared, root)
            (folder / _DONE).write_text("built by benchmarks/full_size.py\n")
            print(f"stand-in {name}: {time.time() - t:.0f} s", flush=True)
        counts[name] = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.endswith(
            ".cat") and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return counts


def _cache_files(root: Path, dataset: str) -> list[Path]:
    caches = [root / dataset / ".gan_lib_cache",
              Path(os.environ.get("GAN_LIB_CACHE") or "~/.cache/gan_lib").expanduser()]
    return [p for folder in caches if folder.is_dir() for p in folder.glob(f"{dataset}_*.npy")]


def measure(name: str, root: Path, cold: bool) -> dict:
    from gan_lib.recipes import get_config

    dataset = get_config(name, quick=False).dataset
    if cold:
        for path in _cache_files(root, dataset):
            path.unlink()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "GAN_LIB_QUICK": ""}
    with tempfile.TemporaryDirectory() as out:
        t = time.time()
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(t), name, str(root),
                               str(Path(out) / "run")], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    row = json.loads(next(line[7:] for line in proc.stdout.splitlines()
                          if line.startswith("RESULT ")))
    cache = _cache_files(root, dataset)
    row.update(config=name, dataset=dataset, cold=cold,
               cache_gb=sum(p.stat().st_size for p in cache) / 1e9 if cache else None)
    return row


def main() -> None:
    from gan_lib.recipes import CONFIGS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(tempfile.gettempdir(), "gan_full_size"))
    parser.add_argument("--only", nargs="*", default=None, help="configs (default: all)")
    parser.add_argument("--warm", action="store_true",
                        help="keep the decode caches (default: the first config of each dataset "
                             "decodes from scratch)")
    args = parser.parse_args()
    shared, root = common.data_root(), Path(args.root)
    counts = build_stand_ins(shared, root)
    names = args.only or [n for n, c in CONFIGS.items() if c.dataset != "toy2d"]
    rows, seen = [], set()
    out = common.REPO / "benchmarks" / "results" / f"full_size_{datetime.date.today()}.jsonl"
    for name in names:
        dataset = CONFIGS[name].dataset
        cold = dataset not in seen and not args.warm
        seen.add(dataset)
        row = measure(name, root, cold)
        row["files"] = counts[dataset]
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps({**row, "machine": common.machine()}) + "\n")

    def gb(x):
        return "-" if x is None else f"{x:.2f}"
    print(common.table(
        ["config", "dataset (images)", "data load s", "decode cache GB",
         "peak RSS GB: data + models", "peak RSS GB: whole run", "s to first step",
         "GPU memory estimate GB"],
        [[r["config"], f"{r['dataset']} ({r['examples']:,})",
          f"{r['load_s']:.1f} ({'cold' if r['cold'] else 'warm'})", gb(r["cache_gb"]),
          f"{r['peak_rss_before_steps_gb']:.2f}", f"{r['peak_rss_gb']:.2f}",
          f"{r['first_step_s']:.0f}", gb(r["gpu_estimate_gb"])] for r in rows]))


if __name__ == "__main__":
    main()
