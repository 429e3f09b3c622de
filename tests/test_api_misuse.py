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
