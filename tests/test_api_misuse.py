"""Misusing the API gives a documented error naming the parameter, the bad value and the fix."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import nlayer
from nlayer.errors import ConfigError, DataError, ModelFormatError, NLayerError

X, Y = nlayer.datasets.spiral(20, 3, seed=0)


@pytest.fixture
def net() -> nlayer.Network:
    return nlayer.Network([2, 8, 3], seed=0)


def test_wrong_number_of_features_at_predict_says_expected_and_got(net):
    with pytest.raises(DataError, match="X has 5 features but the network expects 2"):
        net.predict(np.zeros((4, 5)))
    with pytest.raises(DataError, match="X has 1 features but the network expects 2"):
        net.fit(np.zeros((4, 1)), [0, 1, 2, 0], epochs=1)


@pytest.mark.parametrize(("bad", "hint"), [(np.zeros(2), "reshape"), (np.zeros((2, 2, 2)), r"shape \(2, 2, 2\)")])
def test_x_must_be_2d_and_the_message_says_which_shape_came(net, bad, hint):
    with pytest.raises(DataError, match="2-D") as err:
        net.predict(bad)
    assert err.match(hint)


@pytest.mark.parametrize("bad", [np.zeros((3, 2), dtype=complex), np.array([["a", "b"], ["c", "d"]]),
                                 np.array([[1, None], [2, 3]], dtype=object)])
def test_complex_string_or_object_x_is_refused_naming_the_dtype(net, bad):
    with pytest.raises(DataError, match=f"real numbers; got dtype {bad.dtype}"):
        net.predict(bad)


def test_non_finite_x_is_refused(net):
    with pytest.raises(DataError, match="NaN or infinity"):
        net.predict(np.array([[0.0, np.nan]]))


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_learning_rate_must_be_positive_and_finite(net, lr):
    before = net.flat()[0].copy()
    with pytest.raises(ConfigError, match=f"lr must be a positive finite number; got {lr!r}"):
        net.fit(X, Y, epochs=1, lr=lr)
    np.testing.assert_array_equal(net.flat()[0], before)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan")])
def test_learning_rate_is_checked_beside_an_optimizer_instance_too(net, lr):
    before = net.flat()[0].copy()
    with pytest.raises(ConfigError, match=f"lr must be a positive finite number; got {lr!r}"):
        net.fit(X, Y, epochs=1, optimizer=nlayer.SGD(0.1), lr=lr)
    np.testing.assert_array_equal(net.flat()[0], before)


@pytest.mark.parametrize("sizes", [[2, 0, 3], [0, 3], [2, -4, 3]])
def test_zero_or_negative_width_layer_is_refused(sizes):
    with pytest.raises(ConfigError, match="at least one unit"):
        nlayer.Network(sizes)


@pytest.mark.parametrize("sizes", [[3], [], [2, 2.5, 3], "23"])
def test_sizes_that_are_not_whole_widths_are_refused(sizes):
    with pytest.raises(ConfigError, match="sizes must list"):
        nlayer.Network(sizes)


@pytest.mark.parametrize(
    ("kwargs", "listed"),
    [
        (dict(activation="relu6"), "relu, leaky_relu, tanh, sigmoid, identity"),
        (dict(output="softmax2"), "softmax, sigmoid, identity"),
        (dict(init="glorot"), "he, xavier, normal"),
        (dict(dtype="float16"), "float32, float64"),
    ],
)
def test_unknown_network_names_list_the_valid_ones(kwargs, listed):
    with pytest.raises(ConfigError, match="choose one of|must be one of") as err:
        nlayer.Network([2, 4, 3], **kwargs)
    assert listed in str(err.value)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "listed"),
    [(dict(optimizer="rmsprop"), "sgd, momentum, nesterov, adam"), (dict(schedule="linear"), "constant, step, cosine")],
)
def test_unknown_training_names_list_the_valid_ones(net, kwargs, listed):
    with pytest.raises(ConfigError, match="choose one of") as err:
        net.fit(X, Y, epochs=1, **kwargs)
    assert listed in str(err.value)


@pytest.mark.parametrize(("kwargs", "named"), [
    (dict(batch_size=0), "batch_size"), (dict(batch_size=2.5), "batch_size"), (dict(epochs=-1), "epochs"),
    (dict(l2=-1.0), "l2"), (dict(momentum=1.5, optimizer="momentum"), "momentum"),
    (dict(beta2=1.0, optimizer="adam"), "beta2"), (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(early_stopping=0), "early_stopping"), (dict(seed=-3), "seed"),
])
def test_bad_hyper_parameters_name_the_parameter(net, kwargs, named):
    with pytest.raises(ConfigError, match=named):
        net.fit(X, Y, **{"epochs": 1, **kwargs})


def test_batch_size_larger_than_the_data_is_clamped_with_a_warning(net):
    with pytest.warns(UserWarning, match=f"batch_size=1000 is larger than the {len(X)} training rows; using {len(X)}"):
        clamped = net.fit(X, Y, epochs=3, batch_size=1000, seed=0)
    full = nlayer.Network([2, 8, 3], seed=0)
    expected = full.fit(X, Y, epochs=3, batch_size=None, seed=0)
    assert clamped == expected                                   # exactly full-batch training
    np.testing.assert_array_equal(net.flat()[0], full.flat()[0])


def test_labels_out_of_range_and_length_mismatch_are_data_errors(net):
    with pytest.raises(DataError, match="integers in 0..2"):
        net.fit(X, np.full(len(X), 7), epochs=1)
    with pytest.raises(DataError, match=f"X has {len(X)} rows but y has 3"):
        net.fit(X, [0, 1, 2], epochs=1)


def test_every_error_is_a_value_error_and_an_nlayer_error(net):
    with pytest.raises(ValueError) as err:
        net.predict(np.zeros((1, 3)))
    assert isinstance(err.value, NLayerError)


@pytest.mark.skipif(importlib.util.find_spec("nlayer.io") is None, reason="nlayer.io (model files) not merged yet")
def test_loading_a_missing_model_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises((ModelFormatError, FileNotFoundError, DataError)) as err:
        nlayer.load(missing)  # type: ignore[attr-defined]
    assert "nope.safetensors" in str(err.value)
    assert not missing.exists()


@pytest.mark.parametrize("kwargs", [
    dict(lr=np.float32(0.5)), dict(lr=np.int64(1)), dict(l2=np.float32(1e-3)), dict(epochs=np.int64(2)),
    dict(batch_size=np.int32(16)), dict(optimizer="momentum", momentum=np.float32(0.9)),
    dict(optimizer="adam", beta1=np.float32(0.8), beta2=np.float64(0.99), eps=np.float32(1e-7)),
    dict(validation_fraction=np.float32(0.25)), dict(early_stopping=np.int64(3), min_delta=np.float32(1e-4)),
    dict(initial_epoch=np.uint8(1)),
], ids=lambda kw: ",".join(kw))
def test_numpy_scalar_hyper_parameters_train_exactly_like_python_numbers(kwargs):
    python = {k: v.item() if isinstance(v, np.generic) else v for k, v in kwargs.items()}
    runs = []
    for options in (kwargs, python):
        net = nlayer.Network([2, 8, 3], seed=0)
        history = net.fit(X, Y, **{"epochs": 3, "batch_size": 16, "seed": 0, **options})
        runs.append((net.flat()[0], history))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert all(type(v) is float for v in runs[0][1].lr)           # no NumPy scalar leaks into the History


def test_numpy_scalars_are_accepted_wherever_a_number_is_taken():
    net = nlayer.Network([2, 8, 3], init="normal", init_scale=np.float32(0.01), seed=np.int64(0))
    assert type(net.init_scale) is float
    assert nlayer.StepDecay(step_size=np.int64(5), gamma=np.float32(0.5))(5, 1.0) == 0.5
    assert nlayer.Cosine(np.int64(4), lr_min=np.float32(0.0))(4, 1.0) == 0.0
    assert type(nlayer.Adam(np.float32(0.01), np.float32(0.9)).lr) is float
    assert nlayer.Momentum(np.int8(1), momentum=np.float16(0.5)).lr == 1.0
    report = nlayer.gradient_check(net, X[:5], Y[:5], l2=np.float32(0.1), h=np.float64(1e-6), max_entries=np.int64(3))
    assert report["W1"].checked == 3 and type(report.h) is float
    assert len(nlayer.explain([2, 4, 3], batch=np.int64(10))) == 15
    Xs, ys = nlayer.datasets.spiral(np.int64(5), np.int32(3), noise=np.float32(0.1))
    assert Xs.shape == (15, 2)


@pytest.mark.parametrize("bad", [True, np.True_, float("nan"), np.float32("nan"), float("inf"), np.float64("-inf"),
                                 "0.1", None, 10**400])
@pytest.mark.parametrize("make", [
    lambda v: nlayer.SGD(v), lambda v: nlayer.Adam(0.01, eps=v), lambda v: nlayer.Momentum(0.1, momentum=v),
    lambda v: nlayer.Network([2, 3], init="normal", init_scale=v), lambda v: nlayer.StepDecay(2, gamma=v),
    lambda v: nlayer.Cosine(5, lr_min=v), lambda v: nlayer.Network([2, 3]).fit(X, Y, epochs=1, l2=v),
    lambda v: nlayer.Network([2, 3]).fit(X, Y, epochs=1, validation_fraction=v),
    lambda v: nlayer.gradient_check(nlayer.Network([2, 3]), X[:3], Y[:3], h=v),
], ids=["lr", "eps", "momentum", "init_scale", "gamma", "lr_min", "l2", "validation_fraction", "h"])
def test_bools_nan_infinity_and_strings_are_still_refused_as_numbers(make, bad):
    with pytest.raises(ConfigError, match="must be"):
        make(bad)


@pytest.mark.parametrize("bad", [True, np.True_, 2.0, np.float64(2.0), "2", 0, -1])
@pytest.mark.parametrize("make", [
    lambda v: nlayer.Network([2, 3]).fit(X, Y, epochs=1, early_stopping=v),
    lambda v: nlayer.Network([2, 3]).fit(X, Y, epochs=1, batch_size=v),
    lambda v: nlayer.StepDecay(step_size=v), lambda v: nlayer.Cosine(v), lambda v: nlayer.explain([2, 3], batch=v),
    lambda v: nlayer.gradient_check(nlayer.Network([2, 3]), X[:3], Y[:3], max_entries=v),
], ids=["early_stopping", "batch_size", "step_size", "cosine_epochs", "explain_batch", "max_entries"])
def test_whole_number_parameters_refuse_bools_floats_and_values_below_one(make, bad):
    with pytest.raises(ConfigError, match="must be a"):
        make(bad)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(h=0), "h must be a positive finite number; got 0"),
    (dict(h=-1e-6), "h must be a positive finite number; got -1e-06"),
    (dict(max_entries=-1), "max_entries must be a whole number >= 1 or None; got -1"),
    (dict(max_entries=0), "max_entries must be a whole number >= 1 or None; got 0"),
])
def test_gradient_check_step_and_entry_count_are_checked(net, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        nlayer.gradient_check(net, X[:5], Y[:5], **kwargs)


@pytest.mark.parametrize("init_scale", [float("inf"), 1e300])
def test_an_init_scale_whose_weights_do_not_fit_the_dtype_is_refused(init_scale):
    with pytest.raises(ConfigError, match="init_scale"):
        nlayer.Network([2, 5, 3], init="normal", init_scale=init_scale)
    assert np.all(np.isfinite(nlayer.Network([2, 5, 3], init="normal", init_scale=1e30, dtype="float64").layers[0].W))


@pytest.mark.parametrize(("call", "name"), [
    (lambda net: net.fit([[1.0, 2.0], [3.0]], [0, 1], epochs=1), "X"),
    (lambda net: net.predict([[1.0, 2.0], [3.0, 4.0, 5.0]]), "X"),
    (lambda net: net.fit(np.zeros((2, 2)), [[1, 0, 0], [0, 1]], epochs=1), "y"),
    (lambda net: net.fit(X, Y, epochs=1, validation_data=([[1.0, 2.0], [3.0]], [0, 1])), "X"),
], ids=["fit-X", "predict-X", "fit-y", "validation-X"])
def test_ragged_nested_lists_are_a_data_error_naming_the_argument(net, call, name):
    with pytest.raises(DataError, match=f"^{name} is ragged: .*give every row the same number of values"):
        call(net)


def test_an_object_array_of_integer_labels_trains_like_the_integer_array():
    nets = [nlayer.Network([2, 8, 3], seed=0) for _ in range(2)]
    nets[0].fit(X, Y.astype(object), epochs=2, seed=0)
    nets[1].fit(X, Y, epochs=2, seed=0)
    np.testing.assert_array_equal(nets[0].flat()[0], nets[1].flat()[0])
    labels = np.array([0, 1, np.int64(2)] * 20, dtype=object)
    assert nets[0].loss(X, labels) == nets[0].loss(X, labels.astype(np.int64))


@pytest.mark.parametrize(("y", "message"), [
    (np.array([0, 1, 7] * 20, dtype=object), "integers in 0..2 for 3 outputs; got values from 0 to 7"),
    (np.array([0, 1, 10**30] * 20, dtype=object), "integers in 0..2"),
    (np.array([0, 1, "2"] * 20, dtype=object), "class labels must be integers, got dtype object"),
    (np.array([0, 1, True] * 20, dtype=object), "class labels must be integers, got dtype object"),
])
def test_object_labels_that_are_not_integers_in_range_are_refused(net, y, message):
    with pytest.raises(DataError, match=message):
        net.fit(X, y, epochs=1)
