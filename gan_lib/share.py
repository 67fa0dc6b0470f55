"""A trained run as one file: a teacher packs it, a class loads it in one cell.

``pack_run(run_dir)`` writes one zip: the run's ``config.json``, ``history.csv``, frames, GIF,
pictures of samples, ``generator.keras`` and its latest checkpoint (no training image), with a
``MANIFEST.json`` that lists each member's size and SHA-256. It returns the file and the file's
own SHA-256: share both (a URL on a web server, or a path in a Drive folder shared with the class:
Drive's own download links answer a file this large with a confirmation page). Pack a finished
run, not one that is training. ``load_run(source, sha256=...)`` takes that file's path or an
http(s):// or file:// URL, downloads it once into ``cache_dir`` (on Colab a Drive folder, so a
new runtime loads it without the network), checks the file's SHA-256 and every member against the
manifest, unpacks it with the safe extraction of ``gan_lib.data.archives`` and opens it
(``gan_lib.open_run``): the same ``Run`` that ``train`` returns, no training.

A truncated file, a member changed after packing or a wrong checksum is one ``GanLibError``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.parse
import zipfile
from pathlib import Path

from gan_lib.atomic import TMP_PREFIX
from gan_lib.data.archives import extract_archive
from gan_lib.data.download import download, file_digest
from gan_lib.data.paths import outputs_root
from gan_lib.errors import GanLibError
from gan_lib.run.folder import RunFolder
from gan_lib.run.frames import FrameStore

MANIFEST = "MANIFEST.json"
FORMAT = "gan_lib packed run"
SUFFIX = ".ganrun.zip"
# the run's files a class needs, by RunFolder's own names (frames/ and the last checkpoint besides);
# not RunFolder.NEAREST: it shows training images (a student's own photos), and a shared run holds
# only what the generator draws
SHARED_FILES = (RunFolder.CONFIG, RunFolder.HISTORY, RunFolder.GENERATOR, RunFolder.SAMPLES,
                RunFolder.LOSSES, RunFolder.GIF, RunFolder.METRICS,
                RunFolder.BEST_GENERATOR, RunFolder.BEST)


def _latest_checkpoint(folder: RunFolder) -> tuple[str, list[Path]]:
    """The latest checkpoint's name (``ckpt-N``) and its files."""
    import tensorflow as tf

    prefix = tf.train.latest_checkpoint(str(folder.checkpoint_dir))
    if prefix is None:
        raise GanLibError(f"{folder.path} has no checkpoint to share: train it first")
    name = Path(prefix).name
    return name, sorted(p for p in folder.checkpoint_dir.glob(f"{name}.*")
                        if not p.name.startswith(TMP_PREFIX))


