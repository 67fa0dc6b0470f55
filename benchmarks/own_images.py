"""Your own images, measured (lesson 08): how many images, which recipe, DiffAugment or not.

    python benchmarks/own_images.py --sizes 100 300 1000 --seeds 0 1 2 --steps 2400
    python benchmarks/own_images.py --report benchmarks/results/own_images_2026-12-03.jsonl

Each cell cuts a folder of N images from a shared dataset (a seeded pick of its files, copied
into sub-folders as a student's folder may be) and trains a recipe on it the way lesson 08 does
(``train(config, out, images=FOLDER)``: the files decoded, centre-cropped and resized), with
DiffAugment off and on ("translation,color,cutout", lesson 08's policy), for a fixed number of
steps, so that other work on the machine changes the seconds but not what is trained. Each run
is its own process, one after the other.

Measured at the end on ``--samples`` fresh samples of the sampling generator (the weight
average's, where the recipe keeps one):
- the share in which OpenCV's detector finds a face (or a cat face), beside the same for the
  folder's own images (the detector's misses);
- KID in the shipped 64x64 encoder's features (``gan_lib.metrics.encoder``) against ``--samples``
  images of the same dataset that are *not* in the folder: has G learnt faces, or only this
  folder? Beside it, the folder's images against those held-out images;
- the copy check (``gan_lib.metrics.evaluate.memorisation``, mirrored images searched too, since the
  recipes flip): ``nn_ratio`` near 0 means copies, about 1 as new as real images are.
A grid of 32 samples per run goes to ``--pictures``; with ``OWN_IMAGES_KEEP=DIR`` in the
environment each run's folder (checkpoints, frames, generator) is kept under DIR too.

Rows go to ``results/own_images_<date>.jsonl``; the table at the end is the one in
benchmarks/README.md ("Your own images").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import data_root, machine, table  # noqa: E402

POLICY = "translation,color,cutout"  # lesson 08's DiffAugment


def pick_order(dataset: str) -> list[Path]:
    """``dataset``'s image files in the fixed order folders are cut from: a folder of N
    images is the first N, the images it leaves out the rest (so folders are nested)."""
    import numpy as np

    from gan_lib.data.images import list_image_files

    files = list_image_files(data_root() / dataset)
    return [files[i] for i in np.random.default_rng(1234).permutation(len(files))]


def cut_folder(dataset: str, size: int, target: Path) -> tuple[list[Path], list[Path]]:
    """``size`` of ``dataset``'s image files (a fixed pick) copied into ``target``'s three
    sub-folders; returns (the picked files, the files left out, in a fixed order)."""
    files = pick_order(dataset)
    picked = files[:size]
    for i, path in enumerate(picked):
        out = target / f"album_{i % 3}" / path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out)
    return picked, files[size:]


def run_one(recipe: str, dataset: str, size: int, augment: bool, steps: int, samples: int,
            seed: int, pictures: Path, minutes: float | None = None) -> dict:
    from PIL import Image

    from gan_lib import get_config
    from gan_lib.data.own_images import load_own_images
    from gan_lib.metrics.detect import detection_rate
    from gan_lib.metrics.encoder import kernel_inception_distance
    from gan_lib.metrics.evaluate import memorisation
    from gan_lib.run.sampling import sample_from
    from gan_lib.run.training import train
    from gan_lib.viz import image_grid

    cell = f"{recipe}_{dataset}_{size}_{'da' if augment else 'noda'}_seed{seed}"  # its files' name
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "my_photos"
        _, left_out = cut_folder(dataset, size, folder)
        config = dataclasses.replace(get_config(recipe, quick=False), seed=seed, steps=steps,
                                     diffaugment=POLICY if augment else "", eval_every=0,
                                     checkpoint_every=10**6, checkpoint_minutes=10**4,
                                     max_seconds=minutes * 60 if minutes else None)
        start = time.perf_counter()
        run = train(config, Path(tmp) / "run", images=folder, progress=False)
        seconds = time.perf_counter() - start
        trained = float(run.history["seconds"][-1])
        side = run.config.image_size
        mine = load_own_images(folder, side)
        others = load_own_images(_held_out(left_out, samples, Path(tmp) / "held_out"), side)
        fake = sample_from(run.gan.sampling_generator, run.config, samples, seed=seed)
        if os.environ.get("OWN_IMAGES_KEEP"):  # keep the run folder (a generator to look at)
            shutil.copytree(Path(tmp) / "run", Path(os.environ["OWN_IMAGES_KEEP"]) / cell,
                            dirs_exist_ok=True)
    fake64, mine64, others64 = _at_64(fake), _at_64(mine[:samples]), _at_64(others)
    row = {"recipe": recipe, "dataset": dataset, "images": size, "diffaugment": augment,
           "seed": seed, "steps": run.step, "budget_minutes": minutes,
           "batch_size": config.batch_size, "model_width": config.model_width,
           "views_per_image": round(run.step * config.batch_size / size, 1),
           "train_seconds": round(trained, 1), "wall_seconds": round(seconds, 1),
           "detection_rate": detection_rate(fake64, dataset),
           "real_detection_rate": detection_rate(mine64, dataset),
           "kid": kernel_inception_distance(fake64, others64),
           "real_kid": kernel_inception_distance(mine64, others64),
           **memorisation(fake, mine, seed=seed, flipped=config.random_flip)}
    pictures.mkdir(parents=True, exist_ok=True)
    name = f"{cell}.jpg"
    Image.fromarray(image_grid(fake[:32], ncols=8)).save(pictures / name, quality=90)
    row["picture"] = name
    return row


def _held_out(files: list[Path], n: int, target: Path) -> Path:
    """``n`` files the folder does not hold (100 at least: a folder's minimum), as a folder."""
    target.mkdir(parents=True, exist_ok=True)
    for path in files[:max(n, 100)]:
        shutil.copy(path, target / path.name)
    return target


def _at_64(images):
    """The detector and the encoder work at 64x64: larger images (uint8, or samples as floats
    in [-1, 1]) become uint8 first, then are resized (area)."""
    import numpy as np

    from gan_lib.data.pipeline import unscale_images

    images = unscale_images(images)
    if images.shape[1] == 64:
        return images
    import tensorflow as tf

    return np.asarray(tf.image.resize(images, (64, 64), method="area")).round().astype(np.uint8)


def report(rows: list[dict]) -> str:
    """Mean and range (min-max) over seeds per (recipe, dataset, steps, images, DiffAugment)."""
    import numpy as np

    cells: dict = {}
    for row in rows:
        budget = row.get("budget_minutes")  # a time budget: its runs end at different steps
        key = (row["recipe"], row["dataset"], f"{budget:g} min" if budget else row["steps"],
               row["images"], row["diffaugment"])
        cells.setdefault(key, []).append(row)

    def spread(values, fmt):
        values = [v for v in values if v is not None]
        if len(values) == 1:
            return fmt.format(values[0])
        return (fmt.format(float(np.mean(values))) + " (" + fmt.format(min(values)) + "-"
                + fmt.format(max(values)) + ")")

    out = []
    for (recipe, dataset, steps, size, augment), runs in sorted(cells.items()):
        out.append([recipe, dataset, f"{size:,}", "on" if augment else "off", len(runs),
                    steps if isinstance(steps, str) else f"{steps:,}",
                    f"{np.mean([r['views_per_image'] for r in runs]):.0f}",
                    f"{np.mean([r['train_seconds'] for r in runs]) / 60:.1f}",
                    spread([r["detection_rate"] for r in runs], "{:.2f}"),
                    f"{np.mean([r['real_detection_rate'] for r in runs]):.2f}",
                    spread([r["kid"] for r in runs], "{:.1f}"),
                    f"{np.mean([r['real_kid'] for r in runs]):.1f}",
                    spread([r["nn_ratio"] for r in runs], "{:.2f}")])
    return table(["recipe", "data", "images", "DiffAugment", "seeds", "steps (or budget)",
                  "views per image", "train min", "face found", "(real)", "KID vs unseen",
                  "(real)", "nn_ratio"], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="faces64_fast")
    parser.add_argument("--dataset", default="faces", choices=["faces", "cat_faces"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--augment", choices=["off", "on", "both"], default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--minutes", type=float,
                        help="a time budget per run instead of a step count (--steps then caps)")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--pictures", type=Path, default=HERE / "results" / "own_images")
    parser.add_argument("--cells", nargs="+", metavar="SIZE:on|off:SEED",
                        help="run these cells in this order instead of every combination")
    parser.add_argument("--report", type=Path, help="print the table of a results .jsonl file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report:
        return print(report([json.loads(x) for x in args.report.read_text().splitlines()]))
    if args.child:
        size, augment, seed = json.loads(args.child)
        row = run_one(args.recipe, args.dataset, size, augment, args.steps, args.samples, seed,
                      args.pictures, args.minutes)
        return print("RESULT " + json.dumps(row), flush=True)
    os.environ.setdefault("GAN_LIB_DATA", str(data_root()))
    print(machine(), flush=True)
    results = HERE / "results" / f"own_images_{datetime.date.today()}.jsonl"
    results.parent.mkdir(exist_ok=True)
    augments = {"off": [False], "on": [True], "both": [False, True]}[args.augment]
    cells = [(size, augment, seed) for seed in args.seeds  # every cell once before any twice
             for size in args.sizes for augment in augments]
    if args.cells:
        cells = [(int(size), aug == "on", int(seed))
                 for size, aug, seed in (cell.split(":") for cell in args.cells)]
    from gan_lib.data.images import list_image_files

    available = len(list_image_files(data_root() / args.dataset))
    too_big = sorted({size for size, _, _ in cells if size + 100 > available})
    if too_big:  # KID needs at least 100 images the folder does not hold
        parser.error(f"{args.dataset} has {available} images: a folder may hold at most "
                     f"{available - 100}, so that 100 are left out to compare with "
                     f"(asked for {too_big})")
    rows = []
    for size, augment, seed in cells:
        command = [sys.executable, __file__, "--child", json.dumps([size, augment, seed]),
                   "--recipe", args.recipe, "--dataset", args.dataset,
                   "--steps", str(args.steps), "--samples", str(args.samples),
                   *(["--minutes", str(args.minutes)] if args.minutes else []),
                   "--pictures", str(args.pictures)]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        found = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if done.returncode or not found:
            print(f"run {size} images, DiffAugment {augment}, seed {seed} failed "
                  f"(exit {done.returncode})", flush=True)
            continue
        row = json.loads(found[-1][len("RESULT "):])
        print(json.dumps(row), flush=True)
        with open(results, "a") as f:
            f.write(json.dumps(row) + "\n")
        rows.append(row)
    print(report(rows))


if __name__ == "__main__":
    main()
