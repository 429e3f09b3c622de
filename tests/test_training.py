"""The training loop: the CS231n case study, overfitting, determinism, validation,
early stopping, callbacks, dtype and buffers."""

from __future__ import annotations

import numpy as np
import pytest

import nlayer
from nlayer.errors import ConfigError, DataError


def test_cs231n_case_study_reaches_97_percent_training_accuracy(spiral):
    X, y = spiral
    net = nlayer.Network([2, 100, 3], init="normal", init_scale=0.01, seed=0)
    net.fit(X, y, epochs=10_000, batch_size=None, optimizer="sgd", lr=1.0, l2=1e-3)
    assert np.mean(net.predict(X) == y) >= 0.97          # published: 98%


def test_cs231n_linear_model_lands_near_the_published_49_percent(spiral):
    X, y = spiral
    net = nlayer.Network([2, 3], init="normal", init_scale=0.01, seed=0)
    net.fit(X, y, epochs=200, optimizer="sgd", lr=1.0, l2=1e-3)
    assert 0.44 <= np.mean(net.predict(X) == y) <= 0.58   # published: 49%


def test_a_net_overfits_50_random_samples_to_100_percent():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 10)), rng.integers(0, 4, size=50)
    net = nlayer.Network([10, 64, 64, 4], seed=0)
    history = net.fit(X, y, epochs=300, optimizer="adam", lr=0.01)
    assert np.all(net.predict(X) == y)
    assert history.accuracy[-1] == 1.0


def test_same_seed_gives_bit_identical_weights_and_training(spiral):
    X, y = spiral
    runs = []
    for _ in range(2):
        net = nlayer.Network([2, 32, 32, 3], seed=7)
        history = net.fit(X, y, epochs=5, batch_size=32, optimizer="adam", lr=0.01,
                          validation_fraction=0.2, seed=11)
        runs.append((net.flat()[0].copy(), history.loss))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_different_seeds_give_different_weights():
    a, b = nlayer.Network([2, 8, 3], seed=0), nlayer.Network([2, 8, 3], seed=1)
    assert not np.array_equal(a.layers[0].W, b.layers[0].W)


