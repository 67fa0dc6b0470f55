"""Cats and faces: annotations, eye alignment, outlier criteria, downloads, the shared data."""

import hashlib
import http.server
import io
import os
import shutil
import socket
import tarfile
import threading
import time
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gan_lib.data import archives, cat_landmarks, cats, faces, outliers
from gan_lib.data.download import DownloadError
from gan_lib.errors import GanLibError

# An upright cat head: eyes level, mouth below, ear points above (x, y pixels).
CANONICAL = np.array([[80, 100], [120, 100], [100, 125], [70, 85], [65, 55], [90, 75],
                      [110, 75], [135, 55], [130, 85]], np.float64)


def _rotated(points, degrees, centre=(110.0, 110.0)):
    a = np.radians(degrees)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (points - centre) @ m.T + centre


def _blob_centre(rgb, colour):
    mask = (np.abs(rgb.astype(int) - colour) < 60).all(axis=-1)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 5, f"no {colour} marker found"
    return xs.mean(), ys.mean()


def test_read_cat_annotation(tmp_path):
    good = tmp_path / "a.jpg.cat"
    good.write_text("9 " + " ".join(str(int(v)) for v in CANONICAL.ravel()) + " \n")
    np.testing.assert_array_equal(cat_landmarks.read_cat_annotation(good),
                                  CANONICAL.astype(np.float32))
    for text in ("8 1 2 3", "9 1 2 3 4", "9 a b c d e f g h i j k l m n o p q r", ""):
        bad = tmp_path / "bad.jpg.cat"
        bad.write_text(text)
        with pytest.raises(GanLibError, match="bad.jpg.cat"):
            cat_landmarks.read_cat_annotation(bad)


@pytest.mark.parametrize("degrees", [-35.0, 0.0, 20.0])
def test_align_cat_face_levels_the_eyes(degrees):
    points = _rotated(CANONICAL, degrees)
    photo = Image.new("RGB", (220, 220), (90, 90, 90))
    draw = ImageDraw.Draw(photo)
    for (x, y), colour in zip(points[:3], [(255, 0, 0), (0, 0, 255), (0, 255, 0)]):
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)
    crop = np.asarray(cat_landmarks.align_cat_face(photo, points, image_size=None))
    side = 1.15 * (125 + 0.5 * 25 - 55)  # margin x (chin - top ear point), see cat_face_box
    assert abs(crop.shape[0] - side) <= 1.5 and crop.shape[0] == crop.shape[1]
    (lx, ly), (rx, ry) = _blob_centre(crop, (255, 0, 0)), _blob_centre(crop, (0, 0, 255))
    mx, my = _blob_centre(crop, (0, 255, 0))
    assert abs(ly - ry) < 1.0 and abs((rx - lx) - 40) < 1.5  # level, distance kept
    assert abs(mx - (lx + rx) / 2) < 1.5 and abs((my - ly) - 25) < 1.5  # mouth straight below
    assert abs((lx + rx) / 2 - crop.shape[1] / 2) < 1.5  # centred between the eyes
    # The eyes given in the other order must not turn the head upside down.
    _, moved = cat_landmarks.level_eyes(photo, points[[1, 0, 2, 3, 4, 5, 6, 7, 8]])
    assert moved[2, 1] > moved[0, 1] and abs(moved[0, 1] - moved[1, 1]) < 1e-3
    small = cat_landmarks.align_cat_face(photo, points, image_size=32)
    assert small.size == (32, 32) and small.mode == "RGB"


def test_load_cat_landmarks_skips_bad_pairs_once(tmp_path):
    folder = tmp_path / "cat_landmarks" / "CAT_00"
    folder.mkdir(parents=True)
    line = "9 " + " ".join(f"{v:g}" for v in _rotated(CANONICAL, 15).ravel())
    for name in ("a", "b", "c"):
        Image.new("RGB", (220, 220), (200, 100, 50)).save(folder / f"{name}.jpg")
    (folder / "a.jpg.cat").write_text(line)
    (folder / "b.jpg.cat").write_text(line)
    (folder / "c.jpg.cat").write_text("9 1 2 3")  # malformed
    (folder / "d.jpg.cat").write_text(line)  # no photo
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        heads = cat_landmarks.load_cat_landmarks(tmp_path, image_size=32, progress=False)
    assert heads.shape == (2, 32, 32, 3) and heads.dtype == np.uint8
    assert np.abs(heads[0, 8:24, 8:24].astype(int) - [200, 100, 50]).max() <= 3
    messages = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(messages) == 1 and "skipped 2 of 4" in messages[0]
    assert "c.jpg.cat" in messages[0] and "d.jpg.cat" in messages[0]
    with pytest.raises(GanLibError, match="no CAT annotations"):
        cat_landmarks.load_cat_landmarks(tmp_path / "elsewhere")


