"""The lecture's exact network: [2, 4, 3] on the spiral, every step of the notes."""

from __future__ import annotations

import numpy as np

import nlayer


def test_every_intermediate_has_the_shape_the_notes_give(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    net.loss_and_gradients(X, y)
    L1, L2 = net.layers
    shapes = {
        "X": X.shape, "W1": L1.W.shape, "W2": L2.W.shape,
        "Z1": L1.Z.shape, "A1": L1.A.shape, "Z2": L2.Z.shape, "A2": L2.A.shape,
        "dZ2": L2.dZ.shape, "dW2": L2.dW.shape, "db2": L2.db.shape,
        "dA1": L1.dA.shape, "dZ1": L1.dZ.shape, "dW1": L1.dW.shape, "db1": L1.db.shape,
    }
    assert shapes == {
        "X": (300, 2), "W1": (2, 4), "W2": (4, 3),
        "Z1": (300, 4), "A1": (300, 4), "Z2": (300, 3), "A2": (300, 3),
        "dZ2": (300, 3), "dW2": (4, 3), "db2": (3,),
        "dA1": (300, 4), "dZ1": (300, 4), "dW1": (2, 4), "db1": (4,),
    }


def test_the_six_steps_equal_the_notes_equations_with_one_over_m_once(spiral):
    X, y = spiral
    X = X.astype(np.float64)
    net = nlayer.Network([2, 4, 3], seed=1, dtype="float64")
    _, grads = net.loss_and_gradients(X, y)
    W1, b1, W2, b2 = (p.copy() for p in net.parameters())
    m = X.shape[0]
    Y = np.eye(3)[y]
    Z1 = X @ W1 + b1
    A1 = np.maximum(0, Z1)
    Z2 = A1 @ W2 + b2
    A2 = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    A2 /= A2.sum(axis=1, keepdims=True)
    dZ2 = (A2 - Y) / m
    dW2 = A1.T @ dZ2                  # 1)
    db2 = dZ2.sum(axis=0)             # 2)
    dA1 = dZ2 @ W2.T                  # 3)
    dZ1 = dA1 * (Z1 > 0)              # 4)
    dW1 = X.T @ dZ1                   # 5)
    db1 = dZ1.sum(axis=0)             # 6)
    np.testing.assert_allclose(grads[1][0], dW2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[1][1], db2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(net.layers[0].dA, dA1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[0][0], dW1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[0][1], db1, rtol=1e-12, atol=1e-15)


def test_lecture_gradients_match_central_differences_below_1e_7(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    report = nlayer.gradient_check(net, X, y)
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2"]
    assert report.max_relative_error < 1e-7, str(report)


def test_the_notes_slip_dividing_only_dW2_by_m_is_caught_by_the_check(spiral, monkeypatch):
    """Dividing by m only when forming dW2 makes dW1 exactly m times too large."""
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0, dtype="float64")
    assert nlayer.gradient_check(net, X, y)["W1"].relative_error < 1e-7   # the code as written
    backward = nlayer.Network.backward

    def backward_with_the_slip(self, *args):
        backward(self, *args)
        self.layers[0].dW *= X.shape[0]            # dW1 not divided by m

    monkeypatch.setattr(nlayer.Network, "backward", backward_with_the_slip)
    report = nlayer.gradient_check(net, X, y)
    assert report["W1"].relative_error > 0.9       # m = 300 times too large
    assert report["W2"].relative_error < 1e-7      # dW2 is still right
    assert not report.passed()
