"""Class labels and the task of a target ``y`` (n,): :func:`infer_task`, :func:`encode_labels`
and :func:`check_task`, public through :mod:`nlayer.data`.

Errors are :class:`~nlayer.errors.DataError` naming the target column and its file.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ._table import INTEGER
from .errors import ConfigError, DataError

TASKS = ("classify", "regress")
MIN_ROWS_PER_CLASS = 5       # check_task: fewer per numeric class, over MAX_CLASSES classes -> regression
MAX_CLASSES = 20              # infer_task: at most this many distinct whole numbers -> classify
EXACT = 2**53                 # float64 holds every whole number up to this, and not all beyond
# A number written for people: a currency sign, thousands separators or a percent sign
# ("$104,351.77", "1,200", "12.5%", "€ 30"), which a CSV reader keeps as text.
FORMATTED = re.compile(r"\s*[-+]?\s*[$€£¥]?\s*[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?\s*%?\s*")


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
    y: np.ndarray, task: str, name: str = "target", where: str = "", inferred: bool = False
) -> tuple[np.ndarray, list[Any]] | None:
    """``DataError`` if target ``y`` (column ``name`` of the file ``where``) cannot be used for ``task``.

    For ``"classify"`` returns what :func:`encode_labels` gives (class indices, classes), which
    the check has to compute anyway; None for ``"regress"``, for which text that is all
    integers (labels kept as written, such as ``007``) counts as numbers.

    ``inferred`` (the task was not given): text labels that are numbers written for people
    (``$250,000``) over more than ``MAX_CLASSES`` values, or nearly one label per row (an
    identifier), are refused rather than learnt as classes; a task given explicitly insists.
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    y = np.asarray(y)
    column = _column(name, where)
    formatted = _formatted_numbers(y)
    if task == "classify":
        if not _is_text(y) and not _whole(y):
            raise DataError(
                f"{column} is a regression target ({_non_integer(y)}), not class labels; "
                "use task 'regress' (--task regress)"
            )
        idx, classes = encode_labels(y, name, where)
        if inferred and _is_text(y) and len(classes) > MAX_CLASSES:
            if formatted:
                raise DataError(f"{column} {formatted}; or --task classify if these are class labels")
            if len(y) < 2 * len(classes):
                raise DataError(
                    f"{column} has {len(classes)} distinct labels over {len(y)} rows (about "
                    f"{len(y) / len(classes):.1f} rows per class), too few examples of each to learn them: is "
                    "it an identifier or a column of numbers? Choose the target column with --target, or "
                    "--task classify if these are class labels")
        if not _is_text(y) and len(classes) > MAX_CLASSES and len(y) < MIN_ROWS_PER_CLASS * len(classes):
            raise DataError(
                f"{column} has {len(classes)} distinct numbers over {len(y)} rows (about "
                f"{len(y) / len(classes):.1f} rows per class): that is a regression target, not class "
                "labels; use task 'regress' (--task regress), or write the labels as text if they "
                "really are classes"
            )
        return idx, classes
    if _is_text(y) and not all(len(v) < 300 and INTEGER.fullmatch(v) for v in np.unique(y).tolist()):
        if formatted:
            raise DataError(f"{column} {formatted}")
        shown = ", ".join(repr(str(v)) for v in np.unique(y)[:3])
        raise DataError(
            f"{column} holds text labels ({shown}, ...) which cannot be regressed; "
            "use task 'classify' (--task classify)"
        )
    return None


def _formatted_numbers(y: np.ndarray) -> str:
    """For text whose every value is a number written for people (:data:`FORMATTED`, with a
    currency sign, thousands separators or %, at least one of them), what to do about it;
    else ''."""
    if not _is_text(y) or y.size == 0:
        return ""
    values = [str(v) for v in np.unique(y)[:10_000]]
    if not all(len(v) < 100 and FORMATTED.fullmatch(v) for v in values):
        return ""
    if not any(c in v for v in values for c in "$€£¥,%"):   # plain numbers kept as text (007, 1.5)
        return ""
    shown = ", ".join(repr(v) for v in values[:3])
    return (f"holds numbers written as text ({shown}, ...): remove the currency signs, thousands separators "
            "and % signs so that the column holds plain numbers (104351.77), then train again")


def _non_integer(y: np.ndarray) -> str:
    y = np.asarray(y, dtype=np.float64)
    bad = y[~(np.isfinite(y) & (y == np.round(y)))]
    return "it holds non-integer values such as " + ", ".join(repr(float(v)) for v in bad[:3])
