"""The ``nlayer`` command line: ``train``, ``predict``, ``evaluate``, ``gradcheck``, ``explain``.

Thin: each sub-command parses its options, calls the library, and prints. Every failure
a user can cause is one line on stderr (``nlayer: error: ...``) and exit status 1; an
interrupt (Ctrl-C) is exit status 130. ``main(argv)`` returns the exit status, so tests
run the CLI in-process.

``train`` is built from small steps (:func:`prepare_out_dir`, :func:`load_dataset`,
:func:`build_job`, :func:`run_job`, :func:`write_run`) around a :class:`TrainJob`, so
options such as checkpointing add a callback or a fit option without touching the rest.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._atomic import atomic_write_bytes
from .activations import ACTIVATIONS
from .errors import ConfigError, DataError, DivergenceError, ModelFormatError, NLayerError
from .interrupt import GracefulInterrupt
from .losses import OUTPUTS
from .network import DTYPES, Network
from .optimizers import OPTIMIZERS
from .training import Callback, History

PROG = "nlayer"
DEFAULTS = {  # `nlayer train` with no options: reaches >= 0.95 validation accuracy on the spiral in ~1 s
    "layers": "100,100", "activation": "relu", "epochs": 150, "batch_size": 32, "optimizer": "adam",
    "lr": 0.003, "l2": 1e-4, "val_fraction": 0.2, "seed": 0, "dtype": "float32",
}


class UsageError(Exception):
    """A command line that argparse rejects (reported as one line, exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print the usage block and exit 2
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ----------------------------------------------------------------------------- main
_OWN_PROCESS = False   # True when nlayer is the program (console script, python -m nlayer)


def console_main() -> None:
    """The ``nlayer`` program: :func:`main` on ``sys.argv``, then exit with its status.

    Only here, where the process is nlayer's own, does a stopping run ignore late signals
    (in-process callers of :func:`main`, such as tests, keep their handlers).
    """
    global _OWN_PROCESS
    _OWN_PROCESS = True
    sys.exit(main())


def _ignore_late_signals() -> None:
    if _OWN_PROCESS:
        for sig in (signal.SIGINT, signal.SIGTERM):   # exiting: a late Ctrl-C must not kill the report
            signal.signal(sig, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    All error and interrupt handling of every command lives here, in one place.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 0
        return int(args.run(args))
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _ignore_late_signals()
        return _fail("interrupted", status=130)
    except BrokenPipeError:  # `nlayer predict ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, NLayerError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    except Exception as exc:  # a bug in nlayer: still one line, with a way to see the traceback
        if os.environ.get("NLAYER_DEBUG"):
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (set NLAYER_DEBUG=1 to see the traceback)")


def _fail(message: str, status: int = 1) -> int:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}" if status != 130 else f"{PROG}: {one_line}", file=sys.stderr)
    return status


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive whole numbers like 100,100; got {text!r}")
    return values


def _command(sub: Any, name: str, summary: str, example: str, run: Callable[[argparse.Namespace], int]) -> Any:
    p = sub.add_parser(name, help=summary, description=summary, epilog=f"example:\n  {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (``--help`` of each shows an example)."""
    parser = _Parser(prog=PROG, description="N-layer networks with back propagation written out by hand in NumPy.",
                     epilog="example:\n  nlayer train            # the lecture's spiral, then look in runs/",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nlayer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train_arguments(_command(sub, "train", "train a network and write a run folder",
                                 "nlayer train --data iris.csv --target species --layers 16 --epochs 300", cmd_train))
    for name, summary, example, run in (
        ("predict", "predict with a saved model; CSV on stdout",
         "nlayer predict runs/x/model.safetensors new.csv --proba", cmd_predict),
        ("evaluate", "score a saved model on labelled data", "nlayer evaluate runs/x/model.safetensors test.csv",
         cmd_evaluate),
    ):
        p = _command(sub, name, summary, example, run)
        p.add_argument("model", metavar="MODEL", help="a model.safetensors written by nlayer train")
        p.add_argument("data", metavar="DATA", help="spiral, FILE.csv or FILE.npz (see 'Data files' in the README)")
        p.add_argument("--target", metavar="COLUMN", help="the target column of a CSV (default: the last one)")
        if name == "predict":
            p.add_argument("--proba", action="store_true", help="add one probability column per class")
            p.add_argument("--out", metavar="FILE", help="write the CSV to FILE instead of stdout")
    p = _command(sub, "gradcheck", "compare back propagation with central differences, per parameter",
                 "nlayer gradcheck --layers 2,4,3 --activation tanh --output softmax", cmd_gradcheck)
    _architecture_arguments(p)
    p.add_argument("--batch", type=int, default=20, help="rows of random data (default: 20)")
    p.add_argument("--l2", type=float, default=0.0, help="include an L2 term of this strength (default: 0)")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights and the data (default: 0)")
    p.add_argument("--threshold", type=float, default=1e-6, help="fail above this relative error (default: 1e-6)")
    p = _command(sub, "explain", "print the forward and backward equations with concrete shapes",
                 "nlayer explain --layers 2,4,3 --batch 300", cmd_explain)
    _architecture_arguments(p)
    p.add_argument("--batch", type=int, default=300, help="batch size m (default: 300, as in the notes)")
    return parser


def _architecture_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--layers", type=_ints, default=[2, 4, 3],
                   help="all layer widths, input first (default: 2,4,3, the notes' network)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu", help="hidden activation")
    p.add_argument("--output", choices=list(OUTPUTS), default="softmax", help="output layer")


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nlayer train`` (extensions add theirs after these)."""
    d = DEFAULTS
    p.add_argument("--data", default="spiral", help="spiral (the built-in 300 points), FILE.csv or FILE.npz")
    p.add_argument("--target", metavar="COLUMN", help="target column of a CSV (default: the last one)")
    p.add_argument("--task", choices=["classify", "regress"], help="default: inferred from the target, and printed")
    p.add_argument("--layers", type=_ints, default=_ints(str(d["layers"])),
                   help=f"hidden layer widths; input and output widths come from the data (default: {d['layers']})")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default=d["activation"], help="hidden activation")
    p.add_argument("--output", choices=list(OUTPUTS), help="default: softmax to classify, identity to regress")
    p.add_argument("--epochs", type=int, default=d["epochs"], help=f"default: {d['epochs']}")
    p.add_argument("--batch-size", type=int, default=d["batch_size"],
                   help=f"rows per step; 0 for full batch as in the lecture (default: {d['batch_size']})")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=d["optimizer"], help=f"default: {d['optimizer']}")
    p.add_argument("--lr", type=float, default=d["lr"], help=f"learning rate (default: {d['lr']})")
    p.add_argument("--l2", type=float, default=d["l2"], help=f"L2 strength (default: {d['l2']})")
    p.add_argument("--val-fraction", type=float, default=d["val_fraction"],
                   help=f"rows held out for validation, stratified by class (default: {d['val_fraction']})")
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop when the validation loss has not improved for PATIENCE epochs; keep the best weights")
    p.add_argument("--seed", type=int, default=d["seed"], help=f"weights, split and shuffling (default: {d['seed']})")
    p.add_argument("--dtype", choices=list(DTYPES), default=d["dtype"], help=f"default: {d['dtype']}")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<timestamp>)")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty --out folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes; only the final table")
    p.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="save RUN_DIR/checkpoint.safetensors every N epochs and on Ctrl-C, so the run can be resumed")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR (trained with --checkpoint-every) to --epochs, bit for bit; "
                        "its options are reused, and changing them is refused")


# ---------------------------------------------------------------------------- data
@dataclass
class Dataset:
    """Features and target as loaded (labels still raw), with where they came from."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    source: str


def load_dataset(spec: str, target: str | None = None, min_rows: int = 2) -> Dataset:
    """``spiral`` (the lecture's 300 points, seed 0) or a CSV/NPZ file via ``nlayer.data``."""
    if spec == "spiral":
        if target is not None:
            raise ConfigError("--target applies to CSV files; the spiral has no columns to choose from")
        from .datasets import spiral

        X, y = spiral(100, 3, noise=0.2, seed=0, dtype="float64")
        return Dataset(X, y, ["x1", "x2"], "class", "spiral")
    from .data import load_table

    t = load_table(spec, target=target, min_rows=min_rows)
    return Dataset(t.X, t.y, list(t.feature_names), t.target_name, t.source)


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message)


# --------------------------------------------------------------------------- train
@dataclass
class TrainJob:
    """Everything one ``nlayer train`` run holds between its steps."""

    args: argparse.Namespace
    out: Path
    data: Dataset
    task: str                       # "classify" or "regress"
    classes: list[Any] | None
    targets: np.ndarray             # class indices (classify) or values (regress), all rows
    train_rows: np.ndarray
    val_rows: np.ndarray
    net: Network
    fit_options: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    history: History | None = None
    seconds: float = 0.0
    interrupt: GracefulInterrupt | None = None


def cmd_train(args: argparse.Namespace) -> int:
    """``nlayer train``: check the run folder, load, split, standardise, fit, write, report.

    Ctrl-C or SIGTERM stops after the current epoch (exit 130, saying how to resume); a
    diverging run stops with exit 1, keeping the last good checkpoint.
    """
    if args.resume is not None:
        args = resume_args(args)
    check_train_args(args)
    out, created = prepare_out_dir(args.out, args.force or args.resume is not None)
    try:
        job = build_job(args, out)
        if args.checkpoint_every is not None and args.resume is None:
            saved = {k: v for k, v in vars(args).items() if k not in ("run", "command", "resume", "force")}
            atomic_write_bytes(out / TRAIN_ARGS, (json.dumps(saved, indent=2) + "\n").encode())
        run_job(job)
    except KeyboardInterrupt:            # a second Ctrl-C: stopped at once, files whole
        _remove_if_empty(out, created)
        if not args.checkpoint_every:
            raise                        # main() says "interrupted", exit 130
        return _fail(_interrupted(out, args, None), status=130)
    except DivergenceError as exc:
        where = _checkpoint_note(out) if args.checkpoint_every else ""
        raise DivergenceError(f"{str(exc).rstrip('.')}{where}", epoch=exc.epoch) from None
    except BaseException:
        _remove_if_empty(out, created)   # leave nothing behind for a run that never wrote a file
        raise
    if job.interrupt is not None and job.interrupt.interrupted:
        _remove_if_empty(out, created)
        return _fail(_interrupted(out, args, job.interrupt.epoch), status=130)
    write_run(job)
    print_summary(job)
    return 0


CHECKPOINT = "checkpoint.safetensors"
TRAIN_ARGS = "train_args.json"
_MAY_CHANGE_ON_RESUME = ("epochs", "checkpoint_every", "quiet", "force", "out", "resume", "run", "command")


def _remove_if_empty(out: Path, created: bool) -> None:
    if created and out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def _interrupted(out: Path, args: argparse.Namespace, epoch: int | None) -> str:
    """The one line printed on Ctrl-C / SIGTERM: where training stopped and how to resume."""
    if not args.checkpoint_every:
        at = f" at epoch {epoch}" if epoch is not None else ""
        return f"interrupted{at}; nothing was saved (add --checkpoint-every N to make a run resumable)"
    from .checkpoint import load_checkpoint

    try:
        saved = load_checkpoint(out / CHECKPOINT).epoch
    except ModelFormatError:
        saved = 0                        # stopped before the first checkpoint
    return f"interrupted at epoch {saved}; resume with: nlayer train --resume {out}"


def _checkpoint_note(out: Path) -> str:
    from .checkpoint import load_checkpoint

    try:
        epoch = load_checkpoint(out / CHECKPOINT).epoch
    except ModelFormatError:
        return "; no checkpoint was written before it diverged"
    return f"; the last good checkpoint, {out / CHECKPOINT}, holds epoch {epoch}"


def _train_defaults() -> dict[str, Any]:
    p = argparse.ArgumentParser()
    add_train_arguments(p)
    return vars(p.parse_args([]))


def resume_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options of the run in ``--resume RUN_DIR``; an option given now with another
    value than the run's is refused, naming it (--epochs, --checkpoint-every and --quiet may change)."""
    run = Path(args.resume)
    try:
        stored = json.loads((run / TRAIN_ARGS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--resume {run}: no {TRAIN_ARGS} there; only a run trained with --checkpoint-every "
                          "can be resumed") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"--resume {run}: cannot read {TRAIN_ARGS}: {exc}") from None
    defaults = _train_defaults()
    if not isinstance(stored, dict) or set(stored) - set(defaults):
        raise ConfigError(f"--resume {run}: {TRAIN_ARGS} is not an nlayer train record")
    given = vars(args)
    diffs = [f"--{k.replace('_', '-')}: the run used {stored.get(k)!r}, this command gives {v!r}"
             for k, v in given.items()
             if k not in _MAY_CHANGE_ON_RESUME and v != defaults.get(k) and v != stored.get(k)]
    if args.out is not None and Path(args.out) != run:
        diffs.append(f"--out: the run folder is {run}, this command gives {args.out}")
    if diffs:
        raise ConfigError(f"cannot resume {run} with other options: " + "; ".join(diffs))
    merged = {**defaults, **stored, "out": str(run), "resume": str(run), "force": True, "quiet": args.quiet,
              "run": args.run, "command": args.command}
    if args.epochs != defaults["epochs"]:
        merged["epochs"] = args.epochs
    if args.checkpoint_every is not None:
        merged["checkpoint_every"] = args.checkpoint_every
    if not merged.get("checkpoint_every") or merged["checkpoint_every"] < 1:
        raise ConfigError(f"--checkpoint-every must be a whole number of epochs >= 1; got {merged['checkpoint_every']}")
    return argparse.Namespace(**merged)


def check_train_args(args: argparse.Namespace) -> None:
    """Reject out-of-range numbers by their option name before anything is created."""
    every = getattr(args, "checkpoint_every", None)
    checks = [
        ("--epochs", args.epochs, args.epochs >= 1, "a whole number >= 1"),
        ("--batch-size", args.batch_size, args.batch_size >= 0, "a whole number >= 0 (0 is full batch)"),
        ("--lr", args.lr, 0 < args.lr < float("inf"), "a positive finite number"),
        ("--l2", args.l2, 0 <= args.l2 < float("inf"), "a finite number >= 0"),
        ("--val-fraction", args.val_fraction, 0 <= args.val_fraction < 1, "in [0, 1)"),
        ("--early-stopping", args.early_stopping, args.early_stopping is None or args.early_stopping >= 1,
         "a patience in epochs >= 1"),
        ("--seed", args.seed, args.seed >= 0, "a whole number >= 0"),
        ("--checkpoint-every", every, every is None or every >= 1, "a whole number of epochs >= 1"),
    ]
    for name, value, ok, want in checks:
        if not ok:
            raise ConfigError(f"{name} must be {want}; got {value}")


def prepare_out_dir(out: str | None, force: bool) -> tuple[Path, bool]:
    """The run folder, created and proven writable before any training; (path, created).

    An existing non-empty folder is refused unless ``force``.
    """
    if out is None:
        base = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        path, i = base, 1
        while path.exists():
            i += 1
            path = base.with_name(f"{base.name}-{i}")
    else:
        path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} exists and is not a folder; choose a folder name")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ConfigError(f"--out {path} already exists and is not empty; choose another folder or add --force")
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".nlayer-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write to the run folder {path}: {exc.strerror or exc}") from None
    return path, created


