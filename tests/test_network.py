"""The Network's public surface: construction, parameters, prediction, boundary checks."""

from __future__ import annotations

import numpy as np
import pytest

import nlayer
from nlayer.errors import ConfigError, DataError


def test_layers_expose_real_arrays_a_user_can_assign_in_place(spiral):
    X, y = spiral
    net = nlayer.Network([2, 100, 3], seed=0)
    W, b = net.layers[0].W, net.layers[0].b
    assert isinstance(W, np.ndarray) and W.shape == (2, 100) and b.shape == (100,)
    W[...] = 0.0
    b[...] = 0.0
    P = net.predict_proba(X)
    np.testing.assert_allclose(P, 1 / 3, rtol=1e-6)       # all-zero first layer: uniform output


def test_replacing_a_weight_array_is_picked_up_by_training(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    net.layers[1].W = np.zeros((4, 3), dtype=np.float32)
    net.fit(X, y, epochs=1, lr=0.1)
    assert np.any(net.layers[1].W != 0)
    assert net.layers[1].W.base is net.flat()[0]


def test_replacing_a_weight_array_is_picked_up_by_loss_and_gradients_with_l2(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0, dtype="float64")
    same = net.copy()
    W = np.full((2, 4), 0.3)
    net.layers[0].W = W.copy()                              # replaced, not assigned in place
    same.layers[0].W[...] = W
    loss, grads = net.loss_and_gradients(X[:20], y[:20], l2=0.5)
    expected_loss, expected = same.loss_and_gradients(X[:20], y[:20], l2=0.5)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for (dW, db), (dW_e, db_e) in zip(grads, expected):
        np.testing.assert_allclose(dW, dW_e, rtol=1e-12)
        np.testing.assert_allclose(db, db_e, rtol=1e-12)


@pytest.mark.parametrize("init", ["he", "xavier", "normal"])
def test_initialisations_have_their_documented_scale(init):
    net = nlayer.Network([400, 300, 10], init=init, init_scale=0.05, seed=0)
    expected = {"he": np.sqrt(2 / 400), "xavier": np.sqrt(2 / 700), "normal": 0.05}[init]
    assert net.layers[0].W.std() == pytest.approx(expected, rel=0.02)
    assert np.all(net.layers[0].b == 0)


def test_float32_and_float64_nets_from_one_seed_start_from_the_same_weights():
    a = nlayer.Network([5, 7, 3], seed=4)
    b = nlayer.Network([5, 7, 3], seed=4, dtype="float64")
    np.testing.assert_array_equal(a.layers[0].W, b.layers[0].W.astype(np.float32))


def test_predict_maps_to_classes_when_set(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    net.classes = ["red", "green", "blue"]
    labels = net.predict(X)
    assert set(labels) <= {"red", "green", "blue"}
    np.testing.assert_array_equal(labels, np.array(net.classes)[net.predict_proba(X).argmax(axis=1)])


def test_input_scaling_is_applied_to_every_input(spiral):
    X, y = spiral
    net = nlayer.Network([2, 4, 3], seed=0, dtype="float64")
    raw = 100 * X.astype(np.float64) + 5
    net.fit_input_scaling(raw)
    reference = net.copy()
    reference.input_mean = reference.input_scale = None
    scaled = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    np.testing.assert_allclose(net.predict_proba(raw), reference.predict_proba(scaled), rtol=1e-9)


def test_predict_proba_returns_a_fresh_array(spiral):
    X, _ = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    P1 = net.predict_proba(X)
    P2 = net.predict_proba(X[::-1])
    assert not np.shares_memory(P1, P2)
    np.testing.assert_array_equal(P1, P2[::-1])


def test_repr_names_the_architecture():
    assert repr(nlayer.Network([2, 4, 3])) == (
        "Network([2-4-3], activation='relu', output='softmax', dtype='float32')")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"sizes": [2]}, "at least two"), ({"sizes": [2, 0, 3]}, "at least one unit"),
     ({"sizes": [2, 1.5, 3]}, "whole layer widths"), ({"activation": "gelu"}, "relu, leaky_relu, tanh"),
     ({"output": "softplus"}, "softmax, sigmoid, identity"), ({"init": "zeros"}, "he, xavier, normal"),
     ({"dtype": "float16"}, "float32, float64"), ({"sizes": [2, 1]}, "at least 2 units"),
     ({"seed": -1}, "seed"), ({"init_scale": 0}, "init_scale")],
)
def test_bad_constructor_arguments_name_the_problem(kwargs, message):
    args = {"sizes": [2, 4, 3], **kwargs}
    with pytest.raises(ConfigError, match=message):
        nlayer.Network(**args)


