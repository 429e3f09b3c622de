"""The shared safetensors layer (nlayer._safetensors): what model files and checkpoints rely on.

Valid containers round-trip and are readable by the safetensors library; every container-level
defect is a ModelFormatError naming the file; nothing is allocated from declared sizes alone.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open

from nlayer import _safetensors
from nlayer.errors import ModelFormatError

from .conftest import safetensors_bytes, split_safetensors

TENSORS = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([0.5, -1.25], dtype=np.float64)}
META = {"who": "test", "json": json.dumps({"x": [1, 2]})}


GOOD = _safetensors.encode(TENSORS, META)
HEADER, PAYLOAD = split_safetensors(GOOD)


def _with(name: str, **changes) -> bytes:
    header = json.loads(json.dumps(HEADER))
    header[name].update(changes)
    return safetensors_bytes(header, PAYLOAD)


def _decode_file(tmp_path: Path, data: bytes, dtypes=_safetensors.FLOATS) -> tuple[dict, dict]:
    path = tmp_path / "c.safetensors"
    path.write_bytes(data)
    return _safetensors.decode(_safetensors.read(path), str(path), dtypes)


# ----------------------------------------------------------------- valid files
def test_round_trip_keeps_values_dtypes_shapes_and_metadata(tmp_path):
    tensors, meta = _decode_file(tmp_path, GOOD)
    assert meta == META and sorted(tensors) == ["a", "b"]
    for name, arr in TENSORS.items():
        assert tensors[name].dtype == arr.dtype and tensors[name].shape == arr.shape
        np.testing.assert_array_equal(tensors[name], arr)


def test_encoded_bytes_are_read_by_the_safetensors_library(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(GOOD)
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == META
        for name, arr in TENSORS.items():
            np.testing.assert_array_equal(f.get_tensor(name), arr)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=6),
    st.tuples(st.sampled_from(["float32", "float64", "int32", "uint8"]),
              st.lists(st.integers(0, 4), max_size=3)),
    max_size=5))
def test_any_encoded_container_decodes_to_the_same_arrays(spec):
    """Also covers no tensors and no metadata (safetensors 0.8.0 alone writes that one unreadably)."""
    rng = np.random.default_rng(0)
    tensors = {k: np.asarray(rng.normal(size=shape) * 50).astype(dt) for k, (dt, shape) in spec.items()}
    got, meta = _safetensors.decode(_safetensors.encode(tensors, {}), "mem", {"F32", "F64", "I32", "U8"})
    assert meta == {} and sorted(got) == sorted(tensors)
    for k, arr in tensors.items():
        assert got[k].dtype == arr.dtype and got[k].shape == arr.shape
        np.testing.assert_array_equal(got[k], arr)


def test_missing_metadata_is_empty_and_read_header_matches_decode(tmp_path):
    header = {k: v for k, v in HEADER.items() if k != "__metadata__"}
    path = tmp_path / "c.safetensors"
    path.write_bytes(safetensors_bytes(header, PAYLOAD))
    entries, meta = _safetensors.read_header(path)
    assert meta == {} and entries["a"] == ("F32", (2, 3), *header["a"]["data_offsets"])
    tensors, _ = _safetensors.decode(path.read_bytes(), str(path))
    assert {k: v.shape for k, v in tensors.items()} == {k: e.shape for k, e in entries.items()}


def test_arrays_are_views_of_the_bytes_not_copies():
    tensors, _ = _safetensors.decode(GOOD, "mem")
    assert all(not arr.flags.writeable and arr.base is not None for arr in tensors.values())


# ----------------------------------------------------------------- hostile containers
HOSTILE = {
    "empty": (b"", "not a safetensors file (0 bytes"),
    "seven bytes": (GOOD[:7], "not a safetensors file (7 bytes"),
    "header length 0": ((0).to_bytes(8, "little") + GOOD[8:], "outside 2.."),
    "header length 2**64-1": ((2**64 - 1).to_bytes(8, "little") + GOOD[8:], "outside 2.."),
    "header past the end": ((len(GOOD)).to_bytes(8, "little") + GOOD[8:], "runs past the end"),
    "not utf-8": ((4).to_bytes(8, "little") + b"\xff\xfe{}", "not UTF-8 JSON"),
    "not json": ((4).to_bytes(8, "little") + b"{{{{", "not UTF-8 JSON"),
    "duplicate key": ((16).to_bytes(8, "little") + b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    "NaN": ((10).to_bytes(8, "little") + b'{"a": NaN}', "NaN is not valid JSON"),
    # Python < 3.13 stops at its recursion limit while parsing, 3.13 parses it and finds a list:
    # either way one clean ModelFormatError, never a RecursionError escaping.
    "deep nesting": ((10000).to_bytes(8, "little") + b"[" * 5000 + b"]" * 5000,
                     ("not UTF-8 JSON", "must be a JSON object")),
    "a list": ((3).to_bytes(8, "little") + b"[1]", "must be a JSON object"),
    "metadata not strings": (safetensors_bytes({**HEADER, "__metadata__": {"n": 1}}, PAYLOAD), "object of strings"),
    "metadata a list": (safetensors_bytes({**HEADER, "__metadata__": ["x"]}, PAYLOAD), "object of strings"),
    "entry not an object": (safetensors_bytes({**HEADER, "a": [1]}, PAYLOAD), "needs exactly the keys"),
    "entry extra key": (_with("a", extra=1), "needs exactly the keys"),
    "negative dim": (_with("a", shape=[-2, -3]), "invalid shape"),
    "bool dim": (_with("a", shape=[True, 6]), "invalid shape"),
    "float dim": (_with("a", shape=[2.0, 3]), "invalid shape"),
    "nine dims": (_with("a", shape=[1] * 9), "invalid shape"),
    "one offset": (_with("a", data_offsets=[0]), "invalid data_offsets"),
    "reversed offsets": (_with("a", data_offsets=[24, 0]), "invalid data_offsets"),
    "unknown dtype": (_with("a", dtype="F8_E4M3"), "dtype 'F8_E4M3'; this file may hold F32 or F64 only"),
    "int dtype not asked for": (_with("a", dtype="I32"), "dtype 'I32'"),
    "dtype not a string": (_with("a", dtype=4), "dtype 4"),
    "byte count": (_with("a", shape=[2, 4]), "needs 32 bytes but its data_offsets span 24"),
    "overlap": (_with("a", data_offsets=[8, 32]), "overlaps the previous tensor"),
    "gap": (safetensors_bytes({**HEADER, "b": {**HEADER["b"], "data_offsets": [
        HEADER["b"]["data_offsets"][0] + 8, HEADER["b"]["data_offsets"][1] + 8]}}, PAYLOAD + bytes(8)), "gap of 8"),
    "truncated": (GOOD[:-1], "payload is truncated"),
    "trailing bytes": (GOOD + b"\x00", "1 extra bytes after the last tensor"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_container_defect_is_a_model_format_error_naming_the_file(tmp_path, case):
    data, expected = HOSTILE[case]
    path = tmp_path / "c.safetensors"
    path.write_bytes(data)
    for attempt in (lambda: _safetensors.decode(_safetensors.read(path), str(path)),
                    lambda: _safetensors.read_header(path)):
        with pytest.raises(ModelFormatError) as err:
            attempt()
        alternatives = expected if isinstance(expected, tuple) else (expected,)
        assert str(err.value).startswith(f"{path}: "), str(err.value)
        assert any(e in str(err.value) for e in alternatives), str(err.value)


def test_the_file_is_named_with_the_callers_word_for_it(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(b"abc")
    with pytest.raises(ModelFormatError, match="not a safetensors checkpoint"):
        _safetensors.decode(_safetensors.read(path, what="checkpoint"), str(path), what="checkpoint")


@pytest.mark.parametrize("kind", ["missing", "directory", "too big"])
def test_read_names_a_missing_unreadable_or_oversized_file(tmp_path, kind):
    path = tmp_path / "c.safetensors"
    expected = {"missing": "the model file does not exist",
                "directory": "cannot read the model file: it is a directory",
                "too big": f"{len(GOOD)} bytes is larger than the 100-byte limit"}[kind]
    if kind == "directory":
        path.mkdir()
    elif kind == "too big":
        path.write_bytes(GOOD)
    for reader in (_safetensors.read, _safetensors.read_header):
        with pytest.raises(ModelFormatError) as err:
            reader(path, what="model file", max_bytes=100)
        assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


def test_read_header_finds_a_truncated_payload_from_the_file_size(tmp_path):
    path = tmp_path / "c.safetensors"
    path.write_bytes(GOOD[:-4])
    with pytest.raises(ModelFormatError, match="payload is truncated"):
        _safetensors.read_header(path)


@pytest.mark.parametrize("shape", [[2**31, 2**31], [2**40, 2**40, 2**40], [10**30]])
def test_huge_declared_shape_is_refused_without_allocating(tmp_path, shape):
    data = _with("a", shape=shape, data_offsets=[0, 24])
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match="data_offsets span 24"):
            _safetensors.decode(data, "mem")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_header_over_the_cap_is_refused_before_it_is_read(tmp_path):
    data = (_safetensors.MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{}"
    with pytest.raises(ModelFormatError, match="outside 2.."):
        _safetensors.decode(data, "mem")


# ----------------------------------------------------------------- fuzzing
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_bytes_decode_consistently_or_raise_model_format_error_only(data):
    """Each edit replaces a random slice (possibly empty, possibly to the end) with random
    bytes: flips, insertions, deletions and truncations of a valid container."""
    b = GOOD
    for _ in range(data.draw(st.integers(1, 4))):
        start = data.draw(st.integers(0, len(b)))
        stop = data.draw(st.integers(start, len(b)))
        b = b[:start] + data.draw(st.binary(max_size=12)) + b[stop:]
    try:
        tensors, meta = _safetensors.decode(b, "fuzz")
    except ModelFormatError as e:
        assert str(e).startswith("fuzz: ")
        return
    assert sum(arr.nbytes for arr in tensors.values()) == len(split_safetensors(b)[1])  # covers the data exactly
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