def pack_run(run_dir: str | os.PathLike, dest: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Pack the run in ``run_dir`` into one file (default ``<run_dir>.ganrun.zip`` beside it).

    Returns:
        ``(path, sha256)`` of the packed file.
    Raises:
        GanLibError: ``run_dir`` is not a trained run (no config, generator or checkpoint).
    """
    folder = RunFolder(Path(run_dir).resolve())
    folder.read_config()  # a run folder at all?
    if not folder.generator_path.is_file():
        raise GanLibError(f"{folder.path} has no {folder.GENERATOR}: train it first")
    checkpoint, checkpoint_files = _latest_checkpoint(folder)
    if folder.generator_path.stat().st_mtime < max(p.stat().st_mtime for p in checkpoint_files):
        raise GanLibError(f"{folder.path}: {folder.GENERATOR} is older than the last checkpoint "
                          "(the session was cut off before it wrote it): resume the run for a "
                          "moment (train ... --resume --max-seconds 1), then pack it")

    members = {name: folder.path / name for name in SHARED_FILES if (folder.path / name).is_file()}
    members.update({f"{folder.FRAMES}/{p.name}": p for p in FrameStore(folder.frames_dir).paths()})
    members.update({f"{folder.CHECKPOINTS}/{p.name}": p for p in checkpoint_files})
    state_name = f"{folder.CHECKPOINTS}/checkpoint"  # the state file TensorFlow reads
    state = (f'model_checkpoint_path: "{checkpoint}"\n'
             f'all_model_checkpoint_paths: "{checkpoint}"\n').encode()  # TensorFlow's text proto
    manifest = {"format": FORMAT, "version": 1, "run": folder.path.name,
                "checkpoint": checkpoint, "files": {}}
    dest = Path(dest) if dest else folder.path.with_name(folder.path.name + SUFFIX)
    tmp = dest.with_name(TMP_PREFIX + dest.name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, path in members.items():
                z.write(path, name)
                manifest["files"][name] = {"size": path.stat().st_size,
                                           "sha256": file_digest(path, "sha256")}
            z.writestr(state_name, state)
            manifest["files"][state_name] = {
                "size": len(state), "sha256": hashlib.sha256(state).hexdigest()}
            z.writestr(MANIFEST, json.dumps(manifest, indent=1))
        os.replace(tmp, dest)
    except OSError as err:
        raise GanLibError(f"cannot write {dest} ({err.strerror or err})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest, file_digest(dest, "sha256")


def verify_packed_run(path: str | os.PathLike) -> dict:
    """The manifest of the packed run at ``path``, after checking every member against it.

    Raises:
        GanLibError: not a zip, cut off, no manifest, or a member missing, added or changed.
    """
    path = Path(path)
    again = "download it again, or ask for a new one"
    try:
        with zipfile.ZipFile(path) as z:
            try:
                manifest = json.loads(z.read(MANIFEST))
            except KeyError:
                raise GanLibError(f"{path} is a zip but not a packed gan_lib run (no {MANIFEST}; "
                                  "make one with `python -m gan_lib pack RUN_DIR`)") from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not (
                    isinstance(manifest.get("files"), dict)):
                raise GanLibError(f"{path}: {MANIFEST} is not a gan_lib run manifest")
            names = set(z.namelist()) - {MANIFEST}
            if names != set(manifest["files"]):
                odd = sorted(names ^ set(manifest["files"]))[:3]
                raise GanLibError(f"{path} does not hold the files its manifest lists "
                                  f"({', '.join(odd)}): it was changed after packing; {again}")
            for name, expected in manifest["files"].items():
                if hashlib.sha256(z.read(name)).hexdigest() != (expected or {}).get("sha256"):
                    raise GanLibError(f"{path}: {name} does not match its checksum in the "
                                      f"manifest: the file was changed after packing; {again}")
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, ValueError) as err:
        raise GanLibError(f"{path} is not a complete packed run ({err}): it may be cut off; "
                          f"{again}") from None
    return manifest


def fetch_packed_run(source: str | os.PathLike, sha256: str | None = None,
                     cache_dir: str | os.PathLike | None = None) -> Path:
    """The unpacked run folder of ``source`` (a path or URL), fetched and checked once.

    Args:
        source: the packed file's path, or an http(s):// or file:// URL.
        sha256: the packed file's SHA-256 (``pack_run`` prints it); checked when given.
        cache_dir: where the download and the unpacked run are kept (default
            ``outputs/shared_runs``; on Colab pass a Drive folder).
    """
    cache = Path(cache_dir) if cache_dir else outputs_root() / "shared_runs"
    text = str(source)
    if "://" in text:  # kept under the whole URL's hash: Drive-style links share a path (/uc)
        name = Path(urllib.parse.unquote(urllib.parse.urlparse(text).path)).name or "run"
        kept = f"{hashlib.sha256(text.encode()).hexdigest()[:12]}-{name}"
        path = download(text, cache / kept, sha256=sha256 or None,
                        manual_hint=f"or download it by hand and pass its path instead of {text}")
    else:
        path = Path(text).expanduser()
        name = path.name
        if not path.is_file():
            raise GanLibError(f"no packed run at {path} (give a .ganrun.zip file or its URL)")
        if sha256 and file_digest(path, "sha256") != sha256.lower():
            raise GanLibError(f"{path} does not have the SHA-256 it was shared with: it was "
                              "changed or cut off; get it again")
    digest = file_digest(path, "sha256")
    stem = name.removesuffix(SUFFIX).removesuffix(".zip")  # the unpacked run: by its content
    target = cache / f"{stem}-{digest[:12]}"
    if not (target / MANIFEST).is_file():
        verify_packed_run(path)
        staging = cache / f".{target.name}.unpacking"  # renamed whole: never half a run
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        extract_archive(path, staging)
        os.replace(staging, target)
    return target


def load_run(source: str | os.PathLike, sha256: str | None = None,
             cache_dir: str | os.PathLike | None = None, strategy=None):
    """A shared run, ready to look at: ``fetch_packed_run`` then ``open_run``.

    Returns:
        A ``gan_lib.Run`` (``stopped == "loaded"``) whose ``out_dir`` is the
        unpacked folder: ``sample``, ``evaluate_run`` and the lessons' result cells take it as
        they take a run trained in the notebook.
    """
    from gan_lib.run.training import open_run

    return open_run(fetch_packed_run(source, sha256, cache_dir), strategy=strategy)
