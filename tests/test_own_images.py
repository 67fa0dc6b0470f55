"""Your own images as a dataset (issue 22): ``train(config, out, images=DIR)`` and ``--images``
on a folder of mixed, broken and nested files, a zip, and the URL of a zip; the errors."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_lib import get_config
from gan_lib.cli import main
from gan_lib.data.own_images import MIN_IMAGES, image_folder, load_own_images
from gan_lib.errors import GanLibError


def write_photos(folder: Path, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` readable images in nested folders, in the modes and sizes a student's folder has:
    RGB JPEGs and PNGs of any aspect, grey, RGBA, CMYK, an EXIF-rotated JPEG. Returns each
    image's mean colour after it is made RGB (to check the decoding against)."""
    rng = np.random.default_rng(seed)
    means = []
    for i in range(n):
        sub = folder / f"album_{i % 3}" / ("deeper" if i % 5 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        w, h = int(rng.integers(40, 120)), int(rng.integers(40, 120))
        colour = rng.integers(0, 256, 3)
        rgb = np.broadcast_to(colour, (h, w, 3)).astype(np.uint8)
        kind = i % 6
        if kind == 0:
            Image.fromarray(rgb).save(sub / f"p{i}.jpg", quality=95)
        elif kind == 1:
            Image.fromarray(rgb).save(sub / f"p{i}.PNG")
        elif kind == 2:
            grey = Image.fromarray(rgb).convert("L")
            grey.save(sub / f"p{i}.png")
            colour = np.array([np.asarray(grey).mean()] * 3)
        elif kind == 3:
            rgba = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
            Image.fromarray(rgba, "RGBA").save(sub / f"p{i}.png")
        elif kind == 4:
            Image.fromarray(rgb).convert("CMYK").save(sub / f"p{i}.jpg", quality=95)
        else:
            exif = Image.Exif()
            exif[0x0112] = 6  # rotate 90 degrees when shown
            Image.fromarray(rgb).save(sub / f"p{i}.jpeg", exif=exif, quality=95)
        means.append(np.asarray(colour, np.float64))
    return means


@pytest.fixture
def own_folder(tmp_path, unreadable_images):
    folder = tmp_path / "my photos"
    write_photos(folder, MIN_IMAGES + 8)
    (folder / "broken").mkdir()
    unreadable_images(folder / "broken", np.random.default_rng(1))
    (folder / "notes.txt").write_text("not an image, not counted")
    return folder


def _fast_recipe():
    return dataclasses.replace(get_config("faces64_fast", quick=True), steps=4, log_every=2,
                               sample_every=2, checkpoint_every=2, num_train=0, num_fixed=16,
                               batch_size=8)


def test_a_folder_of_mixed_broken_nested_files_trains_resumes_samples_and_evaluates(
        tmp_path, own_folder, capsys):
    from gan_lib import evaluate_run, sample, train

    out = tmp_path / "run"
    with pytest.warns(UserWarning, match=r"skipped 6 of 114 image files"):
        run = train(_fast_recipe(), out, images=own_folder, progress=False)
    assert run.step == 4 and run.data.num_examples == MIN_IMAGES + 8
    saved = json.loads((out / "config.json").read_text())
    assert saved["dataset"] == "own_images" and saved["images"] == str(own_folder.resolve())
    assert np.isfinite(run.history["d_loss"]).all()

    # A resume with the same folder continues; with another one it is refused.
    longer = dataclasses.replace(_fast_recipe(), steps=6)
    assert train(longer, out, images=own_folder, resume=True, progress=False).step == 6
    other = tmp_path / "other"
    write_photos(other, MIN_IMAGES, seed=3)
    with pytest.raises(GanLibError, match=r"cannot resume.*images: .*my photos.* -> .*other"):
        train(longer, out, images=other, resume=True, progress=False)

    images = sample(out, 5)
    assert images.shape == (5, 64, 64, 3) and images.dtype == np.uint8
    metrics = evaluate_run(out, n=32)
    assert metrics["nn_distance"] > 0 and metrics["real_nn_distance"] >= 0
    assert (out / "nearest_neighbours.png").exists()


def test_the_images_are_decoded_upright_in_rgb_centre_cropped_and_grey_for_one_channel(
        tmp_path):
    folder = tmp_path / "photos"
    means = write_photos(folder, MIN_IMAGES)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    rgb = load_own_images(folder, 32, channels=3, progress=False)
    assert rgb.shape == (MIN_IMAGES, 32, 32, 3) and rgb.dtype == np.uint8
    order = sorted(range(MIN_IMAGES), key=lambda i: files[i])  # load order is the sorted names
    for got, index in zip(rgb, order):
        want = means[int(Path(files[index]).stem[1:])]
        assert np.abs(got.reshape(-1, 3).mean(axis=0) - want).max() < 6  # JPEG and CMYK error
    grey = load_own_images(folder, 32, channels=1, progress=False)
    luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert grey.shape == (MIN_IMAGES, 32, 32, 1)
    assert np.abs(grey[..., 0] - luma).max() <= 0.5 + 1e-6


def _zip_of(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, Path("holiday") / p.relative_to(folder))
    return archive


def test_a_zip_and_the_url_of_a_zip_are_unpacked_once_under_the_data_root(tmp_path,
                                                                         http_folder):
    photos = tmp_path / "photos"
    write_photos(photos, MIN_IMAGES)
    archive = _zip_of(photos, tmp_path / "holiday.zip")
    root = tmp_path / "data"
    folder = image_folder(archive, root)
    assert folder.parent == root / "own_images" and folder.name.startswith("holiday_")
    assert len(load_own_images(archive, 16, root=root, progress=False)) == MIN_IMAGES
    assert image_folder(archive, root) == folder  # unpacked once

    www, base = http_folder
    shutil.copy(archive, www / "holiday.zip")
    url = f"{base}/holiday.zip"
    from_url = image_folder(url, root)
    assert from_url != folder and from_url.parent == root / "own_images"
    assert len(load_own_images(url, 16, root=root, progress=False)) == MIN_IMAGES
    assert not list((root / "own_images").rglob("*.zip"))  # the archive: deleted once unpacked


def test_a_zip_changed_under_the_same_name_is_unpacked_again(tmp_path):
    """A student fixes the zip and uploads it again under its name: the new images, not the old."""
    archive, root = tmp_path / "photos.zip", tmp_path / "data"
    for name in ("a.png", "second.png"):  # another size too
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, format="PNG")
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr(name, buffer.getvalue())
        folder = image_folder(archive, root)
        assert sorted(p.name for p in folder.rglob("*.png")) == [name]
    assert image_folder(archive, root) == folder  # unchanged: not unpacked again


