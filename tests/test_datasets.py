from __future__ import annotations

import numpy as np

import nlayer


def test_spiral_is_the_case_studys_shape_and_labels(spiral):
    X, y = spiral
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.shape == (300,)
    assert np.array_equal(np.bincount(y), [100, 100, 100])


def test_spiral_without_noise_follows_radius_and_angle_linspaces():
    X, y = nlayer.datasets.spiral(n_per_class=50, n_classes=3, noise=0.0, dtype="float64")
    r = np.linspace(0, 1, 50)
    t = np.linspace(4.0, 8.0, 50)                        # class 1
    np.testing.assert_allclose(X[50:100], np.c_[r * np.sin(t), r * np.cos(t)])
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.tile(r, 3))


def test_spiral_is_reproducible_from_its_seed():
    a, _ = nlayer.datasets.spiral(seed=3)
    b, _ = nlayer.datasets.spiral(seed=3)
    c, _ = nlayer.datasets.spiral(seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
