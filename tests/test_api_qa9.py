"""The Python API on inputs a QA pass found mishandled: finite inputs that overflow the
network, files `save` wrote but `load` refused, a crafted file's size, byte orders, a
continued fit's validation split, and plain Python errors where nlayer's were due."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nlayer
from nlayer import Adam, Network
from nlayer.errors import ConfigError, DataError, ModelFormatError

HUGE = np.array([[1.0, 2.0], [3e38, 3e38], [0.5, 0.5]])      # finite, but X W[1] overflows float32


# ------------------------------------------------------------------ overflow inside the network
def test_predict_proba_names_the_row_whose_output_overflows_instead_of_returning_nan():
    net = Network([2, 4, 3], seed=0)
    with pytest.raises(DataError, match=r"row 1: the network's output overflows float32.*rescale X"):
        net.predict_proba(HUGE)
    with pytest.raises(DataError, match="row 1"):
        net.predict(HUGE)


def test_loss_names_the_row_whose_output_overflows():
    with pytest.raises(DataError, match="row 1"):
        Network([2, 4, 3], seed=0).loss(HUGE, [0, 1, 2])


def test_an_identity_output_that_overflows_is_refused_too():
    net = Network([2, 4, 1], output="identity", seed=0)
    with pytest.raises(DataError, match="row 1"):
        net.predict(HUGE)


def test_a_saturating_activation_that_absorbs_the_overflow_still_predicts():
    net = Network([2, 4, 3], activation="tanh", seed=0)
    assert np.isfinite(net.predict_proba(HUGE)).all()


def test_a_first_loss_that_overflows_is_blamed_on_the_data_and_changes_nothing():
    X, y = np.full((30, 2), 3e38), np.tile([0, 1, 2], 10)      # every batch overflows: no luck involved
    for batch_size in (4, None):
        net = Network([2, 4, 3], seed=0)
        before = net.flat()[0].copy()
        with pytest.raises(DataError, match="before any update.*overflows float32.*float64"):
            net.fit(X, y, epochs=2, batch_size=batch_size, seed=0)
        np.testing.assert_array_equal(net.flat()[0], before)


def test_non_finite_weights_are_named_as_such():
    net = Network([2, 4, 3], seed=0)
    net.layers[1].W[0, 0] = np.inf
    with pytest.raises(ConfigError, match="weights or biases contain NaN or infinity"):
        net.predict_proba(np.ones((2, 2)))


# ------------------------------------------------------------------ float32 keeps the inputs' resolution
def test_a_float32_network_standardises_large_offsets_before_rounding():
    t = 1.7e9 + np.arange(100.0)                       # float32 steps are 128 apart there
    net = Network([1, 4, 2], seed=0)
    net.fit_input_scaling(t[:, None])
    Xs = net.prepare_X(t[:, None])
    assert Xs.dtype == np.float32 and np.unique(Xs).size == 100
    np.testing.assert_allclose(np.diff(Xs[:, 0]), 1 / float(net.input_scale[0]), rtol=1e-3)
    probs = net.predict_proba(t[:, None])              # the chunked path standardises the same way
    np.testing.assert_array_equal(probs, net.forward(Xs).copy())


# ------------------------------------------------------------------ save writes only what load reads
@pytest.mark.parametrize("change, message", [
    (lambda n: setattr(n, "input_scale", np.array([1.0, 0.0], np.float32)), "input_scale must be > 0"),
    (lambda n: setattr(n, "input_scale", np.ones(3, np.float32)), "input_scale' has shape"),
    (lambda n: setattr(n.layers[1], "W", np.zeros((5, 3), np.float32)), "shapes do not chain"),
])
def test_save_refuses_a_network_load_would_refuse_and_keeps_the_old_file(tmp_path, change, message):
    path = tmp_path / "m.safetensors"
    nlayer.save(Network([2, 4, 3], seed=0), path)
    before = path.read_bytes()
    net = Network([2, 4, 3], seed=1)
    net.input_mean, net.input_scale = np.zeros(2, np.float32), np.ones(2, np.float32)
    change(net)
    with pytest.raises(ConfigError, match=message):
        nlayer.save(net, path)
    assert path.read_bytes() == before
    nlayer.load(path)


def test_a_crafted_file_is_refused_from_its_header_without_reading_the_rest(tmp_path):
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as f:                        # 256 MiB on paper, no disk used
        f.write((50).to_bytes(8, "little") + b"{" + b" " * 49)
        f.truncate(2**28)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match="header is not UTF-8 JSON"):
            nlayer.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


# ------------------------------------------------------------------ dtypes
def test_a_big_endian_dtype_is_the_native_one_and_trains():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    for optimizer in ("sgd", "adam"):
        net = Network([2, 8, 3], dtype=">f8", seed=0)
        assert net.dtype == np.dtype(np.float64) and net.dtype.isnative
        net.fit(X, y, epochs=1, batch_size=16, optimizer=optimizer)


def test_dtype_none_is_refused_rather_than_float64():
    with pytest.raises(ConfigError, match="dtype must be one of float32, float64; got None"):
        Network([2, 3], dtype=None)


# ------------------------------------------------------------------ a continued fit
def test_a_fit_continued_with_validation_fraction_keeps_its_split_and_matches_one_run():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    kw = dict(batch_size=16, validation_fraction=0.2)
    whole = Network([2, 8, 3], seed=1)
    whole.fit(X, y, epochs=10, optimizer=Adam(0.01), seed=np.random.default_rng(7), **kw)
    split = Network([2, 8, 3], seed=1)
    opt, rng = Adam(0.01), np.random.default_rng(7)
    history = split.fit(X, y, epochs=4, optimizer=opt, seed=rng, **kw)
    split.fit(X, y, epochs=10, optimizer=opt, seed=rng, initial_epoch=4, history=history, **kw)
    np.testing.assert_array_equal(split.flat()[0], whole.flat()[0])
    assert history.val_loss == whole.history.val_loss


# ------------------------------------------------------------------ nlayer's errors, not Python's
def test_an_optimizer_given_as_a_list_is_a_config_error():
    X, y = nlayer.datasets.spiral(10, 3, seed=0)
    with pytest.raises(ConfigError, match="unknown optimizer"):
        Network([2, 4, 3]).fit(X, y, optimizer=["sgd"])


def test_class_labels_of_the_wrong_length_are_named_at_predict():
    net = Network([2, 4, 3], seed=0)
    net.classes = ["a", "b"]
    with pytest.raises(ConfigError, match="net.classes must list 3 labels"):
        net.predict(np.ones((2, 2)))


def test_a_history_that_is_not_a_history_is_a_config_error():
    X, y = nlayer.datasets.spiral(10, 3, seed=0)
    with pytest.raises(ConfigError, match="history must be the History"):
        Network([2, 4, 3]).fit(X, y, epochs=1, history={"loss": []})


def test_one_sample_given_as_a_vector_gets_the_reshape_that_works():
    with pytest.raises(DataError, match=r"X.reshape\(1, -1\) for one sample of 2 features"):
        Network([2, 5, 3]).predict(np.array([0.1, 0.2]))
    with pytest.raises(DataError, match=r"X.reshape\(-1, 1\) for a single feature"):
        Network([1, 5, 3]).predict(np.array([0.1, 0.2, 0.3]))


def test_a_continued_fit_refuses_another_validation_fraction_or_other_rows():
    X, y = nlayer.datasets.spiral(50, 3, seed=0)
    net, rng = Network([2, 8, 3], seed=0), np.random.default_rng(1)
    history = net.fit(X, y, epochs=2, validation_fraction=0.2, seed=rng)
    for X2, y2, fraction in ((X[:100], y[:100], 0.2), (X, y, 0.3)):
        with pytest.raises(ConfigError, match="held out validation_fraction=0.2 of 150 rows"):
            net.fit(X2, y2, epochs=4, initial_epoch=2, history=history, validation_fraction=fraction, seed=rng)


# ------------------------------------------------------------------ review of this change
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_a_refused_fit_leaves_the_optimizer_state_finite_for_the_next_fit(optimizer):
    from nlayer.optimizers import make_optimizer

    X, y = nlayer.datasets.spiral(30, 3, seed=0)
    net, opt = Network([2, 8, 3], seed=0), make_optimizer(optimizer, 0.01)
    net.fit(X, y, epochs=2, batch_size=16, optimizer=opt, seed=0)
    with pytest.raises(DataError, match="before any update"):
        net.fit(np.full_like(X, 3e38), y, epochs=1, batch_size=16, optimizer=opt, seed=0)
    assert all(np.isfinite(a).all() for arrays in opt.state.values() for a in arrays)
    net.fit(X, y, epochs=1, batch_size=16, optimizer=opt)        # good data trains again


def test_divergence_restores_the_optimizer_state_and_step_of_the_last_good_epoch():
    X, y = nlayer.datasets.spiral(30, 3, seed=0)
    net, opt = Network([2, 8, 3], seed=0), Adam(0.01)
    net.fit(X, y, epochs=2, batch_size=16, optimizer=opt)
    m, v, t = opt.state["m"][0].copy(), opt.state["v"][0].copy(), opt.t
    opt.lr0 = 1e30                                                # the next fit explodes
    with pytest.raises(nlayer.errors.DivergenceError):
        net.fit(X, y, epochs=3, batch_size=16, optimizer=opt)
    np.testing.assert_array_equal(opt.state["m"][0], m)
    np.testing.assert_array_equal(opt.state["v"][0], v)
    assert opt.t == t


def test_huge_raw_targets_at_the_first_step_point_at_target_scaling():
    X = np.random.default_rng(0).standard_normal((32, 2))
    net = Network([2, 4, 1], output="identity", seed=0)
    with pytest.raises(DataError, match=r"net.fit_target_scaling\(y_train\)"):
        net.fit(X, np.full(32, 1e20), epochs=1, batch_size=8)


def test_target_statistics_on_a_classifier_are_refused_before_training():
    X, y = nlayer.datasets.spiral(10, 3, seed=0)
    net = Network([2, 4, 3])
    net.target_mean, net.target_scale = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ConfigError, match="identity output"):
        net.fit(X, y, epochs=1)


def test_empty_targets_are_named_as_y():
    with pytest.raises(DataError, match="^y has no rows"):
        Network([2, 4, 1], output="identity").fit_target_scaling(np.empty(0))


# ------------------------------------------------------------------ runs continued across calls
def test_a_continued_run_diverging_at_its_first_step_is_divergence_not_bad_data():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    net, opt = Network([2, 8, 3], seed=0), nlayer.SGD(0.1)
    history = net.fit(X, y, epochs=2, optimizer=opt, seed=0)
    net.flat()[0][...] *= 1e25                                    # a run whose weights have blown up
    with pytest.raises(nlayer.errors.DivergenceError, match="Lower the learning rate"):
        net.fit(X, y, epochs=4, optimizer=opt, initial_epoch=2, history=history, seed=0)
    with pytest.raises(DataError, match="before any update"):     # a new run: its data, as it starts
        net.fit(X, y, epochs=1, optimizer=opt, seed=0)


def test_a_refused_fit_leaves_a_reused_optimizer_as_it_was():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    net, opt = Network([2, 8, 3], seed=0), Adam(0.01)
    with pytest.raises(ConfigError):
        net.fit(X, y, optimizer=opt, lr=5.0, schedule="bogus")
    assert opt.lr0 == 0.01 and not opt.state
    history = net.fit(X, y, epochs=1, optimizer=opt)
    assert history.lr == [0.01]


@pytest.mark.parametrize("first, then, message", [
    (dict(validation_fraction=0.2), dict(), "trained with validation"),
    (dict(), dict(validation_fraction=0.2), "trained without validation"),
    (dict(validation_fraction=0.2), dict(validation_data="same"), "held out validation_fraction=0.2"),
])
def test_a_continued_run_keeps_its_validation(first, then, message):
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    if then.get("validation_data") == "same":
        then = dict(validation_data=(X[:10], y[:10]))
    net, rng = Network([2, 8, 3], seed=0), np.random.default_rng(0)
    history = net.fit(X, y, epochs=2, seed=rng, **first)
    with pytest.raises(ConfigError, match=message):
        net.fit(X, y, epochs=4, initial_epoch=2, history=history, seed=rng, **then)


def test_a_history_that_does_not_match_initial_epoch_is_refused_before_training():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    net = Network([2, 8, 3], seed=0)
    history = net.fit(X, y, epochs=3)
    before = net.flat()[0].copy()
    for initial_epoch, hist in ((3, None), (0, history), (2, history)):
        if hist is None:
            continue
        with pytest.raises(ConfigError, match=f"history holds 3 epochs but initial_epoch is {initial_epoch}"):
            net.fit(X, y, epochs=6, initial_epoch=initial_epoch, history=hist)
    np.testing.assert_array_equal(net.flat()[0], before)


def test_checkpoint_fit_refuses_fewer_epochs_before_touching_the_network(tmp_path):
    from nlayer import checkpoint

    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    path = tmp_path / "c.safetensors"
    checkpoint.fit(Network([2, 8, 3], seed=0), X, y, checkpoint=path, epochs=5, optimizer="adam", lr=0.01, seed=0)
    other = Network([2, 8, 3], seed=1)
    before = other.flat()[0].copy()
    with pytest.raises(ConfigError, match="already at epoch 5"):
        checkpoint.fit(other, X, y, checkpoint=path, resume=True, epochs=3, optimizer="adam", lr=0.01, seed=0)
    np.testing.assert_array_equal(other.flat()[0], before)
