"""Train the 64x64 encoder behind gan_lib's KID (``gan_lib.metrics.encoder``) and save it.

    GAN_LIB_DATA=/path/to/datasets python scripts/train_encoder.py

Reads every cat face (``cat_faces``), CelebA face (``faces``) and aligned CAT crop
(``cat_landmarks``) under the data root at 64x64, holds out a fixed, seeded 15% of each
(``gan_lib.metrics.classifier.holdout_split``, the split the tests use), and trains the encoder
to say by how much each image was turned (0, 90, 180 or 270 degrees; every image in all four
turns, half of them mirrored). Prints the held-out accuracy and writes
gan_lib/weights/encoder64.weights.h5.
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
import tensorflow as tf  # noqa: E402

from gan_lib.data import load_images  # noqa: E402
from gan_lib.metrics.classifier import holdout_split  # noqa: E402
from gan_lib.metrics.encoder import WEIGHTS, build_encoder, rotations  # noqa: E402

DATASETS = ("cat_faces", "faces", "cat_landmarks")


def split_datasets(root: str | None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (train, test) images of all ``DATASETS``, each split 85/15 by ``holdout_split``."""
    train, test = [], []
    for name in DATASETS:
        images, _ = load_images(name, root, 64)
        train_idx, test_idx = holdout_split(len(images))
        train.append(images[train_idx])
        test.append(images[test_idx])
        print(f"{name}: {len(train_idx)} train / {len(test_idx)} test images")
    return np.concatenate(train), np.concatenate(test)


def accuracy(model: keras.Model, images: np.ndarray) -> float:
    x, y = rotations(images)
    logits = model.predict(x.astype(np.float32) / 127.5 - 1.0, batch_size=250, verbose=0)
    return float((logits.argmax(axis=1) == y).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $GAN_LIB_DATA or data/)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    train, test = split_datasets(args.data)
    # Mirror a random half before turning (a mirrored face is still the right way up; a
    # mirrored turned one is turned the other way).
    mirror = np.random.default_rng(args.seed).random(len(train)) < 0.5
    train[mirror] = train[mirror, :, ::-1]
    x, y = rotations(train)
    data = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=args.seed)
            .batch(args.batch_size)
            .map(lambda a, b: (tf.cast(a, tf.float32) / 127.5 - 1.0, b)))
    encoder = build_encoder()
    steps = args.epochs * int(np.ceil(len(x) / args.batch_size))
    encoder.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.time()
    encoder.fit(data, epochs=args.epochs, verbose=2)
    print(f"trained in {time.time() - start:.0f} s on {len(x)} turned images")
    print(f"held-out accuracy: {accuracy(encoder, test):.4f} ({4 * len(test)} turned images)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plain = build_encoder()  # without the optimiser's state, which save_weights would keep
    plain.set_weights(encoder.get_weights())
    plain.save_weights(args.out)
    print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
