"""The solvers behind ``fit``: one (sample-weighted) forward and backward step, scipy's
L-BFGS on the flat parameter vector, and the sgd/adam loop over shuffled mini-batches.

Each solver reads the estimator's parameters and writes its fitted attributes
(``n_iter_``, ``loss_``, ``loss_curve_``, ...), as ``MLPClassifier``'s do.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import scipy.optimize
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from ..errors import DivergenceError
from ..network import Network
from ..optimizers import Momentum, Optimizer, make_optimizer
from ..training import _Batches, _check_batch_size
from ._stopping import should_stop, update_no_improvement, validation_split

if TYPE_CHECKING:
    from ._base import _BaseNLayer

Array = np.ndarray


def _row_losses(output: str, Z: Array, A: Array, Y: Array) -> Array:
    """Per-sample data loss (m,) from logits Z and outputs A, for weighted batches."""
    if output == "softmax":
        return logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1)           # -sum_k Y log softmax(Z)
    if output == "sigmoid":
        return np.sum(np.logaddexp(0.0, Z) - Y * Z, axis=1)          # sum_k softplus(Z) - Y Z
    return 0.5 * np.sum((A - Y) ** 2, axis=1)                         # (1/2) sum_k (A - Y)^2


def step(net: Network, X: Array, Y: Array, w: Array | None, alpha: float) -> float | None:
    """One forward and backward pass; fills the network's gradients, returns the loss.

    Unweighted, this is the core's ``train_step`` with ``l2 = alpha / m``. With sample
    weights ``w``, the fused output gradient becomes ``dZ[L] = w_i (A - Y) / sum(w)``,
    the loss ``sum_i w_i J_i / sum(w)`` and ``l2 = alpha / sum(w)`` (scikit-learn's
    weighting). Returns None for a batch whose weights are all zero (nothing to learn).
    """
    if w is None:
        return net.train_step(X, Y, float(alpha) / X.shape[0])
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
    if alpha:
        loss += net.add_l2(float(alpha) / s)
    return loss


# ------------------------------------------------------------------------- lbfgs
def fit_lbfgs(est: _BaseNLayer, X: Array, Y: Array, sw: Array | None) -> None:
    """scipy's L-BFGS-B on the flat parameter vector, nlayer's loss and gradients."""
    net = est._network
    theta, dtheta = net.flat()
    last = [math.inf]

    def fun(x: Array) -> tuple[float, Array]:
        theta[...] = x
        loss = est._step(X, Y, sw)
        last[0] = math.inf if loss is None else loss
        return last[0], dtheta.astype(np.float64)

    def record(xk: Array) -> None:                                  # after each iteration
        est.loss_curve_.append(last[0])
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {last[0]:.8f}")

    res = scipy.optimize.minimize(
        fun, theta.astype(np.float64), method="L-BFGS-B", jac=True, callback=record,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
    )
    theta[...] = res.x
    est.n_iter_ = min(int(res.nit), est.max_iter)
    est.loss_ = float(res.fun)
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
    if res.status != 0:
        warnings.warn(
            f"lbfgs failed to converge after {est.n_iter_} iteration(s) (status={res.status}): "
            f"{res.message}. Increase max_iter (or max_fun) or scale the data, e.g. with StandardScaler.",
            ConvergenceWarning, stacklevel=3,
        )


# -------------------------------------------------------------------- sgd, adam
def estimator_optimizer(est: _BaseNLayer) -> Optimizer:
    """``solver="adam"`` -> Adam; ``"sgd"`` -> Nesterov, Momentum or plain SGD by ``momentum``.

    ``momentum`` is in MLPClassifier's [0, 1]; the core's optimizers take [0, 1), so 1 (a
    velocity that never decays: ``v = v - lr dW``) is set after construction."""
    if est.solver == "adam":
        name = "adam"
    elif est.momentum > 0:
        name = "nesterov" if est.nesterovs_momentum else "momentum"
    else:
        name = "sgd"
    mu = float(est.momentum)
    opt = make_optimizer(name, float(est.learning_rate_init), momentum=mu if mu < 1.0 else 0.0,
                         beta1=float(est.beta_1), beta2=float(est.beta_2), eps=float(est.epsilon))
    if mu == 1.0 and isinstance(opt, Momentum):                     # Nesterov too
        opt.momentum = mu
    return opt


def fit_stochastic(est: _BaseNLayer, X: Array, y: Array, sw: Array | None, incremental: bool,
                   rng: np.random.Generator) -> None:
    """Epochs of mini-batches (one epoch for ``partial_fit``), with scikit-learn's learning-rate
    rules, early stopping and convergence test; the best weights are kept with early stopping."""
    net = est._network
    theta, _ = net.flat()
    if not incremental or est._optimizer is None:
        est._optimizer = estimator_optimizer(est)
        est._optimizer.bind([theta])
    opt = est._optimizer
    X_val = y_val = sw_val = None
    if est.early_stopping:
        X, X_val, y, y_val, sw, sw_val = validation_split(est, X, y, sw, rng)
    Y = est._Y(y, net.dtype)
    n = X.shape[0]
    batches = _Batches(X, Y, _batch_size(est.batch_size, n), est.shuffle)
    est.n_iter_ = 0
    for _ in range(est.max_iter):
        order = batches.shuffle(rng)                                # = rng.permutation(n), or None
        est.loss_ = _epoch(est, opt, batches, order, sw) / n
        est.n_iter_ += 1
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        update_no_improvement(est, X_val, y_val, sw_val)
        if est.learning_rate == "invscaling" and est.solver == "sgd":
            opt.lr = float(est.learning_rate_init) / (est.t_ + 1) ** float(est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            if should_stop(est, opt):
                break
            est._no_improvement_count = 0
        if incremental:
            break
        if est.n_iter_ == est.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3,
            )
    if est.early_stopping:
        theta[...] = est._best_theta


def _batch_size(batch_size: int | str, n: int) -> int:
    """``"auto"`` is min(200, n), as MLPClassifier's; above n, clamped to n by the core's check,
    whose warning points at the user's ``fit`` or ``partial_fit`` line (``stacklevel=6``; tested)."""
    return _check_batch_size(min(200, n) if batch_size == "auto" else int(batch_size), n, stacklevel=6)


def _epoch(est: _BaseNLayer, opt: Optimizer, batches: _Batches, order: Array | None, sw: Array | None) -> float:
    """One pass of optimizer steps over the batches in ``order``; returns the sum over
    batches of loss x batch rows."""
    net = est._network
    theta, dtheta = net.flat()
    total = 0.0
    for start, stop, Xb, Yb in batches.epoch(order):
        w = None if sw is None else sw[start:stop] if order is None else sw[order[start:stop]]
        loss = est._step(Xb, Yb, w)
        if loss is None:
            continue
        if not math.isfinite(loss):
            raise DivergenceError(
                f"training diverged in iteration {est.n_iter_ + 1}: the loss became {loss}; "
                f"lower learning_rate_init (it is {est.learning_rate_init:g}) or scale the data",
                epoch=est.n_iter_,
            )
        total += loss * Xb.shape[0]
        opt.step([theta], [dtheta])
    return total
