"""nlayer.io: a saved model reloads to bit-identical predictions, the file is a plain
safetensors file with the documented names, and a crash mid-write loses nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

import nlayer
from nlayer import _atomic, io
from nlayer.errors import ConfigError, ModelFormatError


def _trained(
    output: str, dtype: str, sizes: list[int], classes=None, scaled: bool = False, activation: str = "tanh"
) -> nlayer.Network:
    net = nlayer.Network(sizes, activation=activation, output=output, seed=1, dtype=dtype)
    rng = np.random.default_rng(0)
    theta, _ = net.flat()
    theta[...] = rng.standard_normal(theta.size).astype(dtype)   # every weight non-trivial
    net.classes = classes
    if scaled:
        net.fit_input_scaling(rng.standard_normal((50, sizes[0])) * 3 + 1)
    return net


CASES = [
    ("softmax", [3, 7, 4], ["cat", "dog", "émeu", "fox"]),
    ("softmax", [3, 5, 6, 2], [-1, 7]),
    ("sigmoid", [3, 5, 1], ["no", "yes"]),
    ("sigmoid", [3, 5, 3], None),
    ("identity", [3, 6, 2], None),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize(("output", "sizes", "classes"), CASES)
def test_round_trip_gives_bit_identical_predictions(tmp_path, output, sizes, classes, dtype, scaled):
    net = _trained(output, dtype, sizes, classes, scaled)
    path = tmp_path / "model.safetensors"
    io.save(net, path)
    back = io.load(path)
    X = np.random.default_rng(5).standard_normal((40, sizes[0]))
    assert back.sizes == net.sizes and back.activation == "tanh" and back.output.name == output
    assert back.dtype == np.dtype(dtype)
    assert back.classes == classes
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    for a, b in zip(back.parameters(), net.parameters()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    if scaled:
        np.testing.assert_array_equal(back.input_mean, net.input_mean)
        np.testing.assert_array_equal(back.input_scale, net.input_scale)
    else:
        assert back.input_mean is None and back.input_scale is None


def test_loaded_network_trains_further(tmp_path):
    X, y = nlayer.datasets.spiral(30, 3, seed=0)
    net = nlayer.Network([2, 16, 3], seed=0)
    net.fit(X, y, epochs=3, lr=0.5, seed=0)
    io.save(net, tmp_path / "m.safetensors")
    back = io.load(tmp_path / "m.safetensors")
    before = back.loss(X, y)
    back.fit(X, y, epochs=20, lr=0.5, seed=0)
    assert back.loss(X, y) < before


def test_file_is_plain_safetensors_with_documented_names_and_metadata(tmp_path):
    net = _trained("softmax", "float32", [2, 4, 3], ["a", "b", "c"], scaled=True)
    path = tmp_path / "m.safetensors"
    io.save(net, path)
    with safe_open(str(path), framework="numpy") as f:
        names = set(f.keys())
        shapes = {k: f.get_tensor(k).shape for k in names}
        dtypes = {f.get_tensor(k).dtype for k in names}
        meta = json.loads(f.metadata()["nlayer"])
        W2 = f.get_tensor("W2")
    assert names == {"W1", "b1", "W2", "b2", "input_mean", "input_scale"}
    assert shapes == {"W1": (2, 4), "b1": (4,), "W2": (4, 3), "b2": (3,), "input_mean": (2,), "input_scale": (2,)}
    assert dtypes == {np.dtype("float32")}
    assert meta == {
        "format_version": 1, "sizes": [2, 4, 3], "activation": "tanh", "output": "softmax",
        "classes": ["a", "b", "c"], "dtype": "float32", "standardized": True,
    }
    np.testing.assert_array_equal(W2, net.layers[1].W)


def test_documented_plain_numpy_reader_reproduces_predict_proba(tmp_path, monkeypatch):
    """Runs the reader shown in docs/model-format.md, which does not use nlayer."""
    doc = (Path(__file__).parents[1] / "docs" / "model-format.md").read_text(encoding="utf-8")
    code = doc.split("## Reading a model without nlayer", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "nlayer" not in code.replace('"nlayer"', "")
    net = _trained("softmax", "float64", [3, 5, 4, 3], [0, 1, 2], scaled=True, activation="relu")
    io.save(net, tmp_path / "model.safetensors")
    X = np.random.default_rng(2).standard_normal((10, 3))
    monkeypatch.chdir(tmp_path)
    scope: dict = {"X": X}
    exec(compile(code, "docs/model-format.md", "exec"), scope)
    np.testing.assert_allclose(scope["proba"], net.predict_proba(X), rtol=1e-12)


def _save(net: nlayer.Network, folder) -> str:
    path = str(folder / "m.safetensors")
    io.save(net, path)
    return path


def test_read_header_returns_validated_metadata(tmp_path):
    net = _trained("sigmoid", "float64", [2, 3, 1], ["neg", "pos"])
    meta = io.read_header(_save(net, tmp_path))
    assert meta["sizes"] == [2, 3, 1] and meta["classes"] == ["neg", "pos"] and meta["dtype"] == "float64"
    assert meta["standardized"] is False and meta["format_version"] == 1      # no target scaling: version 1


def test_read_header_rejects_a_truncated_file_without_reading_tensors(tmp_path):
    path = _save(_trained("softmax", "float32", [2, 3, 2], None), tmp_path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:-4])
    with pytest.raises(ModelFormatError, match="truncated"):
        io.read_header(path)


def test_failed_write_leaves_previous_file_byte_identical_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    io.save(_trained("softmax", "float32", [2, 3, 2], None), path)
    before = path.read_bytes()

    def crash(tmp, target):
        raise OSError("injected crash before rename")

    monkeypatch.setattr(_atomic, "_before_replace", crash)
    with pytest.raises(OSError, match="injected"):
        io.save(_trained("identity", "float64", [2, 9, 1], None), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert io.load(path).sizes == [2, 3, 2]


def test_save_writes_nothing_for_non_finite_weights(tmp_path):
    net = _trained("softmax", "float32", [2, 3, 2], None)
    net.layers[1].W[0, 0] = np.nan
    with pytest.raises(ConfigError, match="W2 contains NaN"):
        io.save(net, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("classes", [[1.5, 2.5], [True, False], [None, "a"]])
def test_save_refuses_class_labels_the_format_cannot_hold(tmp_path, classes):
    net = _trained("softmax", "float32", [2, 3, 2], classes)
    with pytest.raises(ConfigError, match="labels must be strings or integers"):
        io.save(net, tmp_path / "m.safetensors")


@pytest.mark.parametrize("classes", [["a", "a"], ["a", "b", "c"], [1, "a"]])
def test_save_refuses_class_labels_load_would_refuse(tmp_path, classes):
    # Duplicate labels, a count that does not match the output units, or a mix of text
    # and numbers: writing them would replace a good file with one that cannot load.
    net = _trained("softmax", "float32", [2, 3, 2], classes)
    with pytest.raises(ConfigError, match="cannot save the class labels"):
        io.save(net, tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_converts_numpy_labels_to_json_types(tmp_path):
    net = _trained("softmax", "float32", [2, 3, 2], list(np.array([3, 9])))
    back = io.load(_save(net, tmp_path))
    assert back.classes == [3, 9] and all(type(c) is int for c in back.classes)
    net.classes = list(np.array(["x", "y"]))
    assert io.load(_save(net, tmp_path)).classes == ["x", "y"]


@pytest.mark.parametrize("thing", [{"W1": np.zeros((2, 2))}, object(), None])
def test_save_rejects_what_is_not_a_network_with_an_nlayer_error(tmp_path, thing):
    with pytest.raises(ConfigError, match=f"save\\(\\) needs an nlayer.Network; got {type(thing).__name__}"):
        io.save(thing, tmp_path / "m.safetensors")  # type: ignore[arg-type]
    assert not (tmp_path / "m.safetensors").exists()


def test_load_needs_only_numpy_and_save_without_safetensors_says_how_to_install(tmp_path, monkeypatch):
    import sys

    path = _save(_trained("softmax", "float32", [2, 3, 2], None), tmp_path)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert io.load(path).sizes == [2, 3, 2]
    with pytest.raises(ImportError, match="pip install safetensors"):
        io.save(io.load(path), path)