def test_aligned_cats_are_cached_until_an_annotation_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cat_landmarks" / "CAT_00"
    folder.mkdir(parents=True)
    line = "9 " + " ".join(f"{v:g}" for v in _rotated(CANONICAL, 15).ravel())
    for name, colour in (("a", (200, 100, 50)), ("b", (20, 200, 90))):
        Image.new("RGB", (220, 220), colour).save(folder / f"{name}.jpg")
        (folder / f"{name}.jpg.cat").write_text(line)
    first = cat_landmarks.load_cat_landmarks(tmp_path, image_size=32, progress=False)
    assert len(list((tmp_path / "cache").glob("cat_landmarks_32px_*.npy"))) == 1

    def no_aligning(args):
        raise AssertionError("aligned again instead of reading the cache")

    with monkeypatch.context() as m:
        m.setattr(cat_landmarks, "_landmark_crop", no_aligning)
        np.testing.assert_array_equal(
            cat_landmarks.load_cat_landmarks(tmp_path, image_size=32, progress=False), first)
    (folder / "b.jpg.cat").write_text(line + " ")  # an edited annotation: aligned again
    again = cat_landmarks.load_cat_landmarks(tmp_path, image_size=32, progress=False)
    np.testing.assert_array_equal(again, first)
    assert len(list((tmp_path / "cache").glob("cat_landmarks_32px_*.npy"))) == 2


def _smooth_images(n, seed=0):
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (n, 6, 6, 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(x).resize((64, 64), Image.BICUBIC)) for x in low])


def test_average_hash_matches_numpy_reference():
    images = _smooth_images(50)
    grey = images.astype(np.float64) @ [0.299, 0.587, 0.114]
    small = grey.reshape(50, 8, 8, 8, 8).mean(axis=(2, 4))  # 8x8 block means
    bits = (small > small.mean(axis=(1, 2), keepdims=True)).reshape(50, 64)
    reference = np.array([int("".join("1" if b else "0" for b in row), 2) for row in bits],
                         np.uint64)
    np.testing.assert_array_equal(outliers.average_hash(images), reference)


def test_near_duplicates_match_brute_force():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, 40, dtype=np.uint64)
    copies = []
    for k in range(10):  # copies of random images with k bits flipped
        flips = rng.choice(64, k, replace=False)
        copies.append(base[rng.integers(40)] ^ np.uint64(sum(1 << int(f) for f in flips)))
    hashes = np.concatenate([base, np.array(copies, np.uint64)])
    rng.shuffle(hashes)
    dist = np.array([[bin(int(a) ^ int(b)).count("1") for b in hashes] for a in hashes])
    expected = [j for j in range(len(hashes)) if (dist[j, :j] <= 5).any()]
    got = outliers._near_duplicates(hashes, np.arange(len(hashes)), 5)
    assert sorted(got.tolist()) == expected and len(expected) >= 4


def test_atypicality_matches_svd_reference():
    images = _smooth_images(120, seed=5)
    x = np.stack([np.asarray(Image.fromarray(im).resize((8, 8), Image.BOX), np.float64).ravel()
                  for im in images]) / 255.0
    u, _, _ = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    reference = np.linalg.norm(u[:, :8] * np.sqrt(len(x) - 1), axis=1)
    np.testing.assert_allclose(outliers._atypicality(images, 8), reference, rtol=1e-6)


def test_find_outliers_and_clean_on_planted_images():
    images = _smooth_images(60)
    exact = images[3]
    near = np.clip(images[5].astype(int) + 3, 0, 255).astype(np.uint8)  # same photo, brighter
    flat = np.full((64, 64, 3), 120, np.uint8)
    images = np.concatenate([images, exact[None], near[None], flat[None]])
    found = outliers.find_outliers(images)
    assert found["exact_duplicates"].tolist() == [60]
    assert 61 in found["near_duplicates"] and 60 not in found["near_duplicates"]
    assert found["low_detail"].tolist() == [62]
    assert len(found["atypical"]) == 1 and set(found["reasons"]) == {
        "exact_duplicates", "near_duplicates", "low_detail", "atypical"}
    for name in ("exact_duplicates", "near_duplicates", "low_detail", "atypical"):
        assert found[name].dtype == np.int64
    kept, report = outliers.clean_images(images, drop=("exact_duplicates", "low_detail"))
    assert report["num_before"] == 63 and report["num_after"] == 61 == len(kept)
    np.testing.assert_array_equal(kept, images[report["kept"]])
    assert 60 not in report["kept"] and 62 not in report["kept"]
    with pytest.raises(GanLibError, match="unknown outlier"):
        outliers.clean_images(images, drop=("blurry",))


