"""The pictures in docs/ from a finished 64x64 run: generated beside real, and a training GIF.

    python scripts/docs_pictures.py RUN_DIR NAME [--every 3]

Writes docs/NAME_samples_vs_real.jpg (an 8x8 grid of 64 samples of the run's generator.keras
with seed 0, then a gap, then 64 real training images picked with seed 0; for CelebA, whose
agreement forbids publishing its images, docs/NAME_samples.jpg with the samples alone) and
docs/NAME.gif
(every ``--every``-th fixed-noise frame of the run, the top four rows of each, 4 frames per
second). Captions go in the README by hand: the recipe, the data, the seconds, the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_lib import RunFolder, sample  # noqa: E402
from gan_lib.data import load_images  # noqa: E402
from gan_lib.run.frames import FrameStore  # noqa: E402
from gan_lib.viz import image_grid  # noqa: E402
from gan_lib.viz.gif import write_gif  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("name")
    parser.add_argument("--every", type=int, default=3, help="keep every n-th frame in the GIF")
    parser.add_argument("--data", help="dataset root (default: $GAN_LIB_DATA or data/)")
    args = parser.parse_args(argv)

    folder = RunFolder(args.run)
    config = folder.read_config()
    fake = image_grid(sample(args.run, 64, seed=0), ncols=8)
    if config.dataset == "faces":  # CelebA: generated faces only
        out, picture = ROOT / "docs" / f"{args.name}_samples.jpg", fake
    else:
        real_images, _ = load_images(config.dataset, args.data, config.image_size)
        pick = np.random.default_rng(0).permutation(len(real_images))[:64]
        real = image_grid(real_images[pick], ncols=8)
        gap = np.full((fake.shape[0], 16, 3), 255, np.uint8)
        out = ROOT / "docs" / f"{args.name}_samples_vs_real.jpg"
        picture = np.concatenate([fake, gap, real], axis=1)
    Image.fromarray(picture).save(out, quality=90)
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1024:.0f} KiB")

    frames = FrameStore(folder.frames_dir)
    paths = frames.paths()
    paths = paths[::args.every] + ([paths[-1]] if (len(paths) - 1) % args.every else [])
    half = [np.asarray(Image.open(p).convert("RGB"))[: 4 * 66 + 2] for p in paths]
    gif = ROOT / "docs" / f"{args.name}.gif"
    count = write_gif(half, gif, fps=4.0)
    print(f"{gif.relative_to(ROOT)}: {count} frames (steps {frames.steps()[::args.every]}"
          f"), {gif.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
