"""Numerical gradient checking: the analytic dW, db of back propagation against central
differences, in float64, per parameter (W1, b1, W2, ...).

For every entry w of every parameter::

    numeric = (J(w + h) - J(w - h)) / (2 h)                       error O(h^2)

and per parameter the relative error ``||analytic - numeric|| / (||analytic|| + ||numeric||)``
(0 when both vanish). Below 1e-7 is right; around 1e-4 is suspicious; above 1e-2 is a bug.
ReLU-like activations have a kink at Z = 0: when a pre-activation lies within h of it, the
central difference straddles the kink and disagrees for a good reason; ``kinks`` counts
those so a reader can tell the two cases apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import positive, whole
from .activations import get_activation
from .network import Network, _check_l2, _check_lengths, as_generator
from .training import evaluate

Array = np.ndarray


@dataclass(frozen=True)
class ParameterCheck:
    """The check of one parameter: its lecture name, shape, and errors."""

    name: str
    shape: tuple[int, ...]
    relative_error: float
    max_abs_error: float
    checked: int


@dataclass(frozen=True)
class GradientCheckReport:
    """Per-parameter results, in the order W1, b1, W2, b2, ..."""

    parameters: tuple[ParameterCheck, ...]
    h: float
    kinks: int

    @property
    def max_relative_error(self) -> float:
        return max(p.relative_error for p in self.parameters)

    def passed(self, threshold: float = 1e-6) -> bool:
        return self.max_relative_error < threshold

    def __getitem__(self, name: str) -> ParameterCheck:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"no parameter {name!r}; have {', '.join(p.name for p in self.parameters)}")

    def as_dict(self) -> dict[str, float]:
        return {p.name: p.relative_error for p in self.parameters}

    def __str__(self) -> str:
        lines = [f"{'param':<6} {'shape':<12} {'relative error':>15} {'max abs error':>14}"]
        for p in self.parameters:
            lines.append(f"{p.name:<6} {str(p.shape):<12} {p.relative_error:>15.3e} {p.max_abs_error:>14.3e}")
        if self.kinks:
            lines.append(
                f"note: {self.kinks} pre-activations lie within 10h={10 * self.h:g} of the activation's kink "
                "at 0 (for example an input at the origin with zero biases). There the central difference "
                "averages the two slopes and disagrees with the lecture's [Z > 0] for a good reason, so the "
                "parameters they feed can show large errors: check on other rows, or after some training."
            )
        return "\n".join(lines)


def relative_error(a: Array, b: Array) -> float:
    """``||a - b|| / (||a|| + ||b||)``, 0 when both are zero."""
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0


def gradient_check(
    net: Network, X: Any, y: Any, l2: float = 0.0, h: float = 1e-6,
    max_entries: int | None = None, seed: int | np.random.Generator | None = 0,
) -> GradientCheckReport:
    """Compare back propagation with central differences on a float64 copy of ``net``.

    Args:
        X (m, n_in), y (m,) or (m, n_out): a small batch (20 rows is plenty).
        l2: include the L2 term in the loss being checked.
        h: the finite-difference step (> 0).
        max_entries: check at most this many entries (>= 1) per parameter (chosen at
            random with ``seed``); None checks all of them.
    """
    l2 = _check_l2(l2)
    h = positive("h", h)
    max_entries = None if max_entries is None else whole("max_entries", max_entries, 1, "a whole number >= 1 or None")
    net64 = net.copy("float64")
    Xp, Yp = net64.prepare_X(X), net64.prepare_Y(y)
    _check_lengths(Xp, Yp)
    net64.train_step(Xp, Yp, l2)        # analytic dW, db; the loss evaluations below leave them alone
    rng = as_generator(seed)
    results = []
    for name, param, analytic in zip(net64.parameter_names(), net64.parameters(), net64.gradients()):
        flat_idx = np.arange(param.size)
        if max_entries is not None and param.size > max_entries:
            flat_idx = np.sort(rng.choice(param.size, size=max_entries, replace=False))
        numeric = np.empty(flat_idx.size)
        view = param.reshape(-1)
        for j, i in enumerate(flat_idx):
            old = view[i]
            view[i] = old + h
            plus = _objective(net64, Xp, Yp, l2)
            view[i] = old - h
            minus = _objective(net64, Xp, Yp, l2)
            view[i] = old
            numeric[j] = (plus - minus) / (2 * h)
        a = analytic.reshape(-1)[flat_idx]
        results.append(ParameterCheck(
            name, tuple(param.shape), relative_error(a, numeric),
            float(np.max(np.abs(a - numeric))) if a.size else 0.0, int(flat_idx.size),
        ))
    return GradientCheckReport(tuple(results), h, _count_kinks(net64, Xp, h))


def _objective(net: Network, X: Array, Y: Array, l2: float) -> float:
    loss, _ = evaluate(net, X, Y, X.shape[0])
    return loss + net._l2_penalty(l2)


def _count_kinks(net: Network, X: Array, h: float) -> int:
    if not get_activation(net.activation).has_kink:
        return 0
    net.forward(X)
    return int(sum(np.count_nonzero(np.abs(layer.Z) < 10 * h) for layer in net.layers[:-1]))
