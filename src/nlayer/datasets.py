"""Built-in data: the spiral of CS231n's neural network case study.

``spiral(100, 3)`` is the lecture's data: X (300, 2), y (300,) in {0, 1, 2}. Class j has
points at radius ``linspace(0, 1, n)`` and angle ``linspace(4 j, 4 (j + 1), n)`` plus
Gaussian noise of standard deviation ``noise`` (0.2 in the case study)::

    X[i] = (r sin t, r cos t)
"""

from __future__ import annotations

import numpy as np

from ._checks import non_negative, whole
from .network import as_generator, check_dtype


def spiral(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
    seed: int | np.random.Generator | None = 0, dtype: str = "float32",
) -> tuple[np.ndarray, np.ndarray]:
    """The spiral data set: X (n_per_class * n_classes, 2) of ``dtype``, y (same,) int64."""
    N, n_classes = whole("n_per_class", n_per_class, 1), whole("n_classes", n_classes, 2)
    noise = non_negative("noise", noise)
    rng = as_generator(seed)
    X = np.zeros((N * n_classes, 2))
    y = np.zeros(N * n_classes, dtype=np.int64)
    for j in range(n_classes):
        ix = slice(N * j, N * (j + 1))
        r = np.linspace(0.0, 1.0, N)                                            # radius
        t = np.linspace(j * 4.0, (j + 1) * 4.0, N) + rng.standard_normal(N) * noise   # angle
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X.astype(check_dtype(dtype)), y
