"""Divergence stops training with DivergenceError and the last finite weights; extreme
logits and saturated probabilities give finite losses and gradients, without a warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nlayer
from nlayer import checkpoint
from nlayer.checkpoint import load_checkpoint
from nlayer.errors import DivergenceError
from nlayer.training import Callback

X, Y = nlayer.datasets.spiral(100, 3, seed=0)


class Snapshots(Callback):
    """Copies of the weights at the end of every epoch."""

    def __init__(self) -> None:
        self.thetas: list[np.ndarray] = []

    def on_train_begin(self, trainer):
        self.thetas.append(trainer.network.flat()[0].copy())

    def on_epoch_end(self, trainer, epoch, logs):
        self.thetas.append(trainer.network.flat()[0].copy())


@pytest.mark.parametrize(
    ("activation", "l2", "batch_size"),
    [
        ("tanh", 1e-3, None),
        ("tanh", 1e-3, 32),
        ("sigmoid", 1e-3, 32),
        ("relu", 1e-3, None),       # the lecture's network
        ("leaky_relu", 0.0, 32),
    ],
)
def test_learning_rate_1e6_raises_divergence_error_and_restores_last_finite_weights(activation, l2, batch_size):
    net = nlayer.Network([2, 100, 3], activation=activation, seed=0)
    snaps = Snapshots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DivergenceError) as err:
            net.fit(X, Y, epochs=60, optimizer="sgd", lr=1e6, l2=l2, batch_size=batch_size, seed=0,
                    callbacks=[snaps])
    epoch = err.value.epoch
    assert epoch is not None and f"diverged in epoch {epoch + 1}" in str(err.value)
    assert "learning rate" in str(err.value)
    theta = net.flat()[0]
    assert np.all(np.isfinite(theta))
    np.testing.assert_array_equal(theta, snaps.thetas[epoch])     # the end of the last complete epoch
    assert net.history is not None and net.history.epochs == epoch


class ExplodeAt(Callback):
    """Raise the base learning rate to 1e6 after epoch ``at``: good epochs, then divergence."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.at:
            trainer.lr0 = 1e6


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    net = nlayer.Network([2, 100, 3], activation="tanh", seed=0)
    with pytest.raises(DivergenceError) as err:
        checkpoint.fit(net, X, Y, checkpoint=path, every=1, epochs=60, optimizer="sgd", lr=0.5, l2=1e-3,
                       batch_size=32, seed=0, callbacks=[ExplodeAt(2)])
    assert err.value.epoch is not None and err.value.epoch >= 3
    state = load_checkpoint(path)
    assert state.epoch == err.value.epoch                         # every finite epoch was saved, no more
    np.testing.assert_array_equal(state.network.flat()[0], net.flat()[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def one_layer(output: str, W: list[list[float]], dtype: str) -> nlayer.Network:
    net = nlayer.Network([2, len(W[0])], output=output, dtype=dtype, seed=0)
    net.layers[0].W[...] = np.array(W)
    net.layers[0].b[...] = 0.0
    return net


EYE = np.eye(2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_logits_of_plus_minus_1000_give_finite_loss_and_gradients(dtype):
    net = one_layer("softmax", [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = net.predict_proba(EYE)
        right, _ = net.loss_and_gradients(EYE, [0, 1])
        wrong, grads = net.loss_and_gradients(EYE, [1, 0])
    assert set(np.unique(P)) == {0.0, 1.0}                       # saturated: exactly 0 and 1
    assert right == 0.0
    assert wrong == pytest.approx(2000.0)                        # logsumexp(Z) - Z_y = 1000 - (-1000)
    for dW, db in grads:
        assert np.all(np.isfinite(dW)) and np.all(np.isfinite(db))
    np.testing.assert_allclose(grads[0][1], [0.0, 0.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_probabilities_of_exactly_0_and_1_give_finite_loss_and_gradients(dtype):
    net = one_layer("sigmoid", [[1000.0], [-1000.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = net.predict_proba(EYE)
        wrong, grads = net.loss_and_gradients(EYE, [0, 1])
        right = net.loss(EYE, [1, 0])
    np.testing.assert_array_equal(P[:, 0], [1.0, 0.0])
    assert right == 0.0
    assert wrong == pytest.approx(1000.0)                        # softplus(1000) = 1000 per row, mean 1000
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_hidden_pre_activations_of_plus_minus_1000_stay_finite(activation):
    net = nlayer.Network([2, 4, 3], activation=activation, seed=0)
    net.layers[0].W[...] = np.array([[1000.0, -1000.0, 1000.0, -1000.0], [-1000.0, 1000.0, 1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grads = net.loss_and_gradients(EYE, [0, 2], l2=1e-3)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)
