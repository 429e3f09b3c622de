"""The training loop: mini-batches, shuffling, validation, early stopping, callbacks.

One step is the lecture's gradient descent on a batch::

    J, dW, db = forward + back propagation (Network.train_step)
    W, b     <- optimizer update                (optimizers.py)

``batch_size=None`` is full-batch gradient descent, as in the lecture (no shuffling is
needed then). Otherwise the rows are shuffled every epoch with the ``seed`` generator and
gathered into preallocated batch buffers with ``np.take(..., out=)``.

Per epoch, the History records the mean training loss over the epoch's batches (each
computed before its update, as Keras and scikit-learn report it) and the running training
accuracy, then validation loss and accuracy on the weights at the epoch's end. Losses
include the L2 penalty.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _blas
from ._checks import fraction, non_negative, positive, whole
from .errors import ConfigError, DataError, DivergenceError
from .layers import FusedStep
from .network import Network, _check_l2, _check_lengths, all_finite, as_generator
from .optimizers import SGD, Momentum, Optimizer, make_optimizer
from .schedules import Schedule, make_schedule

Array = np.ndarray

DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 0.001}


@dataclass
class History:
    """Per-epoch metrics of a training run (lists indexed by epoch, 0-based).

    ``accuracy`` and ``val_accuracy`` stay empty for regression; ``val_*`` stay empty
    without validation data. ``best_epoch`` is the epoch whose weights were kept by early
    stopping (None without it); ``stopped_early`` says whether patience ran out.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    # (rows, validation_fraction, held-out row indices) of the run's validation_fraction split,
    # so that a fit continuing the run (initial_epoch, history) holds out the same rows
    held_out: tuple[int, float, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def last(self) -> dict[str, float]:
        """The metrics of the last epoch, by name."""
        return {k: v[-1] for k, v in self.as_dict().items() if v}

    def as_dict(self) -> dict[str, list[float]]:
        """Only the metrics that were recorded, by name."""
        d = {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss,
             "val_accuracy": self.val_accuracy, "lr": self.lr}
        return {k: v for k, v in d.items() if v}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        return f"History(epochs={self.epochs}{', ' + last if last else ''})"


class Callback:
    """Hooks called by the training loop. Set ``trainer.stop_training = True`` to stop."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch (0-based), with that epoch's metrics; the weights are the epoch's."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last epoch (also after early stopping restored the best weights)."""


CallbackLike = Callback | Callable[[int, dict[str, float]], Any]


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[int, dict[str, float]], Any]) -> None:
        self.fn = fn

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        said = self.fn(epoch, logs)
        if said is False or (isinstance(said, np.bool_) and not said):   # np.False_ from a comparison too
            trainer.stop_training = True


@dataclass
class Trainer:
    """Everything a training run holds; callbacks (progress, checkpoints) read it."""

    network: Network
    optimizer: Optimizer
    schedule: Schedule
    rng: np.random.Generator
    lr0: float
    l2: float
    batch_size: int
    shuffle: bool
    history: History
    epoch: int = 0
    stop_training: bool = False


def evaluate(
    net: Network, X: Array, Y: Array, chunk: int, out: Array | None = None
) -> tuple[float, float | None]:
    """Mean data loss and accuracy (None for regression) of ``net`` on prepared (X, Y).

    ``out`` (m, n_out), when given, receives the output activations ``A[L]`` of the same
    pass, so a caller that also needs the predictions runs the network once.
    """
    total, correct, n = 0.0, 0, X.shape[0]
    last = net.layers[-1]
    for i in range(0, n, chunk):
        Xc, Yc = X[i : i + chunk], Y[i : i + chunk]
        A = net.forward(Xc)
        if out is not None:
            out[i : i + chunk] = A
        total += net.output.loss(last.Z, A, Yc, last.dZ) * Xc.shape[0]
        c = net.output.count_correct(A, Yc)
        correct += c or 0
    accuracy = correct / n if net.is_classifier else None
    return total / n, accuracy


