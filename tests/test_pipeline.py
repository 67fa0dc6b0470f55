import numpy as np
import pytest
from PIL import Image

from gan_lib.data import (
    data_root,
    dataset_dir,
    image_dataset,
    scale_images,
    unscale_images,
)
from gan_lib.data.images import load_image_folder
from gan_lib.errors import GanLibError


def test_scale_maps_0_255_to_minus1_1_and_back():
    x = np.arange(256, dtype=np.uint8)
    scaled = scale_images(x).numpy()
    np.testing.assert_allclose(scaled, x / 127.5 - 1.0, atol=1e-6)
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    np.testing.assert_array_equal(unscale_images(scaled), x)


def test_image_dataset_shapes_range_and_labels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 8, 8), dtype=np.uint8)
    labels = np.arange(50) % 10
    ds = image_dataset(images, 16, labels=labels, seed=0)
    batches = list(ds)
    assert len(batches) == 3  # drop_remainder: 50 // 16
    x, y = batches[0]
    assert x.shape == (16, 8, 8, 1) and x.dtype.name == "float32"
    assert -1.0 <= x.numpy().min() and x.numpy().max() <= 1.0
    # each image keeps its label through the shuffle
    lookup = {images[i].tobytes(): labels[i] for i in range(50)}
    for img, lab in zip(unscale_images(x.numpy())[..., 0], y.numpy()):
        assert lookup[img.tobytes()] == lab


def test_random_flip_flips_some_images_and_only_horizontally():
    image = np.zeros((1, 4, 4, 3), np.uint8)
    image[0, :, 0] = 255  # a bright left column
    images = np.repeat(image, 64, axis=0)
    x = np.concatenate([b.numpy() for b in image_dataset(images, 64, flip=True, seed=1)])
    left = (x[:, :, 0] > 0).all(axis=(1, 2))
    right = (x[:, :, -1] > 0).all(axis=(1, 2))
    assert (left ^ right).all()  # each image is either unflipped or mirrored, never both
    assert 10 < left.sum() < 54


def test_a_folder_of_image_files_becomes_resized_batches_in_rgb(tmp_path):
    """The path a folder of image files takes: decoded and resized once into an array
    (load_image_folder), then batches of it (image_dataset)."""
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]):
        Image.new("RGB", (20, 20), colour).save(tmp_path / f"{i}.png")
    images = load_image_folder(tmp_path, 8, cache=False, progress=False)
    batch = next(iter(image_dataset(images, batch_size=4, seed=0))).numpy()
    assert batch.shape == (4, 8, 8, 3)
    means = {tuple(np.round(img.mean(axis=(0, 1)))) for img in batch}
    assert means == {(1, -1, -1), (-1, 1, -1), (-1, -1, 1), (1, 1, 1)}  # RGB order kept


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_LIB_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("GAN_LIB_DATA")
    assert data_root().name == "data"
    with pytest.raises(GanLibError, match="dataset folder not found"):
        dataset_dir("nope", tmp_path)


def test_every_epoch_is_a_permutation_of_the_whole_array_read_in_place(tmp_path):
    """image_dataset shuffles row numbers over all N rows and reads the rows from the array
    itself: a memory-mapped .npy (what the decode cache is) works as it is."""
    n, batch = 96, 32
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8)
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    ds = image_dataset(mapped, batch, seed=3)
    epochs = []
    for _ in range(2):
        rows = np.concatenate([unscale_images(b.numpy())[:, 0, 0, 0] for b in ds])
        assert sorted(rows.tolist()) == list(range(n))  # each image exactly once
        epochs.append(rows)
    assert (epochs[0] != epochs[1]).any()  # a new order every epoch
    assert (epochs[0][:batch] != np.arange(batch)).any()  # shuffled across the whole array
    assert mapped.shape == (n, 2, 2, 1)


def test_a_batch_larger_than_the_array_is_a_clear_error():
    with pytest.raises(GanLibError, match="batch size 8 is larger than the dataset"):
        image_dataset(np.zeros((5, 2, 2, 3), np.uint8), 8)
