"""Train the small CNN behind gan_lib's image metrics and save its weights.

    python scripts/train_classifier.py --dataset mnist
    python scripts/train_classifier.py --dataset fashion_mnist

Reads every image found under $GAN_LIB_DATA/<dataset> (or --data), holds out a fixed, seeded
15% as a test split (``gan_lib.metrics.classifier.holdout_split``, the same split the tests
check), trains with light augmentation (small shifts, rotations and zooms; horizontal flips
for Fashion-MNIST, whose clothes are mostly symmetric), prints the test accuracy and writes
gan_lib/weights/<dataset>_classifier.weights.h5.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_lib.data.mnist import load_mnist  # noqa: E402
from gan_lib.metrics.classifier import (  # noqa: E402
    build_classifier,
    holdout_split,
    to_classifier_input,
    weights_path,
)

# Fashion has only 900 images in the shared folder: more passes over them.
DEFAULT_EPOCHS = {"mnist": 30, "fashion_mnist": 150}


def augmenter(flip: bool) -> keras.Sequential:
    """Random transforms, active only in training (Keras layers are no-ops at inference)."""
    steps = [keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", fill_value=-1.0),
             keras.layers.RandomRotation(0.05, fill_mode="constant", fill_value=-1.0),
             keras.layers.RandomZoom(0.1, fill_mode="constant", fill_value=-1.0)]
    if flip:
        steps.insert(0, keras.layers.RandomFlip("horizontal"))
    return keras.Sequential(steps, name="augment")


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    logits = model.predict(to_classifier_input(images), batch_size=500, verbose=0)
    return float((logits.argmax(axis=1) == labels).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DEFAULT_EPOCHS), default="mnist")
    parser.add_argument("--data", help="dataset root (default: $GAN_LIB_DATA or data/)")
    parser.add_argument("--epochs", type=int, help="default: 30 (mnist) or 150 (fashion)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="weights file (default: the shipped one)")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    images, labels = load_mnist(args.dataset, root=args.data)
    train_idx, test_idx = holdout_split(len(images))
    x_train, y_train = to_classifier_input(images[train_idx]), labels[train_idx]
    epochs = args.epochs or DEFAULT_EPOCHS[args.dataset]
    print(f"{args.dataset}: {len(train_idx)} train / {len(test_idx)} test images, "
          f"{epochs} epochs")

    classifier = build_classifier()
    trainer = keras.Sequential([keras.Input((28, 28, 1)),
                                augmenter(flip=args.dataset == "fashion_mnist"), classifier])
    steps = epochs * int(np.ceil(len(x_train) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    trainer.compile(optimizer=keras.optimizers.Adam(schedule),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    start = time.time()
    trainer.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs, verbose=2)
    print(f"trained in {time.time() - start:.0f} s")

    print(f"train accuracy: {accuracy(classifier, images[train_idx], y_train):.4f}")
    print(f"test accuracy:  {accuracy(classifier, images[test_idx], labels[test_idx]):.4f} "
          f"({len(test_idx)} held-out images)")
    out = args.out or weights_path(args.dataset)
    out.parent.mkdir(parents=True, exist_ok=True)
    classifier.save_weights(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
