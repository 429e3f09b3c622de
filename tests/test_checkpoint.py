"""Checkpoints: exact resume, refusals that name the difference, atomic writes, hostile files."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlayer
from nlayer import _atomic, checkpoint
from nlayer.checkpoint import Checkpoint, decode, encode, load_checkpoint
from nlayer.errors import ConfigError, ModelFormatError

from .conftest import safetensors_bytes, split_safetensors

X, Y = nlayer.datasets.spiral(40, 3, seed=0)
SIZES = [2, 12, 3]
RUN = dict(batch_size=16, lr=0.05, l2=1e-3, seed=3, validation_fraction=0.2)


def stop_after(k: int):
    """A callback stopping training once epoch index k - 1 is done (k epochs in all)."""
    return lambda epoch, logs: epoch < k - 1


def theta(net: nlayer.Network) -> np.ndarray:
    return net.flat()[0].copy()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "checkpoint.safetensors"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("schedule", [None, "step", "cosine"])
def test_fit_4_stop_resume_to_10_equals_fit_10_bit_for_bit(path, optimizer, schedule):
    kw = dict(RUN, optimizer=optimizer, schedule=schedule)
    straight = nlayer.Network(SIZES, seed=1)
    expected = straight.fit(X, Y, epochs=10, **kw)

    first = nlayer.Network(SIZES, seed=1)
    h4 = checkpoint.fit(first, X, Y, checkpoint=path, every=3, epochs=10, callbacks=[stop_after(4)], **kw)
    assert h4.epochs == 4 and load_checkpoint(path).epoch == 4     # saved where it stopped, not at 3

    again = nlayer.Network(SIZES, seed=1)                          # the same script, run again
    history = checkpoint.fit(again, X, Y, checkpoint=path, every=3, epochs=10, resume=True, **kw)
    np.testing.assert_array_equal(theta(again), theta(straight))
    assert history == expected
    assert again.history is history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_resume_from_the_file_alone_equals_the_uninterrupted_run(path, dtype):
    kw = dict(RUN, optimizer="adam", lr=0.01)
    straight = nlayer.Network(SIZES, seed=1, dtype=dtype)
    expected = straight.fit(X, Y, epochs=9, **kw)
    checkpoint.fit(nlayer.Network(SIZES, seed=1, dtype=dtype), X, Y, checkpoint=path, epochs=9,
                   callbacks=[stop_after(5)], **kw)
    net, history = checkpoint.resume(path, X, Y)                   # epochs: the run's own target
    assert net.dtype == np.dtype(dtype) and net.sizes == SIZES
    np.testing.assert_array_equal(theta(net), theta(straight))
    assert history == expected
    assert load_checkpoint(path).epoch == 9


def test_checkpoint_callback_with_plain_fit_resumes_exactly(path):
    kw = dict(optimizer="momentum", lr=0.05, batch_size=8, seed=5)
    straight = nlayer.Network(SIZES, seed=2)
    expected = straight.fit(X, Y, epochs=7, **kw)
    net = nlayer.Network(SIZES, seed=2)
    net.fit(X, Y, epochs=7, callbacks=[Checkpoint(path, every=2), stop_after(3)], **kw)
    resumed, history = checkpoint.resume(path, X, Y, epochs=7)
    np.testing.assert_array_equal(theta(resumed), theta(straight))
    assert history == expected


def test_input_scaling_and_classes_travel_with_the_checkpoint(path):
    net = nlayer.Network(SIZES, seed=0)
    net.fit_input_scaling(X)
    net.classes = ["a", "b", "c"]
    checkpoint.fit(net, X, Y, checkpoint=path, epochs=2, lr=0.1)
    state = load_checkpoint(path)
    np.testing.assert_array_equal(state.network.input_mean, net.input_mean)
    np.testing.assert_array_equal(state.network.input_scale, net.input_scale)
    assert state.network.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(state.network.predict(X), net.predict(X))


def test_a_binary_sigmoid_network_with_two_class_labels_resumes(path):
    # One sigmoid unit carries two labels (of 0 and of 1), as in a model file.
    y = (X[:, 0] > 0).astype(float)
    net = nlayer.Network([2, 8, 1], output="sigmoid", seed=0)
    net.classes = ["neg", "pos"]
    checkpoint.fit(net, X, y, checkpoint=path, epochs=2, lr=0.1)
    resumed, _ = checkpoint.resume(path, X, y, epochs=3)
    assert resumed.classes == ["neg", "pos"]


@pytest.mark.parametrize("classes", [[0.5, 1.5, 2.5], [True, False, 2], ["a", "a", "b"]])
def test_class_labels_a_checkpoint_cannot_resume_are_refused_before_training(path, classes):
    net = nlayer.Network(SIZES, seed=0)
    net.classes = classes
    before = theta(net)
    with pytest.raises(ConfigError, match="label"):
        checkpoint.fit(net, X, Y, checkpoint=path, epochs=2, lr=0.1)
    assert not path.exists()
    np.testing.assert_array_equal(theta(net), before)               # no epoch was run


def test_checkpoint_is_a_standard_safetensors_file(path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    net = nlayer.Network(SIZES, seed=0)
    checkpoint.fit(net, X, Y, checkpoint=path, epochs=2, optimizer="adam", batch_size=16, seed=0)
    tensors = safetensors_numpy.load_file(str(path))
    assert sorted(tensors) == ["optimizer.m", "optimizer.v", "theta"]
    np.testing.assert_array_equal(tensors["theta"], theta(net))


def test_checkpoints_are_written_every_n_epochs_and_at_the_end(path, monkeypatch):
    saved = []
    real = _atomic.atomic_write_bytes
    monkeypatch.setattr(_atomic, "atomic_write_bytes", lambda p, data: (saved.append(len(saved)), real(p, data)))
    epochs_seen = []
    checkpoint.fit(nlayer.Network(SIZES, seed=0), X, Y, checkpoint=path, every=3, epochs=10,
                   callbacks=[lambda e, logs: epochs_seen.append(load_checkpoint(path).epoch if path.exists() else 0)])
    assert epochs_seen == [0, 0, 3, 3, 3, 6, 6, 6, 9, 9]
    assert len(saved) == 4 and load_checkpoint(path).epoch == 10


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (dict(sizes=[2, 8, 3]), "network.sizes: checkpoint has [2, 12, 3], this run has [2, 8, 3]"),
        (dict(dtype="float64"), "network.dtype: checkpoint has 'float32', this run has 'float64'"),
        (dict(activation="tanh"), "network.activation"),
        (dict(optimizer="adam"), "optimizer.name: checkpoint has 'sgd', this run has 'adam'"),
        (dict(lr=0.5), "optimizer.lr: checkpoint has 0.05, this run has 0.5"),
        (dict(batch_size=32), "batch_size: checkpoint has 16, this run has 32"),
        (dict(l2=0.0), "l2: checkpoint has 0.001, this run has 0.0"),
        (dict(schedule="cosine"), "schedule.name"),
        (dict(X=X[::-1]), "data.X.sha256"),
        (dict(X=X[:60], y=Y[:60]), "data.X.shape: checkpoint has [120, 2], this run has [60, 2]"),
        (dict(validation_fraction=0.3), "validation.fraction"),
    ],
)
def test_resume_with_a_different_run_is_refused_naming_the_difference(path, change, named):
    checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=path, epochs=6,
                   callbacks=[stop_after(2)], **RUN)
    before = path.read_bytes()
    arch = {k: change.pop(k) for k in ("sizes", "dtype", "activation") if k in change}
    net = nlayer.Network(arch.get("sizes", SIZES), activation=arch.get("activation", "relu"),
                         dtype=arch.get("dtype", "float32"), seed=1)
    untouched = theta(net)
    Xr, yr = change.pop("X", X), change.pop("y", Y)
    with pytest.raises(ConfigError, match="cannot resume") as err:
        checkpoint.fit(net, Xr, yr, checkpoint=path, epochs=6, resume=True, **{**RUN, **change})
    assert named in str(err.value)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(theta(net), untouched)


def test_resume_from_the_file_with_other_data_is_refused(path):
    checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=path, epochs=4, callbacks=[stop_after(2)], **RUN)
    y2 = Y.copy()
    y2[0] = (y2[0] + 1) % 3
    with pytest.raises(ConfigError, match=r"data\.y\.sha256"):
        checkpoint.resume(path, X, y2)


def test_resume_to_fewer_epochs_than_done_is_refused(path):
    checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=path, epochs=5)
    with pytest.raises(ConfigError, match="already at epoch 5; epochs=3"):
        checkpoint.resume(path, X, Y, epochs=3)


def test_options_that_cannot_be_resumed_exactly_are_refused(path):
    with pytest.raises(ConfigError, match="early_stopping"):
        checkpoint.fit(nlayer.Network(SIZES), X, Y, checkpoint=path, epochs=3, early_stopping=2)
    with pytest.raises(ConfigError, match="every must be"):
        Checkpoint(path, every=0)


def test_unwritable_folder_fails_before_training(tmp_path):
    net = nlayer.Network(SIZES, seed=0)
    before = theta(net)
    (tmp_path / "a-file").write_text("not a folder")        # a folder nobody can create (root or not)
    with pytest.raises(ConfigError, match="cannot write the checkpoint"):
        checkpoint.fit(net, X, Y, checkpoint=tmp_path / "a-file" / "c.safetensors", epochs=3)
    with pytest.raises(ConfigError, match="cannot write the checkpoint"):
        net.fit(X, Y, epochs=3, callbacks=[Checkpoint(tmp_path)])          # a directory
    np.testing.assert_array_equal(theta(net), before)
    assert net.history is None or net.history.epochs == 0


def test_failure_between_temp_write_and_rename_keeps_previous_checkpoint(path, monkeypatch):
    checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=path, epochs=2)
    before = path.read_bytes()

    def crash(tmp, target):
        assert Path(tmp).stat().st_size > 0          # the new data was fully written first
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(_atomic, "_before_replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=path, epochs=4, resume=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]   # no temp file left


# ----------------------------------------------------------------- hostile files
@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    p = tmp_path_factory.mktemp("good") / "c.safetensors"
    checkpoint.fit(nlayer.Network(SIZES, seed=1), X, Y, checkpoint=p, epochs=2, optimizer="adam",
                   batch_size=16, seed=0)
    return p.read_bytes()


def rewrite(data: bytes, tensors=None, **meta_changes) -> bytes:
    t, meta = decode(data, "good")
    for key, fn in meta_changes.items():
        meta = fn(meta) if key == "meta" else {**meta, key: fn(json.loads(meta[key]))}
    return encode(tensors(t) if tensors else t, meta)


def raw_header(data: bytes, fn) -> bytes:
    header, payload = split_safetensors(data)
    return safetensors_bytes(fn(header), payload)


class Payload:
    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def with_(d, **kv):
    return {**d, **kv}


HOSTILE = {
    "zero bytes": lambda d, s: b"",
    "seven bytes": lambda d, s: d[:7],
    "pickle": lambda d, s: pickle.dumps(Payload(s)),
    "header beyond file": lambda d, s: (len(d) + 1).to_bytes(8, "little") + d[8:],
    "absurd header": lambda d, s: (2**63).to_bytes(8, "little") + d[8:],
    "header not utf-8": lambda d, s: (4).to_bytes(8, "little") + b"\xff\xfe\x00\x01" + d[8:],
    "header not json": lambda d, s: (4).to_bytes(8, "little") + b"{{{{",
    "header a list": lambda d, s: raw_header(d, lambda h: [h]),
    "no metadata": lambda d, s: raw_header(d, lambda h: {k: v for k, v in h.items() if k != "__metadata__"}),
    "metadata not strings": lambda d, s: raw_header(d, lambda h: with_(h, __metadata__={"format": 1})),
    "missing key": lambda d, s: rewrite(d, meta=lambda m: {k: v for k, v in m.items() if k != "history"}),
    "unknown key": lambda d, s: rewrite(d, meta=lambda m: with_(m, extra="1")),
    "other format": lambda d, s: rewrite(d, meta=lambda m: with_(m, format="nlayer-model")),
    "future version": lambda d, s: rewrite(d, meta=lambda m: with_(m, format_version="2")),
    "metadata not json": lambda d, s: rewrite(d, meta=lambda m: with_(m, state="{")),
    "sizes do not match theta": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, network=with_(r["network"], sizes=[2, 13, 3])))),
    "huge sizes": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, network=with_(r["network"], sizes=[10**9, 10**9, 3])))),
    "unknown activation": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, network=with_(r["network"], activation="os.system")))),
    "unknown optimizer": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, optimizer=with_(r["optimizer"], name="eval")))),
    "negative epoch": lambda d, s: rewrite(d, state=lambda st_: json.dumps(with_(st_, epoch=-1))),
    "bad rng": lambda d, s: rewrite(d, state=lambda st_: json.dumps(with_(st_, rng={"bit_generator": "os"}))),
    "classes of the wrong kind": lambda d, s: rewrite(
        d, state=lambda st_: json.dumps(with_(st_, classes=[{"a": 1}, [2], None]))),
    "history too short": lambda d, s: rewrite(d, history=lambda h: json.dumps(with_(h, loss=[1.0]))),
    "nan weights": lambda d, s: rewrite(d, tensors=lambda t: with_(t, theta=np.full_like(t["theta"], np.nan))),
    "inf adam state": lambda d, s: rewrite(
        d, tensors=lambda t: with_(t, **{"optimizer.v": np.full_like(t["optimizer.v"], np.inf)})),
    "missing optimizer state": lambda d, s: rewrite(
        d, tensors=lambda t: {k: v for k, v in t.items() if k != "optimizer.m"}),
    "float64 theta in float32 run": lambda d, s: rewrite(
        d, tensors=lambda t: with_(t, theta=t["theta"].astype(np.float64))),
    "int dtype": lambda d, s: raw_header(d, lambda h: with_(h, theta=with_(h["theta"], dtype="I32"))),
    "huge shape tiny file": lambda d, s: raw_header(
        d, lambda h: with_(h, theta=with_(h["theta"], shape=[2**40], data_offsets=[0, 2**42]))),
    "offsets overlap": lambda d, s: raw_header(
        d, lambda h: with_(h, theta=with_(h["theta"], data_offsets=[0, h["theta"]["data_offsets"][1]
                                                                  - h["theta"]["data_offsets"][0]]))),
    "short mt19937 key": lambda d, s: rewrite(d, state=lambda st_: json.dumps(with_(
        st_, rng={"bit_generator": "MT19937", "state": {"key": [1] * 10, "pos": 0}}))),
    "unknown schedule": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, schedule=with_(r["schedule"], name="evil")))),
    "schedule with an unknown setting": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, schedule=with_(r["schedule"], foo=1)))),
    "no schedule": lambda d, s: rewrite(
        d, run=lambda r: json.dumps({k: v for k, v in r.items() if k != "schedule"})),
    "validation not an object": lambda d, s: rewrite(d, run=lambda r: json.dumps(with_(r, validation="x"))),
    "validation without fraction": lambda d, s: rewrite(
        d, run=lambda r: json.dumps(with_(r, validation={"data": None}))),
    "batch size text": lambda d, s: rewrite(d, run=lambda r: json.dumps(with_(r, batch_size="big"))),
    "negative l2": lambda d, s: rewrite(d, run=lambda r: json.dumps(with_(r, l2=-1.0))),
    "shuffle not a flag": lambda d, s: rewrite(d, run=lambda r: json.dumps(with_(r, shuffle="yes"))),
    "truncated": lambda d, s: d[:-5],
    "trailing bytes": lambda d, s: d + b"\x00" * 8,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_checkpoint_raises_model_format_error_and_runs_nothing(tmp_path, good_bytes, case):
    sentinel = tmp_path / "pwned"
    p = tmp_path / "c.safetensors"
    p.write_bytes(HOSTILE[case](good_bytes, str(sentinel)))
    with pytest.raises(ModelFormatError, match=str(p.name)):
        load_checkpoint(p)
    with pytest.raises(ModelFormatError):
        checkpoint.resume(p, X, Y)
    assert not sentinel.exists()


def test_good_bytes_load(tmp_path, good_bytes):
    p = tmp_path / "c.safetensors"
    p.write_bytes(good_bytes)
    state = load_checkpoint(p)
    assert state.epoch == 2 and state.optimizer.name == "adam" and state.optimizer.t > 0


def test_missing_checkpoint_or_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFormatError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFormatError, match="cannot read"):
        load_checkpoint(tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_checkpoint_bytes_only_ever_raise_model_format_error(tmp_path, good_bytes, data):
    mode = data.draw(st.sampled_from(["flip", "cut", "random", "splice"]))
    b = bytearray(good_bytes)
    if mode == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
    elif mode == "cut":
        b = b[: data.draw(st.integers(0, len(b)))]
    elif mode == "random":
        b = bytearray(data.draw(st.binary(max_size=300)))
    else:
        at = data.draw(st.integers(0, len(b)))
        b[at:at] = data.draw(st.binary(min_size=1, max_size=20))
    p = tmp_path / "fuzz.safetensors"
    p.write_bytes(bytes(b))
    try:
        state = load_checkpoint(p)
    except ModelFormatError:
        return
    assert np.all(np.isfinite(state.network.flat()[0]))     # survived: it must be a usable checkpoint
    assert os.path.getsize(p) == len(b)


def test_a_missing_checkpoint_folder_is_created(tmp_path):
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    net = nlayer.Network([2, 8, 3], seed=0)
    path = tmp_path / "runs" / "a" / "checkpoint.safetensors"
    checkpoint.fit(net, X, y, checkpoint=path, every=1, epochs=2, batch_size=10, seed=0)
    assert checkpoint.load_checkpoint(path).epoch == 2
