"""Data files: CSV and NPZ tables, loaded strictly; class labels and the task.

``load_table(path, target=None)`` returns a :class:`Table` with ``X`` (n, d) float64 (all
finite) and the raw target ``y`` (n,): int64 for a column of integers, float64 for other
numbers, ``str`` for text.

* CSV: UTF-8 (a BOM is fine), a header row of distinct column names, then one row per
  sample. Every feature cell must be a plain decimal number; the target column (by name,
  else the last one) holds numbers or text labels. Integers are read exactly, as int64;
  integers written otherwise than plainly (``007``, ``+5``) or beyond int64 are kept as
  text, so that class labels come back as written. Blank lines are skipped.
* NPZ (``np.savez(path, X=X, y=y)``): a 2-D numeric ``X`` and a 1-D ``y`` (or the array
  named by ``target``) of the same length. Arrays are read by this module from the zip
  members after all their headers were checked (shapes, dtypes, sizes), so nothing is
  unpickled and a lying or mismatched header cannot force a huge allocation.

Anything else raises :class:`~nlayer.errors.DataError` naming the file, the line as a
text editor counts it (or the array index), the column and the fix.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, DataError

__all__ = ["MAX_CLASSES", "TASKS", "ColumnCountError", "Table", "check_scalable", "check_task", "encode_labels",
           "infer_task", "load_table"]

TASKS = ("classify", "regress")
MIN_ROWS_PER_CLASS = 5       # check_task: fewer per numeric class, over MAX_CLASSES classes -> regression
MAX_CLASSES = 20              # infer_task: at most this many distinct whole numbers -> classify
MAX_FILE_BYTES = 2**33        # 8 GiB: larger data does not fit this in-memory trainer anyway
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
INT64 = np.iinfo(np.int64)
EXACT = 2**53                 # float64 holds every whole number up to this, and not all beyond
NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class ColumnCountError(DataError):
    """The file has another number of feature columns than the caller (a model) expects;
    raised from the CSV header or the NPZ array header, before any value is read.
    ``found``: the file's number of columns (CSV, the target's included) or of X's columns."""

    def __init__(self, message: str, found: int) -> None:
        super().__init__(message)
        self.found = found