def test_no_global_random_state_is_used(spiral):
    X, y = spiral
    np.random.seed(0)  # noqa: NPY002 - the test checks the legacy global state is untouched
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    nlayer.Network([2, 8, 3], seed=0).fit(X, y, epochs=2, batch_size=50, seed=0, validation_fraction=0.1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_minibatch_training_lowers_the_loss_for_every_optimizer(spiral):
    X, y = spiral
    for optimizer, lr in (("sgd", 0.5), ("momentum", 0.1), ("nesterov", 0.1), ("adam", 0.01)):
        net = nlayer.Network([2, 50, 3], seed=0)
        history = net.fit(X, y, epochs=30, batch_size=32, optimizer=optimizer, lr=lr, seed=0)
        assert history.loss[-1] < 0.7 * history.loss[0], optimizer


def test_history_records_train_and_validation_metrics_per_epoch(spiral):
    X, y = spiral
    net = nlayer.Network([2, 16, 3], seed=0)
    history = net.fit(X, y, epochs=4, batch_size=64, lr=0.5, validation_fraction=0.2, seed=0)
    assert history.epochs == 4 and net.history is history
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(getattr(history, key)) == 4
    assert all(0 <= a <= 1 for a in history.val_accuracy)


def test_validation_loss_is_the_loss_of_the_epochs_final_weights(spiral):
    X, y = spiral
    Xv, yv = X[::3], y[::3]
    net = nlayer.Network([2, 16, 3], seed=0)
    history = net.fit(X, y, epochs=3, batch_size=50, lr=0.5, l2=1e-3, validation_data=(Xv, yv), seed=0)
    assert history.val_loss[-1] == pytest.approx(net.loss(Xv, yv, l2=1e-3), rel=1e-5)
    assert history.val_accuracy[-1] == pytest.approx(np.mean(net.predict(Xv) == yv))


def test_validation_fraction_holds_out_a_stratified_share(spiral):
    X, y = spiral                                    # 100 rows of each of 3 classes
    net = nlayer.Network([2, 8, 3], seed=0)
    X_tr, Y_tr, X_val, Y_val, _ = nlayer.training.split_validation(
        net, net.prepare_X(X), net.prepare_Y(y), 0.2, np.random.default_rng(0))
    assert Y_val.sum(axis=0).tolist() == [20, 20, 20]    # 20 % of every class
    assert Y_tr.sum(axis=0).tolist() == [80, 80, 80]
    assert len(X_tr) + len(X_val) == len(X)
    history = net.fit(X, y, epochs=1, validation_fraction=0.2, seed=0)
    assert history.val_accuracy and history.val_loss


def test_early_stopping_stops_and_restores_the_best_weights(spiral):
    X, y = spiral
    rng = np.random.default_rng(0)
    Xv, yv = X[::2], rng.integers(0, 3, size=150)       # noise labels: val loss soon rises
    net = nlayer.Network([2, 64, 3], seed=0)
    history = net.fit(X, y, epochs=500, batch_size=30, optimizer="adam", lr=0.01,
                      validation_data=(Xv, yv), early_stopping=5, seed=0)
    assert history.stopped_early and history.epochs < 500
    best = history.best_epoch
    assert best == int(np.argmin(history.val_loss)) and history.epochs == best + 6
    assert net.loss(Xv, yv) == pytest.approx(history.val_loss[best], rel=1e-5)


def test_callbacks_run_every_epoch_and_can_stop_training(spiral):
    X, y = spiral
    calls = []

    def on_epoch(epoch, logs):
        calls.append((epoch, sorted(logs)))
        return epoch < 2                                 # False stops after epoch 2

    history = nlayer.Network([2, 8, 3], seed=0).fit(X, y, epochs=10, callbacks=[on_epoch])
    assert [c[0] for c in calls] == [0, 1, 2] and history.epochs == 3
    assert calls[0][1] == ["accuracy", "loss", "lr"]


def test_callback_object_sees_the_trainer_state(spiral):
    X, y = spiral
    events = []

    class Recorder(nlayer.Callback):
        def on_train_begin(self, trainer):
            events.append(("begin", trainer.epoch))

        def on_epoch_end(self, trainer, epoch, logs):
            events.append(("epoch", epoch, trainer.epoch, trainer.optimizer.t))

        def on_train_end(self, trainer):
            events.append(("end", trainer.epoch))

    nlayer.Network([2, 8, 3], seed=0).fit(X, y, epochs=2, batch_size=100, callbacks=[Recorder()])
    assert events == [("begin", 0), ("epoch", 0, 1, 3), ("epoch", 1, 2, 6), ("end", 2)]


def test_float32_stays_float32_and_float64_stays_float64(spiral):
    X, y = spiral
    for dtype in ("float32", "float64"):
        net = nlayer.Network([2, 8, 3], seed=0, dtype=dtype)
        net.fit(X.astype(np.float64), y, epochs=2, batch_size=64)
        assert all(p.dtype == dtype for p in net.parameters())
        assert net.predict_proba(X).dtype == dtype
        assert all(layer.Z.dtype == dtype and layer.dZ.dtype == dtype for layer in net.layers)


def test_buffers_are_allocated_once_per_batch_size_not_per_step(spiral):
    X, y = spiral
    net = nlayer.Network([2, 16, 3], seed=0)
    net.fit(X, y, epochs=1, batch_size=64)
    buffers = [(layer._Z, layer._A, layer._dA, layer._dZ) for layer in net.layers]
    net.fit(X, y, epochs=3, batch_size=64)
    assert all(all(a is b for a, b in zip(before, (layer._Z, layer._A, layer._dA, layer._dZ)))
               for before, layer in zip(buffers, net.layers))


def test_full_batch_is_the_lectures_gradient_descent(spiral):
    X, y = spiral
    net = nlayer.Network([2, 8, 3], seed=0, dtype="float64")
    reference = net.copy()
    net.fit(X, y, epochs=3, batch_size=None, lr=0.5, l2=1e-3)
    for _ in range(3):
        _, grads = reference.loss_and_gradients(X, y, l2=1e-3)
        for layer, (dW, db) in zip(reference.layers, grads):
            layer.W -= 0.5 * dW
            layer.b -= 0.5 * db
    np.testing.assert_allclose(net.flat()[0], reference.flat()[0], rtol=1e-12)


def test_regression_and_multilabel_training_lower_the_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y_reg = np.c_[X[:, 0] - 2 * X[:, 1], np.sin(X[:, 2])]
    net = nlayer.Network([3, 32, 2], activation="tanh", output="identity", seed=0)
    h = net.fit(X, y_reg, epochs=50, batch_size=20, optimizer="adam", lr=0.01)
    assert h.loss[-1] < 0.1 * h.loss[0] and not h.accuracy
    assert net.predict(X).shape == (200, 2)
    y_ml = (X[:, :2] > 0).astype(int)
    net = nlayer.Network([3, 32, 2], output="sigmoid", seed=0)
    h = net.fit(X, y_ml, epochs=50, batch_size=20, optimizer="adam", lr=0.01)
    assert h.accuracy[-1] > 0.9 and set(np.unique(net.predict(X))) <= {0, 1}


def test_batch_size_larger_than_the_data_is_clamped_with_a_warning(spiral):
    X, y = spiral
    with pytest.warns(UserWarning, match="larger than the 300 training rows; using 300"):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y, epochs=1, batch_size=1000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"epochs": -1}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"l2": -1.0}, "l2"),
     ({"early_stopping": 0}, "early_stopping"), ({"validation_fraction": 1.0}, "validation_fraction"),
     ({"optimizer": "rmsprop"}, "unknown optimizer"), ({"lr": 0.0}, "lr must be")],
)
def test_bad_training_options_are_refused_with_the_option_named(spiral, kwargs, message):
    X, y = spiral
    with pytest.raises(ConfigError, match=message):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y, **kwargs)


