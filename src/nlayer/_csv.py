"""CSV tables for :func:`nlayer.data.load_table`: UTF-8 text, a header row of distinct
names, then one row per sample; features plain decimal numbers, the target numbers or text.

Every error is a :class:`~nlayer.errors.DataError` naming the file, the line as a text
editor counts it (blank lines and quoted line breaks included) and the column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator

import numpy as np

from ._table import INT64, INTEGER, NUMBER, ColumnCountError, Table
from .errors import DataError

NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def load_csv(where: str, raw: bytes, target: str | None, features_only: bool, n_features: int | None,
             ignore_target: bool = False) -> Table:
    """The table in the bytes ``raw`` of the file ``where`` (arguments as for ``load_table``)."""
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
            f"{_separator_hint(names[0])}"
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
        if t is not None and not ignore_target:
            y_cells.append((line, row[t].strip()))
    y = np.empty(0) if t is None or ignore_target else _target(where, names[t], y_cells)
    lines = np.array([line for line, _ in data], dtype=np.int64)
    return Table(X, y, [names[i] for i in features], "" if t is None else names[t], where, lines)


def _csv_rows(where: str, text: str) -> list[tuple[int, list[str]]]:
    """(first line, fields) for every row that is not blank (empty or only whitespace),
    lines as an editor counts them; csv errors become DataError."""
    last = [""]                                      # the last line the reader took

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            last[0] = line
            yield line

    reader = csv.reader(lines(), strict=True)
    rows: list[tuple[int, list[str]]] = []
    end = 0                                          # the last line of the previous record
    try:
        for row in reader:
            blank = len(row) == 1 and not row[0].strip() and reader.line_num == end + 1 and '"' not in last[0]
            if row and not blank:                    # a record's first line (a quoted cell may span more)
                rows.append((end + 1, row))
            end = reader.line_num
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
    raise DataError(f"{where}, line {line}, column {column!r}: {s[:40]!r} is not a number{_separator_hint(s)}")


def _separator_hint(cell: str) -> str:
    """A hint for a cell that holds a whole row of a file separated by ``;`` or tabs."""
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if sep in cell:
            return f" (nlayer reads comma-separated files; this one looks separated by {name}: save it with commas)"
    return ""


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
