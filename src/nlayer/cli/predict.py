"""``nlayer predict`` and ``nlayer evaluate``: a saved model on new data.

Columns are matched by count and order, not by name (the model file stores no feature names).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys

import numpy as np

from .._atomic import atomic_write_bytes
from ..data import Table
from ..errors import ConfigError, DataError
from ..network import Network
from .common import load_dataset
from .report import score, table


def predict_features(net: Network, spec: str, target: str | None) -> np.ndarray:
    """The model's input columns from DATA, matched by count and order (not by name).

    DATA holds the model's n_in feature columns, in training order, and may also hold the
    target column (named by ``--target``, else the last column), which is then ignored.
    An NPZ needs ``X``; its ``y`` is optional.
    """
    from ..data import load_table

    if spec == "spiral":
        return load_dataset(spec, target).X
    n_in, first, features_error = net.n_inputs, None, None
    if target is None:                               # most often: the features alone, read once
        try:
            X = load_table(spec, min_rows=1, features_only=True).X
        except DataError as error:
            features_error = error
        else:
            if X.shape[1] == n_in:
                return X
    try:                                             # or the features and a target column
        first = load_table(spec, target, min_rows=1)
    except DataError:
        if target is not None:
            raise
    if first is not None and first.X.shape[1] == n_in:
        return first.X
    if features_error is not None:
        raise features_error
    have = f"{first.X.shape[1]} feature columns besides the target '{first.target_name}'" if first else "none"
    raise DataError(f"{spec}: the model expects {n_in} feature columns, in training order (the target column "
                    f"may follow or be named with --target); the file has {have}")


def _class_indices(net: Network, data: Table) -> np.ndarray:
    """Labels of DATA as indices into the model's classes (``DataError`` for unknown labels)."""
    classes = net.class_labels()
    index = {c: i for i, c in enumerate(classes)}
    index.update({str(c): i for i, c in enumerate(classes)})
    out = np.empty(len(data.y), dtype=np.int64)
    for row, label in enumerate(data.y.tolist()):
        key = int(label) if isinstance(label, float) and label.is_integer() else label
        if key not in index:
            raise DataError(
                f"{data.source}: row {row + 1} of target '{data.target_name}' has label {label!r}, which the model "
                f"never saw; its classes are {classes}"
            )
        out[row] = index[key]
    return out


def cmd_predict(args: argparse.Namespace) -> int:
    """``nlayer predict``: one CSV row per DATA row: the prediction (and probabilities)."""
    from .. import io as nio

    net = nio.load(args.model)
    if args.proba and not net.is_classifier:
        raise ConfigError("--proba needs a classifier; this model does regression (identity output)")
    X = predict_features(net, args.data, args.target)
    A = net.predict_proba(X)
    pred = net.decide(A)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    columns = ["prediction"] if pred.ndim == 1 else [f"prediction_{j + 1}" for j in range(pred.shape[1])]
    if args.proba:
        P = np.column_stack([1 - A[:, 0], A[:, 0]]) if A.shape[1] == 1 else A
        names = net.class_labels()                                 # one per column of P
        columns += [f"proba_{c}" for c in names]
    w.writerow(columns)
    for i in range(X.shape[0]):
        row = [str(v) for v in np.atleast_1d(pred[i])]
        w.writerow(row + ([str(p) for p in P[i]] if args.proba else []))
    if args.out:
        atomic_write_bytes(args.out, buf.getvalue().encode())
    else:
        sys.stdout.write(buf.getvalue())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``nlayer evaluate``: accuracy, loss, confusion matrix; or MSE, MAE, R2."""
    from .. import io as nio

    net = nio.load(args.model)
    data = load_dataset(args.data, args.target, min_rows=1)
    if data.X.shape[1] != net.n_inputs:
        raise DataError(f"{data.source}: the model expects {net.n_inputs} feature columns besides the target "
                        f"'{data.target_name}'; the file has {data.X.shape[1]}")
    print(f"{data.source}: {data.X.shape[0]} rows, target '{data.target_name}'")
    if not net.is_classifier:
        if data.y.dtype.kind not in "iuf":
            raise DataError(f"{data.source}: target '{data.target_name}' is not numeric; this model does regression")
        print(table({"evaluation": score(net, data.X, data.y.astype(np.float64))[0]}))
        return 0
    y = _class_indices(net, data)
    scores, A = score(net, data.X, y)                   # one forward pass for both
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
