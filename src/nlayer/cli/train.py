"""``nlayer train``: small steps around a :class:`TrainJob`.

:func:`cmd_train` runs :func:`~nlayer.cli.options.check_train_args`, :func:`prepare_out_dir`,
:func:`build_job`, :func:`run_job`, :func:`~nlayer.cli.report.write_run` and
:func:`~nlayer.cli.report.print_summary`, so options such as checkpointing add a callback or
a fit option without touching the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Table, check_scalable
from ..errors import ConfigError, DataError, DivergenceError
from ..interrupt import GracefulInterrupt
from ..network import Network
from ..training import Callback, History, Trainer
from . import common
from .common import fail, load_dataset, say
from .options import check_memory, check_network_size, check_train_args, given
from .report import print_summary, write_run
from .resume import (
    CHECKPOINT,
    TRAIN_ARGS,
    checkpoint_note,
    interrupted_message,
    resume_args,
    resumed_epoch,
    save_train_args,
)

RUN_FILES = ("model.safetensors", "history.csv", "metrics.json", "loss.png", "decision_boundary.png",
             CHECKPOINT, TRAIN_ARGS)     # all a run writes (report.write_run, then checkpoints); --force removes these


@dataclass
class TrainJob:
    """Everything one ``nlayer train`` run holds between its steps."""

    args: argparse.Namespace
    out: Path
    data: Table
    task: str                       # "classify" or "regress"
    targets: np.ndarray             # class indices (classify) or values (regress), all rows
    train_rows: np.ndarray
    val_rows: np.ndarray
    net: Network
    fit_options: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    history: History | None = None
    seconds: float = 0.0
    interrupt: GracefulInterrupt | None = None
    epochs_before: int = 0          # the checkpoint's epoch when resumed: trained before this session

    @property
    def epochs_text(self) -> str:
        """The epochs trained: ``"150 epochs"``, or after a resume ``"70 epochs (800 in all)"``."""
        total = self.history.epochs if self.history is not None else self.epochs_before
        if not self.epochs_before:
            return f"{total} epochs"
        return f"{total - self.epochs_before} epochs ({total} in all)"

    @property
    def classes(self) -> list[Any] | None:
        """The class labels, kept by the network (``net.classes``); None for regression."""
        return self.net.classes


def cmd_train(args: argparse.Namespace) -> int:
    """``nlayer train``: check the run folder, load, split, standardise, fit, write, report.

    Ctrl-C or SIGTERM stops after the current epoch (exit 130, saying how to resume); a
    diverging run stops with exit 1, keeping the last good checkpoint. A run that fails
    before writing a model or a checkpoint leaves no files, nor the folder it created.
    """
    if args.resume is not None:
        args = resume_args(args)
    check_train_args(args)
    check_data_is_no_run_file(args.data, args.out)
    resuming = args.resume is not None
    out, created = prepare_out_dir(args.out, args.force or resuming)
    epochs_before = resumed_epoch(out, args) if resuming else 0
    wrote_args = False
    try:
        check_run_files(out, args, removed=not resuming)
        job = build_job(args, out)
        job.epochs_before = epochs_before
        if resuming and given(args) & {"epochs", "checkpoint_every", "data"}:
            job.callbacks.append(_Recorded(out, args))     # a later plain --resume continues to them
        elif not resuming:
            remove_previous_run(out)     # --force: nothing of the old run mixed in, or resumed later
        if args.checkpoint_every is not None and not resuming:
            save_train_args(out, args)
            wrote_args = True
        run_job(job)
        if job.interrupt is not None and job.interrupt.interrupted:
            _remove_if_empty(out, created)
            return fail(interrupted_message(out, args, job.interrupt.epoch), status=130)
        scores = write_run(job)
    except KeyboardInterrupt:            # a second Ctrl-C: stopped at once, files whole
        _remove_if_empty(out, created)
        if not args.checkpoint_every:
            raise                        # main() says "interrupted", exit 130
        return fail(interrupted_message(out, args, None), status=130)
    except DivergenceError as exc:
        where = checkpoint_note(out) if args.checkpoint_every else ""
        _remove_failed_run(out, created, wrote_args)
        raise DivergenceError(f"{str(exc).rstrip('.')}{where}", epoch=exc.epoch) from None
    except BaseException:
        _remove_failed_run(out, created, wrote_args)
        raise
    print_summary(job, scores)
    return 0


class _Recorded(Callback):
    """RUN_DIR/train_args.json rewritten with a resumed run's new --epochs / --checkpoint-every
    / --data (the data file moved) once training begins: after every check of the resume has passed (a refused resume
    leaves the record as it was), before the first epoch (an interrupted one still resumes
    to them)."""

    def __init__(self, out: Path, args: argparse.Namespace) -> None:
        self.out, self.args = out, args

    def on_train_begin(self, trainer: Trainer) -> None:
        save_train_args(self.out, self.args)


def remove_previous_run(out: Path) -> None:
    """Delete the files an earlier run left in ``out`` (:data:`RUN_FILES`; any other file stays)."""
    for name in RUN_FILES:
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()


def check_data_is_no_run_file(data: str, out: str | None) -> None:
    """``ConfigError`` if the ``--data`` file is (another name of, or linked with) one of the
    :data:`RUN_FILES` in ``--out``, which ``--force`` deletes and the run overwrites; checked
    before anything is created or removed."""
    if out is None or data == "spiral" or not os.path.isfile(data):
        return
    for name in RUN_FILES:
        path = Path(out) / name
        if os.path.exists(path) and os.path.samefile(path, data):
            raise ConfigError(f"--data {data} is the run file {name} in --out {out}, which nlayer train deletes "
                              "(--force) and rewrites: move or rename the data file, or choose another --out")


def check_run_files(out: Path, args: argparse.Namespace, removed: bool) -> None:
    """``ConfigError`` if a file this run may write in ``out`` (:data:`RUN_FILES`; the checkpoint
    and train_args.json only with ``--checkpoint-every``) is taken by a folder (or a FIFO, device
    or socket): checked before training, so that no run is left half-written. ``removed``:
    symlinks there are deleted first (:func:`remove_previous_run`), not written through."""
    names = RUN_FILES if args.checkpoint_every is not None else RUN_FILES[:-2]
    for name in names:
        path = out / name
        if (removed and path.is_symlink()) or not path.exists() or path.is_file():
            continue
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ConfigError(f"--out {out}: {path} is {kind}, but the run writes its file {name} there: "
                          "move or remove it, or choose another --out")


def _remove_failed_run(out: Path, created: bool, wrote_args: bool) -> None:
    """After a failure: without a model or a checkpoint, this run's train_args.json would only
    resume into the same failure, so it goes, and then the folder if this run created it.
    Best effort: the error being raised is the one to report."""
    with contextlib.suppress(OSError):
        if wrote_args and not any((out / name).exists() for name in ("model.safetensors", CHECKPOINT)):
            (out / TRAIN_ARGS).unlink(missing_ok=True)
        _remove_if_empty(out, created)


def _remove_if_empty(out: Path, created: bool) -> None:
    if created and out.is_dir() and not any(out.iterdir()):
        out.rmdir()


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
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"--out {path} is a broken symbolic link (to {os.readlink(path)}); "
                          "remove the link or choose another folder")
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
    data = load_dataset(args.data, args.target)
    check_scalable(data, args.dtype)                # before training: a column too large to standardise
    task, targets, classes, output, n_out = choose_task(args, data)
    train_rows, val_rows = split_rows(len(targets), args.val_fraction, args.seed,
                                      targets if task == "classify" else None)
    check_network_size([data.X.shape[1], *args.layers, n_out],
                       f" with the data's {data.X.shape[1]} inputs and {n_out} outputs")
    check_memory([data.X.shape[1], *args.layers, n_out], args.optimizer, args.dtype,
                 min(args.batch_size or len(train_rows), len(train_rows)), len(targets))
    net = Network([data.X.shape[1], *args.layers, n_out], activation=args.activation, output=output,
                  seed=args.seed, dtype=args.dtype)
    net.fit_input_scaling(data.X[train_rows])       # statistics of the training split only
    if task == "regress":
        net.fit_target_scaling(targets[train_rows])  # y too: prices in the 100,000s train like z-scores
    net.classes = classes
    if data.lines is not None:                      # a CSV's header names the columns (NPZ: x1, x2, ... made up)
        net.feature_names = list(data.feature_names)
    job = TrainJob(args, out, data, task, targets, train_rows, val_rows, net)
    batch = args.batch_size if args.batch_size and args.batch_size < len(train_rows) else None
    job.fit_options = dict(epochs=args.epochs, batch_size=batch, optimizer=args.optimizer, lr=args.lr, l2=args.l2,
                           seed=args.seed)
    if args.early_stopping is not None:             # never with checkpoints (check_train_args)
        job.fit_options["early_stopping"] = args.early_stopping
    if len(val_rows):
        job.fit_options["validation_data"] = (data.X[val_rows], targets[val_rows])
    from ..progress import ProgressBar

    job.callbacks.append(ProgressBar(total=args.epochs, disable=args.quiet))
    return job


def choose_task(args: argparse.Namespace, data: Table) -> tuple[str, np.ndarray, list[Any] | None, str, int]:
    """(task, targets, classes, output, n_out): ``--task`` or the inferred one, checked
    against ``--output``; the choice is printed as a note."""
    from .. import data as nd

    task = args.task or nd.infer_task(data.y)
    classes: list[Any] | None = None
    inferred = args.task is None and getattr(args, "resume", None) is None   # a resumed run keeps its choice
    encoded = nd.check_task(data.y, task, data.target_name, data.source, inferred)   # indices and classes
    if encoded is not None:
        targets, classes = encoded
        output = args.output or "softmax"
        if output == "identity":
            raise ConfigError("--output identity is for regression; use softmax (or sigmoid for 2 classes)")
        if output == "sigmoid" and len(classes) != 2:
            raise ConfigError(f"--output sigmoid needs exactly 2 classes; the target has {len(classes)}: use softmax")
        n_out = 1 if output == "sigmoid" else len(classes)
        how = f"{len(classes)} classes: {', '.join(map(str, classes[:10]))}{', ...' if len(classes) > 10 else ''}"
    else:
        targets, output, n_out = data.y.astype(np.float64), args.output or "identity", 1
        if output != "identity":
            raise ConfigError(f"--output {output} is for classification; regression uses identity")
        how = "numeric target"
    chosen = "chosen with --task" if args.task else "inferred"
    say(args, f"task: {task} ({chosen}; target '{data.target_name}', {how})")
    return task, targets, classes, output, n_out


def split_rows(n: int, fraction: float, seed: int, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, validation) row indices; stratified by ``labels`` when given.
    ``fraction`` in [0, 1) was checked with the other options (``options.check_train_args``)."""
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
    start = time.perf_counter()
    job.interrupt = GracefulInterrupt(ignore_after_stop=common.OWN_PROCESS)
    try:
        with job.interrupt:
            job.history = _fit(job, [*job.callbacks, job.interrupt])
    finally:
        for cb in job.callbacks:
            close = getattr(cb, "close", None)
            if callable(close):
                close()
    job.seconds = time.perf_counter() - start


def _fit(job: TrainJob, hooks: list[Any]) -> History:
    """``Network.fit`` on the training rows, or ``checkpoint.fit`` with ``--checkpoint-every``."""
    from .. import checkpoint

    X, y = job.data.X[job.train_rows], job.targets[job.train_rows]
    every = getattr(job.args, "checkpoint_every", None)
    if not every:
        return job.net.fit(X, y, callbacks=hooks, **job.fit_options)
    resume = getattr(job.args, "resume", None) is not None
    return checkpoint.fit(job.net, X, y, checkpoint=job.out / CHECKPOINT, every=every,
                          resume=resume, callbacks=hooks, **job.fit_options)
