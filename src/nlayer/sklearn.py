"""scikit-learn estimators over nlayer's hand-written network: NLayerClassifier, NLayerRegressor.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from nlayer.sklearn import NLayerClassifier
    clf = make_pipeline(StandardScaler(), NLayerClassifier(hidden_layer_sizes=(100,), random_state=0))
    clf.fit(X, y).score(X_test, y_test)

Parameters mean what they mean in ``MLPClassifier`` / ``MLPRegressor``; every step is
nlayer's own forward and back propagation (``Network.train_step``) and nlayer's optimizers.
Where the meaning differs, it says so here:

- ``alpha`` is scaled exactly as scikit-learn scales it: each batch's loss gains
  ``alpha / (2 s) * sum ||W||^2`` where ``s`` is the batch's total sample weight (its size
  without weights), i.e. nlayer's ``l2 = alpha / s``.
- ``activation`` takes scikit-learn's names (``logistic`` is nlayer's ``sigmoid``) and
  nlayer's (``sigmoid``, ``leaky_relu``).
- Weights and biases start as in scikit-learn: uniform in ``+-sqrt(6 / (n_in + n_out))``
  (``sqrt(2 / ...)`` for logistic), drawn from ``random_state`` (the numbers differ).
- Binary classification uses two softmax units (scikit-learn: one logistic unit), so the
  network from ``to_network()`` predicts class labels by itself; the loss is the same.
- Multi-output regression sums the squared error over outputs (scikit-learn averages it).
- ``solver="lbfgs"`` also records ``loss_curve_`` (one loss per L-BFGS iteration).
- Dense input only (sparse matrices are refused with scikit-learn's message).

scikit-learn (and SciPy) are imported here only: ``import nlayer`` does not need them.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.optimize
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from .errors import DivergenceError
from .network import Network, check_dtype
from .optimizers import SGD, Adam, Momentum, Nesterov, Optimizer

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def validate_data(_estimator: Any, /, *args: Any, **kwargs: Any) -> Any:
        return _estimator._validate_data(*args, **kwargs)

Array = np.ndarray

__all__ = ["NLayerClassifier", "NLayerRegressor"]

ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid",
                    "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
SKLEARN_OUTPUT_NAMES = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}
MIN_ADAPTIVE_LR = 1e-6   # learning_rate="adaptive" stops once the rate falls to this (as scikit-learn)


def _row_losses(output: str, Z: Array, A: Array, Y: Array) -> Array:
    """Per-sample data loss (m,) from logits Z and outputs A, for weighted batches."""
    if output == "softmax":
        return logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1)           # -sum_k Y log softmax(Z)
    if output == "sigmoid":
        return np.sum(np.logaddexp(0.0, Z) - Y * Z, axis=1)          # sum_k softplus(Z) - Y Z
    return 0.5 * np.sum((A - Y) ** 2, axis=1)                         # (1/2) sum_k (A - Y)^2


class _BaseNLayer(BaseEstimator):
    """Parameters, validation and the training loops shared by both estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATION_NAMES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype],
    }

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dtype: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    # ------------------------------------------------------------------ hooks
    def _targets(self, X: Array, y: Any, first: bool, classes: Any) -> tuple[Array, Array, int, str]:
        """(X, y) validated; returns X, y (as validated), k outputs, nlayer output name."""
        raise NotImplementedError  # pragma: no cover

    def _Y(self, y: Array, dtype: np.dtype) -> Array:
        """Dense (m, k) network targets from validated y."""
        raise NotImplementedError  # pragma: no cover

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------- fit
    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None) -> Any:
        self._validate_params()
        sizes = self._hidden_sizes()
        first = not hasattr(self, "_network") or (not self.warm_start and not incremental)
        X, y, k, output = self._targets(X, y, first, classes)
        if first:
            dtype = check_dtype(self.dtype) if self.dtype is not None else X.dtype
            self._build(X.shape[1], sizes, k, output, dtype)
        net = self._network
        X = np.ascontiguousarray(X, dtype=net.dtype)
        sw = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=net.dtype)
        if sw is not None and np.any(sw < 0):
            raise ValueError("sample_weight must be non-negative")
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        with np.errstate(over="ignore", invalid="ignore"):             # divergence is reported below
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, self._Y(y, net.dtype), sw)
            else:
                self._fit_stochastic(X, y, sw, incremental, rng)
        theta, _ = net.flat()
        if not np.all(np.isfinite(theta)):
            raise DivergenceError(
                "the solver produced non-finite weights; standardise the inputs (StandardScaler) "
                f"or lower learning_rate_init (it is {self.learning_rate_init:g})"
            )
        self.coefs_ = [layer.W.copy() for layer in net.layers]
        self.intercepts_ = [layer.b.copy() for layer in net.layers]
        return self

    def _hidden_sizes(self) -> list[int]:
        h = self.hidden_layer_sizes
        sizes = list(h) if hasattr(h, "__iter__") else [h]
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and int(s) >= 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be whole numbers >= 1, got {h!r}")
        return [int(s) for s in sizes]

    def _build(self, n_in: int, hidden: list[int], k: int, output: str, dtype: np.dtype) -> None:
        g = ACTIVATION_NAMES[self.activation]
        rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        self._network = Network([n_in, *hidden, k], activation=g, output=output, seed=0, dtype=dtype)
        factor = 2.0 if g == "sigmoid" else 6.0                         # MLPClassifier's Glorot range
        for layer in self._network.layers:
            bound = math.sqrt(factor / (layer.n_in + layer.n_out))
            layer.W[...] = rng.uniform(-bound, bound, layer.W.shape)    # W ~ U(-bound, bound)
            layer.b[...] = rng.uniform(-bound, bound, layer.b.shape)    # b ~ U(-bound, bound)
        if hasattr(self, "classes_"):
            self._network.classes = self.classes_.tolist()
        self._optimizer: Optimizer | None = None
        self.n_layers_ = len(self._network.sizes)
        self.n_outputs_ = k
        self.out_activation_ = SKLEARN_OUTPUT_NAMES[output]
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping and self.solver != "lbfgs":
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _step(self, X: Array, Y: Array, w: Array | None) -> float | None:
        """One forward and backward pass; fills the network's gradients, returns the loss.

        Unweighted, this is the core's ``train_step`` with ``l2 = alpha / m``. With sample
        weights ``w``, the fused output gradient becomes ``dZ[L] = w_i (A - Y) / sum(w)``,
        the loss ``sum_i w_i J_i / sum(w)`` and ``l2 = alpha / sum(w)`` (scikit-learn's
        weighting). Returns None for a batch whose weights are all zero (nothing to learn).
        """
        net = self._network
        if w is None:
            return net.train_step(X, Y, float(self.alpha) / X.shape[0])
        s = float(np.sum(w, dtype=np.float64))
        if s <= 0.0:
            return None
        wn = (w / s).astype(net.dtype)[:, None]                        # w_i / sum(w)   (m, 1)
        A = net.forward(X)
        last = net.layers[-1]
        loss = float(np.sum(_row_losses(net.output.name, last.Z, A, Y) * wn[:, 0], dtype=np.float64))
        np.subtract(A, Y, out=last.dZ)                                  # A - Y
        np.multiply(last.dZ, wn, out=last.dZ)                           # dZ[L] = w_i (A - Y) / sum(w)
        net.backward()
        if self.alpha:
            loss += net.add_l2(float(self.alpha) / s)
        return loss

    def _fit_lbfgs(self, X: Array, Y: Array, sw: Array | None) -> None:
        """scipy's L-BFGS-B on the flat parameter vector, nlayer's loss and gradients."""
        net = self._network
        theta, dtheta = net.flat()
        last = [math.inf]

        def fun(x: Array) -> tuple[float, Array]:
            theta[...] = x
            loss = self._step(X, Y, sw)
            last[0] = math.inf if loss is None else loss
            return last[0], dtheta.astype(np.float64)

        def record(xk: Array) -> None:                                  # after each iteration
            self.loss_curve_.append(last[0])
            if self.verbose:
                print(f"Iteration {len(self.loss_curve_)}, loss = {last[0]:.8f}")

        res = scipy.optimize.minimize(
            fun, theta.astype(np.float64), method="L-BFGS-B", jac=True, callback=record,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        theta[...] = res.x
        self.n_iter_ = min(int(res.nit), self.max_iter)
        self.loss_ = float(res.fun)
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        if res.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status={res.status}): "
                f"{res.message}. Increase max_iter (or max_fun) or scale the data, e.g. with StandardScaler.",
                ConvergenceWarning, stacklevel=3,
            )

    def _make_optimizer(self) -> Optimizer:
        lr = float(self.learning_rate_init)
        if self.solver == "adam":
            return Adam(lr, beta1=float(self.beta_1), beta2=float(self.beta_2), eps=float(self.epsilon))
        if self.momentum > 0:
            cls = Nesterov if self.nesterovs_momentum else Momentum
            return cls(lr, momentum=float(self.momentum))
        return SGD(lr)

    def _fit_stochastic(self, X: Array, y: Array, sw: Array | None, incremental: bool,
                        rng: np.random.Generator) -> None:
        net = self._network
        theta, dtheta = net.flat()
        if not incremental or self._optimizer is None:
            self._optimizer = self._make_optimizer()
            self._optimizer.bind([theta])
        opt = self._optimizer
        X_val = y_val = sw_val = None
        if self.early_stopping:
            X, X_val, y, y_val, sw, sw_val = self._split(X, y, sw, rng)
        Y = self._Y(y, net.dtype)
        n = X.shape[0]
        bs = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        if bs > n:
            warnings.warn(f"batch_size={bs} is larger than the {n} training samples; using {n}",
                          UserWarning, stacklevel=3)
            bs = n
        Xbuf, Ybuf = np.empty((bs, X.shape[1]), dtype=X.dtype), np.empty((bs, Y.shape[1]), dtype=Y.dtype)
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            order = rng.permutation(n) if self.shuffle and bs < n else None
            total = 0.0
            for start in range(0, n, bs):
                if order is None:                                        # in order: views, no copy
                    rows: Any = slice(start, start + bs)
                    Xb, Yb = X[rows], Y[rows]
                else:                                                    # shuffled: gather into buffers
                    rows = order[start : start + bs]
                    Xb = np.take(X, rows, axis=0, out=Xbuf[: rows.size])
                    Yb = np.take(Y, rows, axis=0, out=Ybuf[: rows.size])
                loss = self._step(Xb, Yb, None if sw is None else sw[rows])
                if loss is None:
                    continue
                if not math.isfinite(loss):
                    raise DivergenceError(
                        f"training diverged in iteration {self.n_iter_ + 1}: the loss became {loss}; "
                        f"lower learning_rate_init (it is {self.learning_rate_init:g}) or scale the data",
                        epoch=self.n_iter_,
                    )
                total += loss * (min(start + bs, n) - start)
                opt.step([theta], [dtheta])
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = total / n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            self._update_no_improvement(X_val, y_val, sw_val)
            if self.learning_rate == "invscaling" and self.solver == "sgd":
                opt.lr = float(self.learning_rate_init) / (self.t_ + 1) ** float(self.power_t)
            if self._no_improvement_count > self.n_iter_no_change:
                if self._should_stop(opt):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                    "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3,
                )
        if self.early_stopping:
            theta[...] = self._best_theta

    def _split(self, X: Array, y: Array, sw: Array | None, rng: np.random.Generator) -> tuple:
        """Hold out ``ceil(validation_fraction n)`` rows, at least 2 (stratified by class when
        every class can be represented on both sides)."""
        n = X.shape[0]
        n_val = max(2, math.ceil(self.validation_fraction * n))
        if n - n_val < 1:
            raise ValueError(f"early_stopping needs at least 3 samples, got n_samples = {n}; "
                             "set early_stopping=False or provide more data")
        stratify = None
        if isinstance(self, ClassifierMixin) and y.ndim == 1:
            counts = np.unique(y, return_counts=True)[1]
            if counts.min() >= 2 and min(n_val, n - n_val) >= counts.size:
                stratify = y
        idx_train, idx_val = train_test_split(
            np.arange(n), test_size=n_val, random_state=int(rng.integers(2**31 - 1)), stratify=stratify,
        )
        self._best_theta = self._network.flat()[0].copy()
        sw_train, sw_val = (None, None) if sw is None else (sw[idx_train], sw[idx_val])
        return X[idx_train], X[idx_val], y[idx_train], y[idx_val], sw_train, sw_val

    def _update_no_improvement(self, X_val: Array | None, y_val: Array | None, sw_val: Array | None) -> None:
        """scikit-learn's rule: count epochs that do not improve the best value by ``tol``."""
        if X_val is not None and y_val is not None and self.validation_scores_ is not None:
            score = self._score_network(X_val, y_val, sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            best = -np.inf if self.best_validation_score_ is None else self.best_validation_score_
            self._no_improvement_count = self._no_improvement_count + 1 if score < best + self.tol else 0
            if score > best:
                self.best_validation_score_ = score
                self._best_theta[...] = self._network.flat()[0]
            return
        best = np.inf if self.best_loss_ is None else self.best_loss_
        last = self.loss_curve_[-1]
        self._no_improvement_count = self._no_improvement_count + 1 if last > best - self.tol else 0
        self.best_loss_ = min(best, last)

    def _should_stop(self, opt: Optimizer) -> bool:
        """After n_iter_no_change bad epochs: stop, or divide the rate by 5 ("adaptive" sgd)."""
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
        if self.solver == "sgd" and self.learning_rate == "adaptive" and opt.lr > MIN_ADAPTIVE_LR:
            opt.lr /= 5.0
            if self.verbose:
                print(f"{msg} Setting learning rate to {opt.lr:f}")
            return False
        if self.verbose:
            print(f"{msg} Stopping.")
        return True

    # ------------------------------------------------------------- predicting
    def _prepare(self, X: Any) -> Array:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return np.ascontiguousarray(X, dtype=self._network.dtype)

    def to_network(self) -> Network:
        """A copy of the trained ``nlayer.Network`` (with ``classes`` for a classifier):
        ``nlayer.gradient_check``, saving and the lecture's equations all work on it."""
        check_is_fitted(self)
        return self._network.copy()

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers; "
                                 f"{self.solver!r} is not stochastic")
        if self.early_stopping:
            raise AttributeError("partial_fit is not available with early_stopping=True "
                                 "(one epoch per call leaves nothing to stop early)")
        return True

    # --------------------------------------------------------------- pickling
    def __getstate__(self) -> dict:
        """Store the network as its architecture and flat parameters, not its buffers."""
        state = dict(super().__getstate__())
        net = state.pop("_network", None)
        if net is not None:
            state["_network_spec"] = {
                "sizes": list(net.sizes), "activation": net.activation, "output": net.output.name,
                "dtype": net.dtype.name, "theta": net.flat()[0].copy(), "classes": net.classes,
            }
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        spec = state.pop("_network_spec", None)
        opt = state.get("_optimizer")
        super().__setstate__(state)
        if spec is not None:
            net = Network(spec["sizes"], spec["activation"], spec["output"], seed=0, dtype=spec["dtype"])
            theta = net.flat()[0]
            theta[...] = spec["theta"]                                   # a writable copy
            net.classes = spec["classes"]
            self._network = net
            if isinstance(opt, Optimizer) and opt.state:                 # writable optimizer state
                saved = {k: [np.array(a) for a in v] for k, v in opt.state.items()}
                t = opt.t
                opt.bind([theta])
                opt.state, opt.t = saved, t


