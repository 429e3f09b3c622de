"""Parameter updates: SGD (the lecture's gradient descent), momentum, Nesterov, Adam.

An optimizer is bound once to a list of parameter arrays; it then allocates its state
(velocities, moments, one scratch buffer per parameter) and every ``step`` updates the
parameters in place with no allocation. ``lr`` may be changed between steps, and is a
Python float so float32 parameters stay float32. ``lr0`` is the rate a schedule starts
from: ``fit`` sets each epoch's scheduled rate with ``set_epoch_lr``, which keeps ``lr0``,
so a later ``fit`` that continues the run (``initial_epoch=``) resumes the same schedule.

Update formulas, per parameter ``W`` with gradient ``dW``:

- SGD:       ``W -= lr dW``
- momentum:  ``v = mu v - lr dW;  W += v``                    (CS231n, scikit-learn)
- Nesterov:  ``v = mu v - lr dW;  W += mu v - lr dW``         (scikit-learn, PyTorch)
- Adam:      ``t += 1;  m = b1 m + (1 - b1) dW;  v = b2 v + (1 - b2) dW^2;``
             ``W -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``  (Kingma & Ba, PyTorch),
             computed as ``W -= lr_t m / (sqrt(v) + eps_t)`` with ``c = sqrt(1 - b2^t)``,
             ``lr_t = lr c / (1 - b1^t)``, ``eps_t = eps c``: the same number, one pass fewer
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _blas
from ._checks import fraction, positive
from .errors import ConfigError

Array = np.ndarray
Block = tuple[Array, Array, Array, dict[str, Array]]    # (W, dW, scratch, state) for one _update
BLOCK = 2**16  # parameters per NumPy call when updating a large vector (see Optimizer._blocks)


class Optimizer:
    """Base class: ``bind(params)`` once, then ``step(params, grads)`` per batch.

    Subclasses write their formula once, in ``_update(W, dW, s, state)``, for arrays of
    any shape (``s`` is a scratch buffer, ``state`` the optimizer's arrays of the same
    shape, by name). A large contiguous parameter (the network's flat vector) is updated
    in blocks of ``BLOCK`` elements; the formula is element-wise, so the result is bit for
    bit the same as in one piece.
    """

    name = ""
    state_names: tuple[str, ...] = ()
    lr0: float
    _lr: float

    def __init__(self, lr: float) -> None:
        self.lr = positive("lr", lr)            # lr0 too
        self.state: dict[str, list[Array]] = {}
        self._scratch: list[Array] = []
        self._plan_arrays: tuple[Array, ...] = ()
        self._plan_ids: tuple[int, ...] = ()
        self._plan_blocks: list[Block] = []
        self.t = 0

    @property
    def lr(self) -> float:
        """The learning rate of the next step. Assigning it sets ``lr0`` too: the rate
        schedules start from (``fit`` sets each epoch's rate with :meth:`set_epoch_lr`)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = self.lr0 = float(value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling; an optimizer pickled before ``lr`` became a property (inside an
        estimator) stored ``lr`` itself, which becomes both the rate and ``lr0``."""
        if "lr" in state and "_lr" not in state:
            state["_lr"] = state["lr0"] = state.pop("lr")
        self.__dict__.update(state)

    def set_epoch_lr(self, lr: float) -> None:
        """Set the learning rate a schedule computed from ``lr0`` for this epoch; ``lr0``
        stays, so a run continued later restarts the schedule from the same rate."""
        self._lr = float(lr)

    def bind(self, params: list[Array]) -> None:
        """Allocate the state for these parameters (zeros), once."""
        self.state = {name: [np.zeros_like(p) for p in params] for name in self.state_names}
        self._scratch = [np.empty_like(p) for p in params]
        self.t = 0

    def is_bound_to(self, params: list[Array]) -> bool:
        return len(self._scratch) == len(params) and all(
            s.shape == p.shape and s.dtype == p.dtype for s, p in zip(self._scratch, params)
        )

    def step(self, params: list[Array], grads: list[Array], folded: bool = False) -> None:
        """One update of ``params`` in place. ``folded=True``: ``grads`` are already
        :meth:`fold_scale` times the gradients."""
        self.t += 1
        self._begin_step()
        update = self._update_folded if folded else self._update
        for W, dW, s, state in self._plan(params, grads):
            update(W, dW, s, state)

    def fold_scale(self) -> float | None:
        """The factor ``c`` this optimizer can take its gradients multiplied by (``c dW``
        instead of ``dW``), saving a pass over the parameters per step: ``fit`` folds it
        into back propagation (``Network.train_step``). SGD, momentum and Nesterov use
        ``c = lr`` (lr only scales the gradient there), Adam ``c = 1 - beta1`` (the weight of
        the gradient in its first moment). None for a class that does not write the folded
        form itself, so a subclass that changes ``_update`` alone keeps its own formula."""
        return self._scale() if "_update_folded" in type(self).__dict__ else None

    def _scale(self) -> float:
        return self.lr

    def _begin_step(self) -> None:
        """Per-step scalars (after ``t`` was incremented), computed once, before the blocks."""

    def _plan(self, params: list[Array], grads: list[Array]) -> list[Block]:
        """The blocks ``_update`` runs on, made once and reused for as long as the same
        arrays are passed (a training loop passes the same ones every step), so a step
        costs no Python beyond one call per block."""
        arrays = (*params, *grads, *self._scratch, *[a for state in self.state.values() for a in state])
        ids = tuple(map(id, arrays))                 # the arrays are held below, so ids are not reused
        if ids != self._plan_ids:
            self._plan_blocks = [
                block for i, (W, dW) in enumerate(zip(params, grads))
                for block in _blocks(W, dW, self._scratch[i], {k: self.state[k][i] for k in self.state_names})
            ]
            self._plan_arrays, self._plan_ids = arrays, ids
        return self._plan_blocks

    def _update(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _update_folded(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:  # pragma: no cover
        """``_update`` for ``dW`` that is already ``fold_scale() dW`` (classes that fold write it)."""
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    name = "sgd"

    def _update(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        np.multiply(dW, self.lr, out=s)              # lr dW
        self._update_folded(W, s, s, state)          # the step on lr dW, below

    def _update_folded(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        np.subtract(W, dW, out=W)                    # W -= lr dW      (dW holds lr dW)


class Momentum(Optimizer):
    name = "momentum"
    state_names = ("velocity",)

    def __init__(self, lr: float, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = fraction("momentum", momentum)

    def _update(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        np.multiply(dW, self.lr, out=s)              # lr dW
        self._update_folded(W, s, s, state)          # the step on lr dW (Nesterov's too)

    def _update_folded(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        v = state["velocity"]
        np.multiply(v, self.momentum, out=v)         # mu v
        np.subtract(v, dW, out=v)                    # v = mu v - lr dW   (dW holds lr dW)
        np.add(W, v, out=W)                          # W += v

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "momentum": self.momentum}


class Nesterov(Momentum):
    name = "nesterov"

    def _update_folded(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        v = state["velocity"]                        # dW holds lr dW; s may be dW (read before it is written)
        np.multiply(v, self.momentum, out=v)
        np.subtract(v, dW, out=v)                    # v = mu v - lr dW
        np.subtract(W, dW, out=W)                    # W -= lr dW
        np.multiply(v, self.momentum, out=s)         # mu v
        np.add(W, s, out=W)                          # W += mu v    (so W += mu v - lr dW)


class Adam(Optimizer):
    name = "adam"
    state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = fraction("beta1", beta1)
        self.beta2 = fraction("beta2", beta2)
        self.eps = positive("eps", eps)
        self._axpby: list[tuple[_blas.Axpby, _blas.Axpby, _blas.Axpby] | None] = []
        self._axpby_for: list[Block] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """For pickle and ``copy.deepcopy``: everything but the planned BLAS calls (they point
        at this instance's memory; a copy plans its own)."""
        return {**self.__dict__, "_axpby": [], "_axpby_for": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__({"_axpby": [], "_axpby_for": None, **state})

    def _begin_step(self) -> None:
        # lr m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
        # equals lr_t m / (sqrt(v) + eps_t), multiplying through by c = sqrt(1 - b2^t):
        c = math.sqrt(1.0 - self.beta2**self.t)
        self._step_size = self.lr * c / (1.0 - self.beta1**self.t)        # lr_t = lr c / (1 - b1^t)
        self._eps_t = self.eps * c                                         # eps_t = eps c
        # the folded form's dW is (1 - b1) dW, so (1 - b2) dW^2 is (1 - b2) / (1 - b1)^2 of its square
        self._v_weight = (1.0 - self.beta2) / (1.0 - self.beta1) ** 2

    def _update(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        m, v = state["m"], state["v"]
        b1, b2 = self.beta1, self.beta2
        np.multiply(m, b1, out=m)
        np.multiply(dW, 1.0 - b1, out=s)
        np.add(m, s, out=m)                          # m = b1 m + (1 - b1) dW
        np.multiply(v, b2, out=v)
        np.square(dW, out=s)                         # dW^2
        np.multiply(s, 1.0 - b2, out=s)
        np.add(v, s, out=v)                          # v = b2 v + (1 - b2) dW^2
        self._step(W, m, v, s)

    def _scale(self) -> float:
        return 1.0 - self.beta1

    def _update_folded(self, W: Array, dW: Array, s: Array, state: dict[str, Array]) -> None:
        m, v = state["m"], state["v"]                # dW holds (1 - b1) dW
        np.multiply(m, self.beta1, out=m)
        np.add(m, dW, out=m)                         # m = b1 m + (1 - b1) dW
        np.square(dW, out=s)                         # dW^2
        np.multiply(s, self._v_weight, out=s)
        np.multiply(v, self.beta2, out=v)
        np.add(v, s, out=v)                          # v = b2 v + (1 - b2) dW^2
        self._step(W, m, v, s)

    def step(self, params: list[Array], grads: list[Array], folded: bool = False) -> None:
        """As :meth:`Optimizer.step`; the folded form runs its three ``y = a x + b y`` lines
        as one BLAS ``axpby`` pass each (``_blas.axpby``) where NumPy's OpenBLAS has it, and
        unless a subclass writes its own ``_update_folded``."""
        if not folded or _blas.axpby is None or type(self)._update_folded is not Adam._update_folded:
            super().step(params, grads, folded)
            return
        self.t += 1
        self._begin_step()
        blocks = self._plan(params, grads)
        if self._axpby_for is not blocks:            # planned once per set of blocks, as they are
            self._axpby = [_plan_axpby(*block) for block in blocks]
            self._axpby_for = blocks
        b1, b2 = self.beta1, self.beta2
        for (W, dW, s, state), calls in zip(blocks, self._axpby):
            if calls is None:                        # a non-contiguous parameter: NumPy alone
                self._update_folded(W, dW, s, state)
                continue
            into_m, into_v, into_W = calls
            m, v = state["m"], state["v"]            # dW holds (1 - b1) dW
            into_m(1.0, b1)                          # m = b1 m + (1 - b1) dW
            np.square(dW, out=s)                     # dW^2
            into_v(self._v_weight, b2)               # v = b2 v + (1 - b2) dW^2
            self._direction(m, v, s)
            into_W(-self._step_size, 1.0)            # W -= lr_t m / (sqrt(v) + eps_t)

    def _direction(self, m: Array, v: Array, s: Array) -> None:
        """``s = m / (sqrt(v) + eps_t)``, the step before its size; shared by every form."""
        np.sqrt(v, out=s)
        np.add(s, self._eps_t, out=s)                # sqrt(v) + eps_t
        np.divide(m, s, out=s)

    def _step(self, W: Array, m: Array, v: Array, s: Array) -> None:
        """The step from the moments, shared by both NumPy forms; ``s`` is scratch."""
        self._direction(m, v, s)
        np.multiply(s, self._step_size, out=s)
        np.subtract(W, s, out=W)                     # W -= lr_t m / (sqrt(v) + eps_t)
                                                     #    = lr m_hat / (sqrt(v_hat) + eps)

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


def _plan_axpby(W: Array, dW: Array, s: Array, state: dict[str, Array]) -> tuple[
        _blas.Axpby, _blas.Axpby, _blas.Axpby] | None:
    """Adam's three ``axpby`` calls for one block (into m, into v, into W), or None when an
    array is not contiguous (``reshape`` would then copy, and the call write the copy)."""
    planner = _blas.axpby
    m, v = state["m"], state["v"]
    if planner is None or not all(a.flags.c_contiguous for a in (W, dW, s, m, v)):
        return None
    return (planner(dW.reshape(-1), m.reshape(-1)), planner(s.reshape(-1), v.reshape(-1)),
            planner(s.reshape(-1), W.reshape(-1)))


def _blocks(W: Array, dW: Array, s: Array, state: dict[str, Array]) -> list[Block]:
    """One parameter's arguments to ``_update``: the whole arrays, or, for a large contiguous
    parameter, blocks of ``BLOCK`` elements, every block using the start of the scratch
    ``s``, which so stays in the CPU cache instead of being written to memory and read
    back once per formula line."""
    arrays = (W, dW, s, *state.values())
    if W.size < 2 * BLOCK or not all(a.flags.c_contiguous for a in arrays):
        return [(W, dW, s, state)]
    W1, dW1, s1 = W.reshape(-1), dW.reshape(-1), s.reshape(-1)
    state1 = {k: v.reshape(-1) for k, v in state.items()}
    n = W1.shape[0]
    return [
        (W1[a : a + BLOCK], dW1[a : a + BLOCK], s1[: min(BLOCK, n - a)],
         {k: v[a : a + BLOCK] for k, v in state1.items()})
        for a in range(0, n, BLOCK)
    ]


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}


def make_optimizer(name: str | Optimizer, lr: float, **options: Any) -> Optimizer:
    """An optimizer from its name and hyper-parameters (options it does not take are ignored
    when they are None). An ``Optimizer`` instance is returned as is."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r:.60}; choose one of: {', '.join(OPTIMIZERS)}, "
                          "or pass an Optimizer instance")
    cls = OPTIMIZERS[name]
    accepted = {"momentum": ("momentum",), "nesterov": ("momentum",), "adam": ("beta1", "beta2", "eps")}
    kwargs = {k: v for k, v in options.items() if v is not None and k in accepted.get(name, ())}
    return cls(lr, **kwargs)
