"""When the sgd/adam loop stops: scikit-learn's early stopping (a held-out validation split
and its score) and convergence test (``n_iter_no_change`` epochs without a ``tol`` improvement)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split

from ..errors import ConfigError
from ..optimizers import Optimizer

if TYPE_CHECKING:
    from ._base import _BaseNLayer

Array = np.ndarray
MIN_ADAPTIVE_LR = 1e-6   # learning_rate="adaptive" stops once the rate falls to this (as scikit-learn)


def tracks_validation(est: _BaseNLayer) -> bool:
    """Whether ``fit`` scores a validation split: early stopping with sgd or adam (lbfgs has none)."""
    return bool(est.early_stopping) and est.solver != "lbfgs"


def check_early_stopping(est: _BaseNLayer) -> None:
    """Refuse early stopping without a validation split before anything is built or trained
    (MLPClassifier refuses it too: "The validation set is too small")."""
    if tracks_validation(est) and est.validation_fraction == 0:
        raise ConfigError("validation_fraction=0.0 leaves no validation set for early_stopping=True; "
                          "set validation_fraction in (0, 1), e.g. 0.1, or early_stopping=False")


def start_tracking(est: _BaseNLayer) -> None:
    """Fresh convergence state: for a new network, and for a warm refit that turns early
    stopping on (its scores and best weights are then this refit's own) or off."""
    est._no_improvement_count = 0
    if tracks_validation(est):
        est.validation_scores_ = []
        est.best_validation_score_ = -np.inf          # the first epoch's weights beat it
        est.best_loss_ = None
    else:
        est.validation_scores_ = est.best_validation_score_ = None
        est.best_loss_ = np.inf


def validation_split(est: _BaseNLayer, X: Array, y: Array, sw: Array | None, rng: np.random.Generator) -> tuple:
    """Hold out ``ceil(validation_fraction n)`` rows, at least 2 (stratified by class when
    every class can be represented on both sides): X, X_val, y, y_val, sw, sw_val."""
    n = X.shape[0]
    n_val = max(2, math.ceil(est.validation_fraction * n))
    if n - n_val < 1:
        raise ValueError(f"early_stopping needs at least 3 samples, got n_samples = {n}; "
                         "set early_stopping=False or provide more data")
    stratify = None
    if isinstance(est, ClassifierMixin) and y.ndim == 1:
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= 2 and min(n_val, n - n_val) >= counts.size:
            stratify = y
    idx_train, idx_val = train_test_split(
        np.arange(n), test_size=n_val, random_state=int(rng.integers(2**31 - 1)), stratify=stratify,
    )
    est._best_theta = est._network.flat()[0].copy()
    sw_train, sw_val = (None, None) if sw is None else (sw[idx_train], sw[idx_val])
    return X[idx_train], X[idx_val], y[idx_train], y[idx_val], sw_train, sw_val


def update_no_improvement(est: _BaseNLayer, X_val: Array | None, y_val: Array | None, sw_val: Array | None) -> None:
    """scikit-learn's rule: count epochs that do not improve the best value by ``tol`` (the
    validation score with early stopping, else the training loss); keep the best weights."""
    if X_val is not None and y_val is not None and est.validation_scores_ is not None:
        score = est._score_network(X_val, y_val, sw_val)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        best = -np.inf if est.best_validation_score_ is None else est.best_validation_score_
        est._no_improvement_count = est._no_improvement_count + 1 if score < best + est.tol else 0
        if score > best:
            est.best_validation_score_ = score
            est._best_theta[...] = est._network.flat()[0]
        return
    best = np.inf if est.best_loss_ is None else est.best_loss_
    last = est.loss_curve_[-1]
    est._no_improvement_count = est._no_improvement_count + 1 if last > best - est.tol else 0
    est.best_loss_ = min(best, last)


def should_stop(est: _BaseNLayer, opt: Optimizer) -> bool:
    """After n_iter_no_change bad epochs: stop, or divide the rate by 5 ("adaptive" sgd)."""
    what = "Validation score" if est.early_stopping else "Training loss"
    msg = f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
    if est.solver == "sgd" and est.learning_rate == "adaptive" and opt.lr > MIN_ADAPTIVE_LR:
        opt.lr /= 5.0
        if est.verbose:
            print(f"{msg} Setting learning rate to {opt.lr:f}")
        return False
    if est.verbose:
        print(f"{msg} Stopping.")
    return True
