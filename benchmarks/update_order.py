"""Update order x BatchNorm settings at 64x64, a controlled experiment (issue 20).

    python benchmarks/update_order.py --steps 1200 --seeds 0 1 2
    python benchmarks/update_order.py --base cats64 --steps 1000 --seeds 0 \
        --arms simultaneous/keras alternating/pytorch   # the confirmation at full width
    python benchmarks/update_order.py --report benchmarks/results/update_order_<date>.jsonl

Four arms: the two update orders (``simultaneous``: both networks from one forward pass, the TF
tutorial's; ``alternating``: D first, then G against the updated D, the PyTorch tutorial's) times
the two BatchNorm settings (``keras``: momentum 0.99, epsilon 1e-3; ``pytorch``: 0.9, 1e-5). Every
other field is the base recipe's (default ``cats64_fast`` without its weight average, so that the
samples come from the trained G itself: the German presentation's DCGAN at half width, batch 32,
on the cat faces). Each arm trains the same number of steps for each seed, one run at a time, in
its own process.

At the end every run is scored twice on the same noise: with BatchNorm's **moving statistics**
(``training=False``, how gan_lib's frames and samples are drawn) and with each batch's own
**statistics** (``training=True``, in batches of the training batch), so that a gap that comes
from how the samples are drawn is told apart from one in what the networks learned. The scores:
the share of samples in which OpenCV's cat-face detector finds a cat face (the real images' own
share beside it) and KID in the shipped encoder's features (real against real beside it).

Rows go to ``results/update_order_<date>.jsonl`` (``update_order_<base>_<date>.jsonl`` for another
base recipe); the table (mean and spread over seeds) is the
one in benchmarks/README.md ("Update order and BatchNorm").
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import data_root, machine, table  # noqa: E402

ARMS = [(update, batchnorm) for update in ("simultaneous", "alternating")
        for batchnorm in ("keras", "pytorch")]


def run_one(base: str, update: str, batchnorm: str, steps: int, seed: int, samples: int,
            out: Path) -> dict:
    """Train one arm for ``steps`` steps in this process and score it both ways."""
    import numpy as np
    import tensorflow as tf

    from gan_lib import get_config
    from gan_lib.data import load_images, unscale_images
    from gan_lib.metrics.classifier import DATASETS as CLASSIFIER_DATASETS
    from gan_lib.metrics.classifier import evaluate_images
    from gan_lib.metrics.detect import detection_rate
    from gan_lib.metrics.encoder import kernel_inception_distance
    from gan_lib.run.training import train

    config = dataclasses.replace(get_config(base, quick=False), update=update,
                                 batchnorm=batchnorm, ema_decay=None, seed=seed, steps=steps,
                                 max_seconds=None, eval_every=0, checkpoint_every=10**6,
                                 checkpoint_minutes=10**4)
    real, _ = load_images(config.dataset, data_root(), config.image_size)
    order = np.random.default_rng(seed).permutation(len(real))
    pick, other = real[order[:samples]], real[order[samples:2 * samples]]
    result = train(config, out, progress=False)
    z = tf.random.Generator.from_seed(1000 + seed).normal([samples, config.latent_dim])
    generator = result.gan.generator
    drawn = {}
    # training=False first: the batch-statistics pass below also moves the moving averages
    drawn["moving"] = np.concatenate([generator(z[i:i + 256], training=False).numpy()
                                      for i in range(0, samples, 256)])
    b = config.batch_size
    drawn["batch"] = np.concatenate([generator(z[i:i + b], training=True).numpy()
                                     for i in range(0, samples - samples % b, b)])
    h = result.history
    late = np.asarray(h["step"]) > steps // 4  # after the first quarter: D ahead, or not
    accuracy = (np.asarray(h["d_acc_real"]) + np.asarray(h["d_acc_fake"])) / 2
    row = {"base": base, "update": update, "batchnorm": batchnorm, "seed": seed,
           "steps": result.step, "seconds": round(float(h["seconds"][-1]), 1),
           "d_real": float(np.mean(h["d_real"][-5:])), "d_fake": float(np.mean(h["d_fake"][-5:])),
           "d_ahead_share": float(np.mean(accuracy[late] >= 0.95)) if late.any() else None}
    if config.dataset in CLASSIFIER_DATASETS:  # 28x28 digits or clothes: the classifier's view
        row["real_frechet"] = evaluate_images(other, config.dataset,
                                              real_images=pick)["frechet_distance"]
        for how, images in drawn.items():
            scores = evaluate_images(unscale_images(images), config.dataset, real_images=pick)
            row[f"frechet_{how}"] = scores["frechet_distance"]
            row[f"classifier_score_{how}"] = scores["classifier_score"]
        return row
    row["real_detection_rate"] = detection_rate(pick, config.dataset)
    row["real_kid"] = kernel_inception_distance(other, pick)
    for how, images in drawn.items():
        fake = unscale_images(images)
        row[f"detection_{how}"] = detection_rate(fake, config.dataset)
        row[f"kid_{how}"] = kernel_inception_distance(fake, pick[:len(fake)])
    return row


def child(args) -> None:
    os.environ.setdefault("GAN_LIB_DATA", str(data_root()))
    with tempfile.TemporaryDirectory() as tmp:
        row = run_one(args.base, args.update, args.batchnorm, args.steps, args.seed,
                      args.samples, Path(tmp) / "run")
    print("RESULT " + json.dumps(row), flush=True)


# What the table of each kind of base shows: its columns after update, BatchNorm, seeds and
# steps (a heading and the rows' key, given as mean ± spread over seeds), the one key listed seed
# by seed (its heading and format), and the note below, filled in from the first row.
REPORTS = {
    "64": dict(
        columns=[("detection, moving stats", "detection_moving"),
                 ("detection, batch stats", "detection_batch"), ("KID, moving", "kid_moving"),
                 ("KID, batch", "kid_batch"), ("D(G(z)) at the end", "d_fake")],
        per_seed=("detection per seed (moving)", "detection_moving", ".2f"),
        note="Real cat faces: detection {real_detection_rate:.3f}, KID of real against real "
             "{real_kid:.2f}. Mean ± sample standard deviation over seeds."),
    "28": dict(  # a 28x28 base: the classifier's Fréchet distance and score, D ahead
        columns=[("Fréchet distance (classifier)", "frechet_moving"),
                 ("classifier score", "classifier_score_moving"),
                 ("D(G(z)) at the end", "d_fake"),
                 ("share of rows with D >= 95 %", "d_ahead_share")],
        per_seed=("Fréchet per seed", "frechet_moving", ".1f"),
        note="Real against real: Fréchet distance {real_frechet:.2f}. Mean ± sample standard "
             "deviation over seeds; 'rows with D >= 95 %': logged rows after the first quarter "
             "of the run in which D's mean accuracy on real and fake was at least 0.95."),
}


def report(rows: list[dict]) -> str:
    """Mean ± standard deviation over seeds, one row per arm."""
    import numpy as np

    def spread(values) -> str:
        values = np.asarray(values, float)
        return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0:.3f}"

    kind = REPORTS["28" if rows and "frechet_moving" in rows[0] else "64"]
    (seed_head, seed_key, seed_format), columns = kind["per_seed"], kind["columns"]
    lines = []
    for update, batchnorm in ARMS:
        arm = [r for r in rows if r["update"] == update and r["batchnorm"] == batchnorm]
        if arm:
            lines.append([update, batchnorm, len(arm), arm[0]["steps"],
                          *(spread([r[key] for r in arm]) for _, key in columns),
                          ", ".join(f"{r[seed_key]:{seed_format}}" for r in arm)])
    text = table(["update", "BatchNorm", "seeds", "steps", *(head for head, _ in columns),
                  seed_head], lines)
    return text + "\n\n" + kind["note"].format(**rows[0]) if rows else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="cats64_fast", help="the recipe every arm starts from")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--arms", nargs="+", default=[f"{u}/{b}" for u, b in ARMS],
                        help="which arms, as UPDATE/BATCHNORM (default: all four)")
    parser.add_argument("--report", type=Path, help="print the table of a results .jsonl file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--update", help=argparse.SUPPRESS)
    parser.add_argument("--batchnorm", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.report:
        return print(report([json.loads(x) for x in args.report.read_text().splitlines()]))
    arms = [tuple(arm.split("/")) for arm in args.arms]
    if any(arm not in ARMS for arm in arms):
        parser.error(f"--arms: each one of {', '.join(f'{u}/{b}' for u, b in ARMS)}")
    tag = "" if args.base == "cats64_fast" else f"{args.base}_"
    results = HERE / "results" / f"update_order_{tag}{datetime.date.today()}.jsonl"
    results.parent.mkdir(exist_ok=True)
    rows = []
    for seed in args.seeds:  # seeds outermost: an interrupted experiment has whole seeds
        for update, batchnorm in arms:
            command = [sys.executable, __file__, "--child", "--base", args.base, "--update",
                       update, "--batchnorm", batchnorm, "--steps", str(args.steps), "--seed",
                       str(seed), "--samples", str(args.samples)]
            done = subprocess.run(command, capture_output=True, text=True)
            found = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if done.returncode or not found:
                print(f"{update}/{batchnorm} seed {seed} failed: {done.stderr[-500:]}",
                      file=sys.stderr)
                continue
            row = {**json.loads(found[-1][len("RESULT "):]), "machine": machine()}
            print(json.dumps(row), flush=True)
            with results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    print(report(rows))


if __name__ == "__main__":
    main()