def _png_bytes(colour):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, "PNG")
    return buf.getvalue()


def _tar(path, members):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_cat_faces_download_and_unpack(tmp_path, monkeypatch):
    urls = []
    for part in (1, 2, 3):
        members = {f"dataset-part{part}/cat_{part}{i}.png": _png_bytes((part * 60, i, 0))
                   for i in range(4)}
        urls.append(_tar(tmp_path / f"dataset-part{part}.tar.gz", members).as_uri())
    monkeypatch.setattr(cats, "CAT_FACES_URLS", urls)
    root = tmp_path / "data"
    with pytest.raises(GanLibError, match="download=True"):
        cats.load_cat_faces(root, download=False)
    images = cats.load_cat_faces(root, download=True, progress=False)
    assert images.shape == (12, 64, 64, 3) and images[0, 0, 0, 0] == 60
    assert not list((root / "cat_faces").glob("*.tar.gz"))  # archives removed once unpacked
    monkeypatch.setattr(cats, "CAT_FACES_URLS", [u + ".gone" for u in urls])
    assert len(cats.load_cat_faces(root, download=True, progress=False)) == 12  # no refetch


def test_unsafe_archives_are_refused(tmp_path):
    evil = _tar(tmp_path / "evil.tar.gz", {"../evil.png": _png_bytes((1, 2, 3))})
    with pytest.raises(GanLibError, match="unsafe path"):
        archives.extract_archive(evil, tmp_path / "out")
    assert not (tmp_path / "evil.png").exists()
    with tarfile.open(tmp_path / "link.tar.gz", "w:gz") as t:
        info = tarfile.TarInfo("x/link.png")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(GanLibError, match="link"):
        archives.extract_archive(tmp_path / "link.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cat_faces_without_network_gives_download_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cats, "CAT_FACES_URLS", [f"http://127.0.0.1:{_closed_port()}/p.tar.gz"])
    with pytest.raises(DownloadError, match="Cat-faces-dataset"):
        cats.load_cat_faces(tmp_path, download=True)


def _write_celeba_like(folder, n=6):
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        low = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
        Image.fromarray(low).resize((178, 218), Image.BICUBIC).save(
            folder / f"{i + 1:06}.jpg", quality=95)


def _serve_celeba_zip(tmp_path, monkeypatch, n):
    """An img_align_celeba.zip of ``n`` CelebA-like photos that faces.download_celeba fetches."""
    _write_celeba_like(tmp_path / "src" / "img_align_celeba", n=n)
    zip_path = tmp_path / "img_align_celeba.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        for f in sorted((tmp_path / "src").rglob("*.jpg")):
            z.write(f, f.relative_to(tmp_path / "src").as_posix())
    monkeypatch.setattr(faces, "CELEBA_URL", zip_path.as_uri())
    monkeypatch.setattr(faces, "CELEBA_MD5", hashlib.md5(zip_path.read_bytes()).hexdigest())
    return zip_path


def test_faces_crop_matches_the_dcgan_tutorial(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "cache"))
    _write_celeba_like(tmp_path / "faces")
    got = faces.load_faces(tmp_path, image_size=64, progress=False)
    assert got.shape == (6, 64, 64, 3) and got.dtype == np.uint8
    for i, path in enumerate(sorted((tmp_path / "faces").glob("*.jpg"))):
        photo = Image.open(path).convert("RGB")
        square = np.asarray(photo.crop((0, 20, 178, 198)).resize((64, 64), Image.LANCZOS))
        # torchvision: Resize(64) (shorter side to 64, here 64x78), then CenterCrop(64).
        short = np.asarray(photo.resize((64, 78), Image.BILINEAR))[7:71]
        diff = np.abs(got[i].astype(int) - square)
        assert diff[4:-4, 4:-4].max() <= 2  # only the border may read outside the box
        assert np.abs(got[i].astype(int) - short).mean() < 4


