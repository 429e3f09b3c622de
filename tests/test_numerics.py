"""Stable numerics: extreme logits, saturated probabilities, no warnings (pytest runs -W error).

The exact losses of saturated softmax and sigmoid outputs are pinned in test_divergence.py."""

from __future__ import annotations

import numpy as np
import pytest

import nlayer


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_logits_of_plus_minus_1000_give_finite_loss_and_gradients(dtype, output):
    net = nlayer.Network([2, 3], output=output, seed=0, dtype=dtype)
    net.layers[0].W[...] = np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 1000.0]])
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    y = np.array([0, 1, 2, 0]) if output == "softmax" else np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 0]])
    loss, grads = net.loss_and_gradients(X, y)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)
    P = net.predict_proba(X)
    assert np.all(np.isfinite(P)) and P.min() >= 0 and P.max() <= 1


def test_softmax_probabilities_sum_to_one(spiral):
    X, _ = spiral
    P = nlayer.Network([2, 100, 3], seed=0).predict_proba(X)
    assert P.shape == (300, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