def build_job(args: argparse.Namespace, out: Path) -> TrainJob:
    """Load and check the data, choose the task, split, and build the standardised network."""
    from . import data as nd

    data = load_dataset(args.data, args.target)
    task = args.task or nd.infer_task(data.y)
    nd.check_task(data.y, task)
    classes: list[Any] | None = None
    if task == "classify":
        targets, classes = nd.encode_labels(data.y)
        output = args.output or "softmax"
        if output == "identity":
            raise ConfigError("--output identity is for regression; use softmax (or sigmoid for 2 classes)")
        if output == "sigmoid" and len(classes) != 2:
            raise ConfigError(f"--output sigmoid needs exactly 2 classes; the target has {len(classes)}: use softmax")
        n_out = 1 if output == "sigmoid" else len(classes)
        how = f"{len(classes)} classes: {', '.join(map(str, classes[:10]))}{', ...' if len(classes) > 10 else ''}"
    else:
        if data.y.dtype.kind not in "iuf":
            raise DataError(f"target '{data.target_name}' holds text labels; regression needs numbers "
                            "(or use --task classify)")
        targets, output, n_out = data.y.astype(np.float64), args.output or "identity", 1
        if output != "identity":
            raise ConfigError(f"--output {output} is for classification; regression uses identity")
        how = "numeric target"
    chosen = "chosen with --task" if args.task else "inferred"
    _say(args, f"task: {task} ({chosen}; target '{data.target_name}', {how})")
    train_rows, val_rows = split_rows(len(targets), args.val_fraction, args.seed,
                                      targets if task == "classify" else None)
    net = Network([data.X.shape[1], *args.layers, n_out], activation=args.activation, output=output,
                  seed=args.seed, dtype=args.dtype)
    net.fit_input_scaling(data.X[train_rows])       # statistics of the training split only
    net.classes = classes
    job = TrainJob(args, out, data, task, classes, targets, train_rows, val_rows, net)
    batch = args.batch_size if args.batch_size and args.batch_size < len(train_rows) else None
    job.fit_options = dict(epochs=args.epochs, batch_size=batch, optimizer=args.optimizer, lr=args.lr, l2=args.l2,
                           early_stopping=args.early_stopping, seed=args.seed)
    if len(val_rows):
        job.fit_options["validation_data"] = (data.X[val_rows], targets[val_rows])
    from .progress import ProgressBar

    job.callbacks.append(ProgressBar(total=args.epochs, disable=args.quiet))
    return job


