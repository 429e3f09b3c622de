"""``coefs_`` and ``intercepts_`` as scikit-learn has them: the model's own arrays.

Reading either gives a list of the network's live arrays (``W`` of each layer, or ``b``):
editing one in place changes the predictions. Assigning the attribute, or one item of
the list, copies the new arrays into the network after checking their number, shapes and
values; the list's other operations (``append``, ``del``) act on that list only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from ..network import Network, all_finite

Array = np.ndarray


class LayerArrays(list):
    """One parameter array per layer (``W`` or ``b``), live; ``[i] = array`` writes into the network."""

    def __init__(self, net: Network, attr: str, name: str) -> None:
        super().__init__(getattr(layer, attr) for layer in net.layers)
        self._net, self._attr, self._name = net, attr, name

    def __setitem__(self, key: Any, value: Any) -> None:
        arrays = list(self)
        arrays[key] = value                         # list semantics, int or slice
        assign(self._net, self._attr, self._name, arrays)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Copies and pickles are plain lists (of copied arrays, for deepcopy and pickle)."""
        return list, (list(self),)


def assign(net: Network, attr: str, name: str, values: Any) -> None:
    """Copy ``values`` (one array per layer) into each layer's ``attr``; nothing is written
    unless every array has its layer's shape and finite numbers (cast to the network's dtype)."""
    if not isinstance(values, (list, tuple)):
        raise DataError(f"{name} must be a list of {len(net.layers)} arrays, one per layer; "
                        f"got {type(values).__name__}")
    if len(values) != len(net.layers):
        raise DataError(f"{name} must hold {len(net.layers)} arrays, one per layer; got {len(values)}")
    arrays = []
    for l, (layer, value) in enumerate(zip(net.layers, values)):
        target = getattr(layer, attr)
        a = np.asarray(value)
        if a.shape != target.shape:
            raise DataError(f"{name}[{l}] must have shape {target.shape}, got {a.shape}")
        if a.dtype.kind not in "biuf":
            raise DataError(f"{name}[{l}] must hold real numbers; got dtype {a.dtype}")
        with np.errstate(over="ignore"):
            a = a.astype(target.dtype)              # float64 -> float32 may overflow to inf
        if not all_finite(a):
            raise DataError(f"{name}[{l}] must hold finite {target.dtype} numbers; it has NaN, "
                            "infinity or values out of that range")
        arrays.append(a)
    for layer, a in zip(net.layers, arrays):
        getattr(layer, attr)[...] = a


def layer_arrays(attr: str, name: str, doc: str) -> Any:
    """A fitted attribute ``name`` over every layer's ``attr`` (see the module docstring)."""

    def get(est: Any) -> LayerArrays:
        check_is_fitted(est)
        return LayerArrays(est._network, attr, name)

    def put(est: Any, values: Any) -> None:
        check_is_fitted(est)
        assign(est._network, attr, name, values)

    return property(get, put, doc=doc)