def split_validation(
    net: Network, X: Array, Y: Array, fraction: float, rng: np.random.Generator, val: Array | None = None,
) -> tuple[Array, Array, Array, Array, Array]:
    """Hold out ``fraction`` of the rows (stratified by class for softmax outputs), or the
    rows ``val`` when given (nothing drawn). Returns X, Y, X_val, Y_val and the sorted
    indices of the held-out rows."""
    n = X.shape[0]
    if val is not None:
        pass
    elif net.output.name == "softmax":
        labels = Y.argmax(axis=1)
        val_idx = []
        for c in np.unique(labels):
            rows = rng.permutation(np.flatnonzero(labels == c))
            val_idx.append(rows[: int(round(fraction * rows.size))])
        val = np.sort(np.concatenate(val_idx))
    else:
        val = np.sort(rng.permutation(n)[: int(round(fraction * n))])
    if val.size == 0 or val.size == n:
        raise DataError(
            f"validation_fraction={fraction} of {n} rows leaves an empty training or validation set"
        )
    train = np.setdiff1d(np.arange(n), val, assume_unique=True)
    return X[train], Y[train], X[val], Y[val], val


def resolve_optimizer(optimizer: str | Optimizer, lr: float | None, **hyper: Any) -> tuple[Optimizer, float]:
    """The optimizer ``fit`` trains with and its initial learning rate ``lr0``.

    ``lr=None`` takes the default of the named optimizer (``DEFAULT_LR``) or the instance's
    ``lr0`` (the rate it was made with or last assigned, not the one a schedule decayed it
    to in an earlier ``fit``: a continued run resumes the schedule exactly); a given ``lr``
    is checked also for an instance (which keeps its state).
    """
    if lr is not None:
        lr = positive("lr", lr)
    elif not isinstance(optimizer, Optimizer):
        lr = DEFAULT_LR.get(str(optimizer), 0.1)
    opt = make_optimizer(optimizer, lr if lr is not None else 0.1, **hyper)
    return opt, opt.lr0 if lr is None else lr


def _check_batch_size(batch_size: Any, n: int, stacklevel: int = 3) -> int:
    """Rows per step: a whole number >= 1 (clamped to n with a warning) or None for n.
    ``stacklevel`` points the warning at the user's call (3: the caller of ``fit``)."""
    if batch_size is None:
        return n
    batch_size = whole("batch_size", batch_size, 1, "a whole number >= 1 or None (full batch)")
    if batch_size > n:
        warnings.warn(
            f"batch_size={batch_size} is larger than the {n} training rows; using {n} (full batch)",
            UserWarning, stacklevel=stacklevel,
        )
        return n
    return batch_size


def _check_validation(validation_data: Any, validation_fraction: Any) -> float:
    """The validation fraction, checked; ``validation_data`` must be a pair, and not come
    with a fraction (which would be ignored)."""
    validation_fraction = fraction("validation_fraction", validation_fraction)
    if validation_data is None:
        return validation_fraction
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = type(validation_data).__name__
        got = f"a {got} of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else got
        raise ConfigError(f"validation_data must be a pair (X_val, y_val); got {got}")
    if validation_fraction > 0:
        raise ConfigError(
            f"validation_data and validation_fraction={validation_fraction:g} were both given; pass one: "
            "validation_data to validate on your own rows, or validation_fraction to hold out part of (X, y)"
        )
    return validation_fraction


