"""Regression targets standardised like the inputs: a network trains on z-scores of y and
answers in y's own units, its model file (format version 2) and checkpoints keep the
statistics, and `nlayer train` uses it for every regression."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nlayer
from nlayer import checkpoint
from nlayer.errors import ConfigError, ModelFormatError

from .conftest import run_cli, safetensors_bytes, split_safetensors


def houses(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Prices in dollars (about 1e5 to 7e5) from area, rooms and age."""
    rng = np.random.default_rng(seed)
    area, rooms, age = rng.uniform(50, 250, n), rng.integers(1, 7, n), rng.uniform(0, 80, n)
    price = 2000 * area + 15000 * rooms - 1000 * age + 1e5 + rng.normal(0, 2e4, n)
    return np.column_stack([area, rooms, age]), price


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    return 1.0 - float(np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))


def scaled_net(X: np.ndarray, y: np.ndarray, dtype: str = "float32") -> nlayer.Network:
    net = nlayer.Network([3, 32, 1], output="identity", seed=0, dtype=dtype)
    net.fit_input_scaling(X)
    net.fit_target_scaling(y)
    return net


def test_large_targets_train_with_an_ordinary_learning_rate_and_predict_in_their_units():
    X, y = houses()
    net = scaled_net(X, y)
    net.fit(X, y, epochs=100, batch_size=32, optimizer="sgd", lr=0.05, seed=0)
    pred = net.predict(X)
    assert r2(y, pred) > 0.95 and abs(pred.mean() - y.mean()) < 0.02 * y.mean()
    np.testing.assert_allclose(net.target_mean, [y.mean()], rtol=1e-6)
    np.testing.assert_allclose(net.target_scale, [y.std()], rtol=1e-5)


def test_the_network_trains_on_z_scores_of_y():
    X, y = houses(50)
    net = scaled_net(X, y, "float64")
    Y = net.prepare_Y(y)
    np.testing.assert_allclose(Y[:, 0], (y - y.mean()) / y.std(), rtol=1e-12)
    A = net.forward(net.prepare_X(X)).copy()
    np.testing.assert_allclose(net.predict(X), A[:, 0] * y.std() + y.mean(), rtol=1e-12)


def test_target_scaling_is_for_regression_only():
    with pytest.raises(ConfigError, match="identity output"):
        nlayer.Network([2, 4, 3]).fit_target_scaling([0, 1, 2])


def test_a_model_file_keeps_the_target_statistics_as_version_2(tmp_path):
    X, y = houses(80)
    net = scaled_net(X, y)
    net.fit(X, y, epochs=3, batch_size=16, seed=0)
    path = tmp_path / "m.safetensors"
    nlayer.save(net, path)
    assert nlayer.io.read_header(path)["format_version"] == 2
    back = nlayer.load(path)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    np.testing.assert_array_equal(back.target_scale, net.target_scale)
    np.testing.assert_array_equal(net.copy().predict(X), net.predict(X))
    plain = nlayer.Network([3, 4, 1], output="identity")
    nlayer.save(plain, tmp_path / "plain.safetensors")         # readable by every nlayer
    assert nlayer.io.read_header(tmp_path / "plain.safetensors")["format_version"] == 1


@pytest.mark.parametrize("change, message", [
    (lambda h, m: {**m, "output": "sigmoid"}, "target_standardized"),
    (lambda h, m: {**m, "target_standardized": False}, "target_standardized"),
    (lambda h, m: {k: v for k, v in m.items() if k != "target_standardized"}, "missing keys"),
    (lambda h, m: {**m, "format_version": 1}, "unknown keys"),
])
def test_a_crafted_version_2_header_is_refused(tmp_path, change, message):
    X, y = houses(40)
    path = tmp_path / "m.safetensors"
    nlayer.save(scaled_net(X, y), path)
    header, payload = split_safetensors(path.read_bytes())
    meta = json.loads(header["__metadata__"]["nlayer"])
    header["__metadata__"]["nlayer"] = json.dumps(change(header, meta))
    path.write_bytes(safetensors_bytes(header, payload))
    with pytest.raises(ModelFormatError, match=message):
        nlayer.load(path)