def split_rows(n: int, fraction: float, seed: int, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, validation) row indices; stratified by ``labels`` when given."""
    if not 0 <= fraction < 1:
        raise ConfigError(f"--val-fraction must be in [0, 1); got {fraction}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if labels is not None else [np.arange(n)]
    val = np.concatenate([rng.permutation(g)[: int(round(fraction * g.size))] for g in groups])
    train = np.setdiff1d(np.arange(n), val)
    if train.size == 0 or (fraction > 0 and val.size == 0):
        raise DataError(f"--val-fraction {fraction} of {n} rows leaves an empty training or validation set")
    return train, np.sort(val)


def run_job(job: TrainJob) -> None:
    """Fit the network (the progress bar is closed even when interrupted).

    The first SIGINT/SIGTERM stops after the current epoch (``job.interrupt`` says so);
    with ``--checkpoint-every`` the run is checkpointed, and resumed with ``--resume``.
    """
    from . import checkpoint

    start = time.perf_counter()
    X, y = job.data.X[job.train_rows], job.targets[job.train_rows]
    every = getattr(job.args, "checkpoint_every", None)
    job.interrupt = GracefulInterrupt(ignore_after_stop=_OWN_PROCESS)
    try:
        with job.interrupt:
            hooks = [*job.callbacks, job.interrupt]
            if every:
                options = {k: v for k, v in job.fit_options.items() if not (k == "early_stopping" and v is None)}
                if "early_stopping" in options:
                    raise ConfigError("--early-stopping cannot be combined with --checkpoint-every or --resume: "
                                      "its best weights cannot be restored exactly from a checkpoint")
                resume = getattr(job.args, "resume", None) is not None
                job.history = checkpoint.fit(job.net, X, y, checkpoint=job.out / CHECKPOINT, every=every,
                                             resume=resume, callbacks=hooks, **options)
            else:
                job.history = job.net.fit(X, y, callbacks=hooks, **job.fit_options)
    finally:
        for cb in job.callbacks:
            close = getattr(cb, "close", None)
            if callable(close):
                close()
    job.seconds = time.perf_counter() - start


def split_metrics(job: TrainJob) -> dict[str, dict[str, float]]:
    """Data loss and accuracy (classify) or MSE/MAE/R2 (regress) of the final weights per split."""
    out: dict[str, dict[str, float]] = {}
    for name, rows in (("train", job.train_rows), ("validation", job.val_rows)):
        if len(rows):
            out[name] = score(job.net, job.data.X[rows], job.targets[rows])
    return out


def score(net: Network, X: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """``loss`` and ``accuracy`` for class indices, or ``loss, mse, mae, r2`` for values."""
    loss = float(net.loss(X, targets))
    if net.is_classifier:
        pred = np.asarray(net.output.decide(net.predict_proba(X)))
        return {"loss": loss, "accuracy": float(np.mean(pred == targets))}
    err = net.predict_proba(X)[:, 0].astype(np.float64) - targets
    ss_tot = float(np.sum((targets - targets.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"loss": loss, "mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))), "r2": r2}


def write_run(job: TrainJob) -> None:
    """model.safetensors, history.csv, metrics.json, loss.png and (2 inputs) decision_boundary.png."""
    from . import io as nio
    from . import plots

    assert job.history is not None, "write_run follows run_job"
    nio.save(job.net, job.out / "model.safetensors")
    hist = job.history.as_dict()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["epoch", *hist])
    for e in range(job.history.epochs):
        w.writerow([e + 1, *(repr(float(v[e])) for v in hist.values())])
    atomic_write_bytes(job.out / "history.csv", buf.getvalue().encode())
    a = job.args
    metrics = {
        "nlayer_version": __version__, "data": job.data.source, "task": job.task, "target": job.data.target_name,
        "features": job.data.feature_names, "classes": job.classes, "sizes": job.net.sizes,
        "activation": job.net.activation, "output": job.net.output.name, "dtype": job.net.dtype.name,
        "optimizer": a.optimizer, "lr": a.lr, "l2": a.l2, "batch_size": job.fit_options["batch_size"],
        "seed": a.seed, "epochs_run": job.history.epochs, "best_epoch": _one_based(job.history.best_epoch),
        "stopped_early": job.history.stopped_early, "n_train": int(len(job.train_rows)),
        "n_validation": int(len(job.val_rows)), "seconds": round(job.seconds, 3), **split_metrics(job),
    }
    atomic_write_bytes(job.out / "metrics.json", (json.dumps(metrics, indent=2, allow_nan=True) + "\n").encode())
    title = f"{job.data.source}: {'-'.join(map(str, job.net.sizes))} {job.net.activation}, {a.optimizer}"
    plots.plot_history(job.history, job.out / "loss.png", title=title)
    if job.data.X.shape[1] == 2:
        plots.plot_decision_boundary(job.net, job.data.X, job.targets, job.out / "decision_boundary.png",
                                     classes=job.classes, title=title)


def _one_based(epoch: int | None) -> int | None:
    return None if epoch is None else epoch + 1


def print_summary(job: TrainJob) -> None:
    """The final table of train/validation metrics, and where the run was written."""
    assert job.history is not None
    h = job.history
    stop = f", stopped early; kept epoch {h.best_epoch + 1}" if h.stopped_early and h.best_epoch is not None else ""
    print(f"trained {h.epochs} epochs in {job.seconds:.1f} s{stop}")
    print(_table(split_metrics(job)))
    print(f"run folder: {job.out}")


def _table(rows: dict[str, dict[str, float]]) -> str:
    """``{"train": {"loss": .., ...}, ...}`` as an aligned text table, one row per split."""
    cols = list(dict.fromkeys(k for r in rows.values() for k in r))
    lines = [f"{'':<12}" + "".join(f"{c:>12}" for c in cols)]
    for name, r in rows.items():
        lines.append(f"{name:<12}" + "".join(f"{r[c]:>12.4f}" if c in r else f"{'':>12}" for c in cols))
    return "\n".join(lines)


# ---------------------------------------------------------------- predict, evaluate
def predict_features(net: Network, spec: str, target: str | None) -> np.ndarray:
    """The model's input columns from DATA, matched by count and order (not by name).

    DATA holds the model's n_in feature columns, in training order, and may also hold the
    target column (named by ``--target``, else the last column), which is then ignored.
    An NPZ needs ``X``; its ``y`` is optional.
    """
    from .data import load_table

    if spec == "spiral":
        return load_dataset(spec, target).X
    n_in, first = net.n_inputs, None
    try:
        first = load_table(spec, target, min_rows=1)
    except DataError:
        if target is not None:
            raise
    if first is not None and first.X.shape[1] == n_in:
        return first.X
    if target is None:
        X = load_table(spec, min_rows=1, features_only=True).X
        if X.shape[1] == n_in:
            return X
    have = f"{first.X.shape[1]} feature columns besides the target '{first.target_name}'" if first else "none"
    raise DataError(f"{spec}: the model expects {n_in} feature columns, in training order (the target column "
                    f"may follow or be named with --target); the file has {have}")


def _class_indices(net: Network, data: Dataset) -> np.ndarray:
    """Labels of DATA as indices into the model's classes (``DataError`` for unknown labels)."""
    classes = net.classes if net.classes is not None else list(range(max(net.n_outputs, 2)))
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


