"""Standardisation statistics: each column's mean and scale, for the inputs X
(``Network.fit_input_scaling``) and for regression targets (``Network.fit_target_scaling``).

Computed in float64 whatever the data's dtype, without a data-sized float64 copy, then
stored in the network's dtype; a column that cannot be standardised in that dtype is
refused, naming it.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError

Array = np.ndarray


def scaling_statistics(X: Array, dtype: np.dtype, name: str = "X") -> tuple[Array, Array]:
    """``(mean, scale)`` of ``Network.fit_input_scaling`` (and ``fit_target_scaling``) for a
    prepared X (m, n) of ``dtype``: each column's mean and standard deviation (1 for a constant
    column), (n,) each.

    They are computed in float64 (:func:`column_statistics`), so float32 columns of any
    size it holds (1e30 and beyond) standardise, and are then stored in ``dtype``, where they
    always fit (``|mean|`` and ``std`` are at most the largest ``|x|``). ``DataError`` naming
    the column when standardising X itself would overflow ``dtype``: the value farthest from
    the mean is more than its largest number away (values of both signs near its range).
    """
    if X.shape[0] == 0:
        raise DataError(f"{name} has no rows; at least one sample is needed")
    mu, sigma = column_statistics(X)                        # float64 (n,) each
    mean, std = mu.astype(dtype), sigma.astype(dtype)
    tiny = np.flatnonzero((sigma > 0) & (std == 0))          # a spread below the dtype's smallest number
    if tiny.size:
        j = int(tiny[0])
        raise DataError(f"{name}[:, {j}] varies by about {float(sigma[j]):.3g}, too little to standardise in "
                        f"{dtype.name} (its smallest number is {float(np.finfo(dtype).smallest_subnormal):.3g}); "
                        "rescale the column" + (" or use dtype='float64'" if dtype != np.float64 else ""))
    scale = np.where(std > 0, std, 1.0).astype(dtype)
    with np.errstate(over="ignore"):                         # max |X - mean| / scale, as standardize computes it
        far = (np.maximum(X.max(axis=0) - mean, mean - X.min(axis=0)) / scale).astype(dtype)
    bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(scale) & np.isfinite(far)))
    if bad.size:
        j = int(bad[0])
        fix = " or use dtype='float64'" if dtype != np.float64 else ""
        raise DataError(
            f"{name}[:, {j}] holds values from {float(X[:, j].min()):.3g} to {float(X[:, j].max()):.3g}, too far "
            f"from their mean {float(mu[j]):.3g} to standardise in {dtype.name} (the differences overflow); "
            f"rescale the column{fix}"
        )
    return mean, scale


def column_statistics(X: Array, chunk: int = 2**16) -> tuple[Array, Array]:
    """Mean and standard deviation of each column of X (m, n), float64 (n,) each, whatever
    X's dtype, without an X-sized float64 temporary.

    Each column is divided by its largest ``|x|`` (``s``; 1 for a zero column), so that no
    sum or square can overflow even for float64 X near its range::

        z = x / s              |z| <= 1
        mean = s mean(z)       std = s sqrt(mean((z - mean(z))^2))

    both passes over X run in chunks of rows, float64 copies of about ``chunk`` values.
    """
    m, n = X.shape
    s = np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)   # largest |x|           (n,)
    s[s == 0] = 1.0
    rows = max(1, chunk // max(1, n))
    mean_z = np.zeros(n)
    for i in range(0, m, rows):
        mean_z += np.sum(X[i : i + rows] / s, axis=0)                    # sum z
    mean_z /= m                                                          # mean(z)              (n,)
    ss = np.zeros(n)
    for i in range(0, m, rows):
        ss += np.sum(np.square(X[i : i + rows] / s - mean_z), axis=0)   # sum (z - mean(z))^2
    with np.errstate(over="ignore"):               # only at float64's very edge; refused by the caller
        return s * mean_z, s * np.sqrt(ss / m)
