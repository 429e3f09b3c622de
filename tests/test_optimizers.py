"""Each update formula pinned against a hand computation (float64; the same operation order,
except Adam, whose algebraically equal form is checked to rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from nlayer import SGD, Adam, Momentum, Nesterov
from nlayer.errors import ConfigError
from nlayer.optimizers import make_optimizer


def _params_and_grads():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(3)]
    return W, grads


def _run(opt, W, grads):
    W = W.copy()
    opt.bind([W])
    for dW in grads:
        opt.step([W], [dW])
    return W


def test_sgd_is_w_minus_lr_dw():
    W0, grads = _params_and_grads()
    W = W0.copy()
    for dW in grads:
        W = W - 0.3 * dW
    np.testing.assert_array_equal(_run(SGD(0.3), W0, grads), W)


def test_momentum_accumulates_velocity():
    W0, grads = _params_and_grads()
    W, v = W0.copy(), np.zeros_like(W0)
    for dW in grads:
        v = 0.9 * v - 0.1 * dW
        W = W + v
    np.testing.assert_array_equal(_run(Momentum(0.1, momentum=0.9), W0, grads), W)


def test_nesterov_looks_ahead_along_the_velocity():
    W0, grads = _params_and_grads()
    W, v = W0.copy(), np.zeros_like(W0)
    for dW in grads:
        v = 0.8 * v - 0.1 * dW
        W = (W - 0.1 * dW) + 0.8 * v
    np.testing.assert_array_equal(_run(Nesterov(0.1, momentum=0.8), W0, grads), W)


def test_adam_matches_kingma_and_ba_with_bias_correction():
    W0, grads = _params_and_grads()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    W, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, dW in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * dW
        v = b2 * v + (1 - b2) * (dW * dW)
        W = W - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)   # the paper's Algorithm 1
    # nlayer computes lr_t m / (sqrt(v) + eps_t), the same number in one pass fewer: equal up to rounding
    np.testing.assert_allclose(_run(Adam(lr, b1, b2, eps), W0, grads), W, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("eps", [1e-8, 1.0])
def test_adam_eps_is_added_to_the_bias_corrected_root_as_in_pytorch(eps):
    """eps_t = eps sqrt(1 - b2^t) is the paper's eps, not Keras' unscaled epsilon-hat."""
    W0 = np.zeros((1, 1))
    dW = np.full((1, 1), 1e-3)
    # step 1: m_hat = dW, v_hat = dW^2, so the step is lr dW / (|dW| + eps)
    np.testing.assert_allclose(_run(Adam(0.1, eps=eps), W0, [dW]), -0.1 * 1e-3 / (1e-3 + eps), rtol=1e-12)


def test_adam_first_step_moves_each_weight_by_about_lr():
    W0, grads = _params_and_grads()
    W = _run(Adam(0.01), W0, grads[:1])
    np.testing.assert_allclose(np.abs(W - W0), 0.01, rtol=1e-5)


def test_optimizer_state_is_allocated_once_and_updated_in_place():
    W0, grads = _params_and_grads()
    W = W0.copy()
    opt = Adam(0.01)
    opt.bind([W])
    m, v = opt.state["m"][0], opt.state["v"][0]
    for dW in grads:
        opt.step([W], [dW])
    assert opt.state["m"][0] is m and opt.state["v"][0] is v
    assert opt.t == 3 and np.any(m != 0)


def test_float32_parameters_stay_float32():
    W = np.ones((2, 2), dtype=np.float32)
    for opt in (SGD(0.1), Momentum(0.1), Nesterov(0.1), Adam(0.1)):
        opt.bind([W])
        opt.step([W], [np.ones_like(W)])
        assert W.dtype == np.float32
        assert all(s[0].dtype == np.float32 for s in opt.state.values())


@pytest.mark.parametrize("lr", [0, -1.0, float("nan"), float("inf"), "0.1", True])
def test_bad_learning_rates_are_refused(lr):
    with pytest.raises(ConfigError, match="lr must be a positive finite number"):
        SGD(lr)


def test_unknown_optimizer_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="sgd, momentum, nesterov, adam"):
        make_optimizer("rmsprop", 0.1)


@pytest.mark.parametrize("kwargs", [{"momentum": 1.0}, {"momentum": -0.1}])
def test_momentum_outside_zero_one_is_refused(kwargs):
    with pytest.raises(ConfigError, match="momentum"):
        Momentum(0.1, **kwargs)


def test_a_step_uses_the_arrays_passed_now_not_those_of_earlier_steps():
    """Optimizers plan their blocks once; new parameter or state arrays must still be used."""
    opt = Momentum(0.1, momentum=0.5)
    W1, W2 = np.zeros(3), np.zeros(3)
    opt.bind([W1])
    opt.step([W1], [np.ones(3)])
    opt.step([W2], [np.ones(3)])                    # another parameter array of the same shape
    np.testing.assert_allclose(W2, -0.15)           # v = 0.5 (-0.1) - 0.1
    opt.state["velocity"][0] = np.zeros(3)          # state replaced by the user
    opt.step([W2], [np.ones(3)])
    np.testing.assert_allclose(W2, -0.25)


def test_an_optimizer_pickled_before_lr_was_a_property_still_loads():
    import pickle

    opt = Adam(0.01)
    state = opt.__dict__.copy()
    state["lr"] = state.pop("_lr")                # the old layout: lr in the instance dict
    del state["lr0"]
    old = Adam.__new__(Adam)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    assert restored.lr == restored.lr0 == 0.01
