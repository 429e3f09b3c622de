"""What a run reports: the scores of a network on data, the files of the run folder
(model, history, metrics, plots), and the final table."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from .._atomic import atomic_write_bytes
from ..network import INFERENCE_CHUNK, Network

if TYPE_CHECKING:
    from .train import TrainJob


def score(net: Network, X: np.ndarray, targets: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """``loss`` and ``accuracy`` for class indices, or ``loss, mse, mae, r2`` for values; and the
    output activations ``A[L]`` (m, n_out) of the same forward pass (for the predictions).
    For regression ``loss`` is in the standardised units the network trains in, the other
    scores and A in the target's own units."""
    from ..training import evaluate

    A = np.empty((X.shape[0], net.n_outputs), dtype=net.dtype)
    loss, accuracy = evaluate(net, net.prepare_X(X), net.prepare_Y(targets), INFERENCE_CHUNK, out=A)
    if net.is_classifier:
        return {"loss": float(loss), "accuracy": float(accuracy or 0.0)}, A
    A = net.unscale_outputs(A)                          # predictions in the target's own units
    err = A[:, 0].astype(np.float64) - targets
    ss_tot = float(np.sum((targets - targets.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"loss": float(loss), "mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))), "r2": r2}, A


def split_metrics(job: TrainJob) -> dict[str, dict[str, float]]:
    """Data loss and accuracy (classify) or MSE/MAE/R2 (regress) of the final weights per split."""
    out: dict[str, dict[str, float]] = {}
    for name, rows in (("train", job.train_rows), ("validation", job.val_rows)):
        if len(rows):
            out[name], _ = score(job.net, job.data.X[rows], job.targets[rows])
    return out


def table(rows: dict[str, dict[str, float]]) -> str:
    """``{"train": {"loss": .., ...}, ...}`` as an aligned text table, one row per split; each
    column as wide as its longest entry plus two spaces (at least 12), so numbers never touch."""
    cols = list(dict.fromkeys(k for r in rows.values() for k in r))
    cells = {name: [number(r[c]) if c in r else "" for c in cols] for name, r in rows.items()}
    widths = [max(12, len(c) + 2, *(len(v[j]) + 2 for v in cells.values())) for j, c in enumerate(cols)]
    lines = [f"{'':<12}" + "".join(f"{c:>{w}}" for c, w in zip(cols, widths))]
    for name, values in cells.items():
        lines.append(f"{name:<12}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths)))
    return "\n".join(lines)


def number(value: float) -> str:
    """A score for the table: four decimals from 0.001 to a million (``0.0141``, ``14510.8749``),
    else five significant digits (``1.7227e+08``, ``3.2000e-05``); ``nan`` and ``inf`` as such."""
    if value == 0 or (math.isfinite(value) and 1e-3 <= abs(value) < 1e6):
        return f"{value:.4f}"
    return f"{value:.4e}" if math.isfinite(value) else str(value)


def write_run(job: TrainJob) -> dict[str, dict[str, float]]:
    """model.safetensors, history.csv, metrics.json, loss.png and (2 inputs) decision_boundary.png;
    returns the scores per split written to metrics.json (for :func:`print_summary`)."""
    from .. import io as nio
    from .. import plots

    assert job.history is not None, "write_run follows run_job"
    scores = split_metrics(job)
    nio.save(job.net, job.out / "model.safetensors")
    _write_history(job)
    _write_metrics(job, scores)
    title = f"{job.data.source}: {'-'.join(map(str, job.net.sizes))} {job.net.activation}, {job.args.optimizer}"
    plots.plot_history(job.history, job.out / "loss.png", title=title)
    if job.data.X.shape[1] == 2:
        plots.plot_decision_boundary(job.net, job.data.X, job.targets, job.out / "decision_boundary.png",
                                     classes=job.classes, title=title)
    return scores


def _write_history(job: TrainJob) -> None:
    """history.csv: one row per epoch (1-based), one column per History list, exact floats."""
    assert job.history is not None
    hist = job.history.as_dict()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["epoch", *hist])
    for e in range(job.history.epochs):
        w.writerow([e + 1, *(repr(float(v[e])) for v in hist.values())])
    atomic_write_bytes(job.out / "history.csv", buf.getvalue().encode())


def _write_metrics(job: TrainJob, scores: dict[str, dict[str, float]]) -> None:
    """metrics.json: the data, the architecture, the options, and the scores per split."""
    assert job.history is not None
    a = job.args
    metrics = {
        "nlayer_version": __version__, "data": job.data.source, "task": job.task, "target": job.data.target_name,
        "features": job.data.feature_names, "classes": job.classes, "sizes": job.net.sizes,
        "activation": job.net.activation, "output": job.net.output.name, "dtype": job.net.dtype.name,
        "optimizer": a.optimizer, "lr": a.lr, "l2": a.l2, "batch_size": job.fit_options["batch_size"],
        "seed": a.seed, "epochs_run": job.history.epochs, "best_epoch": _one_based(job.history.best_epoch),
        "stopped_early": job.history.stopped_early, "n_train": int(len(job.train_rows)),
        "n_validation": int(len(job.val_rows)), "seconds": round(job.seconds, 3),
        **{split: {k: v if math.isfinite(v) else None for k, v in row.items()} for split, row in scores.items()},
    }                                              # strict JSON: a score that is NaN (r2 of constant targets) is null
    atomic_write_bytes(job.out / "metrics.json", (json.dumps(metrics, indent=2, allow_nan=False) + "\n").encode())


def _one_based(epoch: int | None) -> int | None:
    return None if epoch is None else epoch + 1


def print_summary(job: TrainJob, scores: dict[str, dict[str, float]]) -> None:
    """The final table of train/validation ``scores`` (from :func:`write_run`), and where the run was written."""
    assert job.history is not None
    h = job.history
    stop = ""
    if h.best_epoch is not None and (h.stopped_early or h.best_epoch + 1 < h.epochs):   # weights restored
        stop = f"{', stopped early' if h.stopped_early else ''}; kept epoch {h.best_epoch + 1}, the best"
    print(f"trained {job.epochs_text} in {job.seconds:.1f} s{stop}")
    print(table(scores))
    print(f"run folder: {job.out}")
