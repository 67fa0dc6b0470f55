import dataclasses
import functools
import http.server
import io
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_lib import get_config


@pytest.fixture
def shared_data() -> Path:
    """The offline datasets root (GAN_LIB_DATA); tests that need it skip without it."""
    root = os.environ.get("GAN_LIB_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    return Path(root)


@pytest.fixture
def tiny_toy():
    """toy2d shrunk to a handful of steps: for loop mechanics, not quality."""
    return dataclasses.replace(get_config("toy2d", quick=False), steps=40, log_every=5,
                               sample_every=20, checkpoint_every=20, num_train=512,
                               batch_size=64, num_fixed=64)


def write_unreadable_images(folder: Path, rng: np.random.Generator) -> int:
    """Write the files no image decoder can read into ``folder``; returns how many (6).

    A corrupt JPEG, a truncated PNG, an empty file, text named .jpg and a symlink loop
    (b5_loop_a.jpg <-> b5_loop_b.jpg): what a student's scraped folder holds.
    """
    header = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(header, "JPEG")
    (folder / "b1_corrupt.jpg").write_bytes(header.getvalue()[:20] + rng.bytes(3000))
    png = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(png, "PNG")
    (folder / "b2_truncated.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (folder / "b3_empty.jpg").write_bytes(b"")
    (folder / "b4_text.jpg").write_text("this is not a picture\n")
    os.symlink("b5_loop_b.jpg", folder / "b5_loop_a.jpg")
    os.symlink("b5_loop_a.jpg", folder / "b5_loop_b.jpg")
    return 6


@pytest.fixture
def unreadable_images():
    """``write_unreadable_images``, for tests that build a messy image folder."""
    return write_unreadable_images


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_folder(tmp_path):
    """A local HTTP server over ``tmp_path / "www"`` (loopback only); yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
