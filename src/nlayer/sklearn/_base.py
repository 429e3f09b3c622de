"""The base of both estimators: parameters, ``fit``, initialisation, prediction plumbing
and pickling. The solvers are in ``_solvers``; what differs per estimator in ``_estimators``."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, TypeVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from .._checks import is_whole
from ..errors import DivergenceError
from ..network import Network, all_finite, check_dtype
from ..optimizers import Optimizer
from ._checks import ACTIVATION_NAMES, as_network_dtype, check_architecture
from ._solvers import fit_lbfgs, fit_stochastic, step
from ._stopping import check_early_stopping, start_tracking, tracks_validation
from ._weights import layer_arrays

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def validate_data(_estimator: Any, /, *args: Any, **kwargs: Any) -> Any:
        return _estimator._validate_data(*args, **kwargs)

Array = np.ndarray
E = TypeVar("E", bound="_BaseNLayer")

SKLEARN_OUTPUT_NAMES = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}


class _BaseNLayer(BaseEstimator):
    """Parameters, validation and the training entry shared by both estimators."""

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
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],    # 0 with early stopping: refused at fit
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype],
    }

    # state the solvers keep between calls (set in _build, _solvers and _stopping)
    _network: Network
    _optimizer: Optimizer | None
    _best_theta: Array
    _no_improvement_count: int
    n_iter_: int
    t_: int
    loss_: float
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    best_validation_score_: float | None
    best_loss_: float | None

    coefs_ = layer_arrays("W", "coefs_", "The weights W (n_in, n_out) of each layer: the model's own arrays.")
    intercepts_ = layer_arrays("b", "intercepts_", "The biases b (n_out,) of each layer: the model's own arrays.")

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
        """Dense (m, k) network targets from validated y: the output layer's own ``targets``
        (one-hot from class indices, a (m, 1) column from values)."""
        return self._network.output.targets(y, self.n_outputs_, dtype)

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        """The estimator's ``score`` (accuracy or R2) of the current network on (X, y)."""
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------- fit
    def fit(self: E, X: Any, y: Any, sample_weight: Any = None) -> E:
        """Train on X (n_samples, n_features) and y: class labels (n_samples,) or a 0/1 indicator
        matrix (n_samples, n_labels) for the classifier; values (n_samples,) or (n_samples, n_outputs)
        for the regressor. ``sample_weight`` (n_samples,) weights each row's loss."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self: E, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None) -> E:
        """Every check first, then the changes: a refused warm refit or ``partial_fit`` leaves
        the model as it was; a refused fresh fit leaves it not fitted (its old network is gone)."""
        self._validate_params()
        check_early_stopping(self)
        sizes = self._hidden_sizes()
        first = not hasattr(self, "_network") or (not self.warm_start and not incremental)
        if not first:
            check_architecture(self, sizes)
        elif hasattr(self, "_network"):
            del self._network                   # validate_data below resets n_features_in_ & co.
        X, y, k, output = self._targets(X, y, first, classes)
        dtype = self._network.dtype if not first else self._dtype(X.dtype)
        X = as_network_dtype(X, dtype)
        sw = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=dtype)
        if sw is not None and np.any(sw < 0):
            raise ValueError("sample_weight must be non-negative")
        if first:
            self._build(X.shape[1], sizes, k, output, dtype)
        elif (self.validation_scores_ is not None) != tracks_validation(self):
            start_tracking(self)                # early stopping turned on (or off) for this refit
        net = self._network
        rng = self._rng()
        with np.errstate(over="ignore", invalid="ignore"):             # divergence is reported below
            if self.solver == "lbfgs":
                fit_lbfgs(self, X, self._Y(y, net.dtype), sw)
            else:
                fit_stochastic(self, X, y, sw, incremental, rng)
        theta, _ = net.flat()
        if not all_finite(theta):
            raise DivergenceError(
                "the solver produced non-finite weights; standardise the inputs (StandardScaler) "
                f"or lower learning_rate_init (it is {self.learning_rate_init:g})"
            )
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once a network exists: a first fit refused before building one is not
        fitted, whatever attributes (``n_features_in_``) it set on the way."""
        return hasattr(self, "_network")

    def _dtype(self, X_dtype: np.dtype) -> np.dtype:
        """The network's dtype: ``dtype``, or the input's (validated: float32 or float64) for None."""
        return check_dtype(self.dtype) if self.dtype is not None else np.dtype(X_dtype)

    def _rng(self) -> np.random.Generator:
        """A generator drawn from ``random_state`` (scikit-learn's int, RandomState or None)."""
        return np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))

    def _step(self, X: Array, Y: Array, w: Array | None) -> float | None:
        """One forward and backward pass with this estimator's ``alpha`` (see ``_solvers.step``)."""
        return step(self._network, X, Y, w, float(self.alpha))

    def _validate_xy(self, X: Any, y: Any, first: bool, y_numeric: bool) -> tuple[Array, Array]:
        """scikit-learn's checks of (X, y); a column vector y (m, 1) becomes (m,) with a warning."""
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=y_numeric,
                             dtype=(np.float64, np.float32), reset=first)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _hidden_sizes(self) -> list[int]:
        h = self.hidden_layer_sizes
        sizes = list(h) if hasattr(h, "__iter__") else [h]
        if not all(is_whole(s) and int(s) >= 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be whole numbers >= 1, got {h!r}")
        return [int(s) for s in sizes]

    def _build(self, n_in: int, hidden: list[int], k: int, output: str, dtype: np.dtype) -> None:
        """A fresh network with scikit-learn's initialisation, and every fitted attribute reset."""
        g = ACTIVATION_NAMES[self.activation]
        rng = self._rng()
        self._network = Network([n_in, *hidden, k], activation=g, output=output, seed=0, dtype=dtype)
        _glorot_uniform(self._network, 2.0 if g == "sigmoid" else 6.0, rng)
        if hasattr(self, "classes_"):
            self._network.classes = self.classes_.tolist()
        self._optimizer = None
        self.n_layers_ = len(self._network.sizes)
        self.n_outputs_ = k
        self.out_activation_ = SKLEARN_OUTPUT_NAMES[output]
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        start_tracking(self)

    # ------------------------------------------------------------- predicting
    def _prepare(self, X: Any) -> Array:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return as_network_dtype(X, self._network.dtype)

    def to_network(self) -> Network:
        """A copy of the trained ``nlayer.Network`` (with ``classes`` for a classifier):
        ``nlayer.gradient_check``, saving and the lecture's equations all work on it.
        Its labels are the ones a model file holds (see ``saveable_labels``); fitted on a
        DataFrame, its ``feature_names`` are the columns' (``feature_names_in_``)."""
        check_is_fitted(self)
        net = self._network.copy()
        if net.classes is not None:
            net.classes = saveable_labels(net.classes)
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(names) == net.n_inputs:
            net.feature_names = [str(n) for n in names]
        return net

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
        state.pop("coefs_", None)                                       # copies in older pickles
        state.pop("intercepts_", None)
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


def saveable_labels(labels: list[Any]) -> list[Any]:
    """Class labels as a model file holds them (strings or ints), each ``==`` the original:
    booleans become 0 and 1, whole-number floats (``2.0``; a pandas ``Int64`` target) ints.
    Other labels stay (scikit-learn trains on none; ``nlayer.save`` would refuse them)."""
    whole = (isinstance(c, (Integral, np.bool_)) or (isinstance(c, Real) and float(c).is_integer()) for c in labels)
    return [int(c) for c in labels] if all(whole) else labels


def _glorot_uniform(net: Network, factor: float, rng: np.random.Generator) -> None:
    """MLPClassifier's initialisation: W, b ~ U(-bound, bound), bound = sqrt(factor / (n_in + n_out))."""
    for layer in net.layers:
        bound = math.sqrt(factor / (layer.n_in + layer.n_out))
        layer.W[...] = rng.uniform(-bound, bound, layer.W.shape)    # W ~ U(-bound, bound)
        layer.b[...] = rng.uniform(-bound, bound, layer.b.shape)    # b ~ U(-bound, bound)