def _cli_error(capsys, argv) -> str:
    capsys.readouterr()  # what earlier commands printed
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    return err


def test_an_empty_folder_a_tiny_one_a_file_or_nothing_is_one_sentence_and_writes_nothing(
        tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    tiny = tmp_path / "tiny"
    write_photos(tiny, 10)
    a_file = tmp_path / "cat.jpg"
    Image.new("RGB", (8, 8)).save(a_file)
    out = tmp_path / "run"
    cases = {empty: r"no image files .* under .*empty",
             tiny: r"holds only 10 images: the course's recipes were tried on 100 or more",
             a_file: r"is a file, not a folder of images or a \.zip",
             tmp_path / "missing": r"no folder or zip file at .*missing"}
    for source, message in cases.items():
        err = _cli_error(capsys, ["train", "faces64_fast", "--quick", "--images", str(source),
                                  "--out", str(out), "--no-progress"])
        assert re.search(message, err), err
        assert not out.exists()


def test_recipes_that_cannot_take_your_images_say_which_can(capsys, tmp_path):
    for recipe in ("toy2d", "mnist_cgan"):
        err = _cli_error(capsys, ["train", recipe, "--images", str(tmp_path), "--no-progress"])
        assert "faces64_fast" in err


def test_cleaned_images_written_as_a_folder_read_back_the_same(tmp_path):
    from gan_lib.data.own_images import write_image_folder

    images = np.random.default_rng(2).integers(0, 256, (MIN_IMAGES, 16, 16, 3), np.uint8)
    folder = write_image_folder(images, tmp_path / "clean")
    assert not list(tmp_path.glob("*.partial"))
    np.testing.assert_array_equal(load_own_images(folder, 16, progress=False), images)
    assert write_image_folder(images[:1], folder) == folder  # kept as it is
    assert len(list(folder.glob("*.png"))) == MIN_IMAGES


def test_webp_and_tiff_are_read_and_heic_photos_are_named_not_silently_dropped(tmp_path):
    folder = tmp_path / "phone"
    write_photos(folder, MIN_IMAGES - 2)
    Image.new("RGB", (50, 40), (200, 10, 10)).save(folder / "a.webp", lossless=True)
    Image.new("RGB", (50, 40), (10, 200, 10)).save(folder / "b.tiff")
    (folder / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")  # a phone's photo
    with pytest.warns(UserWarning, match=r"1 HEIC/HEIF/AVIF photos .* convert them to JPEG"):
        images = load_own_images(folder, 16, progress=False)
    assert len(images) == MIN_IMAGES
    assert {tuple(px) for px in images[:, 8, 8]} >= {(200, 10, 10), (10, 200, 10)}


def test_a_broken_zip_is_one_clear_error(tmp_path):
    bad = tmp_path / "photos.zip"
    bad.write_bytes(io.BytesIO(b"PK\x03\x04 not really a zip").getvalue())
    with pytest.raises(GanLibError):
        image_folder(bad, tmp_path / "data")


def test_the_128_recipe_trains_on_a_folder_from_the_command_line_and_samples_128x128(
        tmp_path, capsys):
    photos = tmp_path / "photos"
    write_photos(photos, MIN_IMAGES)
    out, npz = tmp_path / "run128", tmp_path / "samples.npz"
    assert main(["train", "dcgan128_fast", "--quick", "--images", str(photos), "--out",
                 str(out), "--no-progress", "--diffaugment", "translation,color,cutout"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert (saved["image_size"], saved["images"]) == (128, str(photos))
    assert saved["diffaugment"] == "translation,color,cutout"  # lesson 08's terminal command
    assert main(["sample", str(out), "--n", "3", "--out", str(npz)]) == 0
    images = np.load(npz)["images"]
    assert images.shape == (3, 128, 128, 3) and images.dtype == np.uint8
    # The recipe's own dataset is "your images": without a folder it says so.
    err = _cli_error(capsys, ["train", "dcgan128", "--quick", "--out", str(tmp_path / "x"),
                              "--no-progress"])
    assert "trains on your own images" in err and not (tmp_path / "x").exists()


def test_the_own_images_benchmark_shrinks_128_pixel_samples_as_images():
    """benchmarks/own_images.py scores 128x128 samples at 64x64: the [-1, 1] floats become bytes
    first, then each 2x2 block is averaged (a cast after the resize wrapped them to 0, 1, 255)."""
    own = pytest.importorskip("benchmarks.own_images")  # not in a copy without benchmarks/
    samples = np.random.default_rng(0).uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32)
    small = own._at_64(samples)
    as_bytes = np.clip(np.rint((samples + 1.0) * 127.5), 0, 255)
    expected = as_bytes.reshape(2, 64, 2, 64, 2, 3).mean(axis=(2, 4))
    assert small.dtype == np.uint8 and small.shape == (2, 64, 64, 3)
    assert np.abs(small.astype(np.float64) - expected).max() <= 1.0
    assert np.array_equal(own._at_64(small), small)  # 64x64 bytes pass as they are
