"""Time to quality at 64x64: each recipe trains for the same wall-clock budget on the offline
data and is measured at checkpoints of that time.

    python benchmarks/time_to_quality.py cats64_fast cats64 dcgan64@cat_faces --budget 900
    python benchmarks/time_to_quality.py faces64_fast faces64 --budget 900

A recipe is a config name, optionally ``NAME@DATASET`` to train it on another dataset (the
German presentation's dcgan64 on the English one's cat faces) and ``NAME+field=value,...`` to
change fields (``cats64_fast+diffaugment=''``). Each runs in its own process, one after the
other, never two at once (they would share the CPU and each other's seconds).

Every ``--every`` seconds of training the run is paused and measured on ``--samples`` fresh
samples (the sampling generator: the EMA one where the recipe has it): the share in which
OpenCV's face detector finds a cat face or a face, the colour shift (distance between the mean
RGB of the samples and of the data) and the kernel inception distance in the features of the
shipped 64x64 encoder (``gan_lib.metrics.encoder``), with the same numbers for held-back real
images beside them. The measuring is not counted in the seconds; the budget is training time.
At the end: how near 64 samples come to their nearest training image, against how near real
images come to theirs (``gan_lib.metrics.evaluate.memorisation``).

Rows go to ``results/time_to_quality_<date>.jsonl`` (one per measurement) and the table at the
end is the one in benchmarks/README.md ("Time to quality at 64x64").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import data_root, machine, table  # noqa: E402


def parse_recipe(text: str) -> tuple[str, str | None, dict]:
    """``NAME[@DATASET][+field=value,...]`` -> (name, dataset or None, {field: value})."""
    head, _, fields = text.partition("+")
    name, _, dataset = head.partition("@")
    changes = {}
    for item in filter(None, fields.split(",")):
        key, _, value = item.partition("=")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value.strip("'\"")
    return name, dataset or None, changes


def run_one(recipe: str, budget: float, every: float, samples: int, seed: int,
            out: Path) -> list[dict]:
    """Train ``recipe`` for ``budget`` seconds in this process; a row per measurement."""
    import numpy as np

    from gan_lib import get_config
    from gan_lib.data import load_images
    from gan_lib.metrics.detect import colour_shift, detection_rate
    from gan_lib.metrics.evaluate import memorisation
    from gan_lib.run.sampling import sample_from
    from gan_lib.run.training import train

    name, dataset, changes = parse_recipe(recipe)
    config = get_config(name, quick=False)
    if dataset:
        changes["dataset"] = dataset
    # The recipe as a student runs it (its progress frames included), measured from outside.
    config = dataclasses.replace(config, seed=seed, steps=10**7, eval_every=0,
                                 checkpoint_every=10**6, checkpoint_minutes=10**4, **changes)
    real, _ = load_images(config.dataset, data_root(), config.image_size)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    pick = order[:samples]
    real_rate = detection_rate(real[pick], config.dataset)
    real_kid = _kid(real[order[samples:2 * samples]], real[pick])  # what ~0 looks like
    rows = []
    trained = 0.0
    gan = None
    while trained < budget - 1:
        chunk = min(every, budget - trained)
        config = dataclasses.replace(config, max_seconds=chunk)  # per session
        result = train(config, out, resume=gan is not None, progress=False)
        trained = float(result.history["seconds"][-1])
        gan = result.gan
        t = time.perf_counter()
        fake = sample_from(gan.sampling_generator, config, samples, seed=seed)
        row = {"recipe": recipe, "dataset": config.dataset, "seed": seed,
               "seconds": round(trained, 1), "steps": result.step,
               "batch_size": config.batch_size,
               "d_real": float(result.history["d_real"][-1]),
               "d_fake": float(result.history["d_fake"][-1]),
               "detection_rate": detection_rate(fake, config.dataset),
               "real_detection_rate": real_rate,
               "colour_shift": colour_shift(fake, real),
               "kid": _kid(fake, real[pick]), "real_kid": real_kid,
               "measure_s": 0.0}
        if config.ema_decay:  # the raw generator too: does the average help?
            raw = sample_from(gan.generator, config, samples, seed=seed)
            row["raw_detection_rate"] = detection_rate(raw, config.dataset)
            row["raw_kid"] = _kid(raw, real[pick])
        row["measure_s"] = round(time.perf_counter() - t, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    rows[-1].update(memorisation(fake, real, seed=seed, flipped=config.random_flip))  # copies?
    return rows


def _kid(fake, real) -> float | None:
    from gan_lib.errors import GanLibError
    from gan_lib.metrics.encoder import kernel_inception_distance

    try:
        return kernel_inception_distance(fake, real)
    except GanLibError:  # no encoder weights yet
        return None


def child(args) -> None:
    os.environ.setdefault("GAN_LIB_DATA", str(data_root()))
    with tempfile.TemporaryDirectory() as tmp:
        name = "".join(c if c.isalnum() or c in "_-@" else "_" for c in args.recipes[0])
        out = Path(args.keep or tmp) / f"{name}_seed{args.seed}"
        rows = run_one(args.recipes[0], args.budget, args.every, args.samples, args.seed, out)
    print("RESULT " + json.dumps(rows), flush=True)


def _kid_text(row: dict) -> str:
    if row.get("kid") is None:
        return "-"
    return f"{row['kid']:.2f} ({row['real_kid']:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="*")
    parser.add_argument("--report", type=Path, help="print the table of a results .jsonl file")
    parser.add_argument("--budget", type=float, default=900.0, help="training seconds each")
    parser.add_argument("--every", type=float, default=150.0, help="seconds between measurements")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--keep", help="keep the run folders (RECIPE_seedN) in this folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.report:
        runs: dict = {}
        for line in args.report.read_text().splitlines():
            row = json.loads(line)
            runs.setdefault((row["recipe"], row["dataset"], row["seed"]), []).append(row)
        return print(report(list(runs.values())))
    results = HERE / "results" / f"time_to_quality_{datetime.date.today()}.jsonl"
    results.parent.mkdir(exist_ok=True)
    last = []
    for recipe in args.recipes:
        for seed in args.seeds:
            command = [sys.executable, __file__, recipe, "--child", "--seed", str(seed),
                       "--budget", str(args.budget), "--every", str(args.every),
                       "--samples", str(args.samples)] + (["--keep", args.keep] if args.keep
                                                          else [])
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as done:
                lines = []
                for line in done.stdout:  # each measurement as it comes
                    lines.append(line)
                    if not line.startswith("RESULT "):
                        print(line, end="", flush=True)
            found = [ln for ln in lines if ln.startswith("RESULT ")]
            if done.returncode or not found:
                print(f"{recipe} seed {seed} failed (exit {done.returncode})", file=sys.stderr)
                continue
            rows = json.loads(found[-1][len("RESULT "):])
            with results.open("a") as f:
                for row in rows:
                    f.write(json.dumps({**row, "machine": machine()}) + "\n")
            last.append(rows)
    print(report(last))


def report(runs: list[list[dict]]) -> str:
    """The Markdown table of runs (each a list of rows, one per measurement)."""
    return table(["recipe", "data", "seed", "seconds", "steps x batch", "detection (real)",
                  "KID (real)", "colour shift", "D(x) / D(G(z))", "memorisation (nn_ratio)"],
                 [[r["recipe"], r["dataset"], r["seed"], f"{r['seconds']:.0f}",
                   f"{r['steps']} x {r['batch_size']}",
                   f"{r['detection_rate']:.3f} ({r['real_detection_rate']:.3f})", _kid_text(r),
                   f"{r['colour_shift']:.1f}", f"{r['d_real']:.2f} / {r['d_fake']:.2f}",
                   f"{r['nn_ratio']:.2f}" if "nn_ratio" in r else ""]
                  for rows in runs for r in rows])


if __name__ == "__main__":
    main()
