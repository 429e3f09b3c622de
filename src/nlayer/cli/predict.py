"""``nlayer predict`` and ``nlayer evaluate``: a saved model on new data.

Columns are matched by count and order, not by name (the model file stores no feature names).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys

import numpy as np

from .._atomic import atomic_write_bytes
from ..data import NUMBER, Table
from ..errors import ConfigError, DataError
from ..network import INFERENCE_CHUNK, Network
from .common import load_dataset
from .report import score, table


def predict_features(net: Network, spec: str, target: str | None) -> np.ndarray:
    """The model's input columns from DATA, matched by count and order (not by name).

    DATA holds the model's n_in feature columns, in training order, and may also hold the
    target column (named by ``--target``, else the last column), which is then ignored: its
    cells are not read, so they may be empty (rows still to be labelled) or anything else.
    An NPZ needs ``X``; its ``y`` (or the array named by ``--target``) is optional.
    Column counts are checked from the CSV header or the NPZ array header before any value
    is read, and a bad cell is reported where it is, as ``evaluate`` would.
    """
    from ..data import ColumnCountError, load_table

    n_in = net.n_inputs
    if spec == "spiral" or target is not None:
        data = load_dataset(spec, target, min_rows=1, n_features=n_in, ignore_target=True)
    elif spec.lower().endswith(".npz"):
        data = load_table(spec, min_rows=1, features_only=True, n_features=n_in)
    else:
        try:
            data = load_table(spec, min_rows=1, features_only=True, n_features=n_in)    # the features alone
        except ColumnCountError as error:            # or followed by the target column
            try:
                data = load_table(spec, min_rows=1, n_features=n_in, ignore_target=True)
            except ColumnCountError:
                raise DataError(_count_message(spec, n_in, f"{error.found} columns")) from None
        except DataError as alone:                   # n_in columns, one with a bad cell: a feature's,
            try:                                     # or a text target's where a feature column is missing
                with_target = load_table(spec, min_rows=1)
            except DataError:
                raise alone from None
            if with_target.y.dtype.kind != "U" or any(NUMBER.fullmatch(v) for v in with_target.y.tolist()):
                raise alone from None
            have = f"{n_in - 1} feature columns besides the target '{with_target.target_name}'"
            raise DataError(_count_message(spec, n_in, have)) from None
    if data.X.shape[1] != n_in:                      # spiral
        raise DataError(_count_message(spec, n_in, f"{data.X.shape[1]} feature columns"))
    check_column_order(net, data)
    check_in_range(net, data)
    return data.X


def check_column_order(net: Network, data: Table) -> None:
    """``DataError`` when a CSV's header holds the model's columns (``net.feature_names``,
    from its training file) in another order: columns are matched by order, so they would
    be fed to the wrong inputs without a word; nor a file whose one other column, the target,
    sits among them (name it with ``--target``). Other names (renamed columns) pass."""
    names, got = net.feature_names, list(data.feature_names)
    if names is None or data.lines is None or got == names:
        return
    if sorted(got) == sorted(names):
        raise DataError(f"{data.source}: the columns {', '.join(got)} are the model's in another order; nlayer "
                        f"matches columns by position: put them in the training order {', '.join(names)}")
    header = [*got, data.target_name] if data.target_name else got
    others = [n for n in header if n not in names]
    if sorted(n for n in header if n in names) == sorted(names) and len(others) == 1:
        raise DataError(f"{data.source}: the model's columns are {', '.join(names)}, and this file holds them with "
                        f"{others[0]!r} among them: name that column with --target {others[0]} (it is read as "
                        "the target and ignored by predict)")


def check_in_range(net: Network, data: Table) -> None:
    """``DataError`` naming, by line and column (CSV) or index (NPZ), the first value of
    ``data.X`` the network cannot take: beyond its dtype's range (1e39 in float32), or so far
    from the training data's mean that standardising it overflows that dtype. The model's
    dtype is fixed, so the fix is the column's scale. ``Network.first_unscalable`` on chunks
    of rows, before any forward pass."""
    for start in range(0, data.X.shape[0], INFERENCE_CHUNK):
        Xc = data.X[start : start + INFERENCE_CHUNK]
        found = net.first_unscalable(Xc)
        if found is not None:
            i, j, why = found
            raise DataError(f"{_where(data, start + i, j)}: {float(Xc[i, j]):.6g} {why}; "
                            "rescale the column as it was in training")


def _where(data: Table, row: int, j: int) -> str:
    """A value of ``data.X`` as a user finds it: ``FILE, line 4, column 'b'`` or ``FILE: X[3, 1]``."""
    if data.lines is not None:
        return f"{data.source}, line {int(data.lines[row])}, column {data.feature_names[j]!r}"
    return f"{data.source}: X[{row}, {j}]"


def _count_message(spec: str, n_in: int, have: str) -> str:
    return (f"{spec}: the model expects {n_in} feature columns, in training order (the target column may follow "
            f"or be named with --target); the file has {have}")


def _class_indices(net: Network, data: Table) -> np.ndarray:
    """Labels of DATA as indices into the model's classes; ``DataError`` for a label the
    model never saw, naming its CSV line as an editor counts it (``data.lines``), else its
    array index (``y[3]``), as ``nlayer.data``'s own errors do."""
    classes = net.class_labels()
    index = {c: i for i, c in enumerate(classes)}
    index.update({str(c): i for i, c in enumerate(classes)})
    out = np.empty(len(data.y), dtype=np.int64)
    for row, label in enumerate(data.y.tolist()):
        key = int(label) if isinstance(label, float) and label.is_integer() else label
        key = key if key in index else str(key)              # 10 (an int64 column) for a class "10"
        if key not in index:
            unknown = f"which the model never saw; its classes are {classes}"
            if data.lines is not None:
                raise DataError(f"{data.source}, line {int(data.lines[row])}, column '{data.target_name}': "
                                f"label {label!r}, {unknown}")
            raise DataError(f"{data.source}: {data.target_name}[{row}] is {label!r}, a label {unknown}")
        out[row] = index[key]
    return out


