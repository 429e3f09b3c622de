"""nlayer.load on hostile and broken files: always ModelFormatError naming the problem,
never code execution, never a huge allocation, never another exception type."""

from __future__ import annotations

import json
import os
import pickle
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlayer
from nlayer import io
from nlayer.errors import ModelFormatError

from .conftest import safetensors_bytes

META = {
    "format_version": 1, "sizes": [2, 4, 3], "activation": "relu", "output": "softmax",
    "classes": None, "dtype": "float32", "standardized": False,
}


def _raw(tensors: dict, payload: bytes, meta: dict | str | None = None) -> bytes:
    """A safetensors byte string built by hand: any header, any payload."""
    header = dict(tensors)
    if meta is not None:
        header["__metadata__"] = {"nlayer": meta if isinstance(meta, str) else json.dumps(meta)}
    return safetensors_bytes(header, payload)


def _layout(shapes: dict[str, tuple], dtype: str = "F32", itemsize: int = 4) -> tuple[dict, bytes]:
    """Tensor entries packed end to end, with a payload of small finite numbers."""
    tensors, pos = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape)) * itemsize
        tensors[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [pos, pos + n]}
        pos += n
    return tensors, bytes(pos)


GOOD_SHAPES = {"W1": (2, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}


def _write(tmp_path: Path, data: bytes, name: str = "model.safetensors") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _load_error(path: Path) -> str:
    with pytest.raises(ModelFormatError) as info:
        io.load(path)
    message = str(info.value)
    assert str(path) in message, message
    return message


def test_hand_built_good_file_loads(tmp_path):
    """The builders below make valid files unless a test breaks one thing."""
    net = io.load(_write(tmp_path, _raw(*_layout(GOOD_SHAPES), META)))
    assert net.sizes == [2, 4, 3] and not np.any(net.predict_proba(np.ones((1, 2))) - 1 / 3)


def test_zero_bytes(tmp_path):
    assert "not a safetensors model file (0 bytes" in _load_error(_write(tmp_path, b""))


def test_pickle_renamed_to_safetensors_is_rejected_and_never_run(tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(sentinel),))

    blob = pickle.dumps(Payload())
    path = _write(tmp_path, blob)
    assert "not a safetensors model file" in _load_error(path)
    with pytest.raises(ModelFormatError):
        io.read_header(path)
    assert not sentinel.exists()
    pickle.loads(blob)  # the payload is live: unpickling would have created the sentinel
    assert sentinel.is_dir()


@pytest.mark.parametrize(
    ("length", "expected"),
    [(10**6, "runs past the end"), (2**63, "outside 2.."), (2**64 - 1, "outside 2.."), (0, "outside 2..")],
)
def test_header_length_beyond_file_or_absurd(tmp_path, length, expected):
    data = length.to_bytes(8, "little") + b'{"__metadata__": {}}'
    assert expected in _load_error(_write(tmp_path, data))


@pytest.mark.parametrize(
    "header",
    [b"\xff\xfe{\x00}", b'{"W1": ', b"[1, 2, 3]", b'{"a": NaN}', b'{"a": 1, "a": 2}', b"[" * 5000 + b"]" * 5000],
    ids=["not-utf8", "truncated-json", "json-list", "nan-constant", "duplicate-key", "deep-nesting"],
)
def test_header_not_utf8_json_object(tmp_path, header):
    message = _load_error(_write(tmp_path, len(header).to_bytes(8, "little") + header))
    assert "header" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("dtype"), "missing keys ['dtype']"),
        (lambda m: m.update(optimizer="adam"), "unknown keys ['optimizer']"),
        (lambda m: m.update(format_version=0), "'format_version' must be 1"),
        (lambda m: m.update(format_version="1"), "'format_version' must be 1"),
        (lambda m: m.update(sizes=[2]), "'sizes' must list"),
        (lambda m: m.update(sizes=[2, True, 3]), "'sizes' must list"),
        (lambda m: m.update(activation="swish"), "'activation' must be one of relu"),
        (lambda m: m.update(output="__import__('os')"), "'output' must be one of softmax"),
        (lambda m: m.update(dtype="float16"), "'dtype' must be one of float32, float64"),
        (lambda m: m.update(standardized="yes"), "'standardized' must be true or false"),
        (lambda m: m.update(classes=["a", "b"]), "'classes' must be null or 3 distinct"),
        (lambda m: m.update(classes=["a", 1, "c"]), "'classes' must be null or 3 distinct"),
        (lambda m: m.update(classes=["a", "a", "c"]), "'classes' must be null or 3 distinct"),
        (lambda m: m.update(classes={"a": 1}), "'classes' must be null or 3 distinct"),
    ],
)
def test_bad_metadata_is_named(tmp_path, change, expected):
    meta = dict(META)
    change(meta)
    assert expected in _load_error(_write(tmp_path, _raw(*_layout(GOOD_SHAPES), meta)))


