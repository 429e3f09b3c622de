"""The fused SGD step: ``W = (1 - lr l2) W - A_prev^T (lr dZ)`` as one BLAS call.

``nlayer._blas.plan`` calls ``?gemm`` with ``beta != 0`` in the OpenBLAS NumPy bundles, through
ctypes. These tests check the product against ``np.matmul``, that bad arguments are refused
before any pointer reaches C, and that ``fit`` trains the same with and without it.
"""

from __future__ import annotations

import copy
import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer import _blas

from .conftest import blobs

needs_blas = pytest.mark.skipif(_blas.plan is None, reason="NumPy's bundled OpenBLAS not found (NumPy alone is used)")
needs_axpby = pytest.mark.skipif(_blas.axpby is None, reason="NumPy's bundled OpenBLAS not found (NumPy alone is used)")


def test_numpys_wheel_openblas_is_found_where_numpy_bundles_it():
    bundled = list((Path(np.__file__).parent.parent / "numpy.libs").glob("*openblas64*"))
    if not (sys.platform.startswith("linux") and bundled):
        pytest.skip(f"no OpenBLAS bundled in NumPy's wheel here ({sys.platform}): the fused step is not expected")
    assert _blas.plan is not None, f"NumPy's bundled {bundled[0].name} was not found or not verified"


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize(("M", "K", "N"), [(7, 5, 3), (1, 9, 4), (6, 1, 1), (128, 64, 10), (3, 0, 2)])
def test_planned_product_computes_alpha_A_B_plus_beta_C(dtype, trans_a, trans_b, M, K, N):
    rng = np.random.default_rng(M * 100 + K * 10 + N)
    A = rng.standard_normal((K, M)).T if trans_a else rng.standard_normal((M, K))
    B = rng.standard_normal((N, K)).T if trans_b else rng.standard_normal((K, N))
    A, B = A.astype(dtype), B.astype(dtype)       # astype keeps the layout: .T stays F-contiguous
    C = rng.standard_normal((M, N)).astype(dtype)
    expected = 0.75 * C.astype(np.float64) - 1.5 * (A.astype(np.float64) @ B.astype(np.float64))
    product = _blas.plan(-1.5, A, B, 0.75, C)
    product()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, expected, rtol=tol, atol=tol)
    product()                                     # a plan runs again on the arrays' current values
    np.testing.assert_allclose(C, 0.75 * expected - 1.5 * (A.astype(np.float64) @ B), rtol=tol * 10, atol=tol * 10)


@needs_blas
@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: (np.ones((3, 4), np.float32), np.ones((3, 4), np.float32), np.zeros((3, 4), np.float32)), "shapes"),
        (lambda: (np.ones((3, 4), np.float32), np.ones((4, 2), np.float64), np.zeros((3, 2), np.float32)), "float32"),
        (lambda: (np.ones((3, 4), np.int64), np.ones((4, 2), np.int64), np.zeros((3, 2), np.int64)), "output"),
        (lambda: (np.ones((3, 8), np.float32)[:, ::2], np.ones((4, 2), np.float32), np.zeros((3, 2), np.float32)),
         "contiguous"),
        (lambda: (np.ones((3, 4), np.float32), np.ones((4, 2), np.float32), np.zeros((2, 3), np.float32).T), "output"),
        (lambda: (np.ones(4, np.float32), np.ones((4, 2), np.float32), np.zeros((1, 2), np.float32)), "2-D"),
    ],
    ids=["shapes", "mixed-dtypes", "integers", "strided-input", "transposed-output", "1-D-input"],
)
def test_planned_product_refuses_bad_arguments_before_calling_blas(make, problem):
    A, B, C = make()
    with pytest.raises(ValueError, match=problem):
        _blas.plan(1.0, A, B, 0.0, C)


