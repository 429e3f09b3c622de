"""Weight initialisation from a ``np.random.Generator`` (never the global state).

Weights are drawn in float64 and then cast, so the same seed gives the same weights,
to rounding, whatever the network's dtype; biases start at zero.

- ``he``:     W ~ N(0, 2 / n_in)            (He et al. 2015; suits ReLU)
- ``xavier``: W ~ N(0, 2 / (n_in + n_out))  (Glorot & Bengio 2010; suits tanh, sigmoid)
- ``normal``: W ~ N(0, init_scale^2)        (CS231n's case study uses init_scale=0.01)
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError

INITS = ("he", "xavier", "normal")


def weight_std(init: str, n_in: int, n_out: int, init_scale: float) -> float:
    """The standard deviation of a (n_in, n_out) weight matrix under ``init``."""
    if init == "he":
        return math.sqrt(2.0 / n_in)
    if init == "xavier":
        return math.sqrt(2.0 / (n_in + n_out))
    if init == "normal":
        return float(init_scale)
    raise ConfigError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}")


def init_weights(
    rng: np.random.Generator, n_in: int, n_out: int, init: str, init_scale: float, dtype: np.dtype
) -> np.ndarray:
    """W of shape (n_in, n_out), drawn in float64 and cast to ``dtype``; ``ConfigError`` if
    ``init_scale`` is so large that a weight does not fit in ``dtype``."""
    std = weight_std(init, n_in, n_out, init_scale)
    with np.errstate(over="ignore"):                   # refused below, not warned about
        W = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)
    if not np.all(np.isfinite(W)):
        raise ConfigError(f"init_scale={init_scale:g} draws weights beyond the {np.dtype(dtype).name} range; "
                          "use a smaller init_scale (0.01 is usual)")
    return W