@pytest.mark.parametrize(
    ("meta", "expected"),
    [(None, "no '__metadata__'"), ("[1]", "must be a JSON object"), ("{", "not valid JSON")],
)
def test_missing_or_broken_nlayer_entry(tmp_path, meta, expected):
    assert expected in _load_error(_write(tmp_path, _raw(*_layout(GOOD_SHAPES), meta)))


def test_safetensors_file_from_another_tool_is_not_an_nlayer_model(tmp_path):
    data = safetensors.numpy.save({"weight": np.ones((2, 2), np.float32)}, metadata={"format": "pt"})
    assert "no 'nlayer' metadata entry" in _load_error(_write(tmp_path, data))


def test_future_format_version_asks_for_a_newer_nlayer(tmp_path):
    meta = dict(META, format_version=3, new_feature=True)
    message = _load_error(_write(tmp_path, _raw(*_layout(GOOD_SHAPES), meta)))
    assert "made by a newer nlayer (format_version 3" in message and "pip install -U nlayer" in message


def test_shapes_that_do_not_chain(tmp_path):
    shapes = {"W1": (2, 4), "b1": (4,), "W2": (5, 3), "b2": (3,)}
    message = _load_error(_write(tmp_path, _raw(*_layout(shapes), META)))
    assert "shapes do not chain: W1 (2, 4) has 4 columns but W2 (5, 3) has 5 rows" in message


def test_shapes_that_chain_but_disagree_with_sizes(tmp_path):
    shapes = {"W1": (2, 4), "b1": (4,), "W2": (4, 5), "b2": (5,)}
    assert "do not match metadata sizes [2, 4, 3]" in _load_error(_write(tmp_path, _raw(*_layout(shapes), META)))


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ({"W1": (2, 4), "b1": (4,), "W2": (4, 3)}, "missing tensors ['b2']"),
        (dict(GOOD_SHAPES, extra=(1,)), "unknown tensors ['extra']"),
        (dict(GOOD_SHAPES, input_mean=(2,)), "unknown tensors ['input_mean']"),
        ({"W1": (8,), "b1": (4,), "W2": (4, 3), "b2": (3,)}, "W1 must be 2-D"),
    ],
)
def test_tensor_set_must_match_the_architecture(tmp_path, shapes, expected):
    assert expected in _load_error(_write(tmp_path, _raw(*_layout(shapes), META)))


@pytest.mark.parametrize(("code", "itemsize"), [("F16", 2), ("I64", 8), ("BF16", 2), ("U8", 1)])
def test_dtype_other_than_float32_or_float64(tmp_path, code, itemsize):
    message = _load_error(_write(tmp_path, _raw(*_layout(GOOD_SHAPES, code, itemsize), META)))
    assert f"dtype '{code}'" in message and "F32 or F64 only" in message


def test_tensor_dtype_must_match_metadata_dtype(tmp_path):
    data = _raw(*_layout(GOOD_SHAPES, "F64", 8), META)
    assert "has dtype F64 but metadata 'dtype' is float32" in _load_error(_write(tmp_path, data))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(tmp_path, bad):
    arrays = {name: np.ones(shape, np.float32) for name, shape in GOOD_SHAPES.items()}
    arrays["W2"][1, 2] = bad
    data = safetensors.numpy.save(arrays, metadata={"nlayer": json.dumps(META)})
    assert "tensor 'W2' contains NaN or infinity" in _load_error(_write(tmp_path, data))


def test_zero_input_scale_is_rejected(tmp_path):
    shapes = dict(GOOD_SHAPES, input_mean=(2,), input_scale=(2,))
    data = _raw(*_layout(shapes), dict(META, standardized=True))
    assert "'input_scale' must be > 0" in _load_error(_write(tmp_path, data))


def _valid_bytes() -> bytes:
    net = nlayer.Network([2, 4, 3], seed=0)
    return safetensors.numpy.save(
        {n: p for n, p in zip(net.parameter_names(), net.parameters())}, metadata={"nlayer": json.dumps(META)}
    )


def test_truncated_payload(tmp_path):
    assert "payload is truncated: tensors need 108 bytes, the file has 104" in _load_error(
        _write(tmp_path, _valid_bytes()[:-4])
    )


