"""Data files: CSV and NPZ tables, loaded strictly; class labels and the task.

``load_table(path, target=None)`` returns a :class:`Table` with ``X`` (n, d) float64 (all
finite) and the raw target ``y`` (n,): int64 for a column of integers, float64 for other
numbers, ``str`` for text.

* CSV: UTF-8 (a BOM is fine), a header row of distinct column names, then one row per
  sample. Every feature cell must be a plain decimal number; the target column (by name,
  else the last one) holds numbers or text labels. Integers are read exactly, as int64;
  integers written otherwise than plainly (``007``, ``+5``) or beyond int64 are kept as
  text, so that class labels come back as written. Blank lines (empty or only whitespace) are skipped.
* NPZ (``np.savez(path, X=X, y=y)``): a 2-D numeric ``X`` and a 1-D ``y`` (or the array
  named by ``target``) of the same length. Arrays are read by nlayer itself from the zip
  members after all their headers were checked (shapes, dtypes, sizes), so nothing is
  unpickled and a lying or mismatched header cannot force a huge allocation.

Anything else raises :class:`~nlayer.errors.DataError` naming the file, the line as a
text editor counts it (or the array index), the column and the fix.

The readers are ``nlayer._csv`` and ``nlayer._npz``; labels and the task are ``nlayer._labels``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._csv import NON_FINITE as NON_FINITE
from ._csv import load_csv
from ._labels import EXACT as EXACT
from ._labels import MAX_CLASSES, TASKS, check_task, encode_labels, infer_task
from ._labels import MIN_ROWS_PER_CLASS as MIN_ROWS_PER_CLASS
from ._npz import NpyHeader as NpyHeader
from ._npz import load_npz
from ._table import INT64 as INT64
from ._table import INTEGER as INTEGER
from ._table import MAX_FILE_BYTES, ColumnCountError, Table
from ._table import NUMBER as NUMBER
from .errors import DataError

__all__ = ["MAX_CLASSES", "TASKS", "ColumnCountError", "Table", "check_scalable", "check_task", "encode_labels",
           "infer_task", "load_table"]


def load_table(
    path: str | os.PathLike[str], target: str | None = None, *, min_rows: int = 2, features_only: bool = False,
    n_features: int | None = None, ignore_target: bool = False,
) -> Table:
    """Load a ``.csv`` or ``.npz`` data file; ``DataError`` on anything wrong with it.

    Args:
        target: the CSV target column (default: the last column), or the NPZ array of
            targets (default: ``y``).
        min_rows: fewest samples accepted: 2 for training (the default), 1 for predicting.
        features_only: every CSV column is a feature and NPZ needs only ``X``; ``y`` is
            then empty, shape (0,), and ``target_name`` is "" (for ``predict`` inputs).
        n_features: the number of feature columns a model expects; another number raises
            :class:`ColumnCountError` before any value is read.
        ignore_target: a CSV's target column is not a feature, but its cells are not read
            (they may be empty: rows still to be labelled); ``y`` is then empty, shape (0,).
            An NPZ's target array is read as usual.
    """
    where = str(path)
    p = Path(path)
    if not p.exists():
        raise DataError(f"{where}: no such file")
    if not p.is_file():
        raise DataError(f"{where}: not a data file (it is a directory or a special file)")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise DataError(f"{where}: unsupported file type {suffix or '(none)'!r}; use a .csv or .npz file")
    try:
        if suffix == ".csv":
            table = load_csv(where, _read_bytes(where), target, features_only, n_features, ignore_target)
        else:
            table = load_npz(where, target, features_only, n_features)
    except OSError as e:
        raise DataError(f"{where}: cannot read ({e.strerror or e})") from None
    if table.X.shape[0] < min_rows:
        why = " (training needs several samples per class)" if min_rows > 1 else ""
        raise DataError(f"{where}: {table.X.shape[0]} data row(s); at least {min_rows} "
                        f"{'is' if min_rows == 1 else 'are'} needed{why}")
    return table


def _read_bytes(where: str) -> bytes:
    size = os.path.getsize(where)
    if size > MAX_FILE_BYTES:
        raise DataError(f"{where}: {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
    with open(where, "rb") as f:
        return f.read()


def check_scalable(table: Table, dtype: Any) -> None:
    """``DataError`` naming the file and the column of ``table.X`` that a network of ``dtype``
    cannot standardise, for the command line to say before training: a value beyond the
    dtype's range (1e39 in float32), or values spread over more than it (``max - min``
    overflows), whose distance from a mean can overflow.

    ``Network.fit_input_scaling`` computes its statistics in float64, so columns that pass
    standardise on any subset of the rows: no other limit applies. It checks exactly what
    it is given, naming ``X[:, j]``; this check names the column as the data file does.
    """
    if table.X.size == 0:
        return
    dt = np.dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):       # infinities are what is looked for
        hi, lo = table.X.max(axis=0).astype(dt), table.X.min(axis=0).astype(dt)
        spread = hi - lo                                      # the farthest any value is from a mean
    bad = np.flatnonzero(~np.isfinite(spread))
    if bad.size:
        j = int(bad[0])
        fix = " or train with --dtype float64" if dt.name != "float64" else ""
        raise DataError(
            f"{table.source}, column {table.feature_names[j]!r}: values from {table.X[:, j].min():.3g} to "
            f"{table.X[:, j].max():.3g} cannot be standardised in {dt.name}, whose largest number is "
            f"{float(np.finfo(dt).max):.3g}; rescale the column (for example, express it in millions){fix}"
        )