def _hooks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as Callback objects (functions wrapped), checked before training starts."""
    if callbacks is None:
        return []
    if isinstance(callbacks, (Callback, str)) or callable(callbacks) or not isinstance(callbacks, Iterable):
        raise ConfigError(f"callbacks must be a list of Callback objects or functions f(epoch, logs); got "
                          f"{type(callbacks).__name__} (put a single callback in a list)")
    hooks: list[Callback] = []
    for i, c in enumerate(callbacks):
        if not isinstance(c, Callback) and not callable(c):
            raise ConfigError(f"callbacks[{i}] must be a Callback object or a function f(epoch, logs); "
                              f"got {type(c).__name__} {c!r:.60}")
        hooks.append(c if isinstance(c, Callback) else _FunctionCallback(c))
    return hooks


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    epochs: int = 100,
    batch_size: int | None = None,
    optimizer: str | Optimizer = "sgd",
    lr: float | None = None,
    l2: float = 0.0,
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    schedule: str | Schedule | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_fraction: float = 0.0,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[CallbackLike] | None = (),
    initial_epoch: int = 0,
    history: History | None = None,
) -> History:
    """Train ``net`` on (X, y) and return its :class:`History` (also kept as ``net.history``).

    Args:
        X: (n, n_in) features; y: (n,) labels or (n, n_out) targets.
        epochs: epoch to stop after (counting from 0, so ``initial_epoch`` .. ``epochs - 1`` run).
        batch_size: rows per step; None is full-batch gradient descent (the lecture).
        optimizer: ``sgd``, ``momentum``, ``nesterov``, ``adam`` or an Optimizer instance
            (an instance keeps its state, so a resumed run continues exactly).
        lr: learning rate; None takes the optimizer's default (sgd 0.1, momentum and
            nesterov 0.01, adam 0.001).
        l2: L2 strength: the loss gains ``(l2 / 2) sum ||W||^2``, each dW gains ``l2 W``.
        momentum, beta1, beta2, eps: optimizer hyper-parameters (used where they apply).
        schedule: ``constant``, ``step`` (halve every 10 epochs), ``cosine`` (down to 0 at
            ``epochs``, as this call gives it), or a Schedule; for a cosine run split over
            several calls, pass ``Cosine(total_epochs)`` so every call follows one curve.
        validation_data: (X_val, y_val), or validation_fraction of (X, y) held out (one
            of the two: both is a ConfigError).
        early_stopping: patience in epochs: stop when the validation loss (training loss
            without validation) has not improved by ``min_delta`` (>= 0) for that many
            epochs, and restore the best weights.
        seed: int or Generator for shuffling and the validation split.
        callbacks: a list of ``Callback`` objects or functions ``f(epoch, logs)`` (return
            False to stop); checked before the first epoch.
        initial_epoch, history: continue an earlier run (its History is appended to); with
            the same Optimizer instance, schedule and seed Generator, the result is bit for
            bit that of one uninterrupted run.

    Raises:
        DivergenceError: the loss became NaN or infinite; the weights are restored to the
            end of the last complete epoch (or to their initial values in the first).
    """
    l2 = _check_l2(l2)
    epochs, initial_epoch = whole("epochs", epochs, 0), whole("initial_epoch", initial_epoch, 0)
    patience = None if early_stopping is None else whole(
        "early_stopping", early_stopping, 1, "a patience in epochs >= 1, or None")
    min_delta = non_negative("min_delta", min_delta)
    validation_fraction = _check_validation(validation_data, validation_fraction)
    _check_continuation(history, initial_epoch, validation_data is not None, validation_fraction)
    hooks = _hooks(callbacks)
    X, Y = net.prepare_X(X), net.prepare_Y(y)
    _check_lengths(X, Y)
    rng = as_generator(seed)
    opt, lr0 = resolve_optimizer(optimizer, lr, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps)
    sched = make_schedule(schedule, epochs)
    if batch_size is not None:                     # before the split draws from the caller's generator
        whole("batch_size", batch_size, 1, "a whole number >= 1 or None (full batch)")
    X_val: Array | None = None
    Y_val: Array | None = None
    if validation_data is not None:
        X_val, Y_val = net.prepare_X(validation_data[0]), net.prepare_Y(validation_data[1])
        _check_lengths(X_val, Y_val)
    elif validation_fraction > 0:
        # A call continuing a run (its History given) holds out the rows the run's first call
        # held out, without drawing from rng: the rows validated on are never trained on, and
        # the shuffles continue as in one uninterrupted run.
        held = history.held_out if history is not None and initial_epoch > 0 else None
        if held is not None and (held[0] != X.shape[0] or held[1] != validation_fraction):
            raise ConfigError(
                f"this fit continues a run that held out validation_fraction={held[1]} of {held[0]} rows; "
                f"got {validation_fraction} of {X.shape[0]}: continue with the run's data and fraction, or "
                "start a new run (initial_epoch=0, no history)")
        X, Y, X_val, Y_val, val = split_validation(net, X, Y, validation_fraction, rng,
                                                   held[2] if held is not None else None)
        held = (X.shape[0] + val.size, validation_fraction, val)
    batch = _check_batch_size(batch_size, X.shape[0])
    # Every check has passed: only now is anything the caller passed in changed.
    opt.lr0 = lr0                                  # a later fit continuing this run starts from it
    theta, dtheta = net.flat()
    if not opt.is_bound_to([theta]):
        opt.bind([theta])
    trainer = Trainer(
        network=net, optimizer=opt, schedule=sched, rng=rng, lr0=lr0, l2=l2,
        batch_size=batch, shuffle=bool(shuffle),
        history=history if history is not None else History(), epoch=initial_epoch,
    )
    if validation_fraction > 0:
        trainer.history.held_out = held             # for a later fit that continues this run
    net.history = trainer.history
    _run(trainer, X, Y, X_val, Y_val, epochs, patience, min_delta, hooks)
    return trainer.history


def _check_continuation(history: Any, initial_epoch: int, has_data: bool, fraction: float) -> None:
    """``ConfigError`` for a ``history`` that ``fit`` cannot continue: not a History, not at
    ``initial_epoch``, or recorded with validation when this call has none (or the reverse;
    its lists would no longer line up by epoch), or with a ``validation_fraction`` split that
    this call does not keep."""
    if history is None:
        return
    if not isinstance(history, History):
        raise ConfigError(f"history must be the History an earlier fit returned, or None; got "
                          f"{type(history).__name__}")
    if history.epochs != initial_epoch:
        raise ConfigError(f"history holds {history.epochs} epochs but initial_epoch is {initial_epoch}: pass "
                          f"initial_epoch={history.epochs} to continue it (or no history for a new run)")
    validated = bool(history.val_loss)
    if history.epochs and validated != (has_data or fraction > 0):
        had = "with" if validated else "without"
        raise ConfigError(f"this fit continues a run trained {had} validation; continue it the same way "
                          "(the History's lists must line up by epoch), or start a new run")
    if history.held_out is not None and history.epochs and fraction == 0:
        raise ConfigError(f"this fit continues a run that held out validation_fraction={history.held_out[1]}; "
                          "pass the same validation_fraction (its rows stay held out), or start a new run")


def _run(
    tr: Trainer, X: Array, Y: Array, X_val: Array | None, Y_val: Array | None,
    epochs: int, patience: int | None, min_delta: float, hooks: list[Callback],
) -> None:
    net, opt, hist = tr.network, tr.optimizer, tr.history
    theta, dtheta = net.flat()
    params, grads = [theta], [dtheta]
    batches = _Batches(X, Y, tr.batch_size, tr.shuffle)
    # Mini-batches: the optimizer's gradient factor (SGD's lr, Adam's 1 - beta1) folded into
    # back propagation (Network.train_step), one pass fewer per step for one rescale per
    # epoch. Full batch (the lecture's gradient descent, one step per epoch) runs the
    # equations exactly as written.
    mini_batches = batches.size < batches.n
    # Plain mini-batch SGD and momentum go further where NumPy's BLAS can be called with
    # beta != 0 (nlayer._blas): the step itself is taken inside back propagation's products.
    # The epoch's last step stays unfused, so dW, db hold that batch's gradients afterwards.
    fused = mini_batches and type(opt) in (SGD, Momentum) and _blas.plan is not None
    velocity = net.layer_views(opt.state["velocity"][0]) if fused and type(opt) is Momentum else None
    accuracy = _Accuracy(net, Y) if net.is_classifier else None
    good = _LastGood(theta, opt)                   # the last finite weights and optimizer state
    best = theta.copy() if patience else None
    best_value, wait = math.inf, 0
    for hook in hooks:
        hook.on_train_begin(tr)
    first_step = tr.epoch == 0                     # a new run's first step: nothing trained on this data yet
    while tr.epoch < epochs and not tr.stop_training:
        epoch = tr.epoch
        opt.set_epoch_lr(tr.schedule(epoch, tr.lr0))  # lr0 stays: a continued run resumes the schedule
        order = batches.shuffle(tr.rng)
        total = 0.0
        # Overflow is detected below (a non-finite loss or weights) and reported as a
        # DivergenceError, so NumPy's own overflow warnings would only be noise.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            scale = opt.fold_scale() if mini_batches else None   # this epoch's factor; None: unfolded
            steps = _fused_steps(opt, tr.l2, velocity, len(net.layers)) if fused else None
            for start, stop, Xb, Yb in batches.epoch(order):
                descend = steps is not None and stop < batches.n
                loss = net.train_step(Xb, Yb, tr.l2, scale or 1.0, steps if descend else None)   # gradients x scale
                if not math.isfinite(loss):            # train_step took no step then (nor will opt.step)
                    if first_step and all_finite(good.theta):
                        _overflowed(tr, Xb, Yb, loss)  # at the weights it started from: the data, not the lr
                    _diverged(tr, good, epoch, loss, Y)
                first_step = False
                total += loss * (stop - start)
                if accuracy is not None:
                    accuracy.record(start, stop, Yb)
                if descend:
                    opt.t += 1                         # the step was taken inside back propagation
                else:
                    opt.step(params, grads, folded=scale is not None)
            if scale is not None:
                net.scale_gradients(1.0 / scale)       # the last batch's true gradients again
            finite = all_finite(theta)
        if not finite:
            _diverged(tr, good, epoch, math.nan, Y)
        good.save()
        logs = {"loss": total / batches.n}
        if accuracy is not None:
            logs["accuracy"] = accuracy.epoch_result(order)
        if X_val is not None and Y_val is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # huge weights: inf, no noise
                val_loss, val_acc = evaluate(net, X_val, Y_val, batches.size)
            logs["val_loss"] = val_loss + net._l2_penalty(tr.l2)
            if val_acc is not None:
                logs["val_accuracy"] = val_acc
        logs["lr"] = opt.lr
        for key, value in logs.items():
            getattr(hist, key).append(value)
        tr.epoch = epoch + 1
        if patience and best is not None:
            value = logs.get("val_loss", logs["loss"])
            if value < best_value - min_delta:
                best_value, wait, hist.best_epoch = value, 0, epoch
                np.copyto(best, theta)
            else:
                wait += 1
                if wait >= patience:
                    hist.stopped_early = tr.stop_training = True
        for hook in hooks:
            hook.on_epoch_end(tr, epoch, logs)
    if best is not None and hist.best_epoch is not None:
        np.copyto(theta, best)
    for hook in hooks:
        hook.on_train_end(tr)


def _fused_steps(
    opt: Optimizer, l2: float, velocity: list[tuple[Array, Array]] | None, n_layers: int,
) -> list[FusedStep]:
    """Each layer's SGD or momentum step at this epoch's lr (see ``layers.FusedStep``)."""
    decay = 1.0 - opt.lr * l2                     # W - lr l2 W
    if velocity is None or not isinstance(opt, Momentum):
        return [FusedStep(decay)] * n_layers
    return [FusedStep(decay, opt.momentum, vW, vb) for vW, vb in velocity]


class _Batches:
    """The batches of an epoch, gathered into buffers allocated once.

    Full batch (or no shuffling): views of X and Y, no copy. Shuffled mini-batches: the
    rows of ``order[start:stop]`` gathered with ``np.take(..., out=, mode="clip")`` (the
    indices come from a permutation, so they are valid; ``mode="raise"`` would buffer).
    """

    def __init__(self, X: Array, Y: Array, size: int, shuffle: bool) -> None:
        self.X, self.Y, self.n, self.size = X, Y, X.shape[0], size
        self.gather = shuffle and size < self.n
        rows = size if self.gather else 0
        self.Xbuf = np.empty((rows, X.shape[1]), dtype=X.dtype)
        self.Ybuf = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
        self.rows = np.arange(self.n if self.gather else 0)
        self.order = np.empty_like(self.rows)

    def shuffle(self, rng: np.random.Generator) -> Array | None:
        """This epoch's row order (a buffer reused every epoch), or None for X's own order."""
        if not self.gather:
            return None
        np.copyto(self.order, self.rows)
        rng.shuffle(self.order)                                  # = rng.permutation(n), in place
        return self.order

    def epoch(self, order: Array | None) -> Iterator[tuple[int, int, Array, Array]]:
        """``(start, stop, X_batch, Y_batch)`` for every batch of the epoch."""
        n, size, X, Y = self.n, self.size, self.X, self.Y
        if order is None:
            for start in range(0, n, size):
                yield start, min(start + size, n), X[start : start + size], Y[start : start + size]
            return
        Xb, Yb = self.Xbuf, self.Ybuf
        for start in range(0, n, size):
            idx = order[start : start + size]
            if idx.shape[0] < size:                              # the last, smaller batch
                Xb, Yb = self.Xbuf[: idx.shape[0]], self.Ybuf[: idx.shape[0]]
            X.take(idx, axis=0, out=Xb, mode="clip")             # X_batch = X[idx]
            Y.take(idx, axis=0, out=Yb, mode="clip")             # Y_batch = Y[idx]
            yield start, start + idx.shape[0], Xb, Yb


class _Accuracy:
    """Training accuracy of an epoch, at the cost of one ``argmax`` per softmax step.

    Softmax: each step writes its predicted classes into an epoch-long buffer; the epoch's
    end compares them with the true classes (``argmax Y``, found once) in batch order.
    Other outputs count per step with ``Output.count_correct``.
    """

    def __init__(self, net: Network, Y: Array) -> None:
        self.output, self.A_L = net.output, net.layers[-1]
        self.softmax = net.output.name == "softmax"
        n = Y.shape[0] if self.softmax else 0
        self.labels = Y.argmax(axis=1) if self.softmax else np.empty(0, dtype=np.intp)
        self.predicted = np.empty(n, dtype=np.intp)
        self.ordered = np.empty(n, dtype=np.intp)
        self.hits = np.empty(n, dtype=bool)
        self.n_rows, self.correct = Y.shape[0], 0

    def record(self, start: int, stop: int, Yb: Array) -> None:
        if self.softmax:
            self.A_L.A.argmax(axis=1, out=self.predicted[start:stop])
        else:
            self.correct += self.output.count_correct(self.A_L.A, Yb) or 0

    def epoch_result(self, order: Array | None) -> float:
        """The fraction classified right over the epoch; resets the count."""
        if self.softmax:
            labels = self.labels if order is None else np.take(self.labels, order, out=self.ordered, mode="clip")
            correct = int(np.count_nonzero(np.equal(self.predicted, labels, out=self.hits)))
            return correct / self.hits.shape[0]
        correct, self.correct = self.correct, 0
        return correct / self.n_rows


class _LastGood:
    """The last finite state of a run: the weights, the optimizer's state arrays (velocity,
    Adam's m and v) and its step count, saved at every epoch's end (one copy of each, no
    allocation) and put back when training diverges, so that a later fit with the same
    Optimizer starts from finite state."""

    def __init__(self, theta: Array, opt: Optimizer) -> None:
        self.live, self.opt = theta, opt
        self.theta = theta.copy()
        self.state = {name: [a.copy() for a in arrays] for name, arrays in opt.state.items()}
        self.t = opt.t

    def _pairs(self) -> list[tuple[Array, Array]]:
        """(saved, live) for the weights and every optimizer state array."""
        return [(self.theta, self.live), *((saved, live) for name, arrays in self.state.items()
                                           for saved, live in zip(arrays, self.opt.state[name]))]

    def save(self) -> None:
        for saved, live in self._pairs():
            np.copyto(saved, live)
        self.t = self.opt.t

    def restore(self) -> None:
        for saved, live in self._pairs():
            np.copyto(live, saved)
        self.opt.t = self.t


def _target_hint(net: Network, Y: Array) -> str:
    """For regression on large raw targets (not standardised: y trains in its own units), how
    to standardise them; else ''."""
    raw = net.output.name == "identity" and net.target_mean is None
    big = float(np.max(np.abs(Y))) if raw and Y.size else 0.0
    if big <= 100:
        return ""
    return f"standardise the targets, which reach {big:.3g}: net.fit_target_scaling(y_train) before fit"


def _overflowed(tr: Trainer, Xb: Array, Yb: Array, loss: float) -> None:
    """``DataError`` for a loss that is not finite at a new run's first step (``initial_epoch``
    0), before any update: the data overflows the network's dtype with the weights it started
    from (lowering the learning rate cannot help). ``train_step`` took no step on a non-finite loss."""
    net = tr.network
    targets = _target_hint(net, Yb)
    scale = targets + "; or " if targets else ""
    scale += "" if net.input_mean is not None else "standardise X (net.fit_input_scaling(X)) or "
    raise DataError(
        f"the loss was {loss} at the first step, before any update: the training data overflows "
        f"{net.dtype.name} in the network as it starts (largest |X| in the first batch, as trained: "
        f"{float(np.max(np.abs(Xb))):.3g}, or a target too large for the loss); {scale}rescale the "
        f"data, or use a float64 network (dtype='float64'; --dtype float64 on the command line)"
    )


def _diverged(tr: Trainer, good: _LastGood, epoch: int, loss: float, Y: Array) -> None:
    """``DivergenceError`` after restoring the last finite weights and optimizer state."""
    good.restore()
    restored = f"the end of epoch {epoch}" if epoch > 0 else "their values before training"
    targets = _target_hint(tr.network, Y)
    scale = f", or {targets} (predictions stay in y's units)" if targets else ""
    raise DivergenceError(
        f"training diverged in epoch {epoch + 1}: the loss became {loss}; the weights were "
        f"restored to {restored} (the last finite state). Lower the learning "
        f"rate (it was {tr.optimizer.lr:g}) or the L2 strength{scale}.",
        epoch=epoch,
    )