@pytest.mark.parametrize(
    ("X", "message"),
    [(np.zeros(2), "must be 2-D"), (np.zeros((2, 2, 2)), "must be 2-D"), (np.zeros((3, 5)), "5 features but"),
     (np.array([["a", "b"]]), "real numbers"), (np.zeros((2, 2), dtype=complex), "real numbers"),
     (np.array([[np.nan, 1.0]]), "NaN or infinity")],
)
def test_bad_inputs_are_refused_with_the_problem_named(X, message):
    with pytest.raises(DataError, match=message):
        nlayer.Network([2, 4, 3], seed=0).predict(X)


@pytest.mark.parametrize(
    ("output", "y", "message"),
    [("softmax", np.array([0, 1, 3]), "integers in 0..2"), ("softmax", np.array([0.5, 1, 2]), "whole numbers"),
     ("sigmoid", np.array([0, 2, 1]), "0/1 labels"), ("identity", np.zeros((3, 2)), r"shape \(m, 3\)")],
)
def test_bad_targets_are_refused(output, y, message):
    net = nlayer.Network([2, 1 if output == "sigmoid" else 3], output=output, seed=0)
    with pytest.raises(DataError, match=message):
        net.loss_and_gradients(np.zeros((3, 2)), y)


def test_loss_with_l2_equals_the_validation_loss_training_records(spiral):
    X, y = spiral
    net = nlayer.Network([2, 16, 3], seed=0)
    history = net.fit(X[:200], y[:200], epochs=3, lr=0.5, l2=1e-2, validation_data=(X[200:], y[200:]))
    assert net.loss(X[200:], y[200:], l2=1e-2) == history.val_loss[-1]


def test_refused_data_leaves_the_learned_input_scaling_in_place(spiral):
    X, _ = spiral
    net = nlayer.Network([2, 4, 3], seed=0)
    net.fit_input_scaling(X)
    mean, scale = net.input_mean.copy(), net.input_scale.copy()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        net.fit_input_scaling(bad)
    np.testing.assert_array_equal(net.input_mean, mean)
    np.testing.assert_array_equal(net.input_scale, scale)
    net.fit_input_scaling(X * 3.0)                           # refit learns from the raw X, not the scaled one
    np.testing.assert_allclose(net.input_mean, 3.0 * mean, rtol=1e-5)


def test_float32_network_standardises_columns_of_1e30_with_float64_statistics():
    rng = np.random.default_rng(0)
    X = np.column_stack([1e30 * (3 + rng.standard_normal(500)), rng.standard_normal(500)])
    net = nlayer.Network([2, 4, 3], seed=0)                   # float32: X's squares overflow it
    net.fit_input_scaling(X)                                  # no overflow warning (pytest -W error)
    assert net.input_mean.dtype == net.input_scale.dtype == np.float32
    X32 = X.astype(np.float32).astype(np.float64)             # the values the network sees
    np.testing.assert_allclose(net.input_mean, X32.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(net.input_scale, X32.std(axis=0), rtol=1e-6)
    Z = net.standardize(net.prepare_X(X, standardize=False))
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-5)


