"""NPZ tables for :func:`nlayer.data.load_table` (``np.savez(path, X=X, y=y)``).

A 2-D numeric ``X`` and a 1-D ``y`` (or the array named by ``target``) of the same length.
Arrays are read by this module from the zip members after all their headers were checked
(shapes, dtypes, sizes), so nothing is unpickled and a lying or mismatched header cannot
force a huge allocation. Errors name the file and the array (``X[r, c]``, ``y[i]``).
"""

from __future__ import annotations

import math
import zipfile
from typing import Any

import numpy as np

from ._table import INT64, MAX_FILE_BYTES, ColumnCountError, Table
from .errors import DataError

NpyHeader = tuple[tuple[int, ...], bool, np.dtype]   # (shape, Fortran order, dtype)


def load_npz(where: str, target: str | None, features_only: bool, n_features: int | None) -> Table:
    """The table in the NPZ file ``where`` (arguments as for ``load_table``)."""
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