@needs_blas
def test_planned_product_refuses_a_read_only_or_overlapping_output():
    A, B = np.ones((4, 4), np.float32), np.ones((4, 4), np.float32)
    frozen = np.zeros((4, 4), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _blas.plan(1.0, A, B, 0.0, frozen)
    with pytest.raises(ValueError, match="overlap"):
        _blas.plan(1.0, A, B, 1.0, A)             # C = A B + C with C = A: BLAS would read what it writes


@needs_blas
def test_planned_product_keeps_its_arrays_alive():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    expected = A @ B
    product = _blas.plan(1.0, A, B, 0.0, np.zeros((5, 3), np.float32))
    del A, B
    gc.collect()
    for _ in range(3):                            # fresh arrays of the same size reuse freed memory, if any
        np.full((5, 4), np.nan, np.float32), np.full((4, 3), np.nan, np.float32)
    product()
    np.testing.assert_allclose(product.arrays[2], expected, rtol=1e-6)


def test_switched_off_by_the_environment():
    code = "import nlayer._blas as b; print(b.plan is None, b.axpby is None)"
    for value, off in (("0", "True True"), ("1", f"{_blas.plan is None} {_blas.axpby is None}")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "NLAYER_FUSED_BLAS": value}).stdout.strip()
        assert out == off


