"""NLayerClassifier and NLayerRegressor: what differs between them (targets, outputs,
scores, predictions); everything else is the shared base in ``_base``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from ..errors import DataError
from ._base import _BaseNLayer

Array = np.ndarray


class NLayerClassifier(ClassifierMixin, _BaseNLayer):
    """A multi-layer perceptron classifier trained by nlayer's back propagation.

    Drop-in for ``sklearn.neural_network.MLPClassifier`` (same parameters, see the
    ``nlayer.sklearn`` docstring for the few differences) plus ``dtype`` (None follows the
    input: float32 stays float32, anything else becomes float64) and ``to_network()``.

    y may be labels (binary or multi-class: softmax output) or a 0/1 indicator matrix
    (multi-label: one sigmoid unit per label).
    """

    def _targets(self, X: Any, y: Any, first: bool, classes: Any) -> tuple[Array, Array, int, str]:
        """Checks everything before it sets ``classes_`` and ``_multilabel`` (first call only):
        a refused call leaves the fitted classifier as it was."""
        X, y = self._validate_xy(X, y, first, y_numeric=False)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} does not support {kind} targets; "
                             "use class labels or a 0/1 indicator matrix (multi-label)")
        multilabel = kind == "multilabel-indicator"
        if first:
            labels = np.arange(y.shape[1]) if multilabel else unique_labels(y if classes is None else classes)
            if not multilabel and classes is not None:
                _check_known(unique_labels(y), labels)                  # partial_fit(classes=...)
            if not multilabel and labels.size < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y to train, "
                                 f"but y contains only one class: {labels[0]!r}")
            self.classes_, self._multilabel = labels, multilabel
        else:
            _check_same_kind(multilabel, self._multilabel)
            self._check_classes(y, classes)
        if multilabel:
            return X, y, y.shape[1], "sigmoid"
        return X, y, self.classes_.size, "softmax"

    def _check_classes(self, y: Array, classes: Any) -> None:
        seen = np.arange(y.shape[1]) if self._multilabel else unique_labels(y)
        if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes={classes!r} differs from the classes of the first call: {self.classes_!r}")
        if self.warm_start and classes is None and set(seen.tolist()) != set(self.classes_.tolist()):
            raise DataError("warm_start can only be used where `y` has the same classes as in the "
                            f"previous call to fit. Previously got {self.classes_}, `y` has {seen}")
        _check_known(seen, self.classes_)

    def _Y(self, y: Array, dtype: np.dtype) -> Array:
        """Labels -> indices into ``classes_`` (one-hot by the softmax output); multi-label y as is.
        A label not in ``classes_`` raises (``searchsorted`` alone would give it a neighbour's index)."""
        if self._multilabel:
            return super()._Y(y, dtype)
        k = self.classes_.size
        idx = np.searchsorted(self.classes_, y)
        if not np.array_equal(self.classes_[np.minimum(idx, k - 1)], y):  # a label searchsorted missed
            _check_known(unique_labels(y), self.classes_)                 # raises: classes_ is sorted
        return super()._Y(idx, dtype)

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        return float(accuracy_score(y, self._decide(self._network.predict_proba(X)), sample_weight=sample_weight))

    def _decide(self, proba: Array) -> Array:
        if self._multilabel:
            return self._network.output.decide(proba)                   # 0/1 per label (m, k)
        return self.classes_[proba.argmax(axis=1)]                      # labels (m,)

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


def _check_same_kind(multilabel: bool, fitted_multilabel: bool) -> None:
    """A later call must bring the kind of target the model was fitted with (MLPClassifier's
    LabelBinarizer words); a new kind needs a new output layer, i.e. a fresh ``fit``."""
    fix = "or call fit with warm_start=False to start a new model"
    if multilabel and not fitted_multilabel:
        raise DataError("The object was not fitted with multilabel input: it was fitted with class "
                        f"labels, and y is a 0/1 indicator matrix; pass class labels, {fix}")
    if fitted_multilabel and not multilabel:
        raise DataError("The object was fitted with multilabel input: y must be a 0/1 indicator "
                        f"matrix (n_samples, n_labels), not class labels: pass one, {fix}")


def _check_known(seen: Array, classes: Array) -> None:
    """MLPClassifier's error for labels ``seen`` in y that are not in ``classes`` (a DataError)."""
    kinds = {np.asarray(seen).dtype.kind, np.asarray(classes).dtype.kind}
    # strings against numbers share no label (NumPy 1.24's setdiff1d would warn comparing them)
    disjoint = bool(kinds & set("US")) and bool(kinds & set("biuf"))
    unknown = np.unique(seen) if disjoint else np.setdiff1d(seen, classes)
    if unknown.size:
        raise DataError(f"`y` has classes not in `self.classes_`. `self.classes_` has {classes}. "
                        f"'y' has {seen}. Not in `self.classes_`: {unknown}.")


class NLayerRegressor(RegressorMixin, _BaseNLayer):
    """A multi-layer perceptron regressor (squared error, identity output) trained by
    nlayer's back propagation; the counterpart of ``sklearn.neural_network.MLPRegressor``.
    y may be (n_samples,) or (n_samples, n_outputs).

    ``loss`` is MLPRegressor's parameter; nlayer has only ``"squared_error"`` (no
    ``"poisson"``), and takes it by keyword only (MLPRegressor: first positional).
    """

    _parameter_constraints: dict = {**_BaseNLayer._parameter_constraints,
                                    "loss": [StrOptions({"squared_error"})]}

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        loss: str = "squared_error",
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
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
            beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dtype=dtype,
        )
        self.loss = loss

    def _targets(self, X: Any, y: Any, first: bool, classes: Any) -> tuple[Array, Array, int, str]:
        X, y = self._validate_xy(X, y, first, y_numeric=True)
        k = 1 if y.ndim == 1 else y.shape[1]
        if not first and k != self.n_outputs_:
            raise ValueError(f"y has {k} outputs but the model was fitted with {self.n_outputs_}")
        return X, y, k, "identity"

    def _score_network(self, X: Array, y: Array, sample_weight: Array | None) -> float:
        return float(r2_score(y, self._network.predict(X), sample_weight=sample_weight))

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