@dataclass
class Table:
    """A loaded data file. ``X`` (n, d) float64, finite; ``y`` (n,) int64, float64 or str."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    source: str = field(default="")


def load_table(
    path: str | os.PathLike[str], target: str | None = None, *, min_rows: int = 2, features_only: bool = False,
    n_features: int | None = None,
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
            table = _load_csv(where, _read_bytes(where), target, features_only, n_features)
        else:
            table = _load_npz(where, target, features_only, n_features)
    except OSError as e:
        raise DataError(f"{where}: cannot read ({e.strerror or e})") from None
    if table.X.shape[0] < min_rows:
        raise DataError(
            f"{where}: {table.X.shape[0]} data row(s); at least {min_rows} are needed "
            "(training needs several samples per class)"
        )
    return table


def _read_bytes(where: str) -> bytes:
    size = os.path.getsize(where)
    if size > MAX_FILE_BYTES:
        raise DataError(f"{where}: {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
    with open(where, "rb") as f:
        return f.read()


# --------------------------------------------------------------------------- CSV
def _load_csv(where: str, raw: bytes, target: str | None, features_only: bool, n_features: int | None) -> Table:
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise DataError(f"{where}, line {line}: contains a NUL byte; a CSV must be UTF-8 text (UTF-16 or binary?)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"{where}, line {line}: byte 0x{raw[e.start]:02x} is not valid UTF-8; save the file as UTF-8"
        ) from None
    rows = _csv_rows(where, text)
    if not rows:
        raise DataError(f"{where}: the file is empty; a CSV needs a header row and data rows")
    names = _header(where, rows[0])
    if features_only:
        t = None
    elif target is None:
        t = len(names) - 1
    elif target in names:
        t = names.index(target)
    else:
        raise DataError(f"{where}: no column named {target!r}; the columns are: {', '.join(names)}")
    features = [i for i in range(len(names)) if i != t]
    if not features:
        raise DataError(
            f"{where}: only one column ({names[0]!r}); a CSV needs feature columns and a target column"
        )
    if n_features is not None and len(features) != n_features:
        besides = "" if t is None else f" besides the target {names[t]!r}"
        raise ColumnCountError(f"{where}: {len(features)} feature column(s){besides}; the model expects "
                               f"{n_features}, in training order", len(names))
    data = rows[1:]
    X = np.empty((len(data), len(features)))
    y_cells: list[tuple[int, str]] = []
    for r, (line, row) in enumerate(data):
        if len(row) != len(names):
            hint = " (a trailing comma?)" if len(row) == len(names) + 1 and not row[-1].strip() else ""
            raise DataError(f"{where}, line {line}: {len(row)} fields but the header has {len(names)}{hint}")
        for j, i in enumerate(features):
            X[r, j] = _number(where, line, names[i], row[i])
        if t is not None:
            y_cells.append((line, row[t].strip()))
    y = np.empty(0) if t is None else _target(where, names[t], y_cells)
    return Table(X, y, [names[i] for i in features], "" if t is None else names[t], where)


def _csv_rows(where: str, text: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) for every non-blank row; csv errors become DataError."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row:
                rows.append((reader.line_num, row))
    except csv.Error as e:
        hint = " (an unclosed quote?)" if "end of data" in str(e) or "EOF" in str(e) else ""
        raise DataError(f"{where}, line {reader.line_num}: malformed CSV: {e}{hint}") from None
    return rows


def _header(where: str, first: tuple[int, list[str]]) -> list[str]:
    line, cells = first
    names = [c.strip() for c in cells]
    for i, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"{where}, line {line}: column {i} of the header has no name (a trailing comma?)")
    if all(NUMBER.fullmatch(n) for n in names):
        raise DataError(f"{where}, line {line}: the first row is all numbers; the CSV needs a header row of names")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"{where}, line {line}: duplicate column name(s) {dup}; column names must be distinct")
    return names


def _number(where: str, line: int, column: str, cell: str) -> float:
    s = cell.strip()
    if NUMBER.fullmatch(s):
        value = float(s)
        if math.isfinite(value):
            return value
        raise DataError(f"{where}, line {line}, column {column!r}: {s!r} overflows a 64-bit float")
    if not s:
        raise DataError(f"{where}, line {line}, column {column!r}: empty field; fill it in or remove the row")
    if s.lower() in NON_FINITE:
        raise DataError(f"{where}, line {line}, column {column!r}: {s!r} is not a finite number; fix or drop the row")
    raise DataError(f"{where}, line {line}, column {column!r}: {s[:40]!r} is not a number")


def _target(where: str, column: str, cells: list[tuple[int, str]]) -> np.ndarray:
    """Plain integers (``-3``, ``9007199254740993``) -> int64, read exactly; other numbers
    (every cell a number or nan/inf) -> float64; anything else -> text labels, as are
    integers written otherwise (``007``, ``+5``) or beyond int64: labels come back as written."""
    for line, s in cells:
        if not s:
            raise DataError(f"{where}, line {line}, column {column!r}: empty target; fill it in or remove the row")
    if all(INTEGER.fullmatch(s) for _, s in cells):
        if all(_plain_int64(s) for _, s in cells):
            return np.array([int(s) for _, s in cells], dtype=np.int64)
        return np.array([s for _, s in cells], dtype=str)
    if all(NUMBER.fullmatch(s) or s.lower() in NON_FINITE for _, s in cells):
        return np.array([_number(where, line, column, s) for line, s in cells], dtype=np.float64)
    return np.array([s for _, s in cells], dtype=str)


def _plain_int64(s: str) -> bool:
    """``s`` (an INTEGER match) is written as Python prints it and fits int64 (20 characters
    at most, so ``int()`` never meets a huge number)."""
    return len(s) <= 20 and str(int(s)) == s and INT64.min <= int(s) <= INT64.max


# --------------------------------------------------------------------------- NPZ
def _load_npz(where: str, target: str | None, features_only: bool, n_features: int | None) -> Table:
    with open(where, "rb") as f:
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise DataError(f"{where}: not an NPZ archive (make one with np.savez(path, X=X, y=y))")
    key = "y" if target is None else target
    try:
        with zipfile.ZipFile(where) as zf:
            members = {n[:-4] if n.endswith(".npy") else n: n for n in zf.namelist()}
            wanted = ("X",) if features_only else ("X", key)
            missing = [k for k in wanted if k not in members]
            if missing or wanted == ("X", "X"):
                fix = "save with np.savez(path, X=X, y=y)" if target is None else "--target names the array of targets"
                problem = f"no array named {' or '.join(map(repr, missing))}" if missing else "the target cannot be X"
                raise DataError(f"{where}: {problem}; the arrays present are: {sorted(members) or 'none'}; {fix}")
            heads = {k: _npy_header(where, zf, members[k], k) for k in wanted}
            _check_headers(where, heads, key, n_features)        # shapes agree before any data is read
            X = _npy_data(where, zf, members["X"], "X")
            y = np.empty(0) if features_only else _npy_data(where, zf, members[key], key)
    except DataError:
        raise
    except Exception as e:  # zipfile, zlib and numpy raise many types on corrupt data; all mean the same here
        raise DataError(f"{where}: corrupt NPZ archive ({type(e).__name__}: {e})") from None
    return _check_arrays(where, X, y, key, features_only)


NpyHeader = tuple[tuple[int, ...], bool, np.dtype]   # (shape, Fortran order, dtype)


def _npy_header(where: str, zf: zipfile.ZipFile, member: str, key: str) -> NpyHeader:
    """The checked header of one .npy member; nothing of its data is read."""
    info = zf.getinfo(member)
    if info.file_size > MAX_FILE_BYTES:
        raise DataError(f"{where}: array {key!r} is {info.file_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
    with zf.open(member) as f:
        return _read_npy_header(where, f, key, info.file_size)


def _read_npy_header(where: str, f: Any, key: str, size: int) -> NpyHeader:
    """Read the header of an open .npy member; refuses objects and a size that disagrees with it."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(f)
    else:
        raise DataError(f"{where}: array {key!r} uses .npy format version {version}; re-save it with np.savez")
    if dtype.hasobject:
        raise DataError(
            f"{where}: array {key!r} holds Python objects (dtype {dtype}); nlayer never unpickles data: "
            "save numbers or strings"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if f.tell() + nbytes != size:
        raise DataError(
            f"{where}: array {key!r} declares shape {shape} of {dtype} ({nbytes} bytes) "
            f"but holds {size - f.tell()} bytes"
        )
    return shape, fortran, dtype


def _npy_data(where: str, zf: zipfile.ZipFile, member: str, key: str) -> np.ndarray:
    """One .npy member's array, read after its header was checked again; never unpickles."""
    with zf.open(member) as f:
        shape, fortran, dtype = _read_npy_header(where, f, key, zf.getinfo(member).file_size)
        buf = f.read()
    return np.frombuffer(buf, dtype=dtype, count=math.prod(shape)).reshape(shape, order="F" if fortran else "C")


def _check_headers(where: str, heads: dict[str, NpyHeader], key: str, n_features: int | None) -> None:
    """``X`` 2-D real with ``n_features`` columns; the target ``key`` (if read) 1-D, as long."""
    shape, _, dtype = heads["X"]
    if dtype.kind not in "biuf" or len(shape) != 2:
        hint = " (use X.reshape(-1, 1) for a single feature)" if len(shape) == 1 else ""
        raise DataError(f"{where}: X must be a 2-D array of real numbers; got shape {shape}, dtype {dtype}{hint}")
    if n_features is not None and shape[1] != n_features:
        raise ColumnCountError(f"{where}: X has {shape[1]} column(s); the model expects {n_features} feature "
                               "columns, in training order", shape[1])
    if key in heads:
        y_shape, _, y_dtype = heads[key]
        if len(y_shape) != 1 or y_dtype.kind not in "biufU":
            raise DataError(f"{where}: {key} must be a 1-D array of numbers or strings; got shape {y_shape}, "
                            f"dtype {y_dtype}")
        if y_shape[0] != shape[0]:
            raise DataError(f"{where}: X has {shape[0]} rows but {key} has {y_shape[0]}; they must match")


def _check_arrays(where: str, X: np.ndarray, y: np.ndarray, key: str, features_only: bool) -> Table:
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        r, c = bad[0]
        raise DataError(f"{where}: X[{r}, {c}] is {X[r, c]}; every feature value must be finite")
    if not features_only:
        if y.dtype.kind in "fU":
            y = y.astype(np.float64 if y.dtype.kind == "f" else str)
        elif y.dtype.kind == "u" and y.size and int(y.max()) > INT64.max:
            y = y.astype(str)                       # whole-number labels beyond int64 stay exact, as text
        else:
            y = y.astype(np.int64)                  # bool and integer labels, exact
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            i = int(np.argmin(np.isfinite(y)))
            raise DataError(f"{where}: {key}[{i}] is {y[i]}; every target value must be finite")
    names = [f"x{j}" for j in range(1, X.shape[1] + 1)]
    return Table(X, y, names, "" if features_only else key, where)


# ------------------------------------------------------------------ labels, task
def _is_text(y: np.ndarray) -> bool:
    return y.dtype.kind in "USO"


def _whole(y: np.ndarray) -> bool:
    return y.dtype.kind in "biu" or (y.dtype.kind == "f" and bool(np.all(np.isfinite(y) & (y == np.round(y)))))


def infer_task(y: np.ndarray) -> str:
    """``"classify"`` for text labels, booleans, or at most ``MAX_CLASSES`` distinct whole
    numbers; ``"regress"`` for any other numeric target."""
    y = np.asarray(y)
    if _is_text(y) or y.dtype.kind == "b":
        return "classify"
    if y.dtype.kind not in "iuf":
        raise DataError(f"cannot infer the task of a target of dtype {y.dtype}")
    return "classify" if _whole(y) and len(np.unique(y)) <= MAX_CLASSES else "regress"


def _column(name: str, where: str) -> str:
    """How errors name a target column: ``FILE, column 'NAME'``, or ``column 'NAME'`` without a file."""
    return f"{where}, column {name!r}" if where else f"column {name!r}"


def encode_labels(y: np.ndarray, name: str = "target", where: str = "") -> tuple[np.ndarray, list[Any]]:
    """Class indices (n,) int64 into ``classes``, the sorted distinct labels as Python
    ``str`` (text) or ``int`` (whole numbers). ``DataError`` for fewer than 2 classes, and
    for decimals at or beyond 2**53, which no longer tell whole numbers apart. Errors name
    the column ``name`` of the file ``where``."""
    y = np.asarray(y)
    column = _column(name, where)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(f"{column}: class labels must be a non-empty 1-D array; got shape {y.shape}")
    if _is_text(y):
        values, idx = np.unique(y.astype(str), return_inverse=True)
        classes: list[Any] = [str(v) for v in values]
    elif y.dtype.kind in "biu":
        values, idx = np.unique(y, return_inverse=True)
        classes = [int(v) for v in values]
    elif y.dtype.kind == "f" and _whole(y):
        if np.any(np.abs(y) >= EXACT):
            big = float(y[np.argmax(np.abs(y) >= EXACT)])
            raise DataError(f"{column}: the class label {big:.17g} is a decimal at or beyond 2**53, where "
                            "decimals no longer tell whole numbers apart; write the labels as plain integers "
                            "(digits only) or as text")
        values, idx = np.unique(y.astype(np.int64), return_inverse=True)
        classes = [int(v) for v in values]
    else:
        raise DataError(f"{column}: {_non_integer(y)}; class labels must be whole numbers or text")
    if len(classes) < 2:
        raise DataError(
            f"{column}: every row has the same class ({classes[0]!r}); classification needs at least 2 classes"
        )
    return idx.astype(np.int64).reshape(-1), classes


def check_task(
    y: np.ndarray, task: str, name: str = "target", where: str = ""
) -> tuple[np.ndarray, list[Any]] | None:
    """``DataError`` if target ``y`` (column ``name`` of the file ``where``) cannot be used for ``task``.

    For ``"classify"`` returns what :func:`encode_labels` gives (class indices, classes), which
    the check has to compute anyway; None for ``"regress"``, for which text that is all
    integers (labels kept as written, such as ``007``) counts as numbers.
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    y = np.asarray(y)
    column = _column(name, where)
    if task == "classify":
        if not _is_text(y) and not _whole(y):
            raise DataError(
                f"{column} is a regression target ({_non_integer(y)}), not class labels; "
                "use task 'regress' (--task regress)"
            )
        idx, classes = encode_labels(y, name, where)
        if not _is_text(y) and len(classes) > MAX_CLASSES and len(y) < MIN_ROWS_PER_CLASS * len(classes):
            raise DataError(
                f"{column} has {len(classes)} distinct numbers over {len(y)} rows (about "
                f"{len(y) / len(classes):.1f} rows per class): that is a regression target, not class "
                "labels; use task 'regress' (--task regress), or write the labels as text if they "
                "really are classes"
            )
        return idx, classes
    if _is_text(y) and not all(len(v) < 300 and INTEGER.fullmatch(v) for v in np.unique(y).tolist()):
        shown = ", ".join(repr(str(v)) for v in np.unique(y)[:3])
        raise DataError(
            f"{column} holds text labels ({shown}, ...) which cannot be regressed; "
            "use task 'classify' (--task classify)"
        )
    return None


def check_scalable(table: Table, dtype: Any) -> None:
    """``DataError`` naming the column of ``table.X`` whose standardisation in ``dtype``
    would overflow: its sum or its sum of squared deviations (the mean and the standard
    deviation are computed from them) beyond half the dtype's largest value."""
    X, half = table.X, float(np.finfo(dtype).max) / 2
    if X.size == 0:
        return
    s = np.maximum(X.max(axis=0), -X.min(axis=0))                    # largest |x| per column
    with np.errstate(over="ignore"):
        for j in np.flatnonzero(2 * len(X) * s >= math.sqrt(half)).tolist():   # the others cannot overflow
            z = X[:, j] / s[j]                                         # |z| <= 1: no overflow on the way
            total = s[j] * float(np.abs(z).sum())                      # sum |x|
            spread = s[j] * math.sqrt(float(((z - z.mean()) ** 2).sum()))   # sqrt(sum (x - mean)^2)
            if not (total < half and spread < math.sqrt(half)):
                name = np.dtype(dtype).name
                fix = " or train with --dtype float64" if name != "float64" else ""
                raise DataError(
                    f"{table.source}, column {table.feature_names[j]!r}: values as large as {s[j]:.3g} cannot "
                    f"be standardised in {name} (their squares overflow); rescale the column (for example, "
                    f"express it in millions){fix}"
                )


def _non_integer(y: np.ndarray) -> str:
    y = np.asarray(y, dtype=np.float64)
    bad = y[~(np.isfinite(y) & (y == np.round(y)))]
    return "it holds non-integer values such as " + ", ".join(repr(float(v)) for v in bad[:3])
