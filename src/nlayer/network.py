"""The N-layer network of the lecture: forward propagation, the loss, and back
propagation as the six steps of the notes generalised to L layers.

For l = 1..L (``layers[l - 1]`` in Python)::

    Z[l] = A[l-1] W[l] + b[l]          A[0] = X                      (m, n_l)
    A[l] = g(Z[l])                     softmax / sigmoid / identity at l = L

and backwards, with ``1/m`` applied once, in the fused output gradient::

    dZ[L]   = (A[L] - Y) / m                                         (m, n_L)
    dW[l]   = A[l-1]^T dZ[l]           steps 1 and 5                 (n_{l-1}, n_l)
    db[l]   = sum_i dZ[l]              steps 2 and 6                 (n_l,)
    dA[l-1] = dZ[l] W[l]^T             step 3                        (m, n_{l-1})
    dZ[l-1] = dA[l-1] * g'(Z[l-1])     step 4                        (m, n_{l-1})

The loss is the batch mean plus ``(l2 / 2) sum_l ||W[l]||^2`` (weights only, CS231n's
convention), whose gradient adds ``l2 W[l]`` to ``dW[l]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_array, as_float_array, non_negative, positive, whole
from .activations import get_activation
from .errors import ConfigError, DataError, NotFittedError
from .initializers import INITS, init_weights
from .layers import Dense, FusedStep
from .losses import Output, check_output_size, delta, get_output
from .scaling import scaling_statistics

if TYPE_CHECKING:
    from .training import History

Array = np.ndarray
DTYPES = ("float32", "float64")
INFERENCE_CHUNK = 2048  # rows per forward pass in predict_proba: bounds buffer memory
NON_FINITE_X = "X contains NaN or infinity; remove or fill those values"


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``np.random.Generator`` from a seed, a generator (used as is), or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        seed = whole("seed", seed, 0, "a non-negative integer, a numpy Generator or None")
    return np.random.default_rng(seed)


def all_finite(X: Array) -> bool:
    """Whether every entry of a float array X is finite, without an X-sized temporary.

    Row sums are finite whenever every term is (NaN and infinity propagate through sums
    and through multiplication by 1); for a matrix they come from one matrix-vector
    product ``X 1``, which BLAS runs on all its threads. Only when a sum is not finite (a
    NaN, an infinity, or an overflow of huge finite values) are the entries checked one
    by one, in chunks of rows.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if X.ndim == 2 and X.shape[1] > 1:
            total = np.sum(np.matmul(X, np.ones(X.shape[1], dtype=X.dtype)))   # 1^T X 1
        else:
            total = np.sum(X)
        if np.isfinite(total):
            return True
    rows = max(1, 2**16 // max(1, X.shape[1] if X.ndim > 1 else 1))
    return all(bool(np.isfinite(X[i : i + rows]).all()) for i in range(0, X.shape[0], rows))


def check_dtype(dtype: Any) -> np.dtype:
    """The network's dtype: float32 or float64 in the machine's byte order (``">f8"`` is
    float64 too; BLAS takes native arrays only). ``ConfigError`` for anything else, None
    included (``np.dtype(None)`` would be float64, not the default float32)."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return np.dtype(dt.name)


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a network of these widths (input first): ``(n_in + 1) n_out`` per
    layer, in Python ints (no overflow for any widths, nothing allocated)."""
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def check_sizes(sizes: Sequence[int]) -> list[int]:
    try:
        out = [int(n) for n in sizes]
        ok = len(out) >= 2 and all(int(n) == n and not isinstance(n, bool) for n in sizes)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"sizes must list at least two whole layer widths, input first, e.g. [2, 100, 3]; got {sizes!r}"
        )
    if any(n < 1 for n in out):
        raise ConfigError(f"every layer needs at least one unit; got sizes {out}")
    return out