def test_a_non_positive_target_scale_is_refused_by_save_and_load(tmp_path):
    X, y = houses(40)
    net = scaled_net(X, y)
    net.target_scale = np.array([0.0], np.float32)
    with pytest.raises(ConfigError, match="target_scale"):
        nlayer.save(net, tmp_path / "m.safetensors")


def test_a_checkpointed_regression_resumes_with_its_target_statistics(tmp_path):
    X, y = houses(80)
    whole = scaled_net(X, y)
    whole.fit(X, y, epochs=6, batch_size=16, optimizer="adam", lr=0.01, seed=0)
    path = tmp_path / "c.safetensors"
    part = scaled_net(X, y)
    checkpoint.fit(part, X, y, checkpoint=path, every=2, epochs=4, batch_size=16, optimizer="adam", lr=0.01, seed=0)
    net, _ = checkpoint.resume(path, X, y, epochs=6)
    np.testing.assert_array_equal(net.target_mean, whole.target_mean)
    np.testing.assert_array_equal(net.predict(X), whole.predict(X))


def test_nlayer_train_scales_regression_targets_and_reports_their_units(tmp_path, capsys):
    X, y = houses()
    data = tmp_path / "houses.csv"
    rows = "\n".join(f"{a:.1f},{r:.0f},{g:.1f},{p:.0f}" for (a, r, g), p in zip(X, y))
    data.write_text("area,rooms,age,price\n" + rows + "\n")
    code, out, err = run_cli(capsys, "train", "--data", data, "--task", "regress", "--layers", "64,64",
                             "--optimizer", "sgd", "--lr", "0.05", "--out", tmp_path / "run", "--quiet")
    assert code == 0 and err == ""
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["validation"]["r2"] > 0.9
    code, out, _ = run_cli(capsys, "predict", tmp_path / "run" / "model.safetensors", data)
    pred = np.array([float(v) for v in out.split()[1:]])
    assert code == 0 and abs(pred.mean() - y.mean()) < 0.05 * y.mean()


def test_a_regression_diverging_on_large_raw_targets_points_at_target_scaling():
    X, y = houses(64)
    net = nlayer.Network([3, 16, 1], output="identity", seed=0)
    net.fit_input_scaling(X)
    with pytest.raises(nlayer.errors.DivergenceError, match=r"reach 6\.\d+e\+05: net.fit_target_scaling\(y_train\)"):
        net.fit(X, y, epochs=20, batch_size=16, optimizer="sgd", lr=0.05, seed=0)


def test_a_float32_network_standardises_large_targets_before_rounding_and_answers_in_float64():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = 1.7e9 + 50 * X[:, 0]                            # float32 steps are 128 apart here
    net = nlayer.Network([3, 16, 1], output="identity", seed=0)
    net.fit_input_scaling(X)
    net.fit_target_scaling(y)
    np.testing.assert_allclose(net.target_scale, [y.std()], rtol=1e-6)
    Y = net.prepare_Y(y)
    np.testing.assert_allclose(Y[:, 0], (y - float(net.target_mean[0])) / float(net.target_scale[0]), atol=1e-5)
    net.fit(X, y, epochs=60, batch_size=32, optimizer="adam", lr=0.01, seed=0)
    pred = net.predict(X)
    assert pred.dtype == np.float64 and r2(y, pred) > 0.95


def test_target_statistics_on_a_classifier_are_refused_by_save_and_predict(tmp_path):
    net = nlayer.Network([2, 4, 3])
    net.target_mean, net.target_scale = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ConfigError, match="identity output"):
        nlayer.save(net, tmp_path / "m.safetensors")
    with pytest.raises(ConfigError, match="identity output"):
        net.predict_proba(np.ones((2, 2)))


def test_targets_too_close_together_for_float32_are_refused():
    net = nlayer.Network([1, 4, 1], output="identity")
    with pytest.raises(nlayer.errors.DataError, match=r"y\[:, 0\] varies by about .* too little"):
        net.fit_target_scaling(np.array([1e-300, 2e-300, 3e-300]))
