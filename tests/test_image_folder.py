"""load_image_folder on every kind of file a real folder holds: odd modes, broken files, caches."""

import os
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from gan_lib.data import images as images_mod
from gan_lib.data.images import decode_image, load_image_folder
from gan_lib.errors import GanLibError


def _save(image: Image.Image, path, **kw):
    image.save(path, **kw)
    return path


def _load_quiet(folder, **kw):
    """load_image_folder, returning (images, the warnings it gave)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_image_folder(folder, progress=False, **kw)
    return out, [str(w.message) for w in caught]


def _good_files(d):
    """Readable files of every mode, named so that sorted order is known."""
    _save(Image.new("RGB", (40, 30), (255, 0, 0)), d / "01_red.png")
    _save(Image.new("L", (20, 20), 77), d / "02_grey.png")
    _save(Image.new("LA", (20, 20), (10, 0)), d / "03_la.png")  # fully transparent
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 2], rgba[..., 3] = 255, 255  # opaque blue ...
    rgba[:, 10:, 3] = 0  # ... right half transparent
    _save(Image.fromarray(rgba), d / "04_rgba.png")
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 255, 0, 255, 0, 255] + [0] * 762)
    pal.paste(1, (0, 0, 20, 10))  # top half index 1 (magenta), bottom index 0 (transparent)
    _save(pal, d / "05_palette.png", transparency=0)
    _save(Image.fromarray(np.full((16, 16), 65535, np.uint16)), d / "06_white16.png")
    _save(Image.fromarray(np.full((16, 16), 32768, np.uint16)), d / "07_mid16.png")
    _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), d / "08_cmyk.jpg", quality=95)
    _save(Image.new("RGB", (8, 8), (0, 0, 255)), d / "09_tiny.BMP")
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(d / "10_anim.gif", save_all=True, append_images=frames[1:])
    _save(Image.new("1", (16, 16), 1), d / "11_onebit.png")
    return 11


def test_every_mode_decodes_to_the_right_rgb(tmp_path):
    _good_files(tmp_path)
    px = {p.name: decode_image(p, 16, crop=None) for p in tmp_path.iterdir()}
    for name, im in px.items():
        assert im.shape == (16, 16, 3) and im.dtype == np.uint8, name
    assert (px["01_red.png"] == [255, 0, 0]).all()  # channel order kept
    assert (px["02_grey.png"] == 77).all()
    assert (px["03_la.png"] == 255).all()  # transparent -> white background
    assert (px["04_rgba.png"][:, :6] == [0, 0, 255]).all()
    assert (px["04_rgba.png"][:, -6:] == 255).all()
    assert (px["05_palette.png"][:6] == [255, 0, 255]).all()
    assert (px["05_palette.png"][-6:] == 255).all()
    assert (px["06_white16.png"] == 255).all()  # 65535 -> 255, not clipped from a wrong scale
    assert np.abs(px["07_mid16.png"].astype(int) - 128).max() <= 1  # 32768 -> ~128, not 255
    r, g, b = px["08_cmyk.jpg"].reshape(-1, 3).mean(axis=0)
    assert r > 230 and g < 30 and b < 30  # CMYK (0, 255, 255, 0) is red
    assert (px["09_tiny.BMP"] == [0, 0, 255]).all()  # 8x8 upscaled
    assert (px["10_anim.gif"] == [255, 0, 0]).all()  # first frame only
    assert (px["11_onebit.png"] == 255).all()


def test_crop_box_and_exif_orientation(tmp_path):
    two = np.zeros((20, 40, 3), np.uint8)
    two[:, :20] = (255, 0, 0)
    two[:, 20:] = (0, 0, 255)
    im = Image.fromarray(two)
    _save(im.resize((80, 20), Image.NEAREST), tmp_path / "plain.png")
    # Boxes far from the red/blue edge: LANCZOS also reads a few pixels around the box.
    left = decode_image(tmp_path / "plain.png", 8, crop=(0, 0, 20, 20))
    right = decode_image(tmp_path / "plain.png", 8, crop=(60, 0, 80, 20))
    assert (left == [255, 0, 0]).all() and (right == [0, 0, 255]).all()
    with pytest.raises(ValueError, match="outside"):
        decode_image(tmp_path / "plain.png", 8, crop=(100, 100, 120, 120))
    # Orientation 6: shown turned 90 degrees clockwise, so the stored left half becomes the top.
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    out = decode_image(tmp_path / "turned.jpg", 20, crop="center").astype(int)
    assert out[:7, :, 0].mean() > 200 and out[:7, :, 2].mean() < 50  # top red
    assert out[-7:, :, 2].mean() > 200 and out[-7:, :, 0].mean() < 50  # bottom blue


def test_huge_jpeg_uses_reduced_decoding_and_keeps_the_box(tmp_path):
    big = Image.new("RGB", (6000, 4000), (255, 0, 0))
    big.paste((0, 0, 255), (3000, 0, 6000, 4000))
    big.save(tmp_path / "big.jpg", quality=80)
    left = decode_image(tmp_path / "big.jpg", 64, crop=(0, 0, 2900, 4000)).astype(int)
    right = decode_image(tmp_path / "big.jpg", 64, crop=(3100, 0, 6000, 4000)).astype(int)
    assert left[..., 0].min() > 230 and left[..., 2].max() < 25
    assert right[..., 2].min() > 230 and right[..., 0].max() < 25
    whole = decode_image(tmp_path / "big.jpg", 64, crop="center")
    assert whole.shape == (64, 64, 3)
    # The centred 4000x4000 square (x from 1000 to 5000) is half red, half blue.
    assert abs(whole[..., 0].mean() - 127.5) < 6 and abs(whole[..., 2].mean() - 127.5) < 6


def test_folder_skips_bad_files_with_one_warning(tmp_path, unreadable_images):
    rng = np.random.default_rng(0)
    good, bad = _good_files(tmp_path), unreadable_images(tmp_path, rng)
    sub = tmp_path / "nested" / "deeper"
    sub.mkdir(parents=True)
    _save(Image.new("RGB", (10, 10), (0, 255, 0)), sub / "z_green.jpeg")
    os.symlink(tmp_path, tmp_path / "nested" / "loop")  # a folder symlink loop
    _save(Image.new("RGB", (10, 10)), tmp_path / ".hidden.png")  # hidden: ignored
    locked = _save(Image.new("RGB", (10, 10), (9, 9, 9)), tmp_path / "c_locked.png")
    os.chmod(locked, 0)
    try:
        locked_readable = os.access(locked, os.R_OK)  # root reads it anyway
        images, msgs = _load_quiet(tmp_path, image_size=32, cache=False)
    finally:
        os.chmod(locked, 0o644)
    skipped = bad + (0 if locked_readable else 1)
    assert images.shape == (good + 1 + (1 if locked_readable else 0), 32, 32, 3)
    assert images.dtype == np.uint8
    assert (images[0] == [255, 0, 0]).all()  # sorted order: 01_red.png first
    # nested/deeper/z_green.jpeg is last, and seen once despite the loop (JPEG: +-3 levels).
    assert np.abs(images[-1].astype(int) - [0, 255, 0]).max() <= 3
    assert np.abs(images[-2].astype(int) - [0, 255, 0]).max() > 3
    skip_msgs = [m for m in msgs if "skipped" in m]
    assert len(skip_msgs) == 1, msgs
    assert f"skipped {skipped} of" in skip_msgs[0] and "b1_corrupt.jpg" in skip_msgs[0]


@pytest.mark.parametrize("size", [32, 64, 128, 50])
def test_sizes(tmp_path, size):
    _save(Image.new("RGB", (300, 200), (10, 20, 30)), tmp_path / "a.png")
    images, _ = _load_quiet(tmp_path, image_size=size, cache=False, crop=None)
    assert images.shape == (1, size, size, 3) and (images == [10, 20, 30]).all()


def test_user_mistakes_raise_ganliberror(tmp_path):
    with pytest.raises(GanLibError, match="not found"):
        load_image_folder(tmp_path / "nope", progress=False)
    with pytest.raises(GanLibError, match="no image files"):
        load_image_folder(tmp_path, progress=False)
    (tmp_path / "x.jpg").write_text("not an image")
    with pytest.raises(GanLibError, match="none of the 1"):
        _load_quiet(tmp_path, cache=False)
    with pytest.raises(GanLibError, match="crop"):
        load_image_folder(tmp_path, crop="middle", progress=False)


def _folder_of(tmp_path, n=20):
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        _save(Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)), d / f"{i:03}.png")
    return d


def test_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    d = _folder_of(tmp_path)
    t0 = time.perf_counter()
    first, _ = _load_quiet(d)
    t1 = time.perf_counter()
    cached = list((d / ".gan_lib_cache").glob("*.npy"))
    assert len(cached) == 1 and np.load(cached[0], mmap_mode="r").shape == first.shape

    def no_decoding(args):
        raise AssertionError("decoded although the cache was valid")
    monkeypatch.setattr(images_mod, "_try_decode", no_decoding)
    second, _ = _load_quiet(d)
    print(f"\nfirst load {t1 - t0:.3f} s, cached load {time.perf_counter() - t1:.3f} s")
    np.testing.assert_array_equal(first, second)
    monkeypatch.undo()

    _save(Image.new("RGB", (48, 48)), d / "999.png")  # a new file: a new key
    third, _ = _load_quiet(d)
    assert len(third) == len(first) + 1
    cached[0].write_bytes(b"garbage")  # a corrupt cache file is rebuilt
    fourth, _ = _load_quiet(d, image_size=64)
    assert fourth.shape == (len(first) + 1, 64, 64, 3)


def test_cache_falls_back_when_the_folder_is_read_only(tmp_path, monkeypatch):
    d = _folder_of(tmp_path, n=5)
    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "envcache"))
    os.chmod(d, 0o555)
    try:
        first, msgs = _load_quiet(d)
        second, _ = _load_quiet(d)
    finally:
        os.chmod(d, 0o755)
    assert not (d / ".gan_lib_cache").exists()
    assert len(list((tmp_path / "envcache").glob("imgs_64px_*.npy"))) == 1
    np.testing.assert_array_equal(first, second)
    assert not [m for m in msgs if "cache" in m]
    explicit = tmp_path / "mine"
    _load_quiet(d, cache_dir=explicit, image_size=32)
    assert len(list(explicit.glob("imgs_32px_*.npy"))) == 1