def _labels(net: Network, decided: np.ndarray) -> np.ndarray:
    """Class indices -> the labels of the training data (softmax and 2-class sigmoid)."""
    if net.classes is not None and decided.ndim == 1:
        return np.asarray(net.classes, dtype=object)[decided]
    return decided


def cmd_predict(args: argparse.Namespace) -> int:
    """``nlayer predict``: one CSV row per DATA row: the prediction (and probabilities)."""
    from . import io as nio

    net = nio.load(args.model)
    X = predict_features(net, args.data, args.target)
    A = net.predict_proba(X)
    if args.proba and not net.is_classifier:
        raise ConfigError("--proba needs a classifier; this model does regression (identity output)")
    pred = _labels(net, np.asarray(net.output.decide(A))) if net.is_classifier else np.asarray(net.output.decide(A))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    columns = ["prediction"] if pred.ndim == 1 else [f"prediction_{j + 1}" for j in range(pred.shape[1])]
    if args.proba:
        P = np.column_stack([1 - A[:, 0], A[:, 0]]) if A.shape[1] == 1 else A
        names = net.classes if net.classes is not None else list(range(P.shape[1]))
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
    from . import io as nio

    net = nio.load(args.model)
    data = load_dataset(args.data, args.target, min_rows=1)
    if data.X.shape[1] != net.n_inputs:
        raise DataError(f"{data.source}: the model expects {net.n_inputs} feature columns besides the target "
                        f"'{data.target_name}'; the file has {data.X.shape[1]}")
    print(f"{data.source}: {data.X.shape[0]} rows, target '{data.target_name}'")
    if not net.is_classifier:
        if data.y.dtype.kind not in "iuf":
            raise DataError(f"{data.source}: target '{data.target_name}' is not numeric; this model does regression")
        print(_table({"evaluation": score(net, data.X, data.y.astype(np.float64))}))
        return 0
    y = _class_indices(net, data)
    print(_table({"evaluation": score(net, data.X, y)}))
    k = 2 if net.n_outputs == 1 else net.n_outputs
    pred = np.asarray(net.output.decide(net.predict_proba(data.X)))
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    names = [str(c) for c in (net.classes if net.classes is not None else range(k))]
    width = max(8, *(len(n) + 1 for n in names))
    print("confusion matrix (rows: true class, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for n, counts in zip(names, cm):
        print(f"{n:>{width}}" + "".join(f"{c:>{width}}" for c in counts))
    return 0


# -------------------------------------------------------------- gradcheck, explain
def cmd_gradcheck(args: argparse.Namespace) -> int:
    """``nlayer gradcheck``: random data, a float64 network, one relative error per parameter."""
    from .gradient_check import gradient_check

    if args.batch < 1:
        raise ConfigError(f"--batch must be >= 1; got {args.batch}")
    if not args.threshold > 0:
        raise ConfigError(f"--threshold must be > 0; got {args.threshold}")
    net = Network(args.layers, activation=args.activation, output=args.output, seed=args.seed, dtype="float64")
    rng = np.random.default_rng(args.seed + 1)
    k, m = net.n_outputs, args.batch
    X = rng.standard_normal((m, net.n_inputs))
    y: np.ndarray
    if args.output == "softmax":
        y = rng.integers(0, k, size=m)
    elif args.output == "sigmoid":
        y = rng.integers(0, 2, size=(m, k)).astype(np.float64)
    else:
        y = rng.standard_normal((m, k))
    report = gradient_check(net, X, y, l2=args.l2)
    print(f"gradient check of {net!r} on {m} random rows (float64, h={report.h:g})")
    print(report)
    worst = max(report.parameters, key=lambda p: p.relative_error)
    if not report.passed(args.threshold):
        return _fail(f"gradient check failed: {worst.name} has relative error {worst.relative_error:.3e} "
                     f"> threshold {args.threshold:g}")
    print(f"passed: max relative error {worst.relative_error:.3e} ({worst.name}) < threshold {args.threshold:g}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """``nlayer explain``: the lecture's equations for this architecture, with shapes."""
    from .explain import explain

    print("\n".join(explain(args.layers, args.batch, args.activation, args.output)))
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m nlayer` goes through __main__.py
    sys.exit(main())
