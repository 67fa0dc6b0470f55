"""Decode many images once into one uint8 array, and keep it as an ``.npy`` file.

``decode_all`` runs a decode function over a list of jobs in threads (Pillow releases the GIL),
writes the results into one preallocated array, and caches it keyed by the source files' names,
sizes and mtimes. ``gan_lib.data.images`` (image folders) and ``gan_lib.data.cat_landmarks``
(aligned CAT photos) use it; the second load of the same files takes a second instead of minutes.

Within one process, a load whose cache file this process has already read or written returns
that same array, read-only, instead of another copy: a ``tf.data`` pipeline built on an array
(``gan_lib.data.pipeline.image_dataset``) keeps it until the process ends, so a notebook that
trains three CelebA runs would otherwise hold three 2.5 GB copies.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from gan_lib.errors import GanLibError

_CACHE_VERSION = 1  # bump when decoding changes, so old caches are not reused
# The arrays this process has read from or written to a cache file, by (file, size, mtime).
_SHARED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _file_key(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def _share(path: Path, images: np.ndarray) -> np.ndarray:
    """``images``, read-only (other callers may hold it), remembered as ``path``'s array."""
    images.flags.writeable = False
    key = _file_key(path)
    if key is not None:
        _SHARED[key] = images
    return images


def _load_shared(path: Path, image_size: int, max_images: int) -> np.ndarray | None:
    """The array this process already holds for ``path``, else the cache file's (shared)."""
    key = _file_key(path)
    shared = _SHARED.get(key) if key is not None else None
    if shared is not None:
        return shared
    cached = _read_cache(path, image_size, max_images)
    return None if cached is None else _share(path, cached)


def _writable(folder: Path) -> bool:
    # Root passes os.access() on read-only folders, so also ask the permission bits.
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return os.access(folder, os.W_OK) and bool(mode & bits)


def _cache_paths(folder: Path, files: list[Path], image_size: int, key: str,
                 cache_dir: str | os.PathLike | None) -> list[Path]:
    """Where the cache file may be, best first (writing falls through to the next)."""
    entries = []
    for f in files:
        try:
            st = f.stat()
            entries.append((f.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
        except OSError:
            entries.append((f.relative_to(folder).as_posix(), -1, -1))
    key_src = json.dumps([_CACHE_VERSION, str(folder.resolve()), entries, image_size, key])
    name = f"{folder.name}_{image_size}px_{hashlib.sha256(key_src.encode()).hexdigest()[:20]}.npy"
    dirs = [Path(cache_dir).expanduser()] if cache_dir is not None else []
    chosen = os.environ.get("GAN_LIB_CACHE")  # set: wins over the data folder (e.g. on Drive)
    if chosen:
        dirs.append(Path(chosen).expanduser())
    local = folder / ".gan_lib_cache"
    if _writable(local) if local.is_dir() else (not local.exists() and _writable(folder)):
        dirs.append(local)
    if not chosen:
        dirs.append(Path("~/.cache/gan_lib").expanduser())
    return [d / name for d in dirs]


def _read_cache(path: Path, image_size: int, max_images: int) -> np.ndarray | None:
    try:
        header = np.load(path, mmap_mode="r")  # the header only: no pixel is read here
        ok = (header.dtype == np.uint8 and header.ndim == 4 and 0 < len(header) <= max_images
              and header.shape[1:] == (image_size, image_size, 3))
        del header
        # Read, not mapped: a copy out of a memory map would hold the file's pages too, twice
        # the array at peak (5 GB for CelebA).
        return np.load(path) if ok else None
    except (OSError, ValueError, EOFError):
        return None  # missing or corrupt: rebuilt by the caller


def _write_cache(paths: list[Path], images: np.ndarray) -> Path | None:
    errors = []
    for path in paths:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.save(f, images)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
            return path
        except OSError as e:  # read-only mount, disk full ...: try the next place
            tmp.unlink(missing_ok=True)
            errors.append(f"{path.parent}: {e}")
    warnings.warn(f"could not write the image cache ({'; '.join(errors)}); set GAN_LIB_CACHE "
                  f"to a writable folder to make the next load fast", stacklevel=4)
    return None


def decode_all(folder: Path, files: list[Path], jobs: list, work, image_size: int, *, key: str,
               cache: bool, cache_dir: str | os.PathLike | None, progress: bool, desc: str,
               what: str) -> np.ndarray:
    """``work(job)`` for every job, in threads, into one uint8 array; cached as ``.npy``.

    ``work`` returns an ``[image_size, image_size, 3]`` uint8 image, or a string saying why it
    could not (that job is skipped and named in one warning). The cache is keyed by ``files``
    (names, sizes, mtimes, relative to ``folder``), ``image_size`` and ``key``. The images go
    straight into one preallocated array: no list of 200,000 small arrays, no second copy.
    An array read from or written to a cache file is read-only, and a second load of it in the
    same process returns the same array (see the module's docstring).
    """
    cache_paths = _cache_paths(folder, files, image_size, key, cache_dir) if cache else []
    for path in cache_paths:
        cached = _load_shared(path, image_size, len(jobs))
        if cached is not None:
            return cached

    from tqdm.auto import tqdm  # only needed when decoding

    images = np.empty((len(jobs), image_size, image_size, 3), np.uint8)
    keep = np.zeros(len(jobs), bool)
    bad = []
    # Pillow releases the GIL while decoding and resizing, so threads use every core.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = tqdm(pool.map(work, jobs), total=len(jobs), disable=not progress, desc=desc,
                       unit="img")
        for i, result in enumerate(results):
            if isinstance(result, str):
                bad.append((files[i].relative_to(folder).as_posix(), result))
            else:
                images[i], keep[i] = result, True
    if bad:
        shown = "; ".join(f"{name} ({why})" for name, why in bad[:3])
        more = " ..." if len(bad) > 3 else ""
        warnings.warn(f"skipped {len(bad)} of {len(jobs)} {what} in {folder} that could not be "
                      f"read: {shown}{more}", stacklevel=3)
    if not keep.any():
        raise GanLibError(f"none of the {len(jobs)} {what} in {folder} could be read "
                          f"(first: {bad[0][0]}: {bad[0][1]})")
    if bad:
        images = images[keep]
    if cache_paths:
        written = _write_cache(cache_paths, images)
        if written is not None:
            return _share(written, images)
    return images
