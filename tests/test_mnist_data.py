"""gan_lib.data.mnist: idx parsing, every split of a folder, npz, errors and download."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from gan_lib.data import mnist
from gan_lib.data.mnist import CLASS_NAMES, load_mnist, read_idx
from gan_lib.errors import GanLibError


def shared_root() -> Path:
    root = os.environ.get("GAN_LIB_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    return Path(root)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.asarray(array, np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fake_split(folder: Path, split: str, n: int, seed: int = 0, gz: bool = True):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{split}-images-idx3-ubyte{ext}", images, gz)
    write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", labels, gz)
    return images, labels


def raw_reread(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read()[header:], np.uint8)


def test_shared_mnist():
    root = shared_root()
    images, labels = load_mnist("mnist", root=root)
    assert images.shape == (8000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (8000,) and labels.dtype == np.int64
    assert set(np.unique(labels)) == set(range(10))
    raw = raw_reread(root / "mnist" / "t10k-images-idx3-ubyte.gz", 16)
    np.testing.assert_array_equal(images.ravel(), raw)
    raw_labels = raw_reread(root / "mnist" / "t10k-labels-idx1-ubyte.gz", 8)
    np.testing.assert_array_equal(labels, raw_labels)


def test_shared_fashion_mnist_reads_the_sprite_split():
    root = shared_root()
    images, labels = load_mnist("fashion_mnist", root=root)
    assert images.shape == (900, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [90] * 10)
    raw = raw_reread(root / "fashion_mnist" / "sprite-images-idx3-ubyte.gz", 16)
    np.testing.assert_array_equal(images.ravel(), raw)
    names = CLASS_NAMES["fashion_mnist"]
    assert len(names) == 10 and names[0] == "T-shirt/top" and names[9] == "Ankle boot"


def test_gzip_and_plain_give_the_same_arrays(tmp_path):
    images, labels = fake_split(tmp_path / "gz" / "mnist", "train", 7, gz=True)
    fake_split(tmp_path / "plain" / "mnist", "train", 7, gz=False)
    for root in ("gz", "plain"):
        got_images, got_labels = load_mnist("mnist", root=tmp_path / root)
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)


def test_every_split_is_read_in_order(tmp_path):
    folder = tmp_path / "fashion_mnist"
    sprite = fake_split(folder, "sprite", 3, seed=1)
    t10k = fake_split(folder, "t10k", 4, seed=2, gz=False)
    train = fake_split(folder, "train", 5, seed=3)
    images, labels = load_mnist("fashion_mnist", root=tmp_path)
    np.testing.assert_array_equal(images, np.concatenate([train[0], t10k[0], sprite[0]]))
    np.testing.assert_array_equal(labels, np.concatenate([train[1], t10k[1], sprite[1]]))


def test_npz_folder(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 2, dtype=np.uint8)}
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / "mnist" / "mnist.npz", **arrays)
    images, labels = load_mnist("mnist", root=tmp_path)
    np.testing.assert_array_equal(images, np.concatenate([arrays["x_train"], arrays["x_test"]]))
    np.testing.assert_array_equal(labels, np.concatenate([arrays["y_train"], arrays["y_test"]]))
    assert labels.dtype == np.int64


@pytest.mark.parametrize("corrupt, message", [
    (lambda b: b"\x00\x00\x08\x02" + b[4:], "not an idx file"),
    (lambda b: b"\x12\x34" + b[2:], "not an idx file"),
    (lambda b: b[:2] + b"\x0d" + b[3:], "dtype"),
    (lambda b: b[:-10], "truncated"),
    (lambda b: b[:10], "truncated"),
    (lambda b: b + b"\x00" * 5, "longer than its header"),
])
def test_bad_idx_files_name_the_file(tmp_path, corrupt, message):
    good = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    path = tmp_path / "bad-images-idx3-ubyte"
    path.write_bytes(corrupt(good))
    with pytest.raises(GanLibError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))[:-20])
    with pytest.raises(GanLibError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_length_mismatch_names_both_files(tmp_path):
    folder = tmp_path / "mnist"
    fake_split(folder, "train", 5)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(GanLibError, match="5 images but .* 4 labels") as info:
        load_mnist("mnist", root=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)


def test_images_without_labels(tmp_path):
    folder = tmp_path / "mnist"
    fake_split(folder, "train", 2)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(GanLibError, match="no labels file.*train-labels-idx1-ubyte"):
        load_mnist("mnist", root=tmp_path)


def test_labels_out_of_range(tmp_path):
    folder = tmp_path / "mnist"
    fake_split(folder, "train", 2)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.array([3, 12], np.uint8))
    with pytest.raises(GanLibError, match="0..9"):
        load_mnist("mnist", root=tmp_path)


@pytest.mark.parametrize("make_folder", [False, True])
def test_missing_files_without_download(tmp_path, make_folder):
    if make_folder:
        (tmp_path / "fashion_mnist").mkdir()
    with pytest.raises(GanLibError) as info:
        load_mnist("fashion_mnist", root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "fashion_mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "download=True" in message


def test_unknown_name(tmp_path):
    with pytest.raises(GanLibError, match="unknown dataset 'cifar'"):
        load_mnist("cifar", root=tmp_path)


@pytest.fixture()
def mirror(tmp_path):
    """A local HTTP server holding the four original file names (with fake content)."""
    served = tmp_path / "served"
    images, labels = fake_split(served, "train", 6, seed=4)
    fake_split(served, "t10k", 2, seed=5)
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    md5s = [hashlib.md5((served / f).read_bytes()).hexdigest() for f in mnist.ORIGINAL_FILES]
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", md5s, images
    httpd.shutdown()
    httpd.server_close()


def test_download_from_mirror(tmp_path, monkeypatch, mirror):
    url, md5s, train_images = mirror
    monkeypatch.setitem(mnist.MIRRORS, "mnist", [url + "nowhere/", url])  # first one 404s
    monkeypatch.setitem(mnist.MD5, "mnist", md5s)
    images, labels = load_mnist("mnist", root=tmp_path / "data", download=True)
    assert images.shape == (8, 28, 28) and labels.shape == (8,)
    np.testing.assert_array_equal(images[:6], train_images)
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == \
        sorted(mnist.ORIGINAL_FILES)


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch, mirror):
    url, md5s, _ = mirror
    md5s = md5s[:3] + ["0" * 32]  # the last file fails its checksum after three succeed
    monkeypatch.setitem(mnist.MIRRORS, "mnist", [url])
    monkeypatch.setitem(mnist.MD5, "mnist", md5s)
    with pytest.raises(GanLibError) as info:
        load_mnist("mnist", root=tmp_path / "data", download=True)
    message = str(info.value)
    assert "checksum mismatch" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "data" / "mnist") in message
    assert list((tmp_path / "data" / "mnist").iterdir()) == []  # no half dataset left
