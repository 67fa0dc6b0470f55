"""Unpack a downloaded archive safely: nothing outside its folder, nothing half-done.

The cat-face and CelebA downloads arrive as .zip or .tar(.gz) files from hosts the course does
not control, so every member's path is checked before a byte is written.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import time
import zipfile
from pathlib import Path

from gan_lib.errors import GanLibError


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack a .zip or .tar(.gz) into ``dest``, refusing anything that would escape it.

    Members with absolute paths, ``..`` parts, links or device files make the whole archive
    fail (a GanLibError) before anything is written. Files go to a temporary folder that is
    renamed into place, so an interrupted extraction leaves nothing half-done in ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    tmp = dest.parent / f".{dest.name}.extracting"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, tmp)
        elif tarfile.is_tarfile(archive):
            _unpack_tar(archive, tmp)
        else:
            raise GanLibError(f"{archive} is neither a zip nor a tar archive; delete it and "
                              "download it again")
        dest.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.iterdir()):
            target = dest / item.name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            os.replace(item, target)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise GanLibError(f"could not unpack {archive} into {dest}: {e} (delete the archive "
                          "and download it again)") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _check_member(archive: Path, name: str) -> None:
    """Refuse a member path that is absolute, climbs out (``..``) or names a drive."""
    parts = Path(name).parts
    if Path(name).is_absolute() or ".." in parts or (parts and ":" in parts[0]):
        raise GanLibError(f"{archive} holds an unsafe path {name!r}; refusing to unpack it")


def _unpack_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            _check_member(archive, name)
        z.extractall(into)
        for info in z.infolist():  # keep the archive's times, as tar does: an image
            when = time.mktime(info.date_time + (0, 0, -1))  # cache keyed by mtimes
            os.utime(into / info.filename, (when, when))  # then survives a re-unpack


def _unpack_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as t:
        members = t.getmembers()
        for m in members:
            _check_member(archive, m.name)
            if not (m.isfile() or m.isdir()):
                raise GanLibError(f"{archive} holds a link or special file {m.name!r}; "
                                  "refusing to unpack it")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: a second guard
            t.extractall(into, members=members, filter="data")
        else:
            t.extractall(into, members=members)
