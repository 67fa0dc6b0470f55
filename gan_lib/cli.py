"""``python -m gan_lib``: train, sample and list, headless (a server, a long Colab run).

Mistakes (unknown config, bad numbers, a folder that cannot be written) print one line on
stderr and exit with status 2; arguments are checked before TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from gan_lib.config import field_choices, quick_mode
from gan_lib.errors import GanLibError
from gan_lib.names import IMAGE_SIZES
from gan_lib.recipes import CONFIGS, get_config

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise GanLibError(f"{self.prog}: {message} (see --help)")


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(
            f"must be positive, got {value}" if minimum == 1 else f"must be 0 or more, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _add_train_arguments(t: argparse.ArgumentParser) -> None:
    """``train``'s arguments: the config, the run's length and folder, the config fields a
    command line may change, and the speed options."""
    t.add_argument("config", help="a config name (see: python -m gan_lib list)")
    t.add_argument("--out", help="run folder (default: outputs/CONFIG)")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, help="training steps in all")
    length.add_argument("--epochs", type=_positive_int, help="passes over the training data")
    t.add_argument("--max-seconds", type=_positive_float, help="wall-clock budget of this session")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--seed", type=_non_negative_int)
    t.add_argument("--data", help="dataset root laid out as data/ (default: $GAN_LIB_DATA, data/)")
    t.add_argument("--image-size", type=int, choices=IMAGE_SIZES,
                   help="draw images of this side (where the recipe's architecture can)")
    t.add_argument("--images", metavar="DIR",
                   help="train on your own images: a folder (any depth), a .zip or its URL")
    # the choices are the config fields' own (GANConfig's metadata, gan_lib.names)
    t.add_argument("--distribution", choices=field_choices("toy_distribution"),
                   help="toy2d data")
    t.add_argument("--loss", choices=field_choices("loss"),
                   help="the loss pair (default: the config's)")
    t.add_argument("--update", choices=field_choices("update"),
                   help="D and G from one forward pass, or D first then G (default: the config's)")
    t.add_argument("--batchnorm", choices=field_choices("batchnorm"),
                   help="BatchNorm's moving averages: Keras' or PyTorch's defaults")
    t.add_argument("--diffaugment", metavar="POLICY",
                   help='DiffAugment on what D sees, e.g. "translation,color,cutout" (lesson '
                        '08: for folders under 500 images and at 128x128); "" for none')
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--quick", action="store_true", help="few-steps variant (as GAN_LIB_QUICK=1)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--tensorboard", action="store_true", help="also write TensorBoard logs")
    speed = t.add_argument_group("speed (see benchmarks/README.md for what each buys)")
    speed.add_argument("--mixed-precision", action="store_true",
                       help="float16 compute with loss scaling (GPUs with tensor cores: T4 on)")
    speed.add_argument("--steps-per-execution", type=_positive_int,
                       help="train steps per tf.function call (pays for small models)")
    speed.add_argument("--jit-compile", action="store_true", help="compile the step with XLA")
    speed.add_argument("--one-device", action="store_true",
                       help="do not spread over several GPUs or a TPU (default: use them all)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gan_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    _add_train_arguments(sub.add_parser("train", help="train a config into a run folder"))

    s = sub.add_parser("sample", help="write generated samples of a trained run to .npz")
    s.add_argument("run", help="a run folder (holds generator.keras)")
    s.add_argument("--n", type=_positive_int, default=64, help="how many samples")
    s.add_argument("--out", required=True, help="the .npz file to write")
    s.add_argument("--seed", type=_non_negative_int, default=0)
    s.add_argument("--label", type=_non_negative_int, help="class to generate (conditional runs)")
    s.add_argument("--best", action="store_true",
                   help="from generator_best.keras, the run's best eval step (not the last)")

    e = sub.add_parser("evaluate", help="quality metrics of a trained run (writes metrics.json)")
    e.add_argument("run", help="a run folder (holds generator.keras)")
    e.add_argument("--n", type=_positive_int, default=2000, help="how many samples")
    e.add_argument("--data", help="dataset root (default: $GAN_LIB_DATA or data/)")
    e.add_argument("--best", action="store_true",
                   help="evaluate generator_best.keras, the run's best eval step (not the last)")

    p = sub.add_parser("pack", help="pack a trained run into one file to share (a class loads it "
                                    "with gan_lib.share.load_run)")
    p.add_argument("run", help="a run folder")
    p.add_argument("--out", help="the file to write (default: RUN.ganrun.zip beside the folder)")

    sub.add_parser("list", help="name the configs")
    return parser


def _train(args) -> None:
    config = get_config(args.config, quick=args.quick or quick_mode())
    changes = {k: v for k, v in {
        "steps": args.steps, "max_seconds": args.max_seconds, "batch_size": args.batch_size,
        "seed": args.seed, "toy_distribution": args.distribution, "loss": args.loss,
        "image_size": args.image_size,
        "update": args.update, "batchnorm": args.batchnorm, "diffaugment": args.diffaugment,
        "tensorboard": args.tensorboard or None, "mixed_precision": args.mixed_precision or None,
        "steps_per_execution": args.steps_per_execution, "jit_compile": args.jit_compile or None,
    }.items() if v is not None}
    if args.image_size and config.is_2d:
        raise GanLibError(f"--image-size is for image recipes, not {config.name}")
    if args.distribution and not config.is_2d:
        raise GanLibError(f"--distribution is for toy2d, not {config.name}")
    config = dataclasses.replace(config, **changes)
    if args.images is not None:
        from gan_lib.data.own_images import on_images  # Pillow and NumPy, no TensorFlow

        config = on_images(config, args.images)
    config.validate()
    out = Path(args.out) if args.out else None
    if args.data is not None and not Path(args.data).is_dir():
        raise GanLibError(f"--data {args.data} is not a folder")

    from gan_lib import pick_strategy, train  # TensorFlow loads here, after the checks

    strategy, where = (None, "one device (--one-device)") if args.one_device else pick_strategy()
    print(f"{config.name}: training on {where}", flush=True)
    result = train(config, out, data_root=args.data, resume=args.resume, epochs=args.epochs,
                   progress=not args.no_progress, strategy=strategy)
    print(f"{config.name}: step {result.step} ({result.stopped}); wrote {result.out_dir}/")
    best = result.folder.read_best()
    if best:
        print(f"{config.name}: the best {best['metric']} ({best['value']:.4g}) was at step "
              f"{best['step']}: {result.folder.best_generator_path} (sample/evaluate --best)")


def _sample(args) -> None:
    out = Path(args.out)
    if out.suffix != ".npz":
        raise GanLibError(f"--out must end in .npz, got {out}")
    from gan_lib import sample

    samples = sample(args.run, args.n, seed=args.seed, label=args.label, best=args.best)
    out.parent.mkdir(parents=True, exist_ok=True)
    import numpy as np
    np.savez_compressed(out, images=samples)
    print(f"wrote {args.n} samples {samples.dtype} {list(samples.shape)} to {out}")


def _evaluate(args) -> None:
    from gan_lib import RunFolder, evaluate_run

    folder = RunFolder(args.run)
    if not folder.generator_path.exists():
        raise GanLibError(f"{folder.path} has no {RunFolder.GENERATOR}: train it first")
    result = evaluate_run(folder.path, args.n, data_root=args.data, best=args.best)
    for key, value in result.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key:>18}: {shown}")
    print(f"wrote {folder.metrics_path}")


def _pack(args) -> None:
    from gan_lib.share import pack_run

    path, sha256 = pack_run(args.run, args.out)
    size = path.stat().st_size / 1e6
    print(f"wrote {path} ({size:.1f} MB)\nsha256 {sha256}\nload it with "
          f"gan_lib.share.load_run(URL_OR_PATH, sha256=\"{sha256}\")")


def _list(args) -> None:
    width = max(map(len, CONFIGS))
    for name, config in sorted(CONFIGS.items()):
        print(f"{name:<{width}}  {config.description}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter down
    try:
        args = build_parser().parse_args(argv)
        {"train": _train, "sample": _sample, "evaluate": _evaluate, "pack": _pack,
         "list": _list}[args.command](args)
    except GanLibError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    return 0
