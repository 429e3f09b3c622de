"""The fully connected layer of the lecture, with its named caches.

Row-major, one sample per row::

    A_prev (m, n_in)   W (n_in, n_out)   b (n_out,)   Z = A_prev W + b   A = g(Z)   (m, n_out)

The layer owns its parameters ``W, b``, their gradients ``dW, db``, and buffers for
``Z, A, dA, dZ`` allocated once for the largest batch seen and sliced to the batch in
use. ``A_prev`` is a reference to the input of the last forward pass (no copy). All
caches are overwritten by the next forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _blas
from .activations import Activation

Array = np.ndarray


@dataclass(frozen=True)
class FusedStep:
    """One layer's optimizer step, taken inside back propagation's products by ``fit``'s
    mini-batch SGD and momentum (see ``_blas``). ``dZ`` holds ``lr dZ``; ``decay = 1 - lr l2``:

    - SGD:       ``W = decay W - A_prev^T dZ``;  ``b -= 1^T dZ``
    - momentum:  ``vW = mu vW - A_prev^T dZ - (1 - decay) W``, ``W += vW``;  ``vb = mu vb - 1^T dZ``,
      ``b += vb``, with ``vW, vb`` views of the optimizer's velocity (None for SGD).
    """

    decay: float
    momentum: float = 0.0
    vW: Array | None = None
    vb: Array | None = None


class Dense:
    """One layer: ``Z = A_prev W + b``, ``A = g(Z)``.

    Attributes (shapes for a batch of m samples):
        W (n_in, n_out), b (n_out,): parameters, real arrays a user may read and assign
            in place (``layer.W[...] = ...``).
        dW (n_in, n_out), db (n_out,): gradients from the last backward pass.
        A_prev (m, n_in), Z (m, n_out), A (m, n_out): caches of the last forward pass.
        dA (m, n_out), dZ (m, n_out): gradients of the last backward pass.
    """

    def __init__(
        self, W: Array, b: Array, activation: Activation | None,
        dW: Array | None = None, db: Array | None = None,
    ) -> None:
        self.W = W
        self.b = b
        self.activation = activation  # None for the output layer: the network's Output applies it
        self._needs_mask = activation is not None and activation.needs_mask
        self.dW = np.zeros_like(W) if dW is None else dW
        self.db = np.zeros_like(b) if db is None else db
        self.A_prev: Array = np.empty((0, W.shape[0]), dtype=W.dtype)
        self._plans: dict[str, tuple[tuple[float, ...], tuple[Array, ...], tuple[_blas.Product, ...]]] = {}
        self._allocate(0)

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[1])

    def _allocate(self, capacity: int) -> None:
        shape, dtype = (capacity, self.n_out), self.W.dtype
        # Zeros, not np.empty: BLAS written with out= (gemv/gemm, beta = 0) may scale the old
        # contents by 0 first (OpenBLAS >= 0.3.27 does), and NaN garbage left in fresh memory
        # then raises a spurious "invalid value encountered in matmul". Allocated once, so free.
        self._Z = np.zeros(shape, dtype=dtype)
        self._A = np.zeros(shape, dtype=dtype)
        self._dA = np.zeros(shape, dtype=dtype)
        self._dZ = np.zeros(shape, dtype=dtype)
        self._mask = np.empty(shape if self._needs_mask else (0, 0), dtype=bool)
        self._ones = np.ones(capacity, dtype=dtype)   # 1 (m,): db = 1^T dZ is one BLAS call
        self.capacity = capacity
        self._batch: tuple[int, bool] = (-1, False)

    def set_batch(self, m: int, shared: bool = False) -> None:
        """Point the caches at the first ``m`` rows of the buffers (growing them if needed).

        ``shared`` (``fit``'s fused steps): an activation that can work in place (ReLU) writes
        ``A`` over ``Z`` and ``dZ`` over ``dA``, so a step touches two (m, n_out) buffers
        instead of four; ``Z`` and ``dA`` then hold ``A`` and ``dZ`` after the step.
        """
        if (m, shared) == self._batch:
            return
        if m > self.capacity:
            self._allocate(m)
        self.Z, self.dA = self._Z[:m], self._dA[:m]
        if shared and self.activation is not None and self.activation.in_place:
            self.A, self.dZ = self.Z, self.dA        # A = g(Z) over Z, dZ = dA * g' over dA
        else:
            self.A, self.dZ = self._A[:m], self._dZ[:m]
        self.mask = self._mask[:m] if self._needs_mask else self._mask
        self.ones = self._ones[:m]
        self._batch = (m, shared)

    def linear(self, A_prev: Array, fused: bool = False) -> Array:
        """``Z = A_prev W + b`` into the cache; returns Z (a view).

        ``fused`` (``fit``'s fused SGD steps, see ``_blas``): b is written into Z first and one
        BLAS call adds the product to it, instead of NumPy's broadcast pass adding b after.
        """
        self.A_prev = A_prev
        if fused:
            np.copyto(self.Z, self.b)                # Z = 1 b^T
            self._planned("Z", lambda plan: (plan(1.0, A_prev, self.W, 1.0, self.Z),))[0]()   # Z += A_prev W
            return self.Z
        np.matmul(A_prev, self.W, out=self.Z)       # Z = A_prev W          (m, n_in) @ (n_in, n_out)
        np.add(self.Z, self.b, out=self.Z)          # Z = A_prev W + b      (m, n_out)
        return self.Z

    def forward(self, A_prev: Array, fused: bool = False) -> Array:
        """``A = g(A_prev W + b)`` for a hidden layer; returns A (a view of the layer's buffer)."""
        assert self.activation is not None, "the output layer's activation is applied by Network"
        self.activation.forward(self.linear(A_prev, fused), self.A)   # A = g(Z)    (m, n_out)
        return self.A

    def backward_activation(self) -> Array:
        """``dZ = dA * g'(Z)`` from the cached ``dA`` of a hidden layer; returns dZ."""
        assert self.activation is not None, "the output layer's dZ comes from the loss"
        self.activation.backward(self.dA, self.Z, self.A, self.dZ, self.mask)
        return self.dZ

    def backward_linear(self, dA_prev: Array | None, step: FusedStep | None = None) -> None:
        """``dW, db`` and, unless ``dA_prev`` is None (first layer), ``dA_prev`` from ``dZ``.

        With ``step`` (``fit``'s fused SGD or momentum step, ``dZ`` holding ``lr dZ``): the
        step itself, in place of ``dW, db`` (not gradients afterwards).
        """
        if step is not None:
            self._descend(dA_prev, step)
            return
        np.matmul(self.A_prev.T, self.dZ, out=self.dW)   # dW = A_prev^T dZ     (n_in, m) @ (m, n_out)
        np.matmul(self.ones, self.dZ, out=self.db)       # db = 1^T dZ = sum_i dZ   (n_out,)
        if dA_prev is not None:
            np.matmul(self.dZ, self.W.T, out=dA_prev)    # dA_prev = dZ W^T     (m, n_out) @ (n_out, n_in)

    def _descend(self, dA_prev: Array | None, step: FusedStep) -> None:
        """The optimizer's step inside the products (:class:`FusedStep`): one BLAS call adds
        ``-A_prev^T dZ`` straight into W (SGD) or the velocity (momentum), where the plain
        path writes dW and then reads it back in separate passes (see ``_blas``)."""
        if dA_prev is not None:
            np.matmul(self.dZ, self.W.T, out=dA_prev)    # dA_prev = dZ W^T     with W before the step
        vW, vb = step.vW, step.vb
        if vW is None or vb is None:                     # SGD
            for product in self._planned("W", lambda plan: (
                plan(-1.0, self.A_prev.T, self.dZ, step.decay, self.W),         # W = decay W - A_prev^T dZ
                plan(-1.0, self.ones[None, :], self.dZ, 1.0, self.b[None, :]),  # b = b - 1^T dZ
            ), (), (step.decay,)):
                product()
            return
        mu = step.momentum
        for product in self._planned("v", lambda plan: (
            plan(-1.0, self.A_prev.T, self.dZ, mu, vW),                    # vW = mu vW - A_prev^T dZ
            plan(-1.0, self.ones[None, :], self.dZ, mu, vb[None, :]),      # vb = mu vb - 1^T dZ
        ), (vW, vb), (mu,)):
            product()
        if step.decay != 1.0:
            np.multiply(self.W, 1.0 - step.decay, out=self.dW)   # lr l2 W   (dW as scratch)
            np.subtract(vW, self.dW, out=vW)             # vW -= lr l2 W
        np.add(self.W, vW, out=self.W)                   # W += vW
        np.add(self.b, vb, out=self.b)                   # b += vb

    def _planned(self, name: str, build: Callable[[_blas.Planner], tuple[_blas.Product, ...]],
                 arrays: tuple[Array, ...] = (), scalars: tuple[float, ...] = ()) -> tuple[_blas.Product, ...]:
        """The BLAS calls ``build(_blas.plan)`` makes for this layer's current arrays, made
        once and reused while ``A_prev``, the caches, W, b and ``arrays`` are the same objects
        (a batch size or a layer's arrays change them) and ``scalars`` are the same."""
        held = (self.A_prev, self.Z, self.dZ, self.W, self.b, *arrays)
        key = (*map(id, held), *scalars)
        entry = self._plans.get(name)
        if entry is None or entry[0] != key:
            if _blas.plan is None:
                raise RuntimeError("the fused SGD step needs nlayer._blas.plan (NumPy's bundled OpenBLAS)")
            entry = self._plans[name] = (key, held, build(_blas.plan))   # held: ids are not reused
        return entry[2]

    def __getstate__(self) -> dict[str, object]:
        """For ``copy.deepcopy`` (and pickle): everything but the planned BLAS calls, which
        point at this layer's own memory; a copy plans its own when it is trained."""
        return {**self.__dict__, "_plans": {}}

    def __repr__(self) -> str:
        g = self.activation.name if self.activation is not None else "output"
        return f"Dense({self.n_in} -> {self.n_out}, {g}, dtype={self.W.dtype})"