class NLayerClassifier(ClassifierMixin, _BaseNLayer):
    """A multi-layer perceptron classifier trained by nlayer's back propagation.

    Drop-in for ``sklearn.neural_network.MLPClassifier`` (same parameters, see the module
    docstring for the few differences) plus ``dtype`` (None follows the input: float32
    stays float32, anything else becomes float64) and ``to_network()``.

    y may be labels (binary or multi-class: softmax output) or a 0/1 indicator matrix
    (multi-label: one sigmoid unit per label).
    """

    def _targets(self, X: Any, y: Any, first: bool, classes: Any) -> tuple[Array, Array, int, str]:
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32), reset=first)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} does not support {kind} targets; "
                             "use class labels or a 0/1 indicator matrix (multi-label)")
        self._multilabel = kind == "multilabel-indicator"
        if first:
            labels = unique_labels(y if classes is None else classes)
            self.classes_ = np.arange(y.shape[1]) if self._multilabel else labels
            if not self._multilabel and self.classes_.size < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y to train, "
                                 f"but y contains only one class: {self.classes_[0]!r}")
        else:
            self._check_classes(y, classes)
        if self._multilabel:
            return X, y, y.shape[1], "sigmoid"
        return X, y, self.classes_.size, "softmax"

    def _check_classes(self, y: Array, classes: Any) -> None:
        seen = np.arange(y.shape[1]) if self._multilabel else unique_labels(y)
        if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first call: {self.classes_!r}")
        if self.warm_start and classes is None and set(seen.tolist()) != set(self.classes_.tolist()):
            raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                             f"previous call to fit. Previously got {self.classes_}, `y` has {seen}")
        if np.setdiff1d(seen, self.classes_).size:
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                             f"'y' has {seen}.")

    def _Y(self, y: Array, dtype: np.dtype) -> Array:
        if self._multilabel:
            return np.ascontiguousarray(y, dtype=dtype)
        Y = np.zeros((y.shape[0], self.classes_.size), dtype=dtype)
        Y[np.arange(y.shape[0]), np.searchsorted(self.classes_, y)] = 1.0   # one-hot (m, k)
        return Y

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        return float(accuracy_score(y, self._decide(self._network.predict_proba(X)), sample_weight=sample_weight))

    def _decide(self, proba: Array) -> Array:
        if self._multilabel:
            return self._network.output.decide(proba)                   # 0/1 per label (m, k)
        return self.classes_[proba.argmax(axis=1)]                      # labels (m,)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NLayerClassifier:
        """Train on X (n_samples, n_features) and y (n_samples,) labels or (n_samples, n_labels) 0/1."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> NLayerClassifier:
        """One epoch over (X, y). ``classes`` (every label) is required on the first call."""
        if not hasattr(self, "_network") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities (n_samples, n_classes), rows summing to 1; per-label for multi-label."""
        X = self._prepare(X)
        return self._network.predict_proba(X)

    def predict_log_proba(self, X: Any) -> Array:
        """``log(predict_proba(X))`` (-inf where a probability underflowed to 0, as in scikit-learn)."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def predict(self, X: Any) -> Array:
        """Labels (n_samples,), or a 0/1 indicator matrix (n_samples, n_labels) for multi-label."""
        X = self._prepare(X)
        return self._decide(self._network.predict_proba(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NLayerRegressor(RegressorMixin, _BaseNLayer):
    """A multi-layer perceptron regressor (squared error, identity output) trained by
    nlayer's back propagation; the counterpart of ``sklearn.neural_network.MLPRegressor``.
    y may be (n_samples,) or (n_samples, n_outputs)."""

    def _targets(self, X: Any, y: Any, first: bool, classes: Any) -> tuple[Array, Array, int, str]:
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=first)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        k = 1 if y.ndim == 1 else y.shape[1]
        if not first and k != self.n_outputs_:
            raise ValueError(f"y has {k} outputs but the model was fitted with {self.n_outputs_}")
        return X, y, k, "identity"

    def _Y(self, y: Array, dtype: np.dtype) -> Array:
        return np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=dtype)

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        return float(r2_score(y, self._network.predict(X), sample_weight=sample_weight))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NLayerRegressor:
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_outputs)."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NLayerRegressor:
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> Array:
        """Predicted values, (n_samples,) or (n_samples, n_outputs)."""
        X = self._prepare(X)
        return self._network.predict(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
