"""Download one file safely: stream to a temporary file, check its checksum, then rename.

Every way a download can go wrong (no network, a timeout, an HTTP error, an HTML page where
an archive was expected, a checksum mismatch, a full disk) raises ``DownloadError`` with one
message that names the URL, what went wrong and how to get the file by hand, and leaves no
partial file behind. A file already in place with the right checksum is not fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from gan_lib.errors import GanLibError

CHUNK_BYTES = 1 << 20
PROGRESS_MIN_BYTES = 4 << 20  # smaller files finish before a progress bar tells anything
_HTML_STARTS = (b"<!doctype", b"<html")


class DownloadError(GanLibError):
    """A download failed; ``url`` and ``reason`` are kept for callers that compose messages."""

    def __init__(self, url: str, reason: str, manual_hint: str = "", dest: Path | None = None):
        self.url, self.reason = url, reason
        hint = manual_hint or (f"download it by hand and save it as {dest}" if dest else "")
        super().__init__(f"could not download {url}: {reason}" + (f". {hint}" if hint else ""))


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest (``"sha256"`` or ``"md5"``) of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected(sha256: str | None, md5: str | None) -> dict[str, str]:
    return {name: value.lower() for name, value in (("sha256", sha256), ("md5", md5)) if value}


def _progress(total: int | None, name: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar, same download
        return None
    if total is not None and total < PROGRESS_MIN_BYTES:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)


def _reason(err: BaseException, timeout: float) -> str:
    """One human sentence for a network exception."""
    if isinstance(err, urllib.error.HTTPError):
        extra = {403: " (access denied, or a download quota was exceeded)",
                 404: " (the file is not at this address)",
                 429: " (too many requests: a download quota was exceeded, try again later)"}
        return f"HTTP error {err.code} {err.reason}{extra.get(err.code, '')}"
    if isinstance(err, urllib.error.URLError):
        inner = err.reason
        if isinstance(inner, (TimeoutError, socket.timeout)):
            return f"no answer within {timeout:g} s (timed out)"
        if isinstance(inner, socket.gaierror):
            return f"no network (could not look up the host: {inner.strerror or inner})"
        return f"no network or server unreachable ({inner})"
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"no data within {timeout:g} s (timed out)"
    if isinstance(err, http.client.HTTPException):
        return f"the connection broke off ({type(err).__name__}: {err})"
    if isinstance(err, ValueError):
        return f"not a URL that can be downloaded ({err})"
    return f"network error ({err})"


def archive_place(folder: Path, name: str) -> tuple[Path, bool]:
    """Where a dataset's downloaded archive goes, and whether to keep it after unpacking.

    ``$GAN_LIB_ARCHIVES`` set (the notebooks set it to a Drive folder on Colab): the archive
    is kept there, so the next runtime unpacks it again without downloading it. Unset: it goes
    into the dataset's folder and is deleted once unpacked.
    """
    kept = os.environ.get("GAN_LIB_ARCHIVES")
    return (Path(kept).expanduser() / name, True) if kept else (Path(folder) / name, False)


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None,
             md5: str | None = None, timeout: float = 30.0, expect_binary: bool = True,
             manual_hint: str = "") -> Path:
    """Download ``url`` to ``dest`` once, checking its checksum.

    A file already at ``dest`` is kept when it matches the given checksums (or when none are
    given); otherwise it is replaced only once the new download has been verified.

    Args:
        url: http(s):// or file:// address.
        dest: where the file goes; its folder is created if needed.
        sha256, md5: expected hex digests (either, both or none).
        timeout: seconds to wait for the connection and for each read; a stalled server
            raises instead of hanging.
        expect_binary: if True, an HTML page (a login, quota or error page) is an error.
        manual_hint: how to get the file by hand (which files into which folder), appended
            to every error message.
    Returns:
        ``dest`` as a Path.
    Raises:
        DownloadError: whatever went wrong; no partial file is left behind.
    """
    dest = Path(dest)
    expected = _expected(sha256, md5)
    if dest.is_file() and all(file_digest(dest, a) == v for a, v in expected.items()):
        return dest

    def fail(reason: str) -> DownloadError:
        return DownloadError(url, reason, manual_hint, dest)

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as err:
        raise fail(f"cannot write to {dest.parent} ({err.strerror or err})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digests = _stream(url, out, timeout, expect_binary, dest, fail)
        _check_digests(digests, expected, fail)
        os.replace(tmp, dest)
    except DownloadError:
        raise
    except OSError as err:  # the rename failed: disk or permissions
        raise fail(f"cannot write {dest} ({err.strerror or err})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _check_digests(digests: dict, expected: dict[str, str], fail) -> None:
    """Raise ``fail(...)`` unless every expected hex digest is the downloaded file's."""
    for algorithm, value in expected.items():
        got = digests[algorithm].hexdigest()
        if got != value:
            raise fail(f"checksum mismatch: expected {algorithm} {value}, got {got} "
                       "(a corrupted download or a different file at this address)")


def _stream(url: str, out, timeout: float, expect_binary: bool, dest: Path, fail) -> dict:
    """Copy the body of ``url`` into ``out``; return the sha256 and md5 hash objects."""
    html_page = ("the server sent an HTML page instead of the file (often a quota, login or "
                 "error page, e.g. Google Drive's 'too many users' page)")
    digests = {"sha256": hashlib.sha256(), "md5": hashlib.md5()}
    request = urllib.request.Request(url, headers={"User-Agent": "gan_lib"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ctype = (response.headers.get("Content-Type") or "").lower()
            if expect_binary and ctype.startswith("text/html"):
                raise fail(html_page)
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            bar, received = _progress(total, dest.name), 0
            try:
                while chunk := response.read(CHUNK_BYTES):
                    if received == 0 and expect_binary and _looks_like_html(chunk):
                        raise fail(html_page)
                    try:
                        out.write(chunk)
                    except OSError as err:
                        reason = f"cannot write to {dest.parent} ({err.strerror or err})"
                        raise fail(reason) from None
                    for d in digests.values():
                        d.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
            if total is not None and received != total:
                raise fail(f"the connection closed after {received} of {total} bytes")
    except DownloadError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise fail(_reason(err, timeout)) from None
    return digests


def _looks_like_html(first_chunk: bytes) -> bool:
    return first_chunk.lstrip()[:9].lower().startswith(_HTML_STARTS)
