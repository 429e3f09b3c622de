"""Back propagation against central differences, for random architectures."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import nlayer
from nlayer.activations import ACTIVATIONS
from nlayer.gradient_check import relative_error
from nlayer.losses import OUTPUTS

from .conftest import make_targets


@st.composite
def architectures(draw):
    depth = draw(st.integers(1, 6))                       # weight layers
    output = draw(st.sampled_from(sorted(OUTPUTS)))
    widths = [draw(st.integers(1, 32)) for _ in range(depth)]
    if output == "softmax":
        widths[-1] = max(widths[-1], 2)
    return {
        "sizes": widths,
        "activation": draw(st.sampled_from(sorted(ACTIVATIONS))),
        "output": output,
        "init": draw(st.sampled_from(["he", "xavier"])),
        "l2": draw(st.sampled_from([0.0, 1e-2])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _problem(arch, m=6):
    rng = np.random.default_rng(arch["seed"])
    n_in = int(rng.integers(1, 9))
    sizes = [n_in, *arch["sizes"]]
    X = rng.standard_normal((m, n_in))
    y = make_targets(arch["output"], m, sizes[-1], rng)
    return sizes, X, y


def _far_from_kinks(net, X, margin):
    if not ACTIVATIONS[net.activation].has_kink:
        return True
    net64 = net.copy("float64")
    net64.forward(net64.prepare_X(X))
    return all(np.min(np.abs(layer.Z)) > margin for layer in net64.layers[:-1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures())
@example({"sizes": [1, 1, 1, 2, 1, 1], "activation": "sigmoid", "output": "identity", "init": "he", "l2": 0.0,
          "seed": 1})                                       # gradients of norm ~1e-7: the rounding floor
@example({"sizes": [1, 1, 1], "activation": "leaky_relu", "output": "sigmoid", "init": "xavier", "l2": 0.0,
          "seed": 3})
def test_float64_gradients_match_central_differences(arch):
    sizes, X, y = _problem(arch)
    net = nlayer.Network(sizes, arch["activation"], arch["output"], arch["init"], seed=arch["seed"], dtype="float64")
    assume(_far_from_kinks(net, X, 1e-4))
    report = nlayer.gradient_check(net, X, y, l2=arch["l2"], h=1e-5, max_entries=30)
    assert report.kinks == 0
    # Central differences cannot resolve errors below their rounding floor, about
    # eps * |J| / h = 2e-11 |J| per entry at h = 1e-5; deep narrow nets can have gradients
    # that small (norms ~1e-7), so those parameters are held to that absolute floor instead.
    floor = 1e-9 * max(1.0, abs(net.loss(X, y, l2=arch["l2"])))
    for p in report.parameters:
        assert p.relative_error < 1e-6 or p.max_abs_error < floor, f"{arch}\n{report}"


@settings(max_examples=60, deadline=None)
@given(architectures())
def test_float32_gradients_match_float64(arch):
    sizes, X, y = _problem(arch)
    net32 = nlayer.Network(sizes, arch["activation"], arch["output"], arch["init"], seed=arch["seed"])
    assume(_far_from_kinks(net32, X, 1e-3))
    net64 = net32.copy("float64")
    loss32, g32 = net32.loss_and_gradients(X, y, l2=arch["l2"])
    loss64, g64 = net64.loss_and_gradients(X, y, l2=arch["l2"])
    assert all(dW.dtype == np.float32 and db.dtype == np.float32 for dW, db in g32)
    assert abs(loss32 - loss64) <= 1e-4 * max(1.0, abs(loss64))
    # float32 rounds at ~1e-7 of the values flowing through a step: gradients far smaller than
    # the loss (vanishing through deep sigmoid or tanh stacks) are held to that absolute floor.
    floor = 1e-6 * max(1.0, abs(loss64))
    for (dW32, db32), (dW64, db64) in zip(g32, g64):
        for g, ref in ((dW32, dW64), (db32, db64)):
            error = relative_error(g.astype(np.float64), ref)
            assert error < 1e-4 or np.max(np.abs(g - ref)) < floor, (arch, error)


def test_gradient_check_reports_every_parameter_by_its_lecture_name(spiral):
    X, y = spiral
    net = nlayer.Network([2, 5, 4, 3], activation="tanh", seed=3)
    report = nlayer.gradient_check(net, X[:20], y[:20], l2=1e-3)
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.shape for p in report.parameters] == [(2, 5), (5,), (5, 4), (4,), (4, 3), (3,)]
    assert report.passed(1e-7)
    assert "W3" in str(report) and "relative error" in str(report)


def test_gradient_check_detects_a_wrong_gradient(spiral, monkeypatch):
    from nlayer import activations

    def tanh_backward_forgetting_g_prime(dA, Z, A, dZ, mask):
        np.copyto(dZ, dA)                                   # dZ = dA: the derivative is missing

    bad = activations.Activation("tanh", activations.tanh_forward, tanh_backward_forgetting_g_prime, False, False)
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", bad)
    X, y = spiral
    net = nlayer.Network([2, 4, 3], activation="tanh", seed=0)
    report = nlayer.gradient_check(net, 3 * X[::15], y[::15])   # spread out: tanh' far from 1
    assert report["W1"].relative_error > 1e-2
    assert report["W2"].relative_error < 1e-7               # the output layer is still right
    assert not report.passed()


def test_gradient_check_explains_errors_at_relu_kinks(spiral):
    """The spiral's first point of each class is the origin: with zero biases, Z1 = 0 there."""
    X, y = spiral
    net = nlayer.Network([2, 100, 3], seed=0)
    report = nlayer.gradient_check(net, X[:20], y[:20])
    assert report.kinks == 100                              # one origin row x 100 hidden units
    assert report["b1"].relative_error > 1e-3               # the kink, not a bug ...
    assert report["W1"].relative_error < 1e-7               # ... since X = 0 there, W1 is unaffected
    assert "averages the two slopes" in str(report)
    assert nlayer.gradient_check(net, X[1:21], y[1:21]).passed(1e-7)
