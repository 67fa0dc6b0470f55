"""MNIST and Fashion-MNIST from their idx files (or Keras' ``mnist.npz``), every split at once.

A GAN trains on all the images it can get, so ``load_mnist`` reads every
``<split>-images-idx3-ubyte[.gz]`` in the folder with its labels file and concatenates them
(``train``, ``t10k``, or any other split name such as the shared folder's ``sprite``).
The idx format is LeCun's: a 4-byte magic number (0, 0, dtype 0x08 = uint8, number of
dimensions), one big-endian uint32 per dimension, then the raw bytes.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path

import numpy as np

from gan_lib.data.download import DownloadError, download
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}
ORIGINAL_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
# MD5s of the original files, as pinned by torchvision's MNIST and FashionMNIST datasets.
MD5 = {
    "mnist": ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"],
    "fashion_mnist": ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"],
}
MIRRORS = {  # tried in order; each holds the four ORIGINAL_FILES
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
    "fashion_mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                      "data/fashion/"],
}
_IMAGES = re.compile(r"^(?P<split>.+)-images-idx3-ubyte(?:\.gz)?$")
_SPLIT_ORDER = {"train": 0, "t10k": 1}  # originals first, then other splits by name


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file, gzipped or not (told apart by the gzip magic bytes).

    Returns:
        uint8 ``[N, 28, 28]`` for an images file (magic 0x00000803), ``[N]`` for labels
        (0x00000801).
    Raises:
        GanLibError: naming the file, for a bad magic number, dtype or header, or data that
            is shorter or longer than the header says.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise GanLibError(f"{path} is a broken or truncated gzip file ({err}); "
                              "download it again") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[3] not in (1, 3):
        raise GanLibError(f"{path} is not an idx file: magic number {raw[:4].hex() or 'missing'} "
                          "(expected 00000803 for images or 00000801 for labels)")
    if raw[2] != 0x08:
        raise GanLibError(f"{path}: idx dtype byte is 0x{raw[2]:02x}, expected 0x08 (uint8)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GanLibError(f"{path} is truncated: its header is cut short ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected, got = int(np.prod(shape)), len(raw) - header
    if got != expected:
        problem = "truncated" if got < expected else "longer than its header says"
        raise GanLibError(f"{path} is {problem}: the header says shape {shape} "
                          f"({expected} bytes of data) but {got} bytes follow")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(images, labels) file pairs in ``folder``, one per split, originals first."""
    splits: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        match = _IMAGES.match(path.name)
        if match and path.is_file():
            splits.setdefault(match["split"], path)  # plain sorts before .gz: prefer it
    pairs = []
    for split in sorted(splits, key=lambda s: (_SPLIT_ORDER.get(s, 2), s)):
        candidates = [folder / f"{split}-labels-idx1-ubyte{ext}" for ext in ("", ".gz")]
        labels = next((c for c in candidates if c.is_file()), None)
        if labels is None:
            raise GanLibError(f"{splits[split]} has no labels file: put "
                              f"{candidates[1].name} (or {candidates[0].name}) beside it")
        pairs.append((splits[split], labels))
    return pairs


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise GanLibError(f"{images_path} holds images of shape {images.shape[1:]}, "
                          "expected 28x28 (is it an images file?)")
    if labels.ndim != 1:
        raise GanLibError(f"{labels_path} is not a labels file (shape {labels.shape})")
    if len(images) != len(labels):
        raise GanLibError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                          f"{len(labels)} labels: the two files must come from the same split")
    return images, labels


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as f:
            images = np.concatenate([f["x_train"], f["x_test"]])
            labels = np.concatenate([f["y_train"], f["y_test"]])
    except (KeyError, ValueError, OSError) as err:
        raise GanLibError(f"{path} is not a Keras MNIST file with x_train, y_train, x_test, "
                          f"y_test ({err})") from None
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise GanLibError(f"{path}: images of shape {images.shape} do not match "
                          f"{len(labels)} labels of 28x28 images")
    return images.astype(np.uint8), labels


def _manual(name: str, folder: Path, tried: bool = False) -> str:
    return (f"put {', '.join(ORIGINAL_FILES)} (from {MIRRORS[name][0]})"
            + (" or Keras' mnist.npz" if name == "mnist" else "")
            + f" into {folder}" + ("" if tried else ", or pass download=True"))


def _download(name: str, folder: Path) -> None:
    """Fetch the four original files from the first mirror that works; GanLibError if none."""
    reasons = []
    for mirror in MIRRORS[name]:
        fetched = []
        try:
            for filename, md5 in zip(ORIGINAL_FILES, MD5[name]):
                fetched.append(download(mirror + filename, folder / filename, md5=md5,
                                        manual_hint=_manual(name, folder, tried=True)))
            return
        except DownloadError as err:
            reasons.append(f"{err.url}: {err.reason}")
            for path in fetched:  # half a dataset would be read as a broken split
                path.unlink(missing_ok=True)
    raise GanLibError(f"{name} is not in {folder} and downloading it failed "
                      f"({'; '.join(reasons)}). By hand: {_manual(name, folder, tried=True)}")


def load_mnist(name: str = "mnist", root: str | os.PathLike | None = None,
               download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All images and labels of MNIST or Fashion-MNIST found in ``<data root>/<name>``.

    Args:
        name: "mnist" or "fashion_mnist".
        root: dataset root (see ``gan_lib.data.paths.data_root``).
        download: fetch the original files (checked by MD5) when the folder has none.
    Returns:
        images uint8 ``[N, 28, 28]`` in [0, 255] and labels int64 ``[N]`` in 0..9, every
        split concatenated (train, then t10k, then other splits by name). When the folder
        holds idx files, a ``mnist.npz`` beside them is ignored.
    """
    if name not in CLASS_NAMES:
        raise GanLibError(f"unknown dataset {name!r}; choose one of {', '.join(CLASS_NAMES)}")
    folder = data_root(root) / name
    pairs = _pairs(folder) if folder.is_dir() else []
    npz = [folder / f for f in ("mnist.npz", f"{name}.npz") if (folder / f).is_file()]
    if not pairs and not npz:
        if not download:
            raise GanLibError(f"no {name} files found in {folder}: {_manual(name, folder)}")
        _download(name, folder)
        pairs = _pairs(folder)
    if pairs:
        parts = [_read_pair(*pair) for pair in pairs]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        source = ", ".join(p[1].name for p in pairs)
    else:
        (images, labels), source = _read_npz(npz[0]), str(npz[0])
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise GanLibError(f"labels in {folder} ({source}) must be 0..9, found "
                          f"{labels.min()}..{labels.max()}")
    return np.ascontiguousarray(images), labels
