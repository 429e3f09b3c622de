"""Output layers and their losses: softmax + cross-entropy, sigmoid + binary
cross-entropy, identity + squared error.

Each pair is chosen so that the gradient of the loss with respect to the output
pre-activation collapses to the same fused expression (the lecture's ``dZ2``)::

    dZ_L = (A_L - Y) / m                                   (m, k)

which is why an output is never differentiated on its own here. ``1/m`` is applied
there, once; every later gradient in back propagation is a plain sum.

Targets are always a dense float matrix ``Y`` of shape (m, k) by the time they reach a
loss (:meth:`Output.targets` builds it from labels once, at the boundary).

Losses are computed from the logits ``Z`` (log-sum-exp, softplus), never as
``log(A)``, so logits of +/-1000 give finite values without a warning.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, is_whole
from .activations import identity_forward, sigmoid_forward
from .errors import ConfigError, DataError

Array = np.ndarray
FEW_OUTPUTS = 32  # up to this many outputs, row maxima come from a transposed copy (see row_max)


def delta(A: Array, Y: Array, dZ: Array, scale: float = 1.0) -> None:
    """The fused output gradient, shared by every pair below.

    ``scale`` multiplies it (and so every gradient back propagation derives from it):
    ``fit`` passes the optimizer's factor there (SGD's lr), see :meth:`Network.train_step`.
    """
    m = A.shape[0]
    np.subtract(A, Y, out=dZ)                       # A_L - Y                   (m, k)
    np.multiply(dZ, scale / m, out=dZ)              # dZ_L = (A_L - Y) / m      (m, k)  (times scale)


def row_max(Z: Array, c: Array, ZT: Array) -> None:
    """``c = max_k Z`` (m, 1), using ``ZT`` (k, m) as scratch when it is given (k > 0).

    NumPy reduces along a short row with a slow inner loop per row (1024 x 10: 50 us);
    the same maxima over the first axis of a transposed copy run vectorised along the
    m rows (6 us, the copy included). With many outputs the plain reduction is as fast.
    """
    if ZT.shape[0]:
        np.copyto(ZT, Z.T)                          # Z^T                       (k, m)
        np.maximum.reduce(ZT, axis=0, out=c[:, 0])  # c = max_k Z               (m,)
    else:
        np.maximum.reduce(Z, axis=1, keepdims=True, out=c)   # c = max_k Z     (m, 1)


class Output:
    """An output activation with its loss. Holds (m, 1) row buffers for one network."""

    name = ""
    min_outputs = 1

    def __init__(self) -> None:
        self.allocate(0, 0, np.dtype("float64"))

    def allocate(self, capacity: int, k: int, dtype: np.dtype) -> None:
        """Row buffers for batches of up to ``capacity`` samples and ``k`` outputs."""
        self._row_max = np.zeros((capacity, 1), dtype=dtype)
        self._row_sum = np.zeros((capacity, 1), dtype=dtype)   # zeros: see Dense._allocate
        self._ones = np.ones((k, 1), dtype=dtype)  # 1 (k, 1): a row sum as one BLAS call
        self._ZT = np.zeros((k if k <= FEW_OUTPUTS else 0, capacity), dtype=dtype)

    def forward(self, Z: Array, A: Array) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, Z: Array, A: Array, Y: Array, scratch: Array) -> float:  # pragma: no cover
        """Mean loss over the batch. ``forward`` must have run; ``scratch`` is any (m, k) buffer."""
        raise NotImplementedError

    def targets(self, y: np.ndarray, k: int, dtype: np.dtype) -> Array:  # pragma: no cover
        """Dense (m, k) targets from what the user passed; ``DataError`` if they do not fit."""
        raise NotImplementedError

    def count_correct(self, A: Array, Y: Array) -> int | None:
        """How many rows are classified right (``None`` for regression)."""
        return None

    def decide(self, A: Array) -> np.ndarray:
        """Predictions from output activations: class indices, 0/1 labels, or values."""
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Output):
    """``A = softmax(Z)``, ``J = -(1/m) sum_i sum_k Y_ik log A_ik``.

    Why ``dZ = (A - Y)/m``: for one row, d/dZ_k of ``-sum_j Y_j log softmax(Z)_j`` is
    ``softmax(Z)_k sum_j Y_j - Y_k = A_k - Y_k``, because each row of Y sums to 1.
    """

    name = "softmax"
    min_outputs = 2

    def forward(self, Z: Array, A: Array) -> None:
        m = Z.shape[0]
        c, s = self._row_max[:m], self._row_sum[:m]
        row_max(Z, c, self._ZT[:, :m])              # c = max_k Z                 (m, 1)
        np.subtract(Z, c, out=A)                    # Z - c <= 0: exp cannot overflow
        np.exp(A, out=A)                            # e^(Z - c)                   (m, k)
        np.matmul(A, self._ones, out=s)             # s = sum_k e^(Z - c) >= 1    (m, 1)
        np.divide(A, s, out=A)                      # A = softmax(Z)              (m, k)

    def loss(self, Z: Array, A: Array, Y: Array, scratch: Array) -> float:
        m = Z.shape[0]
        c, s = self._row_max[:m], self._row_sum[:m]
        # -sum_k Y_k log A_k = logsumexp(Z) - sum_k Y_k Z_k,  logsumexp(Z) = c + log s
        lse = scratch[:, :1]
        np.log(s, out=lse)
        np.add(lse, c, out=lse)                     # logsumexp(Z)              (m, 1)
        J = (float(np.add.reduce(lse, axis=None)) - float(np.vdot(Y, Z))) / m   # J = (1/m) sum_i (lse_i - Y_i Z_i)
        return J

    def targets(self, y: np.ndarray, k: int, dtype: np.dtype) -> Array:
        if y.ndim == 1:
            labels = _integer_labels(y, k)
            Y = np.zeros((y.shape[0], k), dtype=dtype)
            Y[np.arange(y.shape[0]), labels] = 1.0
            return Y
        Y = _matrix_targets(y, k, dtype)
        if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1.0, atol=1e-3):
            raise DataError("one-hot targets must be non-negative with every row summing to 1")
        return Y

    def count_correct(self, A: Array, Y: Array) -> int:
        return int(np.count_nonzero(A.argmax(axis=1) == Y.argmax(axis=1)))

    def decide(self, A: Array) -> np.ndarray:
        return A.argmax(axis=1)


class SigmoidBinaryCrossEntropy(Output):
    """``A = sigmoid(Z)`` per column, ``J = -(1/m) sum_i sum_k [Y log A + (1 - Y) log(1 - A)]``.

    Why ``dZ = (A - Y)/m``: per element dJ/dA = (A - Y) / (A (1 - A)) and
    dA/dZ = A (1 - A); the product is A - Y. Columns are independent labels, so this
    serves binary (k = 1) and multi-label (k > 1) problems.
    """

    name = "sigmoid"

    def forward(self, Z: Array, A: Array) -> None:
        sigmoid_forward(Z, A)                       # A = sigmoid(Z), the hidden layers' formula

    def loss(self, Z: Array, A: Array, Y: Array, scratch: Array) -> float:
        m = Z.shape[0]
        # -[Y log A + (1 - Y) log(1 - A)] = softplus(Z) - Y Z,
        # softplus(Z) = max(Z, 0) + log(1 + e^-|Z|): no overflow, no log(0).
        np.abs(Z, out=scratch)
        np.negative(scratch, out=scratch)
        np.exp(scratch, out=scratch)
        np.log1p(scratch, out=scratch)              # log(1 + e^-|Z|)
        total = float(np.sum(scratch))
        np.maximum(Z, 0.0, out=scratch)             # max(Z, 0)
        total += float(np.sum(scratch)) - float(np.vdot(Y, Z))
        return total / m

    def targets(self, y: np.ndarray, k: int, dtype: np.dtype) -> Array:
        Y = _matrix_targets(y.reshape(-1, 1) if y.ndim == 1 else y, k, dtype)
        if np.any((Y < 0) | (Y > 1)):
            raise DataError("targets for a sigmoid output must be 0/1 labels (or probabilities in [0, 1])")
        return Y

    def count_correct(self, A: Array, Y: Array) -> int:
        return int(np.count_nonzero(np.all((A > 0.5) == (Y > 0.5), axis=1)))

    def decide(self, A: Array) -> np.ndarray:
        labels = (A > 0.5).astype(np.int64)
        return labels[:, 0] if labels.shape[1] == 1 else labels


class IdentitySquaredError(Output):
    """``A = Z``, ``J = (1/(2m)) sum_i sum_k (A_ik - Y_ik)^2`` (half the summed squared error
    per sample, averaged over the batch).

    Why ``dZ = (A - Y)/m``: dJ/dA = (A - Y)/m and dA/dZ = 1.
    """

    name = "identity"

    def forward(self, Z: Array, A: Array) -> None:
        identity_forward(Z, A)                      # A = Z

    def loss(self, Z: Array, A: Array, Y: Array, scratch: Array) -> float:
        m = Z.shape[0]
        np.subtract(A, Y, out=scratch)              # A - Y
        return 0.5 * float(np.vdot(scratch, scratch)) / m

    def targets(self, y: np.ndarray, k: int, dtype: np.dtype) -> Array:
        return _matrix_targets(y.reshape(-1, 1) if y.ndim == 1 else y, k, dtype)

    def decide(self, A: Array) -> np.ndarray:
        return A[:, 0] if A.shape[1] == 1 else A


OUTPUTS: dict[str, type[Output]] = {
    "softmax": SoftmaxCrossEntropy,
    "sigmoid": SigmoidBinaryCrossEntropy,
    "identity": IdentitySquaredError,
}


def get_output(name: str) -> Output:
    """A new output object for ``name``; ``ConfigError`` listing the valid names otherwise."""
    try:
        return OUTPUTS[name]()
    except (KeyError, TypeError):
        valid = ", ".join(OUTPUTS)
        raise ConfigError(f"unknown output {name!r}; choose one of: {valid}") from None


def _integer_labels(y: np.ndarray, k: int) -> np.ndarray:
    """Class indices 0..k-1 (int64) from 1-D labels: integers, booleans, whole floats, or
    an object array of integers (pandas, ``astype(object)``)."""
    if y.dtype.kind == "O" and all(is_whole(v) for v in y):
        y = np.array([int(v) for v in y], dtype=object)       # Python ints: any size, compared below
    elif y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise DataError(
                "class labels must be whole numbers; for a regression target use output='identity'"
            )
    elif y.dtype.kind not in "biu":
        raise DataError(f"class labels must be integers, got dtype {y.dtype}; map them to 0..k-1 first")
    if y.size and (y.min() < 0 or y.max() >= k):              # before the cast: 1e30 does not fit int64
        low, high = (int(v) for v in (y.min(), y.max()))
        raise DataError(f"class labels must be integers in 0..{k - 1} for {k} outputs; got values from {low} to {high}")
    return y.astype(np.int64, copy=False)


def _matrix_targets(y: np.ndarray, k: int, dtype: np.dtype) -> Array:
    if y.ndim != 2 or y.shape[1] != k:
        raise DataError(f"targets must have shape (m, {k}) to match {k} outputs; got {y.shape}")
    if y.dtype.kind not in "biuf":
        raise DataError(f"targets must be numeric, got dtype {y.dtype}")
    Y = as_float_array(y, dtype, "targets have values", copy=True)
    if not np.all(np.isfinite(Y)):
        raise DataError("targets contain NaN or infinity; remove or fill those rows")
    return Y


def check_output_size(output: Output, k: int) -> None:
    if k < output.min_outputs:
        raise ConfigError(
            f"a {output.name} output needs at least {output.min_outputs} units, got {k}; "
            "for two classes use 2 softmax units or 1 sigmoid unit"
        )