def test_mismatched_lengths_are_refused(spiral):
    X, y = spiral
    with pytest.raises(DataError, match="X has 300 rows but y has 299"):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y[:-1], epochs=1)


def test_divergence_in_the_first_epoch_restores_the_initial_weights(spiral):
    from nlayer.errors import DivergenceError

    X, y = spiral
    net = nlayer.Network([2, 100, 3], seed=0)
    initial = net.flat()[0].copy()
    with pytest.raises(DivergenceError, match="diverged in epoch 1: .* restored to their values before training"):
        net.fit(X, y, epochs=5, batch_size=10, lr=1e6, l2=1e-3)
    np.testing.assert_array_equal(net.flat()[0], initial)


@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity"])
def test_evaluate_hands_back_the_outputs_of_its_own_pass(spiral, output):
    from nlayer.training import evaluate

    X, y = spiral
    net = nlayer.Network([2, 16, 3], output=output, seed=0)
    Y = np.eye(3, dtype=np.float32)[y] if output != "identity" else X[:, :1].repeat(3, axis=1)
    A = np.full((X.shape[0], 3), np.nan, dtype=net.dtype)
    loss, accuracy = evaluate(net, net.prepare_X(X), net.prepare_Y(Y), 64, out=A)   # 64: several chunks
    np.testing.assert_array_equal(A, net.predict_proba(X))
    assert loss == pytest.approx(net.loss(X, Y), rel=1e-6)
    assert (accuracy is None) == (output == "identity")


@pytest.mark.parametrize(
    ("make_optimizer", "schedule", "batch_size"),
    [(lambda: nlayer.Adam(0.01), lambda: nlayer.Cosine(10), 16),             # folded Adam steps
     (lambda: nlayer.SGD(0.5), lambda: nlayer.StepDecay(3, 0.5), 16),       # fused BLAS SGD steps
     (lambda: nlayer.Momentum(0.05), lambda: nlayer.Cosine(10, lr_min=0.01), 32),
     (lambda: nlayer.Nesterov(0.05), lambda: nlayer.StepDecay(2, 0.7), None)],  # full batch
    ids=["adam-cosine", "sgd-step", "momentum-cosine", "nesterov-step-full-batch"],
)
def test_a_run_continued_with_the_same_optimizer_and_schedule_equals_one_run_bit_for_bit(
    spiral, make_optimizer, schedule, batch_size
):
    X, y = spiral
    one = nlayer.Network([2, 16, 3], seed=0)
    whole = one.fit(X, y, epochs=10, optimizer=make_optimizer(), schedule=schedule(), batch_size=batch_size,
                    seed=np.random.default_rng(1))
    split = nlayer.Network([2, 16, 3], seed=0)
    opt, rng = make_optimizer(), np.random.default_rng(1)
    history = split.fit(X, y, epochs=4, optimizer=opt, schedule=schedule(), batch_size=batch_size, seed=rng)
    split.fit(X, y, epochs=10, optimizer=opt, schedule=schedule(), batch_size=batch_size, seed=rng,
              initial_epoch=4, history=history)
    assert len(set(history.lr)) > 2                              # the schedule did decay
    assert history.lr == whole.lr and history.loss == whole.loss
    np.testing.assert_array_equal(split.flat()[0], one.flat()[0])


