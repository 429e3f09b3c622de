"""Stable numerics: extreme logits, saturated probabilities, no warnings (pytest runs -W error).

The exact losses of saturated softmax and sigmoid outputs are pinned in test_divergence.py."""

from __future__ import annotations

import warnings

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


BEYOND = "beyond the float32 range (largest 3.4e+38); rescale or use dtype='float64'"


@pytest.mark.parametrize(("call", "message"), [
    (lambda net, X, y: net.predict(X), "X has values " + BEYOND),
    (lambda net, X, y: net.fit(X, y, epochs=1), "X has values " + BEYOND),
    (lambda net, X, y: net.loss(np.ones((3, 2)), np.full((3, 1), -1e39)), "targets have values " + BEYOND),
    (lambda net, X, y: net.fit(np.ones((3, 2)), [1.0, 2e39, 3.0], epochs=1), "targets have values " + BEYOND),
], ids=["predict-X", "fit-X", "loss-targets", "fit-targets"])
def test_finite_values_beyond_float32_are_named_as_such_without_a_warning(call, message):
    net = nlayer.Network([2, 4, 1], output="identity", seed=0)
    X = np.array([[0.0, 1.0], [1e39, 0.0], [0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                           # not NumPy's "overflow encountered in cast"
        with pytest.raises(nlayer.errors.DataError) as err:
            call(net, X, np.zeros(3))
    assert str(err.value) == message


def test_values_beyond_float32_fit_a_float64_network_and_nan_is_still_called_nan():
    net = nlayer.Network([2, 4, 1], output="identity", seed=0, dtype="float64")
    X = np.array([[1e39, 0.0], [0.0, 1.0]])
    assert np.all(np.isfinite(net.predict(X)))
    net.fit(X, [1e39, 0.0], epochs=1, lr=1e-90)
    with pytest.raises(nlayer.errors.DataError, match="X contains NaN or infinity"):
        nlayer.Network([2, 3]).predict(np.array([[np.nan, 3e38], [np.inf, 1.0]]))


def test_whole_float_labels_beyond_int64_are_out_of_range_not_a_cast_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(nlayer.errors.DataError, match="integers in 0..2 for 3 outputs"):
            nlayer.Network([2, 3]).fit(np.zeros((3, 2)), np.array([0.0, 1.0, 1e30]), epochs=1)
