"""Checks at the estimators' boundary that scikit-learn's validation does not make: the
architecture a warm refit must keep, and X in the network's dtype."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._checks import as_float_array
from ..errors import ConfigError, DataError
from ..network import check_dtype

if TYPE_CHECKING:
    from ._base import _BaseNLayer

Array = np.ndarray
ACTIVATION_NAMES = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid",   # sklearn's and
                    "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}          # nlayer's names


def check_architecture(est: _BaseNLayer, sizes: list[int]) -> None:
    """warm_start and partial_fit train the fitted network on, so the parameters that shape
    it must still describe it (MLPClassifier crashes on a change, or ignores it)."""
    net = est._network
    fitted = {"hidden_layer_sizes": tuple(net.sizes[1:-1]), "activation": net.activation,
              "dtype": net.dtype.name}
    now = {"hidden_layer_sizes": tuple(sizes), "activation": ACTIVATION_NAMES[est.activation],
           "dtype": net.dtype.name if est.dtype is None else check_dtype(est.dtype).name}
    changed = [f"{p}={getattr(est, p)!r} (the fitted network has {fitted[p]!r})"
               for p in now if now[p] != fitted[p]]
    if changed:
        raise ConfigError(f"{', '.join(changed)}: warm_start and partial_fit go on training the "
                          "fitted network, whose architecture cannot change; fit with "
                          "warm_start=False to build a new one (or set the parameter back)")


def as_network_dtype(X: Array, dtype: np.dtype) -> Array:
    """Validated (finite) X as a C-contiguous array of the network's dtype. A value that dtype
    cannot hold (1e39 in float32) is refused naming its column, rather than becoming infinity."""
    try:
        return as_float_array(X, dtype, "X has values")
    except DataError:
        big = np.abs(X) > np.finfo(dtype).max                       # |x| > largest float32
        col = int(np.argmax(big.any(axis=0)))
        value = X[int(np.argmax(big[:, col])), col]
        raise DataError(f"X column {col} holds {value:g}, beyond the {dtype.name} range (largest "
                        f"{np.finfo(dtype).max:.3g}): {dtype.name} cannot hold it; rescale X or "
                        "use dtype='float64'") from None