def test_extra_trailing_bytes(tmp_path):
    assert "3 extra bytes after the last tensor" in _load_error(_write(tmp_path, _valid_bytes() + b"abc"))


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [([[0, 32], [28, 44]], "overlaps"), ([[0, 32], [36, 52]], "gap of 4 bytes"), ([[0, 32], [40, 24]], "invalid")],
)
def test_offsets_must_pack_end_to_end(tmp_path, offsets, expected):
    tensors, payload = _layout(GOOD_SHAPES)
    tensors["W1"]["data_offsets"], tensors["b1"]["data_offsets"] = offsets
    assert expected in _load_error(_write(tmp_path, _raw(tensors, payload, META)))


@pytest.mark.parametrize("shape", [[2**31, 2**31], [2**40, 2**40, 2**40], [10**30]])
def test_huge_declared_shape_in_tiny_file_is_rejected_without_allocating(tmp_path, shape):
    tensors, payload = _layout(GOOD_SHAPES)
    tensors["W1"]["shape"] = shape
    path = _write(tmp_path, _raw(tensors, payload, META))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        message = _load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "needs" in message and "data_offsets span 32" in message
    assert peak < 1_000_000 and time.perf_counter() - t0 < 1.0


def _huge_tensor_name(tmp_path: Path) -> Path:
    return _write(tmp_path, _raw(*_layout(dict(GOOD_SHAPES, **{"x" * 10**6: (1,)})), META))


def _huge_duplicate_key(tmp_path: Path) -> Path:
    key = json.dumps("k" * 10**6)
    header = f'{{"__metadata__": {{"nlayer": "{{}}"}}, {key}: 1, {key}: 2}}'.encode()
    return _write(tmp_path, len(header).to_bytes(8, "little") + header)


@pytest.mark.parametrize("craft", [
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, sizes=[2] * 1_000_000))),
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, sizes=[2, 4, 3, *["x"] * 500_000]))),
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, **{f"key{i}": i for i in range(200_000)}))),
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, classes=[str(i) for i in range(500_000)]))),
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, format_version="1" * 10**6))),
    lambda tmp: _write(tmp, _raw(*_layout(GOOD_SHAPES), dict(META, activation=["relu"] * 500_000))),
    _huge_tensor_name,
    _huge_duplicate_key,
], ids=["million-sizes", "long-sizes-of-strings", "many-unknown-keys", "long-classes", "long-version",
        "list-activation", "long-tensor-name", "long-duplicate-key"])
def test_a_crafted_header_fails_fast_with_one_short_line(tmp_path, craft):
    path = craft(tmp_path)
    for read in (io.load, io.read_header):
        with pytest.raises(ModelFormatError) as info:
            read(path)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and "\n" not in message
        assert len(message) < len(str(path)) + 400, message[:1000]


def test_sizes_far_longer_than_the_tensors_are_refused_by_their_count(tmp_path):
    path = _write(tmp_path, _raw(*_layout(GOOD_SHAPES), dict(META, sizes=[2] * 1_000_000)))
    assert _load_error(path).endswith("metadata 'sizes' lists 1000000 widths (999999 layers, "
                                      "1999998 tensors W1, b1, ...) but the file holds 4 tensors")


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_file_or_directory(tmp_path, kind):
    path = tmp_path / "m.safetensors"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ModelFormatError, match="m.safetensors"):
        io.load(path)
    with pytest.raises(ModelFormatError, match="m.safetensors"):
        io.read_header(path)


# ------------------------------------------------------------------------ fuzzing
@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _load_or_model_format_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        net = io.load(path)
    except ModelFormatError:
        return
    assert isinstance(net, nlayer.Network)  # a harmless mutation: the model must be usable
    assert np.all(np.isfinite(net.predict_proba(np.ones((2, net.n_inputs)))))


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**4), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**4), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 10**4), st.integers(1, 8)),
    st.tuples(st.just("truncate"), st.integers(0, 10**4), st.just(0)),
)


def _mutate(data: bytes, op: tuple) -> bytes:
    kind, pos, arg = op
    pos %= len(data) + 1
    if kind == "flip":
        return data[:pos] + bytes([data[pos] ^ arg]) + data[pos + 1:] if pos < len(data) else data
    if kind == "insert":
        return data[:pos] + arg + data[pos:]
    if kind == "delete":
        return data[:pos] + data[pos + arg:]
    return data[:pos]


VALID = _valid_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_fuzz_mutated_valid_file_gives_model_format_error_or_a_valid_model(fuzz_dir, ops):
    data = VALID
    for op in ops:
        data = _mutate(data, op)
    _load_or_model_format_error(fuzz_dir / "mutated.safetensors", data)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=200).map(lambda b: len(b).to_bytes(8, "little") + b)))
def test_fuzz_random_bytes_give_model_format_error(fuzz_dir, data):
    _load_or_model_format_error(fuzz_dir / "random.safetensors", data)