@needs_blas
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("sizes", "batch_size", "l2", "output"),
    [([5, 16, 8, 3], 32, 1e-2, "softmax"), ([5, 3], 7, 0.0, "softmax"), ([5, 4, 4, 4, 3], 1, 1e-3, "softmax"),
     ([5, 9, 1], 16, 1e-2, "sigmoid")],
    ids=["3-layers-l2", "1-layer-batch-7", "4-layers-batch-1", "sigmoid-output"],
)
def test_fused_step_trains_like_the_unfused_one(optimizer, dtype, sizes, batch_size, l2, output, monkeypatch):
    """L2 (SGD: decay in beta; momentum: in the velocity), a smaller last batch (a second
    plan), a schedule (lr changes), one layer (no dA), single-row batches (1 x n products)."""
    X, y = blobs()
    y = (y > 0).astype(int) if output == "sigmoid" else y
    lr = 0.2 if optimizer == "sgd" else 0.05
    options = {"epochs": 6, "batch_size": batch_size, "lr": lr, "l2": l2,
               "schedule": nlayer.schedules.StepDecay(step_size=2, gamma=0.5), "seed": 3}
    fused, plain = (nlayer.Network(sizes, output=output, seed=1, dtype=dtype) for _ in range(2))
    opt_fused, opt_plain = (nlayer.optimizers.make_optimizer(optimizer, lr) for _ in range(2))
    h_fused = fused.fit(X, y, optimizer=opt_fused, **options)
    monkeypatch.setattr(_blas, "plan", None)
    h_plain = plain.fit(X, y, optimizer=opt_plain, **options)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(fused.flat()[0], plain.flat()[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(h_fused.loss, h_plain.loss, rtol=tol)
    np.testing.assert_allclose(fused.flat()[1], plain.flat()[1], rtol=1e-4, atol=tol)   # the last batch's gradients
    for name in opt_plain.state_names:                # momentum's velocity, for a resumed run
        np.testing.assert_allclose(opt_fused.state[name][0], opt_plain.state[name][0], rtol=1e-4, atol=tol)
    assert opt_fused.t == opt_plain.t


class _Spy:
    def __init__(self, plan):
        self.plan, self.calls = plan, 0

    def __call__(self, *args):
        self.calls += 1
        return self.plan(*args)


@needs_blas
@pytest.mark.parametrize(
    ("optimizer", "batch_size", "fused"),
    [("sgd", 32, True), ("momentum", 32, True), ("nesterov", 32, False), ("adam", 32, False),
     ("sgd", None, False), ("own", 32, False)],
)
def test_only_plain_mini_batch_sgd_and_momentum_take_the_fused_step(optimizer, batch_size, fused, monkeypatch):
    class OwnSGD(nlayer.SGD):                      # a user's subclass keeps its own step
        pass

    spy = _Spy(_blas.plan)
    monkeypatch.setattr(_blas, "plan", spy)
    X, y = blobs()
    opt = OwnSGD(0.1) if optimizer == "own" else nlayer.optimizers.make_optimizer(optimizer, 0.05)
    nlayer.Network([5, 8, 3], seed=0).fit(X, y, epochs=3, batch_size=batch_size, optimizer=opt, seed=0)
    assert (spy.calls > 0) == fused
    assert opt.t == 3 * (4 if batch_size else 1)  # every step counted, fused or not


@needs_blas
def test_fused_step_is_planned_once_per_epoch_not_per_step(monkeypatch):
    spy = _Spy(_blas.plan)
    monkeypatch.setattr(_blas, "plan", spy)
    X, y = blobs()                                 # batches of 32, 32, 32 (fused) and 4 (unfused)
    nlayer.Network([5, 8, 3], seed=0).fit(X, y, epochs=5, batch_size=32, lr=0.1, seed=0)
    # two layers, Z, W and b: planned in each epoch's first step (the last, smaller batch
    # re-points the caches), then reused: per step it would be 5 x 3 x 6 = 90 plans
    assert spy.calls == 5 * 2 * 3


@needs_blas
def test_a_deep_copy_of_a_trained_network_trains_its_own_weights_only():
    """Planned calls point at the layer's memory: a copy must not take them along."""
    X, y = blobs()
    net = nlayer.Network([5, 8, 3], seed=0)
    net.fit(X, y, epochs=2, batch_size=32, seed=0)          # plans made
    twin = copy.deepcopy(net)
    before = net.flat()[0].copy()
    twin.fit(X, y, epochs=2, batch_size=32, seed=1)
    np.testing.assert_array_equal(net.flat()[0], before)    # the original did not move
    assert not np.array_equal(twin.flat()[0], before)
    net.fit(X, y, epochs=2, batch_size=32, seed=1)          # and the same steps give the same weights
    np.testing.assert_array_equal(net.flat()[0], twin.flat()[0])


@needs_blas
@pytest.mark.parametrize(("activation", "shared"), [("relu", True), ("tanh", False), ("sigmoid", False)])
def test_fused_steps_write_relus_A_over_Z_and_dZ_over_dA(activation, shared):
    """Inside fit's fused steps a ReLU layer touches two buffers instead of four; tanh and
    sigmoid (whose backward reads A after writing dZ) keep four."""
    X, y = blobs()
    net = nlayer.Network([5, 8, 8, 3], activation=activation, seed=0)
    net.forward(X[:32], fused=True)
    for layer in net.layers[:-1]:
        assert (layer.A is layer.Z and layer.dZ is layer.dA) == shared
    assert not np.shares_memory(net.layers[-1].A, net.layers[-1].Z)    # the output layer never


@needs_blas
def test_caches_after_fit_are_separate_and_hold_the_last_batchs_values():
    """The epoch's last step is unfused and re-points the caches, even when every batch,
    the last included, has the same size (96 rows, batches of 32)."""
    X, y = blobs()
    net = nlayer.Network([5, 8, 8, 3], seed=0)
    net.fit(X[:96], y[:96], epochs=2, batch_size=32, shuffle=False, lr=0.1, seed=0)
    for layer in net.layers[:-1]:
        assert not np.shares_memory(layer.A, layer.Z) and not np.shares_memory(layer.dZ, layer.dA)
        assert np.any(layer.Z < 0)                       # so A = max(Z, 0) differs from Z
        np.testing.assert_array_equal(layer.A, np.maximum(layer.Z, 0))
        np.testing.assert_array_equal(layer.dZ, layer.dA * (layer.Z > 0))
        assert np.any(layer.dZ != layer.dA)


@needs_axpby
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 37, 70_000])
def test_planned_axpby_computes_alpha_x_plus_beta_y(dtype, n):
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    expected = 0.25 * x - 3.0 * y
    _blas.axpby(x, y)(0.25, -3.0)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


