"""Checkpoints: save a training run every N epochs and resume it bit for bit.

A checkpoint is one safetensors file (read and written by :mod:`nlayer._safetensors`, like
model files; readable by any safetensors reader) holding everything the next epoch depends on::

    tensors   theta (every W then every b, the network's flat vector),
              optimizer.<state> (velocity, or Adam's m and v; same shape as theta),
              input_mean, input_scale (when the network standardises its inputs),
              target_mean, target_scale (when it standardises its regression targets)
    metadata  format, format_version, run (network architecture, optimizer and its
              hyper-parameters, l2, batch size, schedule, shuffle, validation, data
              fingerprint), state (epoch, target epochs, every, optimizer t and lr,
              RNG states, class labels), history

Use it through :func:`fit` (records the full run and can resume the same script) or
:func:`resume` (rebuilds network and run from the file alone)::

    from nlayer import checkpoint
    checkpoint.fit(net, X, y, checkpoint="run/checkpoint.safetensors", every=1,
                   resume=True, epochs=10, optimizer="adam", batch_size=32, seed=0)

"Fit 10 epochs" equals "fit 4, stop, resume to 10" bit for bit: the resumed run gets the
same weights, optimizer state, shuffle-RNG state, schedule position and History. Files are
written atomically, so a crash or a kill leaves the previous checkpoint whole. Loading
parses the format strictly and executes nothing; any defect raises ``ModelFormatError``.
Resuming with different settings or data raises ``ConfigError`` naming each difference.
Limits: checkpoints are taken at epoch boundaries; early stopping and custom schedule or
optimizer classes cannot be resumed exactly and are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _atomic, _safetensors, interrupt, io
from ._checks import as_array, whole
from ._safetensors import brief, decode, encode, is_int
from .errors import ConfigError, DataError, ModelFormatError
from .network import Network, as_generator, parameter_count
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .schedules import SCHEDULES, Schedule, make_schedule
from .training import Callback, CallbackLike, History, Trainer, _hooks, resolve_optimizer

FORMAT, FORMAT_VERSION = "nlayer-checkpoint", 1
_HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "SFC64", "Philox", "MT19937")


# ------------------------------------------------------------------ descriptions
def describe_network(net: Network) -> dict[str, Any]:
    """The architecture: what a resumed network must share with the checkpoint."""
    return {"sizes": list(net.sizes), "activation": net.activation, "output": net.output.name,
            "init": net.init, "init_scale": net.init_scale, "dtype": net.dtype.name}


def describe_optimizer(opt: Optimizer, lr0: float) -> dict[str, Any]:
    if type(opt) is not OPTIMIZERS.get(opt.name):
        raise ConfigError(f"checkpoints support the built-in optimizers ({', '.join(OPTIMIZERS)}); "
                          f"got {type(opt).__name__}")
    return {"name": opt.name, **opt.hyperparameters(), "lr": float(lr0)}


def describe_schedule(schedule: Schedule) -> dict[str, Any]:
    if SCHEDULES.get(schedule.name) is not type(schedule):
        raise ConfigError(f"checkpoints support the built-in schedules ({', '.join(SCHEDULES)}); "
                          f"got {type(schedule).__name__}")
    return {"name": schedule.name, **vars(schedule)}


def fingerprint(X: Any, y: Any, net: Network) -> dict[str, Any]:
    """Shapes and sha256 of the data as float64 (so the network's dtype does not matter)."""
    Xa, Ya = as_array(X, "X"), as_array(y, "y")
    if Xa.dtype.kind not in "biuf":
        net.prepare_X(Xa)                      # raises the DataError naming the problem
    net.prepare_Y(Ya)                          # likewise for labels or targets that do not fit
    Xa = np.ascontiguousarray(Xa, dtype=np.float64)
    Y = np.ascontiguousarray(Ya, dtype=np.float64)
    return {"X": {"shape": list(Xa.shape), "sha256": hashlib.sha256(Xa.tobytes()).hexdigest()},
            "y": {"shape": list(Y.shape), "sha256": hashlib.sha256(Y.tobytes()).hexdigest()}}


def differences(expected: dict[str, Any], got: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: checkpoint has A, this run has B`` for every leaf that differs."""
    out = []
    for key in sorted(set(expected) | set(got)):
        a, b, name = expected.get(key), got.get(key), f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, name + ".")
        elif a != b:
            out.append(f"{name}: checkpoint has {_show(a)}, this run has {_show(b)}")
    return out


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64:
        return value[:12] + "..."              # a sha256: the start is enough to tell them apart
    return repr(value)


# ------------------------------------------------------------------ the callback
class Checkpoint(Callback):
    """Write ``path`` atomically every ``every`` epochs and when training stops.

    Use as ``net.fit(..., callbacks=[Checkpoint("ckpt.safetensors", every=5)])`` or through
    :func:`fit`, which also records the data fingerprint and the validation split. A
    failed write raises and leaves the previous checkpoint byte for byte as it was.
    """

    def __init__(self, path: str | os.PathLike[str], every: int = 1, *, run: dict[str, Any] | None = None,
                 rng_start: dict[str, Any] | None = None, epochs: int | None = None) -> None:
        self.path, self.every = Path(path), whole("every", every, 1, "a whole number of epochs >= 1")
        self.run, self.rng_start, self.epochs = run, rng_start, epochs
        self.saved_epoch: int | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        check_writable(self.path)
        _classes(trainer.network)              # labels a checkpoint cannot hold fail now, not after an epoch
        problem = io.depth_problem(len(trainer.network.layers))      # likewise a network it cannot hold
        if problem:
            raise ConfigError(f"cannot checkpoint a network of {problem}")
        run = {"optimizer": describe_optimizer(trainer.optimizer, trainer.lr0), "l2": trainer.l2,
               "batch_size": trainer.batch_size, "shuffle": trainer.shuffle,
               "schedule": describe_schedule(trainer.schedule)}
        self.run = {**run, **(self.run or {}), "network": describe_network(trainer.network)}
        self.saved_epoch = trainer.epoch

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if (epoch + 1) % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        if trainer.epoch != self.saved_epoch and trainer.history.best_epoch is None:
            self.save(trainer)                 # the epoch where training stopped

    def save(self, trainer: Trainer) -> None:
        """Write the trainer's state now (atomically; signals wait until it is done)."""
        data = encode_checkpoint(trainer, self.run or {}, self.rng_start, self.every, self.epochs)
        with interrupt.deferred():
            _atomic.atomic_write_bytes(self.path, data)
        self.saved_epoch = trainer.epoch


def check_writable(path: Path) -> None:
    """Fail before training, not after an hour, if ``path``'s folder cannot take a file."""
    folder = path.parent
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory")
        folder.mkdir(parents=True, exist_ok=True)        # like Keras' ModelCheckpoint
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise ConfigError(f"cannot write the checkpoint {path}: {e.strerror or e}; "
                          "choose a writable folder") from e


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    return obj


def _classes(net: Network) -> list[str] | list[int] | None:
    """The network's class labels as stored, checked as a model file checks them."""
    return io.json_classes(net.classes, net.output.name, net.n_outputs)


def encode_checkpoint(tr: Trainer, run: dict[str, Any], rng_start: dict[str, Any] | None,
                      every: int, epochs: int | None) -> bytes:
    net, opt = tr.network, tr.optimizer
    theta, _ = net.flat()
    tensors = {"theta": theta}
    for name in opt.state_names:
        tensors[f"optimizer.{name}"] = opt.state[name][0]
    if net.input_mean is not None and net.input_scale is not None:
        tensors["input_mean"], tensors["input_scale"] = net.input_mean, net.input_scale
    if net.target_mean is not None and net.target_scale is not None:
        tensors["target_mean"], tensors["target_scale"] = net.target_mean, net.target_scale
    state = {"epoch": tr.epoch, "epochs": epochs, "every": every, "optimizer_t": opt.t,
             "optimizer_lr": opt.lr, "rng": _jsonable(tr.rng.bit_generator.state), "rng_start": rng_start,
             "classes": _classes(net), "feature_names": net.feature_names}
    h = tr.history
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "run": json.dumps(_jsonable(run)),
            "state": json.dumps(state), "history": json.dumps({k: getattr(h, k) for k in _HISTORY_KEYS})}
    return encode(tensors, meta)


# ------------------------------------------------------------------ loading
@dataclass
class CheckpointState:
    """A loaded checkpoint: a network with its weights, a bound optimizer with its state,
    the RNG states, the History and the number of epochs done."""

    path: Path
    network: Network
    optimizer: Optimizer
    lr0: float
    run: dict[str, Any]
    epoch: int
    epochs: int | None
    every: int
    rng_state: dict[str, Any]
    rng_start: dict[str, Any] | None
    history: History

    def generator(self, start: bool = False) -> np.random.Generator:
        """A Generator in the saved state (``start``: the state the run began with)."""
        state = self.rng_start if start and self.rng_start is not None else self.rng_state
        g = np.random.Generator(getattr(np.random, state["bit_generator"])())
        g.bit_generator.state = state
        return g


def load_checkpoint(path: str | os.PathLike[str]) -> CheckpointState:
    """Read and validate a checkpoint. Raises ``ModelFormatError`` naming the defect."""
    p = Path(path)
    _safetensors.read_header(p, what="checkpoint")     # the header and layout first: a crafted size costs nothing
    tensors, meta = decode(_safetensors.read(p, what="checkpoint"), str(p), what="checkpoint")
    try:
        return _build(p, tensors, meta)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, IndexError, OverflowError) as e:
        if isinstance(e, ModelFormatError):
            raise
        raise ModelFormatError(f"{p}: invalid checkpoint contents: {e!s:.300}") from e


