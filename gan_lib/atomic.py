"""Files written whole or not at all: a leaf module (it imports no other gan_lib module).

Every file of a run is written under a temporary name (``.tmp_`` + its name) beside it and renamed
into place when complete, so a session killed at any moment leaves complete files plus leftovers
with that prefix, which ``RunFolder.remove_leftovers`` deletes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path

TMP_PREFIX = ".tmp_"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` (same suffix: Keras and imageio need it); rename it
    to ``path`` when the block ends without error, delete it when it fails."""
    path = Path(path)
    tmp = path.with_name(TMP_PREFIX + path.name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv(path: str | os.PathLike, rows: list) -> None:
    """``rows`` (lists of cells) as a CSV file, replaced whole."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def write_json(path: str | os.PathLike, data: dict) -> None:
    """``data`` as indented JSON, replaced whole."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")
