"""The fast training path (buffers, in-place ops, np.take gathers, one flat parameter
vector, epoch-level accuracy) trains exactly like the lecture's math written plainly.

The reference below is the straightforward NumPy a learner would write: fresh arrays for
everything, float64, a loop over layers, one update formula per optimizer. nlayer runs in
float32 through ``Network.fit``; after a few steps both hold the same weights to float32
tolerance, and the History reports the same loss and accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest

import nlayer
from nlayer.errors import DataError

from .conftest import blobs


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def reference_fit(Ws, bs, X, y, *, epochs, batch_size, optimizer, lr, l2, seed, mu=0.9, b1=0.9, b2=0.999, eps=1e-8):
    """Plain float64 mini-batch training of a ReLU/softmax net; returns (Ws, bs, losses, accuracies)."""
    Ws, bs = [W.astype(np.float64) for W in Ws], [b.astype(np.float64) for b in bs]
    X, n, L = X.astype(np.float64), X.shape[0], len(Ws)
    Y = np.eye(Ws[-1].shape[1])[y]
    params = Ws + bs
    vel = [np.zeros_like(p) for p in params]
    mom = [np.zeros_like(p) for p in params]
    sq = [np.zeros_like(p) for p in params]
    rng, t = np.random.default_rng(seed), 0
    losses, accuracies = [], []
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            m = len(idx)
            A, Zs, As = X[idx], [], [X[idx]]
            for l in range(L):
                Z = A @ Ws[l] + bs[l]
                A = _softmax(Z) if l == L - 1 else np.maximum(Z, 0)
                Zs.append(Z)
                As.append(A)
            total += m * (-np.sum(Y[idx] * np.log(A)) / m + 0.5 * l2 * sum(np.sum(W * W) for W in Ws))
            correct += int(np.sum(A.argmax(axis=1) == y[idx]))
            dZ = (A - Y[idx]) / m
            dWs, dbs = [None] * L, [None] * L
            for l in range(L - 1, -1, -1):
                dWs[l] = As[l].T @ dZ + l2 * Ws[l]
                dbs[l] = dZ.sum(axis=0)
                if l > 0:
                    dZ = (dZ @ Ws[l].T) * (Zs[l - 1] > 0)
            t += 1
            for i, (p, g) in enumerate(zip(params, dWs + dbs)):
                if optimizer == "sgd":
                    p -= lr * g
                elif optimizer == "momentum":
                    vel[i] = mu * vel[i] - lr * g
                    p += vel[i]
                elif optimizer == "nesterov":
                    vel[i] = mu * vel[i] - lr * g
                    p += mu * vel[i] - lr * g
                else:
                    mom[i] = b1 * mom[i] + (1 - b1) * g
                    sq[i] = b2 * sq[i] + (1 - b2) * g * g
                    p -= lr * (mom[i] / (1 - b1**t)) / (np.sqrt(sq[i] / (1 - b2**t)) + eps)
        losses.append(total / n)
        accuracies.append(correct / n)
    return params[:L], params[L:], losses, accuracies


LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.01}


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("batch_size", [32, None], ids=["mini-batch", "full-batch"])
def test_fit_matches_plain_numpy_reference(optimizer, batch_size):
    X, y = blobs()                                   # 100 rows: batches of 32, 32, 32 and 4
    net = nlayer.Network([5, 16, 8, 3], seed=1)
    W0 = [layer.W.copy() for layer in net.layers]
    b0 = [layer.b.copy() for layer in net.layers]
    epochs, l2 = 3, 1e-3
    hist = net.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=LR[optimizer], l2=l2, seed=7)
    Ws, bs, losses, accuracies = reference_fit(
        W0, b0, X, y, epochs=epochs, batch_size=batch_size or len(X), optimizer=optimizer,
        lr=LR[optimizer], l2=l2, seed=7,
    )
    assert net.dtype == np.float32
    for l, layer in enumerate(net.layers):
        np.testing.assert_allclose(layer.W, Ws[l], rtol=1e-4, atol=2e-5, err_msg=f"W{l + 1}")
        np.testing.assert_allclose(layer.b, bs[l], rtol=1e-4, atol=2e-5, err_msg=f"b{l + 1}")
    np.testing.assert_allclose(hist.loss, losses, rtol=1e-5)
    assert hist.accuracy == accuracies


def test_weights_stay_float32_through_training():
    X, y = blobs()
    net = nlayer.Network([5, 16, 8, 3], seed=1)
    net.fit(X.astype(np.float64), y, epochs=2, batch_size=32, optimizer="adam", seed=0)
    theta, dtheta = net.flat()
    assert theta.dtype == dtheta.dtype == np.float32
    assert all(layer.A.dtype == layer.dZ.dtype == np.float32 for layer in net.layers)


def test_unshuffled_mini_batches_match_reference_in_row_order():
    X, y = blobs(n=64)
    net = nlayer.Network([5, 8, 3], seed=2)
    W0 = [layer.W.copy() for layer in net.layers]
    b0 = [layer.b.copy() for layer in net.layers]
    net.fit(X, y, epochs=2, batch_size=16, lr=0.1, shuffle=False)
    # the reference shuffles only when batch_size < n; emulate "no shuffle" with one batch per call
    Ws, bs = W0, b0
    for _ in range(2):
        for start in range(0, 64, 16):
            Ws, bs, _, _ = reference_fit(Ws, bs, X[start : start + 16], y[start : start + 16], epochs=1,
                                         batch_size=16, optimizer="sgd", lr=0.1, l2=0.0, seed=0)
    for l, layer in enumerate(net.layers):
        np.testing.assert_allclose(layer.W, Ws[l], rtol=1e-4, atol=2e-5)
        np.testing.assert_allclose(layer.b, bs[l], rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_blockwise_update_of_a_large_vector_is_bit_identical_to_one_piece(optimizer, monkeypatch):
    rng = np.random.default_rng(0)
    n = 2 * nlayer.optimizers.BLOCK + 12_345               # three blocks, the last one shorter
    theta0 = rng.standard_normal(n, dtype=np.float32)
    grads = [rng.standard_normal(n, dtype=np.float32) for _ in range(3)]
    results = []
    for block in (nlayer.optimizers.BLOCK, 10**12):        # in blocks, then one NumPy call per line
        monkeypatch.setattr(nlayer.optimizers, "BLOCK", block)
        opt = nlayer.optimizers.make_optimizer(optimizer, 0.01)
        theta = theta0.copy()
        opt.bind([theta])
        for dtheta in grads:
            opt.step([theta], [dtheta])
        results.append([theta.tobytes()] + [v[0].tobytes() for v in opt.state.values()])
    assert results[0] == results[1]


@pytest.mark.parametrize(
    ("value", "finite"),
    [(0.0, True), (np.nan, False), (np.inf, False), (-np.inf, False), (3e38, True)],
)
def test_finite_check_finds_every_non_finite_entry_and_no_other(value, finite):
    from nlayer.network import all_finite

    for shape, where in (((50, 7), (49, 6)), ((50, 7), (0, 0)), ((300,), (123,))):
        X = np.ones(shape, dtype=np.float32)
        X[where] = value
        X[0] = 3e38 if value == 3e38 else X[0]             # sums overflow; the entries do not
        assert all_finite(X) is finite, (shape, where)
    X = np.zeros((4, 3), dtype=np.float32)
    X[2, 0], X[2, 1] = np.inf, -np.inf                     # inf - inf: the row sum is NaN
    assert not all_finite(X)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("zero_W1", [False, True], ids=["random-W1", "zero-W1"])
def test_predict_refuses_every_non_finite_input_checked_on_the_fly(value, activation, zero_W1, monkeypatch):
    """predict_proba reads X again only where Z[1] is not finite; every position must still be found."""
    import nlayer.network

    monkeypatch.setattr(nlayer.network, "INFERENCE_CHUNK", 8)      # 37 rows: 5 chunks, the last short
    net = nlayer.Network([4, 6, 3], activation=activation, seed=0)
    net.fit_input_scaling(np.random.default_rng(0).standard_normal((20, 4)))
    if zero_W1:
        net.layers[0].W[...] = 0.0                                 # NaN * 0 and inf * 0 are NaN
    X = np.random.default_rng(1).standard_normal((37, 4)).astype(np.float32)
    clean = net.predict_proba(X)
    for row, col in ((0, 0), (7, 3), (8, 1), (20, 2), (36, 3)):
        bad = X.copy()
        bad[row, col] = value
        with pytest.raises(DataError, match="NaN or infinity"):
            net.predict_proba(bad)
    np.testing.assert_array_equal(net.predict_proba(X), clean)     # a refusal leaves nothing behind


def test_predict_accepts_huge_finite_inputs_whose_products_overflow():
    net = nlayer.Network([3, 5, 2], activation="tanh", seed=0)
    X = np.full((4, 3), 3e38, dtype=np.float32)                    # X W[1] overflows; X is finite
    assert net.predict_proba(X).shape == (4, 2)                    # no DataError, no warning (-W error)


@pytest.mark.parametrize("k", [2, 10, 40])
def test_softmax_rows_sum_to_one_and_match_the_plain_formula_for_few_and_many_outputs(k):
    from nlayer.losses import FEW_OUTPUTS, SoftmaxCrossEntropy

    rng = np.random.default_rng(k)
    Z = (rng.standard_normal((37, k)) * 30).astype(np.float32)
    out = SoftmaxCrossEntropy()
    out.allocate(64, k, np.dtype(np.float32))
    assert (out._ZT.shape[0] > 0) == (k <= FEW_OUTPUTS)    # both ways of finding row maxima run
    A = np.empty_like(Z)
    out.forward(Z, A)
    np.testing.assert_array_equal(out._row_max[:37, 0], Z.max(axis=1))
    np.testing.assert_allclose(A, _softmax(Z.astype(np.float64)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(("optimizer", "scale"), [("sgd", 0.05), ("momentum", 0.05), ("nesterov", 0.05), ("adam", 0.1)])
def test_folded_update_equals_the_plain_one_to_rounding(optimizer, scale):
    """fit folds a factor into the gradients (lr, or Adam's 1 - beta1); the step must not change."""
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal(300)
    grads = [rng.standard_normal(300) for _ in range(4)]
    plain, folded = nlayer.optimizers.make_optimizer(optimizer, 0.05), nlayer.optimizers.make_optimizer(optimizer, 0.05)
    assert plain.fold_scale() == pytest.approx(scale)
    W_plain, W_folded = W0.copy(), W0.copy()
    plain.bind([W_plain])
    folded.bind([W_folded])
    for dW in grads:
        plain.step([W_plain], [dW])
        folded.step([W_folded], [plain.fold_scale() * dW], folded=True)
    np.testing.assert_allclose(W_folded, W_plain, rtol=1e-13, atol=1e-15)
    for name in plain.state_names:
        np.testing.assert_allclose(folded.state[name][0], plain.state[name][0], rtol=1e-13, atol=1e-15)


def test_only_optimizers_that_write_the_folded_form_are_folded():
    class HalfStepSGD(nlayer.SGD):              # a user's own formula: must be used as written
        def _update(self, W, dW, s, state):
            np.subtract(W, 0.5 * self.lr * dW, out=W)

    assert HalfStepSGD(0.1).fold_scale() is None
    X, y = blobs()
    net = nlayer.Network([5, 3], seed=0)
    W0 = net.layers[0].W.copy()
    _, grads = net.loss_and_gradients(X, y)
    net.fit(X, y, epochs=1, optimizer=HalfStepSGD(0.1))
    np.testing.assert_allclose(net.layers[0].W, W0 - 0.05 * grads[0][0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_gradients_after_fit_are_the_last_batchs_true_gradients(optimizer):
    """With a factor folded in during the epoch, fit still leaves dW, db, dZ and dA unscaled."""
    X, y = blobs()                                   # 100 rows, batches of 32: the last has rows 96-99
    net = nlayer.Network([5, 16, 3], seed=1)
    before_last = net.copy()                         # the same three steps, then the last batch's gradients
    options = {"batch_size": 32, "shuffle": False, "optimizer": optimizer, "lr": 0.5, "l2": 1e-2}
    before_last.fit(X[:96], y[:96], epochs=1, **options)
    _, grads = before_last.loss_and_gradients(X[96:], y[96:], l2=1e-2)
    net.fit(X, y, epochs=1, **options)
    for (dW, db), layer, ref in zip(grads, net.layers, before_last.layers):
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(layer.db, db, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(layer.dZ, ref.dZ, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(layer.dA, ref.dA, rtol=1e-5, atol=1e-8)


def test_full_batch_gradient_descent_runs_the_lectures_equations_unfolded():
    X, y = blobs()
    net = nlayer.Network([5, 16, 3], seed=1)
    W0 = net.flat()[0].copy()
    _, grads = net.copy().loss_and_gradients(X, y)
    net.fit(X, y, epochs=1, lr=0.5)                  # one step: W = W0 - lr dW, bit for bit
    dtheta = np.concatenate([dW.ravel() for dW, _ in grads] + [db for _, db in grads])
    np.testing.assert_array_equal(net.flat()[0], W0 - np.float32(0.5) * dtheta)