def test_float64_network_standardises_columns_whose_squares_overflow_float64():
    X = np.array([[1e200], [-1e200], [3e200], [5e200]])
    net = nlayer.Network([1, 2, 2], seed=0, dtype="float64")
    net.fit_input_scaling(X)
    np.testing.assert_allclose(net.input_mean, [2e200], rtol=1e-12)
    np.testing.assert_allclose(net.input_scale, [np.sqrt(5.0) * 1e200], rtol=1e-12)


def test_values_too_far_from_their_mean_for_the_dtype_are_refused_naming_the_column_and_the_fix(spiral):
    X64 = np.array([[0.0, 3e38], [1.0, 3e38], [2.0, 3e38], [3.0, -3e38]])   # mean 1.5e38: 4.5e38 from -3e38
    X = X64.astype(np.float32)                      # float32 inputs: X - mean overflows before / scale
    net = nlayer.Network([2, 4, 3], seed=0)
    net.fit_input_scaling(spiral[0])
    mean, scale = net.input_mean.copy(), net.input_scale.copy()
    with pytest.raises(DataError, match=r"^X\[:, 1\] holds values from -3e\+38 to 3e\+38, too far from their mean "
                                        r"1\.5e\+38 to standardise in float32 .*rescale the column or use "
                                        r"dtype='float64'$"):
        net.fit_input_scaling(X)
    np.testing.assert_array_equal(net.input_mean, mean)       # refused: the earlier statistics stay
    np.testing.assert_array_equal(net.input_scale, scale)
    net.fit_input_scaling(X64)                                # float64 inputs stay float64 until scaled
    assert np.all(np.isfinite(net.prepare_X(X64))) and net.prepare_X(X64).dtype == np.float32
    wide = nlayer.Network([2, 4, 3], seed=0, dtype="float64")
    wide.fit_input_scaling(X)                                 # the fix named
    assert np.all(np.isfinite(wide.standardize(wide.prepare_X(X, standardize=False))))
    with pytest.raises(DataError, match=r"X\[:, 0\].* to standardise in float64 \(the differences overflow\); "
                                        "rescale the column$"):
        wide.fit_input_scaling(np.array([[1.5e308], [1.5e308], [-1.5e308]]).repeat(2, axis=1))


def test_input_scaling_statistics_need_no_X_sized_float64_copy():
    import tracemalloc

    X = np.random.default_rng(0).standard_normal((20_000, 50)).astype(np.float32)   # 4 MB; float64: 8 MB
    net = nlayer.Network([50, 2], seed=0)
    tracemalloc.start()
    try:
        net.fit_input_scaling(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes // 2, f"fit_input_scaling allocated {peak} bytes for a {X.nbytes}-byte X"


def test_fit_input_scaling_refuses_an_X_without_rows():
    with pytest.raises(DataError, match="X has no rows"):
        nlayer.Network([2, 3], seed=0).fit_input_scaling(np.zeros((0, 2)))


def test_predict_maps_a_single_sigmoid_unit_to_the_two_classes():
    X = np.array([[-3.0], [3.0], [-1.0], [2.0]])
    net = nlayer.Network([1, 1], output="sigmoid", seed=0)
    net.layers[0].W[...] = 1.0
    net.classes = ["ham", "spam"]
    assert list(net.predict(X)) == ["ham", "spam", "ham", "spam"]
    np.testing.assert_array_equal(net.decide(net.predict_proba(X)), net.predict(X))


def test_inference_on_a_value_too_far_from_the_training_mean_to_standardise_is_refused_naming_it():
    net = nlayer.Network([2, 4, 2], seed=0)                # float32
    net.fit_input_scaling(np.c_[np.full(20, 3e38), np.arange(20.0)])
    X = np.array([[3e38, 1.0], [3e38, 2.0], [-3e38, 0.5]])  # (x - mean) overflows float32 in row 2
    with pytest.raises(DataError, match=r"X\[2, 0\] = -3e\+38 is too far from the training data's mean 3e\+38"):
        net.predict_proba(X)
    assert np.all(np.isfinite(net.predict_proba(X[:2])))
