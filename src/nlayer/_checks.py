"""Checks at the boundary, shared by every module that takes hyper-parameters or data.

Hyper-parameters: a number is a Python or a NumPy number alike (``numbers.Real``, ``numbers.Integral``: an
``np.float32`` learning rate from a sweep, an ``np.int64`` patience), never a bool (``True``
is not a learning rate), and comes back as a Python ``float`` or ``int``, so a NumPy scalar
never upcasts float32 arrays. Each refusal is a ``ConfigError`` naming the parameter, what
it must be, and the value that came.

Arrays: :func:`as_array` and :func:`as_float_array` turn what NumPy refuses or warns
about (ragged nested lists; finite values beyond float32's range) into a ``DataError``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import ConfigError, DataError


def is_real(value: Any) -> bool:
    """A real number (Python or NumPy, finite or not) that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_whole(value: Any) -> bool:
    """An integer (Python or NumPy) that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def real(name: str, value: Any, requirement: str, ok: Callable[[float], bool]) -> float:
    """``value`` as a float if it is a real number for which ``ok`` holds, else
    ``ConfigError("{name} must be {requirement}; got {value!r}")``."""
    try:
        good = is_real(value) and ok(float(value))
    except OverflowError:                        # an int beyond float's range
        good = False
    if not good:
        raise ConfigError(f"{name} must be {requirement}; got {value!r}")
    return float(value)


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (learning rates, eps, init_scale, step sizes)."""
    return real(name, value, "a positive finite number", lambda v: 0 < v < math.inf)


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0 (L2 strength, min_delta, noise)."""
    return real(name, value, "a finite number >= 0", lambda v: 0 <= v < math.inf)


def fraction(name: str, value: Any) -> float:
    """A number in [0, 1) (momentum, beta1, beta2, validation_fraction)."""
    return real(name, value, "in [0, 1)", lambda v: 0 <= v < 1)


def whole(name: str, value: Any, low: int, requirement: str | None = None) -> int:
    """``value`` as an int if it is an integer >= ``low``, else ``ConfigError`` saying
    ``{name} must be {requirement}`` (default: ``a whole number >= {low}``)."""
    if not is_whole(value) or value < low:
        raise ConfigError(f"{name} must be {requirement or f'a whole number >= {low}'}; got {value!r}")
    return int(value)


def as_array(values: Any, name: str) -> np.ndarray:
    """``np.asarray(values)``; ``DataError`` for ragged nested lists, which NumPy refuses."""
    try:
        return np.asarray(values)
    except ValueError as e:
        raise DataError(f"{name} is ragged: NumPy cannot make an array of it ({e}); "
                        "give every row the same number of values") from None


def as_float_array(values: np.ndarray, dtype: np.dtype, name: str, copy: bool = False) -> np.ndarray:
    """``values`` as a C-contiguous array of ``dtype`` (a copy if ``copy``); ``DataError``
    naming ``name`` when a finite value does not fit in it (1e39 in float32) instead of
    NumPy's overflow warning and an infinity. NaN and infinity pass: callers refuse those."""
    try:
        with np.errstate(over="raise"):          # raised by a finite value rounding to infinity only
            return np.array(values, dtype=dtype, order="C") if copy else np.ascontiguousarray(values, dtype=dtype)
    except FloatingPointError:
        raise DataError(f"{name} beyond the {dtype.name} range (largest {np.finfo(dtype).max:.3g}); "
                        "rescale or use dtype='float64'") from None
