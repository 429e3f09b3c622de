"""The depth cap, ``nlayer.io.MAX_LAYERS``: a crafted model file or checkpoint describing more
layers is refused before any layer (or, for model files, any tensor entry) is built; a
network at the cap saves and loads; nothing deeper is written in the first place."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer import checkpoint, io
from nlayer._safetensors import decode, encode
from nlayer.errors import ConfigError, ModelFormatError

from .conftest import run_cli, safetensors_bytes

CAP = io.MAX_LAYERS
META = {"format_version": 1, "activation": "relu", "output": "identity", "classes": None, "dtype": "float32",
        "standardized": False}


def deep_model(tmp_path: Path, n_layers: int, entry: object = None) -> Path:
    """A hand-built model file of ``n_layers`` width-1 layers (W (1, 1), b (1,) each); with
    ``entry``, every tensor entry is that value instead (a header that is not even valid)."""
    tensors, pos = {}, 0
    for l in range(1, n_layers + 1):
        for name, shape in ((f"W{l}", [1, 1]), (f"b{l}", [1])):
            tensors[name] = entry if entry is not None else {"dtype": "F32", "shape": shape,
                                                             "data_offsets": [pos, pos + 4]}
            pos += 4
    header = {**tensors, "__metadata__": {"nlayer": json.dumps({**META, "sizes": [1] * (n_layers + 1)})}}
    path = tmp_path / "deep.safetensors"
    path.write_bytes(safetensors_bytes(header, bytes(pos)))
    return path


def test_a_file_with_more_tensors_than_the_cap_allows_fails_before_any_entry_is_checked(tmp_path):
    path = deep_model(tmp_path, 20_000, entry="not a tensor entry")      # an entry check would say so
    for read in (io.load, io.read_header):
        with pytest.raises(ModelFormatError) as info:
            read(path)
        assert str(info.value) == (f"{path}: the header lists 40000 tensors; a model file holds at most "
                                   f"{2 * CAP + 4} (W and b for each of at most {CAP} layers, input_mean, "
                                   "input_scale, target_mean, target_scale)")


def test_one_layer_more_than_the_cap_is_refused_naming_count_and_cap(tmp_path, monkeypatch):
    path = deep_model(tmp_path, CAP + 1)                 # 2002 tensors: within the tensor limit
    monkeypatch.setattr(io, "Network", None)             # never reached: refused before building layers
    with pytest.raises(ModelFormatError) as info:
        io.load(path)
    assert str(info.value) == (f"{path}: metadata 'sizes' describes {CAP + 1} layers, more than the {CAP} "
                               "a model file or checkpoint holds")


def test_predict_on_a_too_deep_model_is_one_line(tmp_path, capsys):
    code, out, err = run_cli(capsys, "predict", deep_model(tmp_path, 20_000), "spiral")
    assert code == 1 and out == "" and len(err.splitlines()) == 1 and "at most 1000 layers" in err


@pytest.mark.parametrize("n_layers", [50, CAP])
def test_a_deep_model_up_to_the_cap_loads(tmp_path, n_layers):
    net = io.load(deep_model(tmp_path, n_layers))
    assert net.sizes == [1] * (n_layers + 1) and len(net.layers) == n_layers


def test_a_standardised_network_at_the_cap_saves_and_loads(tmp_path):
    net = nlayer.Network([1] * (CAP + 1), activation="tanh", output="identity", seed=0)
    net.fit_input_scaling(np.arange(4.0).reshape(4, 1))      # 2 * CAP + 2 tensors: exactly the limit
    io.save(net, tmp_path / "m.safetensors")
    loaded = io.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.flat()[0], net.flat()[0])
    np.testing.assert_array_equal(loaded.input_scale, net.input_scale)


def test_save_refuses_a_network_deeper_than_the_cap(tmp_path):
    net = nlayer.Network([1] * (CAP + 2), output="identity", seed=0)
    with pytest.raises(ConfigError, match=f"cannot save a network of {CAP + 1} layers, more than the {CAP}"):
        io.save(net, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


@pytest.fixture
def small_checkpoint(tmp_path) -> Path:
    X, y = nlayer.datasets.spiral(10, 3, seed=0)
    path = tmp_path / "c.safetensors"
    checkpoint.fit(nlayer.Network([2, 4, 3], seed=0), X, y, checkpoint=path, epochs=1, optimizer="adam", seed=0)
    return path


def test_a_checkpoint_of_600000_consistent_layers_is_refused_before_building_them(small_checkpoint):
    tensors, meta = decode(small_checkpoint.read_bytes(), "c")
    n = 600_000                                              # width-1 layers: theta of 2 * n numbers matches
    run = json.loads(meta["run"])
    run["network"] = {**run["network"], "sizes": [2, *[1] * (n - 1), 3]}
    theta = np.zeros(2 * 1 + 1 + 2 * (n - 2) + 1 * 3 + 3, dtype=np.float32)
    tensors = {k: theta for k in tensors}
    small_checkpoint.write_bytes(encode(tensors, {**meta, "run": json.dumps(run)}))
    t0 = time.perf_counter()
    with pytest.raises(ModelFormatError) as info:
        checkpoint.load_checkpoint(small_checkpoint)
    assert time.perf_counter() - t0 < 5.0                   # building 600,000 layers takes far longer
    assert str(info.value) == (f"{small_checkpoint}: network sizes describe {n} layers, more than the {CAP} "
                               "a model file or checkpoint holds")


def test_checkpointing_a_network_deeper_than_the_cap_fails_before_the_first_epoch(tmp_path):
    X, y = nlayer.datasets.spiral(10, 3, seed=0)
    net = nlayer.Network([2, *[1] * CAP, 3], seed=0)
    with pytest.raises(ConfigError, match=f"cannot checkpoint a network of {CAP + 1} layers"):
        checkpoint.fit(net, X, y, checkpoint=tmp_path / "c.safetensors", epochs=1)
    assert not (tmp_path / "c.safetensors").exists()


def test_train_refuses_more_hidden_layers_than_a_model_file_holds_before_creating_anything(tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "--layers", ",".join(["1"] * CAP), "--out", run, "--quiet")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err == (f"nlayer: error: --layers must be at most {CAP - 1} hidden widths (a model file holds at most "
                   f"{CAP} layers); got {CAP} widths\n")
    assert not run.exists()