def cmd_predict(args: argparse.Namespace) -> int:
    """``nlayer predict``: one CSV row per DATA row: the prediction (and probabilities)."""
    from .. import io as nio

    _check_out_is_new(args)
    net = nio.load(args.model)
    if args.proba and not net.is_classifier:
        raise ConfigError("--proba needs a classifier; this model does regression (identity output)")
    X = predict_features(net, args.data, args.target)
    A = net.predict_proba(X)
    pred = net.decide(A)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = net.class_labels()                                     # one per output (multi-label) or class
    columns = ["prediction"] if pred.ndim == 1 else [f"prediction_{c}" for c in names]   # as proba_ below
    if args.proba:
        P = np.column_stack([1 - A[:, 0], A[:, 0]]) if A.shape[1] == 1 else A   # one column per name
        columns += [f"proba_{c}" for c in names]
    w.writerow(columns)
    for i in range(X.shape[0]):
        row = [str(v) for v in np.atleast_1d(pred[i])]
        w.writerow(row + ([str(p) for p in P[i]] if args.proba else []))
    if args.out is not None and args.out != "-":          # a symlink is written through; a device is refused
        atomic_write_bytes(args.out, buf.getvalue().encode())
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def _check_out_is_new(args: argparse.Namespace) -> None:
    """``ConfigError`` if ``--out`` is (a link to, or another name of) MODEL or DATA: the
    predictions would replace the file they are made from. Checked before anything is read."""
    if args.out is None or args.out == "-" or not os.path.exists(args.out):
        return
    files = [("MODEL", args.model)] + ([("DATA", args.data)] if args.data != "spiral" else [])
    for what, path in files:
        if os.path.exists(path) and os.path.samefile(args.out, path):
            raise ConfigError(f"--out {args.out} is the {what} file {path}; the predictions would replace it: "
                              "choose another file name for --out")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``nlayer evaluate``: accuracy, loss, confusion matrix; or MSE, MAE, R2."""
    from .. import io as nio

    net = nio.load(args.model)
    data = load_dataset(args.data, args.target, min_rows=1, n_features=net.n_inputs)
    if data.X.shape[1] != net.n_inputs:
        raise DataError(f"{data.source}: the model expects {net.n_inputs} feature columns besides the target "
                        f"'{data.target_name}'; the file has {data.X.shape[1]}")
    check_column_order(net, data)
    check_in_range(net, data)
    heading = f"{data.source}: {data.X.shape[0]} rows, target '{data.target_name}'"    # once DATA passed
    if not net.is_classifier:
        if data.y.dtype.kind not in "iuf":
            raise DataError(f"{data.source}: target '{data.target_name}' is not numeric; this model does regression")
        scores = score(net, data.X, data.y.astype(np.float64))[0]
        print(heading)
        print(table({"evaluation": scores}))
        return 0
    y = _class_indices(net, data)
    scores, A = score(net, data.X, y)                   # one forward pass for both
    print(heading)
    print(table({"evaluation": scores}))
    print(_confusion_matrix(net, y, np.asarray(net.output.decide(A))))
    return 0


def _confusion_matrix(net: Network, y: np.ndarray, pred: np.ndarray) -> str:
    """Counts of (true class ``y``, predicted class ``pred``), both indices (m,), as a titled text table."""
    names = [str(c) for c in net.class_labels()]
    cm = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    width = max(8, *(len(n) + 1 for n in names))
    lines = ["confusion matrix (rows: true class, columns: predicted)",
             " " * width + "".join(f"{n:>{width}}" for n in names)]
    for n, counts in zip(names, cm):
        lines.append(f"{n:>{width}}" + "".join(f"{c:>{width}}" for c in counts))
    return "\n".join(lines)