def test_assigning_lr_between_fits_sets_the_rate_the_schedule_restarts_from(spiral):
    X, y = spiral
    opt = nlayer.SGD(0.8)
    net = nlayer.Network([2, 8, 3], seed=0)
    history = net.fit(X, y, epochs=4, optimizer=opt, schedule=nlayer.StepDecay(2, 0.5), seed=0)
    assert (opt.lr, opt.lr0) == (0.4, 0.8)                       # epoch 3's rate; the schedule's base
    opt.lr = 0.1                                                 # a manual change is the new base
    net.fit(X, y, epochs=6, optimizer=opt, schedule=nlayer.StepDecay(2, 0.5), seed=0,
            initial_epoch=4, history=history)
    assert history.lr == [0.8, 0.8, 0.4, 0.4, 0.025, 0.025]
    net.fit(X, y, epochs=7, optimizer=opt, lr=0.2, seed=0, initial_epoch=6, history=history)
    assert history.lr[-1] == 0.2 and opt.lr0 == 0.2              # fit(lr=) sets the base too


def test_validation_data_and_validation_fraction_together_are_refused(spiral):
    X, y = spiral
    with pytest.raises(ConfigError, match="validation_data and validation_fraction=0.5 were both given; pass one"):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y, epochs=1, validation_data=(X, y), validation_fraction=0.5)


@pytest.mark.parametrize(("validation_data", "got"), [
    ((np.zeros((3, 2)),), "a tuple of length 1"), ([np.zeros((3, 2)), [0, 1, 2], None], "a list of length 3"),
    (np.zeros((3, 2)), "ndarray"), ({"X": 1, "y": 2}, "dict"),
])
def test_validation_data_must_be_a_pair(spiral, validation_data, got):
    X, y = spiral
    with pytest.raises(ConfigError, match=rf"validation_data must be a pair \(X_val, y_val\); got {got}$"):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y, epochs=1, validation_data=validation_data)


@pytest.mark.parametrize(("callbacks", "message"), [
    ([lambda epoch, logs: None, 1],
     r"callbacks\[1\] must be a Callback object or a function f\(epoch, logs\); got int 1"),
    ([None], r"callbacks\[0\] must be a Callback object"),
    (nlayer.Callback(), "callbacks must be a list of Callback objects or functions .*; got Callback"),
    (lambda epoch, logs: None, r"callbacks must be a list .*; got function \(put a single callback in a list\)"),
    (5, "callbacks must be a list"),
])
def test_callbacks_are_checked_before_training_starts(spiral, callbacks, message):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    before = net.flat()[0].copy()
    with pytest.raises(ConfigError, match=message):
        net.fit(X, y, epochs=3, callbacks=callbacks)
    np.testing.assert_array_equal(net.flat()[0], before)         # not one step was taken


def test_callbacks_none_is_no_callbacks(spiral):
    X, y = spiral
    assert nlayer.Network([2, 4, 3], seed=0).fit(X, y, epochs=2, callbacks=None).epochs == 2


@pytest.mark.parametrize("min_delta", [float("nan"), -1, -1e-9, float("inf"), "0.1", True])
def test_min_delta_must_be_a_finite_number_at_least_zero(spiral, min_delta):
    X, y = spiral
    with pytest.raises(ConfigError, match=f"min_delta must be a finite number >= 0; got {min_delta!r}"):
        nlayer.Network([2, 4, 3], seed=0).fit(X, y, epochs=2, early_stopping=1, min_delta=min_delta)
