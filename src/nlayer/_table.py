"""What the CSV and NPZ readers share: the :class:`Table` they return, the
:class:`ColumnCountError` they raise, the file-size limit and how numbers are written.

Public through :mod:`nlayer.data`; this module exists so that ``_csv`` and ``_npz`` need not
import ``nlayer.data``, which imports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .errors import DataError

MAX_FILE_BYTES = 2**33        # 8 GiB: larger data does not fit this in-memory trainer anyway
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
INT64 = np.iinfo(np.int64)


class ColumnCountError(DataError):
    """The file has another number of feature columns than the caller (a model) expects;
    raised from the CSV header or the NPZ array header, before any value is read.
    ``found``: the file's number of columns (CSV, the target's included) or of X's columns."""

    def __init__(self, message: str, found: int) -> None:
        super().__init__(message)
        self.found = found


@dataclass
class Table:
    """A loaded data file. ``X`` (n, d) float64, finite; ``y`` (n,) int64, float64 or str.

    ``lines`` (n,) int64: for a CSV, the line of each data row as a text editor counts it
    (the header and blank lines counted; a row with a quoted line break: the line it starts
    on), the numbers :mod:`nlayer.data`'s own errors give; None for an NPZ or a built-in dataset,
    whose rows are array indices.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    source: str = field(default="")
    lines: np.ndarray | None = field(default=None)