def _field(d: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise ModelFormatError(f"{where}: missing key {key!r}")
    value = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ModelFormatError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _check_run(p: Path, run: Any) -> None:
    """The training options a checkpoint's ``run`` records, each as :func:`describe_run`
    writes it (what resuming passes back to ``fit``); ``ModelFormatError`` naming the first
    that is not. The network and optimizer are checked where they are built."""
    where = f"{p} run"
    batch_size = _field(run, "batch_size", (int, type(None)), where)
    if batch_size is not None and batch_size < 1:
        raise ModelFormatError(f"{where}: 'batch_size' must be null or a whole number >= 1; got {brief(batch_size)}")
    l2 = _field(run, "l2", (int, float), where)
    if not 0 <= l2 < float("inf"):
        raise ModelFormatError(f"{where}: 'l2' must be a finite number >= 0; got {brief(l2)}")
    _field(run, "shuffle", bool, where)
    if "validation" not in run:                        # a Checkpoint callback used on its own records none
        return _check_schedule(where, run)
    validation = _field(run, "validation", dict, where)
    fraction = _field(validation, "fraction", (int, float), f"{where} validation")
    if not 0 <= fraction < 1 or set(validation) != {"fraction", "data"}:
        raise ModelFormatError(f"{where}: 'validation' must be {{\"fraction\": 0 <= f < 1, \"data\": ...}}; "
                               f"got {brief(validation)}")
    _check_schedule(where, run)


def _check_schedule(where: str, run: dict[str, Any]) -> None:
    sched = _field(run, "schedule", dict, where)
    name = _field(sched, "name", str, f"{where} schedule")
    if name not in SCHEDULES:
        raise ModelFormatError(f"{where}: unknown schedule {brief(name)}; expected one of {', '.join(SCHEDULES)}")
    try:
        SCHEDULES[name](**{k: v for k, v in sched.items() if k != "name"})
    except (ConfigError, TypeError, ValueError) as e:
        raise ModelFormatError(f"{where}: invalid schedule settings {brief(sched)}: {e!s:.300}") from None


def _build(p: Path, tensors: dict[str, np.ndarray], meta: dict[str, str]) -> CheckpointState:
    expected = {"format", "format_version", "run", "state", "history"}
    if set(meta) != expected:
        raise ModelFormatError(f"{p}: metadata keys must be {sorted(expected)}; got {brief(sorted(meta))}")
    if meta["format"] != FORMAT:
        raise ModelFormatError(f"{p}: not an nlayer checkpoint (format {brief(meta['format'])})")
    if meta["format_version"] != str(FORMAT_VERSION):
        raise ModelFormatError(f"{p}: checkpoint format version {brief(meta['format_version'])} is not supported by "
                               f"this nlayer (it reads version {FORMAT_VERSION}); upgrade nlayer")
    run, state, hist = (json.loads(meta[k]) for k in ("run", "state", "history"))
    _check_run(p, run)
    arch = _field(run, "network", dict, f"{p} run")
    sizes = _field(arch, "sizes", list, "network")
    problem = io.depth_problem(len(sizes) - 1)          # before summing or building: a crafted file may list 10**6
    if problem:
        raise ModelFormatError(f"{p}: network sizes describe {problem}")
    if "theta" not in tensors or not all(is_int(n) for n in sizes) or \
            parameter_count(sizes) != tensors["theta"].size:
        raise ModelFormatError(f"{p}: network sizes {brief(sizes)} do not match the stored 'theta' tensor")
    try:
        net = Network(sizes, _field(arch, "activation", str, "network"),
                      _field(arch, "output", str, "network"), _field(arch, "init", str, "network"),
                      _field(arch, "init_scale", (int, float), "network"), 0, _field(arch, "dtype", str, "network"))
    except ConfigError as e:
        raise ModelFormatError(f"{p}: invalid network description: {e!s:.300}") from e
    theta, _ = net.flat()
    o = _field(run, "optimizer", dict, f"{p} run")
    name = _field(o, "name", str, "optimizer")
    if name not in OPTIMIZERS:
        raise ModelFormatError(f"{p}: unknown optimizer {brief(name)}; expected one of {', '.join(OPTIMIZERS)}")
    lr0 = _field(o, "lr", (int, float), "optimizer")
    try:
        opt = make_optimizer(name, lr0, **{k: v for k, v in o.items() if k not in ("name", "lr")})
    except (ConfigError, TypeError) as e:
        raise ModelFormatError(f"{p}: invalid optimizer settings {brief(o)}: {e!s:.300}") from e
    opt.bind([theta])
    names = {"theta"} | {f"optimizer.{s}" for s in opt.state_names}
    scaled = "input_mean" in tensors or "input_scale" in tensors
    names |= {"input_mean", "input_scale"} if scaled else set()
    targets = "target_mean" in tensors or "target_scale" in tensors
    names |= {"target_mean", "target_scale"} if targets else set()
    if set(tensors) != names:
        raise ModelFormatError(f"{p}: tensors must be {sorted(names)}; got {brief(sorted(tensors))}")
    for key, arr in tensors.items():
        shape = (net.n_inputs,) if key.startswith("input_") else (net.n_outputs,) if key.startswith("target_") \
            else theta.shape
        if arr.shape != shape or arr.dtype != net.dtype:
            raise ModelFormatError(f"{p}: tensor {key!r} is {arr.dtype}{list(arr.shape)}; expected "
                                   f"{net.dtype}{list(shape)} for sizes {net.sizes}")
        if not np.all(np.isfinite(arr)):
            raise ModelFormatError(f"{p}: tensor {key!r} holds NaN or infinity")
    theta[...] = tensors["theta"]
    for s in opt.state_names:
        opt.state[s][0][...] = tensors[f"optimizer.{s}"]
    if scaled:
        if not np.all(tensors["input_scale"] > 0):
            raise ModelFormatError(f"{p}: tensor 'input_scale' must be positive")
        net.input_mean, net.input_scale = tensors["input_mean"].copy(), tensors["input_scale"].copy()
    if targets:
        if not np.all(tensors["target_scale"] > 0) or net.output.name != "identity":
            raise ModelFormatError(f"{p}: tensors 'target_mean', 'target_scale' need an identity output and "
                                   "a positive scale")
        net.target_mean, net.target_scale = tensors["target_mean"].copy(), tensors["target_scale"].copy()
    epoch = _field(state, "epoch", int, "state")
    opt.t = _field(state, "optimizer_t", int, "state")
    opt.set_epoch_lr(_field(state, "optimizer_lr", (int, float), "state"))   # lr0 stays the run's
    every = _field(state, "every", int, "state")
    epochs = state.get("epochs")
    if epoch < 0 or opt.t < 0 or every < 1 or not opt.lr > 0 or not (epochs is None or isinstance(epochs, int)):
        raise ModelFormatError(f"{p}: invalid state {brief(state)}")
    classes = state.get("classes")
    problem = io.classes_problem(classes, net.output.name, net.n_outputs)
    if problem:
        raise ModelFormatError(f"{p}: state 'classes' {problem}")
    net.classes = classes
    names = state.get("feature_names")                  # absent in checkpoints before 2026-12
    if names is not None and not io.column_names(names, net.n_inputs):
        raise ModelFormatError(f"{p}: state 'feature_names' must be null or {net.n_inputs} column names; got "
                               f"{brief(names)}")
    net.feature_names = names
    lists = {k: [float(v) for v in _field(hist, k, list, "history")] for k in _HISTORY_KEYS}
    history = History(lists["loss"], lists["accuracy"], lists["val_loss"], lists["val_accuracy"], lists["lr"])
    if len(history.loss) != epoch:
        raise ModelFormatError(f"{p}: history has {len(history.loss)} epochs but the state says {epoch}")
    ckpt = CheckpointState(p, net, opt, float(lr0), run, epoch, epochs, every,
                           _field(state, "rng", dict, "state"), state.get("rng_start"), history)
    for start in (False, True):
        rng = ckpt.rng_start if start else ckpt.rng_state
        if rng is not None and (not isinstance(rng, dict) or rng.get("bit_generator") not in _BIT_GENERATORS):
            raise ModelFormatError(f"{p}: invalid RNG state {brief(rng)}")
        ckpt.generator(start)                  # raises ValueError/TypeError on a bad state
    return ckpt


# ------------------------------------------------------------------ fit and resume
_REFUSED = ("early_stopping", "initial_epoch", "history", "min_delta")


class _RestoreRNG(Callback):
    """Put the shuffle RNG where the checkpoint left it (after fit's validation split)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def on_train_begin(self, trainer: Trainer) -> None:
        trainer.rng.bit_generator.state = self.state


def describe_run(net: Network, X: Any, y: Any, options: dict[str, Any], epochs: int) -> dict[str, Any]:
    """What :func:`fit` records and compares: network, optimizer, schedule, data, ..."""
    hyper = {k: options[k] for k in ("momentum", "beta1", "beta2", "eps") if k in options}
    opt, lr0 = resolve_optimizer(options.get("optimizer", "sgd"), options.get("lr"), **hyper)
    vd = options.get("validation_data")
    return {"network": describe_network(net), "optimizer": describe_optimizer(opt, lr0),
            "l2": options.get("l2", 0.0), "batch_size": options.get("batch_size"),
            "shuffle": bool(options.get("shuffle", True)),
            "schedule": describe_schedule(make_schedule(options.get("schedule"), epochs)),
            "validation": {"fraction": float(options.get("validation_fraction", 0.0)),
                           "data": None if vd is None else fingerprint(vd[0], vd[1], net)},
            "data": fingerprint(X, y, net)}


def fit(net: Network, X: Any, y: Any, *, checkpoint: str | os.PathLike[str], every: int = 1,
        resume: bool = False, epochs: int = 100, callbacks: Sequence[CallbackLike] = (),
        **options: Any) -> History:
    """``net.fit(X, y, epochs=..., **options)`` with a checkpoint every ``every`` epochs.

    With ``resume=True`` and an existing checkpoint, the run continues from it (the same
    call with the same arguments, re-run after an interruption, ends exactly where an
    uninterrupted run would). Raises ``ConfigError`` listing every difference between the
    checkpoint's run and this one (architecture, dtype, optimizer, hyper-parameters, data).
    """
    for key in _REFUSED:
        if key in options:
            raise ConfigError(f"checkpoint.fit does not take {key!r}: its state cannot be resumed exactly")
    _hooks(callbacks)                              # the caller's list, checked (and indexed) as given
    path = Path(checkpoint)
    check_writable(path)
    run = describe_run(net, X, y, options, epochs)
    if resume and path.exists():
        ckpt = load_checkpoint(path)
        stored = {k: v for k, v in ckpt.run.items() if k in run}
        diff = differences(stored, run)
        if diff:
            raise ConfigError(f"cannot resume from {path}: the run differs from the checkpoint's: " + "; ".join(diff))
        _check_epochs(ckpt, epochs)                # before the caller's network is touched
        _check_split(ckpt)
        net.flat()[0][...] = ckpt.network.flat()[0]
        net.input_mean, net.input_scale = ckpt.network.input_mean, ckpt.network.input_scale
        net.target_mean, net.target_scale = ckpt.network.target_mean, ckpt.network.target_scale
        net.classes = ckpt.network.classes
        return _continue(net, ckpt, X, y, epochs, every, options, callbacks)
    rng = as_generator(options.pop("seed", None))
    start = _jsonable(rng.bit_generator.state)
    hooks = [Checkpoint(path, every, run=run, rng_start=start, epochs=epochs), *callbacks]
    return net.fit(X, y, epochs=epochs, seed=rng, callbacks=hooks, **options)


def resume(path: str | os.PathLike[str], X: Any, y: Any, *, epochs: int | None = None,
           validation_data: tuple[Any, Any] | None = None, every: int | None = None,
           callbacks: Sequence[CallbackLike] = ()) -> tuple[Network, History]:
    """Continue the run saved in ``path`` on (X, y) up to ``epochs`` (default: the run's
    own target). Returns the network and the full History. ``ConfigError`` if the data
    differ from the checkpoint's."""
    ckpt = load_checkpoint(path)
    net = ckpt.network
    target = epochs if epochs is not None else ckpt.epochs
    if target is None:
        raise ConfigError(f"{path} does not record the number of epochs; pass epochs=")
    recorded: dict[str, Any] = {k: ckpt.run[k] for k in ("data", "validation") if k in ckpt.run}
    if "data" in recorded:
        vd = validation_data
        got = {"data": fingerprint(X, y, net), "validation": {
            "fraction": recorded["validation"]["fraction"],
            "data": None if vd is None else fingerprint(vd[0], vd[1], net)}}
        diff = differences(recorded, got)
        if diff:
            raise ConfigError(f"cannot resume from {path}: " + "; ".join(diff))
    o = ckpt.run
    options = {"batch_size": o["batch_size"], "l2": o["l2"], "shuffle": o["shuffle"],
               "validation_fraction": o.get("validation", {}).get("fraction", 0.0)}
    if validation_data is not None:
        options["validation_data"] = validation_data
    history = _continue(net, ckpt, X, y, target, every or ckpt.every, options, callbacks)
    return net, history


def _check_split(ckpt: CheckpointState) -> None:
    if ckpt.run.get("validation", {}).get("fraction", 0.0) and ckpt.rng_start is None:
        raise DataError("this checkpoint cannot restore its validation split; resume with validation_data=")


def _check_epochs(ckpt: CheckpointState, epochs: int) -> None:
    if epochs < ckpt.epoch:
        raise ConfigError(f"the checkpoint is already at epoch {ckpt.epoch}; epochs={epochs} is behind it")


def _continue(net: Network, ckpt: CheckpointState, X: Any, y: Any, epochs: int, every: int,
              options: dict[str, Any], callbacks: Sequence[CallbackLike]) -> History:
    _check_epochs(ckpt, epochs)
    sched = ckpt.run["schedule"]
    schedule = SCHEDULES[sched["name"]](**{k: v for k, v in sched.items() if k != "name"})
    options = {k: v for k, v in options.items() if k not in ("optimizer", "lr", "schedule", "seed",
                                                             "momentum", "beta1", "beta2", "eps")}
    _check_split(ckpt)
    hooks = [_RestoreRNG(ckpt.rng_state),
             Checkpoint(ckpt.path, every, run=ckpt.run, rng_start=ckpt.rng_start, epochs=epochs), *callbacks]
    return net.fit(X, y, epochs=epochs, optimizer=ckpt.optimizer, lr=ckpt.lr0, schedule=schedule,
                   seed=ckpt.generator(start=True), callbacks=hooks, initial_epoch=ckpt.epoch,
                   history=ckpt.history, **options)
