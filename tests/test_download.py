"""gan_lib.data.download against a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from gan_lib.data import download as dl
from gan_lib.data.download import DownloadError, download
from gan_lib.errors import GanLibError

PAYLOAD = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
BIG = np.random.default_rng(1).integers(0, 256, (5 << 20) + 17, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
HINT = "put good.bin into data/thing/"


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, body: bytes, ctype: str = "application/octet-stream", status: int = 200,
              length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/good.bin":
            self._send(PAYLOAD)
        elif self.path == "/big.bin":
            self._send(BIG)
        elif self.path == "/page.html":
            self._send(b"<html><body>quota exceeded</body></html>", "text/html; charset=utf-8")
        elif self.path == "/sneaky.bin":  # an HTML page served as a binary
            self._send(b"\n<!DOCTYPE html><html>Google Drive - too many users</html>")
        elif self.path == "/quota":
            self._send(b"slow down", "text/plain", status=429)
        elif self.path == "/slow":  # no answer at all for a while
            time.sleep(3)
            self._send(PAYLOAD)
        elif self.path == "/stall":  # headers and a little data, then nothing
            self._send(PAYLOAD[:100], length=len(PAYLOAD))
            self.wfile.flush()
            time.sleep(3)
        elif self.path == "/short":  # promises more bytes than it sends, then closes
            self._send(PAYLOAD[:100], length=len(PAYLOAD))
            self.close_connection = True
        else:
            self._send(b"not here", "text/plain", status=404)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # sleeping handlers must not block the end of the tests

    def handle_error(self, request, client_address):
        pass  # clients that time out close early: broken pipes are expected here


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _only(folder, *names):
    """The folder holds exactly these files (no .part files left behind)."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


def test_downloads_and_checks_both_checksums(server, tmp_path):
    dest = tmp_path / "sub" / "good.bin"
    assert download(f"{server}/good.bin", dest, sha256=SHA, md5=MD5) == dest
    assert dest.read_bytes() == PAYLOAD
    _only(dest.parent, "good.bin")


def test_large_file_streams_in_chunks(server, tmp_path):
    dest = download(f"{server}/big.bin", tmp_path / "big.bin",
                    sha256=hashlib.sha256(BIG).hexdigest())
    assert dest.read_bytes() == BIG


def test_existing_file_with_matching_checksum_is_not_fetched_again(server, tmp_path):
    dest = tmp_path / "good.bin"
    dest.write_bytes(PAYLOAD)
    before = Handler.hits.get("/good.bin", 0)
    download(f"{server}/good.bin", dest, sha256=SHA)
    assert Handler.hits.get("/good.bin", 0) == before


def test_existing_file_with_wrong_checksum_is_replaced(server, tmp_path):
    dest = tmp_path / "good.bin"
    dest.write_bytes(b"old and wrong")
    download(f"{server}/good.bin", dest, md5=MD5)
    assert dest.read_bytes() == PAYLOAD


def test_file_url(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = download(src.as_uri(), tmp_path / "out" / "copy.bin", sha256=SHA)
    assert dest.read_bytes() == PAYLOAD


def _fails(url, tmp_path, *needles, **kwargs):
    """download() raises one DownloadError naming url, reason and hint; nothing is left."""
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "good.bin", manual_hint=HINT, **kwargs)
    message = str(info.value)
    assert isinstance(info.value, GanLibError)
    assert url in message and HINT in message and "\n" not in message
    for needle in needles:
        assert needle in message, message
    _only(tmp_path)
    return message


@pytest.mark.parametrize("path, needles", [
    ("/missing.bin", ["404"]),
    ("/quota", ["429", "quota"]),
    ("/page.html", ["HTML page"]),
    ("/sneaky.bin", ["HTML page"]),
    ("/short", ["100 of 3000 bytes"]),
])
def test_server_failures(server, tmp_path, path, needles):
    _fails(f"{server}{path}", tmp_path, *needles)


def test_html_allowed_when_not_expecting_binary(server, tmp_path):
    dest = download(f"{server}/page.html", tmp_path / "page.html", expect_binary=False)
    assert b"quota" in dest.read_bytes()


def test_checksum_mismatch(server, tmp_path):
    _fails(f"{server}/good.bin", tmp_path, "checksum mismatch", SHA, sha256="0" * 64)


@pytest.mark.parametrize("path", ["/slow", "/stall"])
def test_timeout_raises_instead_of_hanging(server, tmp_path, path):
    _fails(f"{server}{path}", tmp_path, "timed out", timeout=0.5)


def test_connection_refused(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _fails(f"http://127.0.0.1:{port}/good.bin", tmp_path, "no network")


def test_dns_failure(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    monkeypatch.setattr(dl.urllib.request, "urlopen", no_dns)
    _fails("https://example.invalid/good.bin", tmp_path, "no network", "look up the host")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("name", ["good.bin", "big.bin"])  # fails on close / on a chunk's write
def test_disk_full(server, tmp_path, monkeypatch, name):
    mkstemp = tempfile.mkstemp

    def on_a_full_disk(*args, **kwargs):  # the temporary file is made, its writes go nowhere
        fd, path = mkstemp(*args, **kwargs)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path  # every write: ENOSPC
    monkeypatch.setattr(tempfile, "mkstemp", on_a_full_disk)
    _fails(f"{server}/{name}", tmp_path, "No space left on device", str(tmp_path))


def test_unwritable_folder(server, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(DownloadError, match="cannot write to"):
        download(f"{server}/good.bin", blocker / "good.bin")
    _only(tmp_path, "blocker")