class Network:
    """A fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Args:
        sizes: layer widths, input first: ``[2, 100, 3]`` is the lecture's 2-layer net
            with 100 hidden units (the notes use 4).
        activation: hidden activation: relu, leaky_relu, tanh, sigmoid or identity.
        output: ``softmax`` (cross-entropy), ``sigmoid`` (binary cross-entropy, binary or
            multi-label) or ``identity`` (squared error, regression).
        init: ``he``, ``xavier`` or ``normal`` (standard deviation ``init_scale``).
        seed: an int, a ``np.random.Generator``, or None, for the initial weights.
        dtype: ``float32`` (default) or ``float64``; every array of the network has it.

    Attributes:
        layers: the ``Dense`` layers; ``layers[0].W`` has shape (sizes[0], sizes[1]).
        classes: optional class labels; ``predict`` maps indices to them when set.
        input_mean, input_scale: optional (n_in,) arrays; when set, every input ``X`` is
            replaced by ``(X - input_mean) / input_scale`` at the boundary.
        feature_names: optional names of the n_in input columns, in order (``nlayer train``
            sets them from a CSV header; ``nlayer predict`` and ``evaluate`` refuse a file with
            the same columns in another order).
        target_mean, target_scale: optional (n_out,) arrays for an identity output
            (:meth:`fit_target_scaling`): the network trains on ``(y - target_mean) /
            target_scale`` and answers ``A target_scale + target_mean``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        output: str = "softmax",
        init: str = "he",
        init_scale: float = 0.01,
        seed: int | np.random.Generator | None = None,
        dtype: str | np.dtype = "float32",
    ) -> None:
        self.sizes = check_sizes(sizes)
        g = get_activation(activation)
        self.activation = g.name
        self.output: Output = get_output(output)
        check_output_size(self.output, self.sizes[-1])
        if init not in INITS:
            raise ConfigError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}")
        self.init = init
        self.init_scale = positive("init_scale", init_scale)
        dt = check_dtype(dtype)
        rng = as_generator(seed)
        self.layers: list[Dense] = []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            W = init_weights(rng, n_in, n_out, init, self.init_scale, dt)
            b = np.zeros(n_out, dtype=dt)
            self.layers.append(Dense(W, b, g if l < len(self.sizes) - 1 else None))
        self._link_flat()
        self.classes: list[Any] | None = None
        self.input_mean: Array | None = None
        self.input_scale: Array | None = None
        self.target_mean: Array | None = None     # regression (identity output): see fit_target_scaling
        self.target_scale: Array | None = None
        self.feature_names: list[str] | None = None   # the input columns' names, in order (model files keep them)
        self.history: History | None = None
        self._batch: tuple[int, bool] = (-1, False)

    # ----------------------------------------------------------------- structure
    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].W.dtype

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    @property
    def is_classifier(self) -> bool:
        return self.output.name != "identity"

    def _link_flat(self) -> None:
        """Make every W, b (and dW, db) a view into one flat vector, weights first.

        ``theta = [W1.ravel(), ..., WL.ravel(), b1, ..., bL]``: optimizers then update all
        parameters with a few NumPy calls, and the L2 term touches ``theta[:n_weights]`` only.
        """
        size = sum(layer.W.size + layer.b.size for layer in self.layers)
        theta = np.empty(size, dtype=self.layers[0].W.dtype)
        dtheta = np.zeros_like(theta)
        views, dviews = self.layer_views(theta), self.layer_views(dtheta)
        for layer, (W, b), (dW, db) in zip(self.layers, views, dviews):
            W[...], b[...] = layer.W, layer.b
            layer.W, layer.b, layer.dW, layer.db = W, b, dW, db
        self._theta, self._dtheta = theta, dtheta
        self._l2_W = np.empty(0, dtype=theta.dtype)      # scratch for add_l2
        self.n_weights = sum(layer.W.size for layer in self.layers)

    def layer_views(self, flat: Array) -> list[tuple[Array, Array]]:
        """``[(W1, b1), ...]``-shaped views into a vector laid out as theta (weights first):
        theta itself, dtheta, or an optimizer's state for theta (momentum's velocity)."""
        shapes = [layer.W.shape for layer in self.layers] + [layer.b.shape for layer in self.layers]
        views, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            views.append(flat[start : start + size].reshape(shape))
            start += size
        L = len(self.layers)
        return list(zip(views[:L], views[L:]))

    def flat(self) -> tuple[Array, Array]:
        """``(theta, dtheta)``: every parameter and gradient as one flat vector (views, not
        copies), weights first. Re-links layers whose arrays a user replaced."""
        base = self._theta
        if not all(layer.W.base is base and layer.b.base is base for layer in self.layers):
            for layer in self.layers:
                if layer.W.dtype != base.dtype or layer.b.dtype != base.dtype:
                    raise ConfigError(
                        f"{layer!r}: W and b must keep the network's dtype {base.dtype}; "
                        "assign in place with layer.W[...] = values"
                    )
            self._link_flat()
        return self._theta, self._dtheta

    def parameter_names(self) -> list[str]:
        """``["W1", "b1", "W2", "b2", ...]``: the lecture's names, in ``parameters()`` order."""
        return [f"{p}{l}" for l in range(1, len(self.layers) + 1) for p in ("W", "b")]

    def parameters(self) -> list[Array]:
        """``[W1, b1, W2, b2, ...]``: the layers' own arrays (updated in place by training)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def gradients(self) -> list[Array]:
        """``[dW1, db1, dW2, db2, ...]``: the layers' gradient buffers, same order as parameters()."""
        return [g for layer in self.layers for g in (layer.dW, layer.db)]

    # ------------------------------------------------------------------ boundary
    def prepare_X(self, X: Any, standardize: bool = True, check_finite: bool = True, scaled: bool = False) -> Array:
        """X as a C-contiguous (m, n_in) array of the network's dtype, standardised if set
        (unless ``standardize=False``: then see :meth:`standardize`).

        Raises ``DataError`` naming the problem for anything else. ``check_finite=False``
        leaves the NaN / infinity check to the caller (``predict_proba`` does it on the fly).
        Unstandardised X of a network with input scaling (or ``scaled``: about to get it) is
        held as :meth:`_raw_dtype` says.
        """
        X = as_array(X, "X")
        if X.dtype.kind not in "biuf":
            raise DataError(f"X must be real numbers; got dtype {X.dtype}")
        if X.ndim != 2:
            hint = ""
            if X.ndim == 1:                              # one sample of n_in features, or n samples of one
                one_sample = X.shape[0] == self.n_inputs and self.n_inputs > 1
                hint = (f" (use X.reshape(1, -1) for one sample of {self.n_inputs} features)" if one_sample
                        else " (use X.reshape(-1, 1) for a single feature)")
            raise DataError(f"X must be 2-D (samples, features); got shape {X.shape}{hint}")
        if X.shape[1] != self.n_inputs:
            raise DataError(f"X has {X.shape[1]} features but the network expects {self.n_inputs}")
        X = as_float_array(X, self._raw_dtype(X, scaled), "X has values")
        if check_finite and not all_finite(X):
            raise DataError(NON_FINITE_X)
        if not standardize or self.input_mean is None:
            return X
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, not warned about
            Xs = self.standardize(X)
        if check_finite and not all_finite(Xs):
            self._check_standardizable(X, 0)
        return Xs

    def _raw_dtype(self, X: Array, scaled: bool = False) -> np.dtype:
        """The dtype raw inputs are held in until they are standardised: the network's, or
        float64 for a float32 network with input scaling given wider numbers, so that
        ``X - input_mean`` is taken before float32 rounds X (a column of timestamps near
        1.7e9 would otherwise lose every step below 128)."""
        if (scaled or self.input_mean is not None) and self.dtype == np.float32 and X.dtype != np.float32:
            return np.dtype(np.float64)
        return self.dtype

    def standardize(self, X: Array) -> Array:
        """``(X - input_mean) / input_scale`` in the network's dtype (X itself when not set),
        computed in X's precision (float64 raw inputs stay float64 until the result)."""
        if self.input_mean is None or self.input_scale is None:
            return X
        return ((X - self.input_mean) / self.input_scale).astype(self.dtype, copy=False)

    def prepare_Y(self, y: Any) -> Array:
        """Targets as a dense (m, n_outputs) matrix of the network's dtype (see losses.py);
        standardised with the target statistics when set, from y in float64 (as X: targets
        near 1.7e9 keep their unit steps in a float32 network)."""
        stats = self._target_statistics()
        if stats is None:
            return self._raw_targets(y, self.dtype)
        mean, scale = stats
        Y = self._raw_targets(y, np.dtype(np.float64))   # raw y, not yet rounded
        with np.errstate(over="ignore", invalid="ignore"):
            Y = ((Y - mean) / scale).astype(self.dtype)  # (y - mean) / scale
        if not all_finite(Y):
            raise DataError(f"y holds values too far from the training targets' mean to standardise in "
                            f"{self.dtype.name}; rescale y as it was in training")
        return Y

    def _raw_targets(self, y: Any, dtype: np.dtype) -> Array:
        """y as the output's dense (m, n_outputs) targets in ``dtype``, not standardised."""
        y = as_array(y, "y")
        if y.ndim not in (1, 2):
            raise DataError(f"y must be 1-D labels or a 2-D (samples, outputs) matrix; got shape {y.shape}")
        return self.output.targets(y, self.n_outputs, dtype)

    def fit_target_scaling(self, y: Any) -> None:
        """Learn ``target_mean`` and ``target_scale`` (n_out,) from regression targets y (a
        constant column gets scale 1), computed in float64, stored in the network's dtype.

        From then on the network trains on ``(y - target_mean) / target_scale`` (``prepare_Y``:
        losses and gradients are in those units) and :meth:`predict` / :meth:`predict_proba`
        answer in y's own units (:meth:`unscale_outputs`): targets of any size (prices in the
        100,000s) train with the same learning rates as standardised ones. Identity output only.
        """
        if self.output.name != "identity":
            raise ConfigError(f"target scaling is for regression (identity output); this network's output "
                              f"is {self.output.name}")
        Y = self._raw_targets(y, np.dtype(np.float64))   # (m, n_out), raw, float64
        mean, scale = scaling_statistics(Y, self.dtype, "y")  # the same statistics as for X
        self.target_mean, self.target_scale = mean, scale

    def unscale_outputs(self, A: Array) -> Array:
        """The network's outputs A (m, n_out) in the targets' own units: a fresh float64
        ``A * target_scale + target_mean`` (float64, so that values near 1.7e9 keep their unit
        steps), or A itself when there is no target scaling."""
        stats = self._target_statistics()
        if stats is None:
            return A
        mean, scale = stats
        with np.errstate(over="ignore"):                     # refused by the callers when not finite
            return A * scale.astype(np.float64) + mean.astype(np.float64)

    def _target_statistics(self) -> tuple[Array, Array] | None:
        """``(target_mean, target_scale)`` when set (None otherwise); ``ConfigError`` if they
        are set on a network whose output is not identity (they are for regression only)."""
        if self.target_mean is None or self.target_scale is None:
            return None
        if self.output.name != "identity":
            raise ConfigError(f"target_mean and target_scale are for an identity output; this network's "
                              f"output is {self.output.name}: set them to None")
        return self.target_mean, self.target_scale

    def fit_input_scaling(self, X: Any) -> None:
        """Learn ``input_mean`` and ``input_scale`` from X (constant columns get scale 1), computed
        in float64, stored in the network's dtype; ``DataError`` if X cannot be standardised in it."""
        X = self.prepare_X(X, standardize=False, scaled=True)   # held as prepare_X will hold raw inputs
        mean, scale = scaling_statistics(X, self.dtype)      # (n_in,) each; refused: nothing changes
        self.input_mean, self.input_scale = mean, scale

    # ------------------------------------------------------------- propagation
    def set_batch(self, m: int, shared: bool = False) -> None:
        """Point every cache at a batch of m rows (buffers grow once, then are reused);
        ``shared``: ReLU layers keep A over Z and dZ over dA (``Dense.set_batch``)."""
        if (m, shared) != self._batch:
            for layer in self.layers:
                layer.set_batch(m, shared)
            if m > self.output._row_max.shape[0]:
                self.output.allocate(m, self.n_outputs, self.dtype)
            self._batch = (m, shared)

    def forward(self, X: Array, fused: bool = False) -> Array:
        """Forward propagation of a prepared batch; returns ``A[L]`` (a view of a buffer).
        ``fused`` (fit's fused SGD and momentum steps): the bias goes in with the product
        (``Dense.linear``), and ReLU layers write A over Z and dZ over dA (``Dense.set_batch``)."""
        self.set_batch(X.shape[0], fused)
        A = X                                            # A[0] = X                (m, n_0)
        for layer in self.layers[:-1]:
            A = layer.forward(A, fused)                  # A[l] = g(A[l-1] W[l] + b[l])
        last = self.layers[-1]
        self.output.forward(last.linear(A, fused), last.A)   # A[L] = output(Z[L])    (m, n_L)
        return last.A

    def backward(self, steps: Sequence[FusedStep] | None = None) -> None:
        """Back propagation, steps 1-6 of the lecture for L layers. Needs dZ[L] in place.

        ``steps`` (one per layer; fit's fused SGD, see :meth:`train_step`): every layer takes
        its optimizer step instead of writing dW, db (``Dense.backward_linear``).
        """
        layers = self.layers
        step: Sequence[FusedStep | None] = steps or [None] * len(layers)
        for l in range(len(layers) - 1, 0, -1):
            prev = layers[l - 1]
            layers[l].backward_linear(prev.dA, step[l])  # dW[l], db[l], dA[l-1]     steps 1-3
            prev.backward_activation()                   # dZ[l-1] = dA[l-1] * g'    step 4
        layers[0].backward_linear(None, step[0])         # dW[1], db[1] (no dA[0])   steps 5-6

    def train_step(
        self, X: Array, Y: Array, l2: float, scale: float = 1.0, steps: Sequence[FusedStep] | None = None,
    ) -> float:
        """Forward, loss and backward on a prepared batch; fills every dW, db. Returns J.

        ``scale`` multiplies every gradient (dW, db and the dZ, dA caches) and leaves J
        alone. ``fit`` folds SGD's step ``W -= lr dW`` into back propagation this way: with
        ``scale = lr`` the update is ``W -= dW``, one pass over the parameters instead of
        two (``Optimizer.fold_scale`` gives each optimizer's factor), and ``fit`` divides
        the gradients by it again at the end of every epoch (:meth:`scale_gradients`).

        ``steps`` go one further (``fit``'s mini-batch SGD and momentum, where ``_blas.plan``
        is found; ``scale`` is lr): each layer's optimizer step is taken inside the products of
        back propagation (``layers.FusedStep``), and dW, db are not gradients afterwards; the
        forward pass adds the bias inside its products too. J is the loss before the step.
        """
        A = self.forward(X, fused=steps is not None)
        last = self.layers[-1]
        loss = self.output.loss(last.Z, A, Y, last.dZ)   # J (data part), dZ as scratch
        delta(A, Y, last.dZ, scale)                      # dZ[L] = (A[L] - Y) / m
        if steps is not None:
            if not math.isfinite(loss):                  # no step on a diverged batch (fit stops there)
                return loss
            loss += self._l2_penalty(l2) if l2 else 0.0  # J at the weights before the step
            self.backward(steps)                         # W -= lr (dW + l2 W), or momentum's step
            return loss
        self.backward()
        if l2:
            loss += self.add_l2(l2, scale)
        return loss

    def add_l2(self, l2: float, scale: float = 1.0) -> float:
        """Add ``l2 W`` (times ``scale``) to every dW; returns ``(l2 / 2) sum_l ||W[l]||^2``."""
        n = self.n_weights
        W, dW = self._theta[:n], self._dtheta[:n]        # every weight, no bias
        if self._l2_W.shape[0] != n:
            self._l2_W = np.empty_like(W)                # allocated once, not per step
        np.multiply(W, scale * l2, out=self._l2_W)       # l2 W
        np.add(dW, self._l2_W, out=dW)                   # dW += l2 W
        return self._l2_penalty(l2)

    def scale_gradients(self, factor: float) -> None:
        """Multiply every gradient of the last backward pass (dW, db, dZ, dA) by ``factor``."""
        np.multiply(self._dtheta, factor, out=self._dtheta)
        for layer in self.layers:
            np.multiply(layer.dZ, factor, out=layer.dZ)
        for layer in self.layers[:-1]:                   # the output layer's dA is never written
            np.multiply(layer.dA, factor, out=layer.dA)

    def _l2_penalty(self, l2: float) -> float:
        """``(l2 / 2) sum_l ||W[l]||^2`` from the flat vector (linked: see :meth:`flat`)."""
        W = self._theta[: self.n_weights]                # every weight, no bias
        return 0.5 * l2 * float(np.vdot(W, W))

    # -------------------------------------------------------------- public API
    def loss_and_gradients(self, X: Any, y: Any, l2: float = 0.0) -> tuple[float, list[tuple[Array, Array]]]:
        """The loss J and ``[(dW1, db1), (dW2, db2), ...]`` (fresh copies) for a batch.

        Shapes: X (m, n_in); y (m,) labels or (m, n_out); ``grads[l]`` has the shapes of
        ``layers[l].W`` and ``layers[l].b``.
        """
        X, Y = self.prepare_X(X), self.prepare_Y(y)
        _check_lengths(X, Y)
        self.flat()                                      # re-link replaced arrays: add_l2 reads theta
        loss = self.train_step(X, Y, _check_l2(l2))
        return loss, [(layer.dW.copy(), layer.db.copy()) for layer in self.layers]

    def loss(self, X: Any, y: Any, l2: float = 0.0) -> float:
        """The loss J on (X, y), without touching the gradients (for a network with target
        scaling, in the standardised units it trains in)."""
        raw = X
        X, Y = self.prepare_X(X), self.prepare_Y(y)
        _check_lengths(X, Y)
        l2 = _check_l2(l2)
        self.flat()                                      # re-link replaced arrays: the penalty reads theta
        from .training import evaluate

        with np.errstate(over="ignore", invalid="ignore"):   # a non-finite loss is diagnosed below
            loss, _ = evaluate(self, X, Y, INFERENCE_CHUNK)
        if not math.isfinite(loss):
            self.predict_proba(raw)                      # names a row that overflows, if one does
        return loss + self._l2_penalty(l2)

    def predict_proba(self, X: Any) -> Array:
        """Output activations ``A[L]`` for X: (m, n_out), a fresh array (for a regression
        network with target scaling, in the targets' own units and float64:
        :meth:`unscale_outputs`).

        Class probabilities for softmax (rows sum to 1), per-label probabilities for
        sigmoid, predicted values for identity.
        """
        X = self.prepare_X(X, standardize=False, check_finite=False)   # both chunk by chunk below (raw dtype)
        out = np.empty((X.shape[0], self.n_outputs), dtype=self.dtype)
        first = self.layers[0]
        for i in range(0, X.shape[0], INFERENCE_CHUNK):
            Xc = X[i : i + INFERENCE_CHUNK]
            with np.errstate(over="ignore", invalid="ignore"):   # refused below, not warned about
                out[i : i + INFERENCE_CHUNK] = self.forward(self.standardize(Xc))
            # A NaN or infinity in a row of X makes that row of Z[1] = X W[1] + b[1] non-finite
            # (it propagates through every product, by 0 too, and every sum), so X itself is
            # read again only when Z[1] is not finite: the check costs a pass over Z[1]
            # (n_1 columns, in cache), not over X (n_0 columns, from memory).
            if not all_finite(first.Z):
                if not all_finite(Xc):
                    raise DataError(NON_FINITE_X)
                self._check_standardizable(Xc, i)
            # Finite X can still overflow inside the network (huge inputs for float32): a
            # saturating activation may absorb it (tanh of inf is 1), so only a non-finite
            # output is refused, never returned as a silent NaN.
            if not all_finite(out[i : i + INFERENCE_CHUNK]):   # (chunk, n_out): a cheap pass
                self._refuse_overflow(i, out[i : i + INFERENCE_CHUNK])
        return self.unscale_outputs(out)                 # regression with target scaling: y's units, float64

    def _refuse_overflow(self, start: int, A: Array) -> None:
        """``DataError`` naming the first row (from ``start``) of the outputs ``A`` that is not
        finite although its inputs are: the network overflowed its dtype there (never a
        silent NaN); ``ConfigError`` when the weights themselves are not finite."""
        if not all_finite(self.flat()[0]):
            raise ConfigError("the network's weights or biases contain NaN or infinity; load or train it again")
        row = start + int(np.argwhere(~np.isfinite(A))[0][0])
        raise DataError(f"row {row}: the network's output overflows {self.dtype.name}, the network's dtype, "
                        "although X is finite: the inputs are too large for this model; rescale X "
                        "(standardise it as in training) or use a float64 network")

    def _check_standardizable(self, Xc: Array, start: int) -> None:
        """``DataError`` naming the first value of the chunk ``Xc`` (its rows from ``start``)
        that :meth:`first_unscalable` finds (inference would otherwise return NaN without a word)."""
        found = self.first_unscalable(Xc)
        if found is not None:
            i, j, why = found
            raise DataError(f"X[{start + i}, {j}] = {float(Xc[i, j]):.3g} {why}; rescale that column as it was "
                            "in training")

    def first_unscalable(self, Xc: Array) -> tuple[int, int, str] | None:
        """The first ``(row, column, why)`` of finite raw inputs ``Xc`` (m, n_in) that this
        network cannot take, in row order: beyond its dtype's range (1e39 in float32), or so far
        from the training data's mean that ``(x - input_mean) / input_scale`` overflows the
        dtype; None when every value can be taken."""
        dtype = self.dtype
        with np.errstate(over="ignore", invalid="ignore"):
            beyond = np.abs(Xc) > np.finfo(dtype).max                   # (m, n_in)
            bad = beyond | ~np.isfinite(self.standardize(Xc).astype(dtype))
        if not bad.any():
            return None
        i, j = (int(v) for v in np.argwhere(bad)[0])
        if beyond[i, j] or self.input_mean is None or self.input_scale is None:
            return i, j, f"is beyond {dtype.name}, the model's dtype"
        return i, j, (f"is too far from the training data's mean {float(self.input_mean[j]):.3g} (scale "
                      f"{float(self.input_scale[j]):.3g}) to standardise in {dtype.name}, the model's dtype")

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for X, shape (m,): class labels (``classes`` when set, else indices)
        for softmax, 0/1 (or ``classes``) for a single sigmoid unit, (m, k) 0/1 for
        multi-label, values for identity ((m, k) for several outputs).
        """
        return self.decide(self.predict_proba(X))

    def class_labels(self) -> list[Any]:
        """A classifier's labels, in output order: ``classes`` when set, else 0..k-1
        (two for a single sigmoid unit: 0 and 1)."""
        return list(self.classes) if self.classes is not None else list(range(max(self.n_outputs, 2)))

    def decide(self, A: Array) -> np.ndarray:
        """Predictions from output activations ``A`` (m, n_out), as :meth:`predict` returns them."""
        decided = self.output.decide(A)
        if self.classes is not None and self.is_classifier and decided.ndim == 1:
            labels = np.asarray(self.classes)
            want = max(self.n_outputs, 2)                # a single sigmoid unit decides between two
            if labels.ndim != 1 or labels.shape[0] != want:
                raise ConfigError(f"net.classes must list {want} labels, one per class in output order; "
                                  f"got {len(self.classes) if labels.ndim else 'a scalar'}: set it to "
                                  f"{want} labels, or to None for class indices")
            return labels[decided]
        return decided

    def fit(self, X: Any, y: Any, **kwargs: Any) -> History:
        """Train on (X, y); see :func:`nlayer.training.fit` for the options. Returns the History."""
        from .training import fit

        return fit(self, X, y, **kwargs)

    def copy(self, dtype: str | np.dtype | None = None) -> Network:
        """A deep copy, optionally cast to another dtype (gradient checks use float64)."""
        dt = check_dtype(dtype if dtype is not None else self.dtype)
        clone = Network(self.sizes, self.activation, self.output.name, self.init, self.init_scale, 0, dt)
        clone.flat()[0][...] = self.flat()[0]
        clone.classes = None if self.classes is None else list(self.classes)
        clone.feature_names = None if self.feature_names is None else list(self.feature_names)
        if self.input_mean is not None and self.input_scale is not None:
            clone.input_mean = self.input_mean.astype(dt)
            clone.input_scale = self.input_scale.astype(dt)
        if self.target_mean is not None and self.target_scale is not None:
            clone.target_mean = self.target_mean.astype(dt)
            clone.target_scale = self.target_scale.astype(dt)
        return clone

    def __repr__(self) -> str:
        arch = "-".join(str(n) for n in self.sizes)
        return (
            f"Network([{arch}], activation={self.activation!r}, output={self.output.name!r}, "
            f"dtype={self.dtype.name!r})"
        )


def _check_lengths(X: Array, Y: Array) -> None:
    if X.shape[0] != Y.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}; they must match")
    if X.shape[0] == 0:
        raise DataError("X has no rows; at least one sample is needed")


def _check_l2(l2: Any) -> float:
    return non_negative("l2", l2)


def require_fitted(net: Network | None, what: str = "model") -> Network:
    if net is None:
        raise NotFittedError(f"this {what} is not fitted yet; call fit() (or nlayer.load()) first")
    return net