def test_faces_download_unzips(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LIB_CACHE", str(tmp_path / "cache"))
    _serve_celeba_zip(tmp_path, monkeypatch, n=3)
    root = tmp_path / "data"
    with pytest.raises(GanLibError, match="non-commercial"):
        faces.load_faces(root)
    assert faces.load_faces(root, download=True, progress=False).shape == (3, 64, 64, 3)
    assert (root / "faces" / "img_align_celeba" / "000001.jpg").is_file()
    assert not (root / "faces" / "img_align_celeba.zip").exists()


def test_faces_download_html_page_says_how_to_get_it_by_hand(tmp_path, monkeypatch):
    class QuotaPage(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE html><html><title>Google Drive - Quota exceeded</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuotaPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(faces, "CELEBA_URL", f"http://127.0.0.1:{server.server_port}/uc")
        with pytest.raises(DownloadError) as info:
            faces.load_faces(tmp_path, download=True)
    finally:
        server.shutdown()
        server.server_close()
    message = str(info.value)
    assert "img_align_celeba.zip" in message and "non-commercial" in message
    assert not list((tmp_path / "faces").glob("*"))  # no partial file left


# --- the shared datasets (skipped without GAN_LIB_DATA) -----------------------------------

def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory):
    old = os.environ.get("GAN_LIB_CACHE")
    os.environ["GAN_LIB_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("GAN_LIB_CACHE")
    else:
        os.environ["GAN_LIB_CACHE"] = old


@pytest.fixture(scope="module")
def shared_cats(image_cache):
    root = os.environ.get("GAN_LIB_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    first, t1 = _timed(lambda: cats.load_cat_faces(root, progress=False))
    second, t2 = _timed(lambda: cats.load_cat_faces(root, progress=False))
    print(f"\ncat_faces: first load {t1:.2f} s, cached {t2:.3f} s")
    np.testing.assert_array_equal(first, second)
    return first


def test_shared_cat_faces(shared_cats):
    assert shared_cats.shape == (3000, 64, 64, 3) and shared_cats.dtype == np.uint8
    assert 60 < shared_cats.mean() < 200 and shared_cats.std() > 30


def test_shared_cat_outliers(shared_cats):
    found = outliers.find_outliers(shared_cats)
    counts = {k: len(v) for k, v in found.items() if k != "reasons"}
    print(f"\noutliers in the 3,000 shared cats: {counts}")
    for name, count in counts.items():
        idx = found[name]
        assert np.all(np.diff(idx) > 0) and (count == 0 or 0 <= idx[0] <= idx[-1] < 3000)
    assert counts["exact_duplicates"] == 0  # the README: byte duplicates were removed
    assert counts["near_duplicates"] <= 30  # ... and near duplicates thinned
    assert 25 <= counts["atypical"] <= 35  # the top 1 %
    assert counts["low_detail"] < 30


def test_shared_faces(shared_data, image_cache):
    first, t1 = _timed(lambda: faces.load_faces(shared_data, progress=False))
    second, t2 = _timed(lambda: faces.load_faces(shared_data, progress=False))
    print(f"\nfaces: first load {t1:.2f} s, cached {t2:.3f} s")
    assert first.shape == (3000, 64, 64, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, second)


def test_shared_cat_landmarks(shared_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        heads = cat_landmarks.load_cat_landmarks(shared_data, progress=False)
    skipped = [str(w.message) for w in caught if "skipped" in str(w.message)]
    print(f"\ncat_landmarks: {len(heads)} faces; {skipped or 'none skipped'}")
    assert heads.shape == (72, 64, 64, 3) and not skipped
    for path in sorted((shared_data / "cat_landmarks").rglob("*.cat"))[:10]:
        points = cat_landmarks.read_cat_annotation(path)
        _, moved = cat_landmarks.level_eyes(Image.new("RGB", (8, 8)), points)
        assert abs(moved[0, 1] - moved[1, 1]) < 1e-3  # eyes level after the rotation


def test_a_new_colab_runtime_reuses_the_archive_and_the_decoded_cache_on_drive(tmp_path,
                                                                              monkeypatch):
    """What notebooks 05 and 06 set on Colab: archives and decode cache on Drive, the photos on
    the runtime's own disk, which a disconnect wipes. The next runtime neither downloads nor
    decodes again."""
    from gan_lib.data import images as image_folder

    drive = tmp_path / "drive"
    monkeypatch.setenv("GAN_LIB_ARCHIVES", str(drive / "archives"))
    monkeypatch.setenv("GAN_LIB_CACHE", str(drive / "cache"))
    zip_path = _serve_celeba_zip(tmp_path, monkeypatch, n=4)
    root = tmp_path / "content" / "data"
    first = faces.load_faces(root, download=True, progress=False)
    assert (drive / "archives" / "img_align_celeba.zip").is_file()  # kept, on Drive
    assert len(list((drive / "cache").glob("faces_64px_*.npy"))) == 1
    assert not (root / "faces" / ".gan_lib_cache").exists()  # the cache went to Drive

    shutil.rmtree(tmp_path / "content")  # a disconnect: the runtime's disk is gone
    monkeypatch.setattr(faces, "CELEBA_URL", zip_path.as_uri() + ".gone")  # and no network

    def no_decoding(args):
        raise AssertionError("decoded again instead of reading the cache on Drive")

    monkeypatch.setattr(image_folder, "_try_decode", no_decoding)
    again = faces.load_faces(root, download=True, progress=False)
    np.testing.assert_array_equal(first, again)
    assert len(list((drive / "cache").glob("faces_64px_*.npy"))) == 1
