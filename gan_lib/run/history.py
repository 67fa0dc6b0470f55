"""``history.csv``: one row per logged step, appended and flushed, so a killed run keeps its rows.

``HistoryFile`` keeps what it wrote in memory too, so a run reads the file once (when it starts).
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from pathlib import Path

import numpy as np

from gan_lib.atomic import write_csv
from gan_lib.errors import GanLibError
from gan_lib.run.folder import RunFolder


class HistoryFile:
    """The rows of ``path`` with ``columns`` after ``step`` and ``seconds``.

    ``path`` is the run's ``RunFolder.history_path``, which owns the file's name.
    """

    def __init__(self, path: str | os.PathLike, columns: tuple[str, ...]):
        self.path = Path(path)
        self.columns = ("step", "seconds") + tuple(columns)
        self.rows: list[list[str]] = []

    def truncate_after(self, step: int) -> None:
        """Keep the rows up to ``step`` (and drop a half-written last line) before appending."""
        if not self.path.exists():
            self.rows = []
            return
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            self.rows = []
            return
        header, body = rows[0], rows[1:]
        keep = [r for r in body if len(r) == len(header) and r[0] and int(r[0]) <= step]
        if tuple(header) != self.columns:
            keep = self._migrate(header, keep)
        self.rows = keep
        write_csv(self.path, [list(self.columns)] + keep)

    def _migrate(self, header: list[str], rows: list[list[str]]) -> list[list[str]]:
        """Rows of a history written with other columns (an older gan_lib), by column name:
        new columns stay empty for the earlier rows (NaN when read), dropped ones go."""
        if header[:2] != ["step", "seconds"]:
            raise GanLibError(f"{self.path} is not a gan_lib history (its columns are "
                              f"{header}); move it away or train into a new --out folder")
        added = [c for c in self.columns if c not in header]
        dropped = [c for c in header if c not in self.columns]
        warnings.warn(f"{self.path}: written by another gan_lib version; "
                      + "; ".join(f"{what} columns {names}" for what, names in
                                  (("added empty", added), ("dropped", dropped)) if names),
                      stacklevel=3)
        return [[dict(zip(header, r)).get(c, "") for c in self.columns] for r in rows]

    def append(self, row: dict) -> None:
        cells = [_fmt(row.get(c)) for c in self.columns]
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(self.columns)
            writer.writerow(cells)
        self.rows.append(cells)

    @property
    def last_step(self) -> int | None:
        return int(self.rows[-1][0]) if self.rows else None

    def last_seconds(self) -> float:
        return float(self.rows[-1][1]) if self.rows else 0.0

    def columns_dict(self) -> dict[str, np.ndarray]:
        """The rows as columns of floats, as ``read_history`` returns them."""
        return _as_columns(list(self.columns), self.rows)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.6g}"


def _as_columns(header: list[str], rows: list[list[str]]) -> dict[str, np.ndarray]:
    body = [r for r in rows if len(r) == len(header)]
    return {name: np.array([float(r[i]) if r[i] else np.nan for r in body])
            for i, name in enumerate(header)}


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``history.csv`` (or a run folder's) as columns of floats (blank cells are NaN);
    ``{}`` if there is none."""
    path = Path(path)
    if path.is_dir():
        path = RunFolder(path).history_path
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return _as_columns(rows[0], rows[1:]) if rows else {}