@needs_axpby
@pytest.mark.parametrize("problem", ["shapes", "dtypes", "2-D", "strided", "overlap", "read-only"])
def test_planned_axpby_refuses_bad_arguments_before_calling_blas(problem):
    x, y = np.ones(8, dtype=np.float32), np.ones(8, dtype=np.float32)
    if problem == "shapes":
        y = np.ones(7, dtype=np.float32)
    elif problem == "dtypes":
        y = np.ones(8)
    elif problem == "2-D":
        x, y = x.reshape(2, 4), y.reshape(2, 4)
    elif problem == "strided":
        x = np.ones(16, dtype=np.float32)[::2]
    elif problem == "overlap":
        x = y[:]
    else:
        y.flags.writeable = False
    with pytest.raises(ValueError, match="axpby"):
        _blas.axpby(x, y)


@needs_axpby
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adams_blas_update_trains_like_numpys(dtype, monkeypatch):
    """Adam's folded step runs its three ``y = a x + b y`` lines as BLAS axpby: the same
    training to rounding, over a parameter vector large enough to be updated in blocks."""
    X, y = blobs()
    options = {"epochs": 3, "batch_size": 16, "lr": 0.01, "seed": 2,
               "schedule": nlayer.schedules.StepDecay(step_size=1, gamma=0.5)}
    blas, plain = (nlayer.Network([5, 400, 400, 3], seed=1, dtype=dtype) for _ in range(2))
    assert blas.flat()[0].size > 2 * nlayer.optimizers.BLOCK
    opt_blas, opt_plain = nlayer.Adam(0.01), nlayer.Adam(0.01)
    blas.fit(X, y, optimizer=opt_blas, **options)
    assert opt_blas._axpby and all(calls is not None for calls in opt_blas._axpby)   # the BLAS path ran
    monkeypatch.setattr(_blas, "axpby", None)
    plain.fit(X, y, optimizer=opt_plain, **options)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(blas.flat()[0], plain.flat()[0], rtol=tol, atol=tol)
    for name in ("m", "v"):
        np.testing.assert_allclose(opt_blas.state[name][0], opt_plain.state[name][0], rtol=1e-4, atol=tol)


@needs_axpby
def test_adam_updates_a_non_contiguous_parameter_with_numpy():
    rng = np.random.default_rng(0)
    W_t = np.asfortranarray(rng.standard_normal((6, 4)))        # W_t.T is C-contiguous, W_t is not
    W_c = np.ascontiguousarray(W_t)
    grads = [rng.standard_normal((6, 4)) for _ in range(3)]
    opt_t, opt_c = nlayer.Adam(0.1), nlayer.Adam(0.1)
    opt_t.bind([W_t])
    opt_c.bind([W_c])
    for g in grads:
        opt_t.step([W_t], [0.1 * g], folded=True)
        opt_c.step([W_c], [0.1 * g], folded=True)
    assert opt_t._axpby == [None]                                # NumPy alone for this block
    np.testing.assert_allclose(W_t, W_c, rtol=1e-13, atol=1e-15)


def test_a_copied_or_pickled_adam_continues_like_the_original():
    import pickle

    rng = np.random.default_rng(0)
    W = rng.standard_normal(50)
    opt = nlayer.Adam(0.1)
    opt.bind([W])
    for _ in range(2):
        opt.step([W], [0.1 * rng.standard_normal(50)], folded=True)
    copies = [(pickle.loads(pickle.dumps((opt, W)))), copy.deepcopy((opt, W))]
    g = 0.1 * rng.standard_normal(50)
    opt.step([W], [g], folded=True)
    for other, W_other in copies:
        other.step([W_other], [g.copy()], folded=True)
        np.testing.assert_array_equal(W_other, W)

