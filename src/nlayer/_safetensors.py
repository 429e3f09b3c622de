"""The safetensors container, strictly: one writer and one reader for every nlayer file.

A safetensors file is::

    8 bytes    N, the JSON header length, unsigned 64-bit little-endian
    N bytes    a UTF-8 JSON object: {name: {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}
    the rest   the tensor data, little-endian, row-major

Model files (:mod:`nlayer.io`) and checkpoints (:mod:`nlayer.checkpoint`) add their own
meaning on top; this module only knows the container. The reader trusts nothing: the
header length, the JSON (no duplicate keys, no ``NaN``), every tensor entry, and the byte
layout (tensors packed end to end from offset 0 to the last byte) are checked before any
array exists. Byte counts are Python integers, so a declared shape of ``(2**40, 2**40)`` in
a tiny file is refused without allocating. Every problem is a ``ModelFormatError`` naming
the file. Reading needs NumPy only; writing uses the safetensors package (imported lazily).
"""

from __future__ import annotations

import json
import math
import os
import reprlib
from collections.abc import Set
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

import numpy as np

from .errors import ModelFormatError

__all__ = ["DTYPES", "FLOATS", "MAX_FILE_BYTES", "MAX_HEADER_BYTES", "Entry", "Limit", "brief", "decode", "encode",
           "is_int", "parse_header", "read", "read_header", "strict_json"]

MAX_HEADER_BYTES = 100 * 2**20     # the JSON header; the safetensors library uses the same cap
MAX_FILE_BYTES = 2**34             # 16 GiB: 4 billion float32 parameters, far beyond an MLP
DTYPES: dict[str, np.dtype] = {    # the safetensors dtype codes that NumPy can hold
    code: np.dtype(spec) for code, spec in (
        ("BOOL", "?"), ("U8", "u1"), ("I8", "i1"), ("U16", "<u2"), ("I16", "<i2"), ("F16", "<f2"),
        ("U32", "<u4"), ("I32", "<i4"), ("F32", "<f4"), ("U64", "<u8"), ("I64", "<i8"), ("F64", "<f8"))
}
FLOATS = frozenset({"F32", "F64"})
MAX_SHOWN = 200                    # characters of a value from a file that a message quotes


class _Brief(reprlib.Repr):
    """A repr that stops early, so its cost does not grow with the value (see :func:`brief`)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 3, 10, 10, 6
        self.maxstring, self.maxother, self.maxlong = 60, 60, 40

    def repr_int(self, x: int, level: int) -> str:
        if abs(x).bit_length() > 256:      # str() of an int over 4300 digits raises ValueError
            return f"<an integer of about {int(abs(x).bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(x, level)


_REPR = _Brief()


class Limit(NamedTuple):
    """The most tensors a kind of file holds, and why: ``Limit(2002, "W and b for each of ...")``."""

    tensors: int
    why: str


class Entry(NamedTuple):
    """One validated tensor entry of the header; ``begin``/``end`` are data-section offsets."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The safetensors bytes of ``tensors`` (any shapes, dtypes in :data:`DTYPES`) and the
    string-to-string ``metadata``, written by the safetensors package itself."""
    try:
        import safetensors.numpy as st
    except ImportError:  # safetensors is a dependency of the package, but the core runs without it
        raise ImportError("writing nlayer model files and checkpoints needs the safetensors package: "
                          "pip install safetensors") from None
    # order="C" keeps 0-d arrays 0-d (ascontiguousarray makes them 1-d); metadata=None when empty:
    # safetensors 0.8.0 writes an unreadable header for save({}, metadata={})
    data: bytes = st.save({k: np.asarray(v, order="C") for k, v in tensors.items()}, metadata=metadata or None)
    return data


def read(path: str | os.PathLike[str], *, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """All bytes of the regular file ``path`` (at most ``max_bytes``); ``ModelFormatError``
    naming the file (called a ``what`` in messages) if it is missing, unreadable or too big."""
    where = str(path)
    size = _size(where, what, max_bytes)
    try:
        with open(where, "rb") as f:
            data = f.read(size + 1)
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot read the {what} ({e.strerror or e})") from None
    if len(data) != size:
        raise ModelFormatError(f"{where}: the file changed size while it was being read")
    return data


def read_header(path: str | os.PathLike[str], *, what: str = "file", max_bytes: int = MAX_FILE_BYTES,
                dtypes: Set[str] = FLOATS, max_tensors: Limit | None = None) -> tuple[dict[str, Entry], dict[str, str]]:
    """:func:`parse_header` of ``path``, reading the header only (the tensor data is not read,
    but the entries are checked against the file size exactly as :func:`decode` does)."""
    where = str(path)
    size = _size(where, what, max_bytes)
    try:
        with open(where, "rb") as f:
            prefix = f.read(8)
            header = prefix + f.read(_header_end(where, what, prefix, size) - 8)
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot read the {what} ({e.strerror or e})") from None
    return parse_header(header, size, where, what=what, dtypes=dtypes, max_tensors=max_tensors)


def decode(data: bytes, where: str, dtypes: Set[str] = FLOATS, *, what: str = "file",
           max_tensors: Limit | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse the safetensors bytes ``data`` strictly; returns ``(tensors, metadata)``.

    ``where`` (the file name) starts every ``ModelFormatError`` message; ``dtypes`` are the
    dtype codes allowed. Arrays are read-only ``np.frombuffer`` views of ``data`` (native
    byte order; copied only on a big-endian machine). ``metadata`` is ``{}`` when absent.
    ``max_tensors``: see :func:`parse_header`.
    """
    start = _header_end(where, what, data[:8], len(data))          # where the data section begins
    entries, metadata = parse_header(data[:start], len(data), where, what=what, dtypes=dtypes,
                                     max_tensors=max_tensors)
    tensors = {}
    for name, e in entries.items():
        dt = DTYPES[e.dtype]
        arr = np.frombuffer(data, dtype=dt, count=(e.end - e.begin) // dt.itemsize, offset=start + e.begin)
        tensors[name] = arr.astype(dt.newbyteorder("="), copy=False).reshape(e.shape)
    return tensors, metadata


def parse_header(header: bytes, size: int, where: str, *, what: str = "file", dtypes: Set[str] = FLOATS,
                 max_tensors: Limit | None = None) -> tuple[dict[str, Entry], dict[str, str]]:
    """Validate ``header`` (the file's first ``8 + N`` bytes) of a ``size``-byte file;
    returns ``({name: Entry}, metadata)``. With ``max_tensors``, a header listing more
    tensors is refused before any entry is checked or any array exists."""
    try:
        doc = strict_json(header[8:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFormatError(f"{where}: the header is not UTF-8 JSON ({e})") from None
    if not isinstance(doc, dict):
        raise ModelFormatError(f"{where}: the header must be a JSON object; got {type(doc).__name__}")
    metadata = doc.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFormatError(f"{where}: the header's '__metadata__' must be an object of strings")
    if max_tensors is not None and len(doc) > max_tensors.tensors:
        raise ModelFormatError(f"{where}: the header lists {len(doc)} tensors; a {what} holds at most "
                               f"{max_tensors.tensors} ({max_tensors.why})")
    entries = {name: _entry(where, what, name, value, dtypes) for name, value in doc.items()}
    _check_layout(where, entries, size - len(header))
    return entries, metadata


# ------------------------------------------------------------------ the parts
def _size(where: str, what: str, max_bytes: int) -> int:
    try:
        st = os.stat(where)
    except FileNotFoundError:
        raise ModelFormatError(f"{where}: the {what} does not exist") from None
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot read the {what} ({e.strerror or e})") from None
    if not Path(where).is_file():
        raise ModelFormatError(f"{where}: cannot read the {what}: it is a directory or a special file")
    if st.st_size > max_bytes:
        raise ModelFormatError(f"{where}: {st.st_size} bytes is larger than the {max_bytes}-byte limit")
    return st.st_size


def _header_end(where: str, what: str, prefix: bytes, size: int) -> int:
    """Where the JSON header ends: 8 + the little-endian u64 length at the start."""
    if size < 8 or len(prefix) < 8:
        raise ModelFormatError(
            f"{where}: not a safetensors {what} ({size} bytes; a safetensors file starts with an 8-byte header length)"
        )
    n = int.from_bytes(prefix[:8], "little")
    if n < 2 or n > MAX_HEADER_BYTES:
        raise ModelFormatError(
            f"{where}: not a safetensors {what} (header length {n} is outside 2..{MAX_HEADER_BYTES})"
        )
    if 8 + n > size:
        raise ModelFormatError(f"{where}: header length {n} runs past the end of the {size}-byte file (truncated?)")
    return 8 + n


def strict_json(text: str) -> Any:
    """``json.loads`` refusing duplicate keys and ``NaN``/``Infinity`` (``ValueError``)."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {brief(key)}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def brief(value: Any) -> str:
    """``repr(value)`` for an error message, at most ~``MAX_SHOWN`` characters and cheap to
    make however large the value (a file may hold a list of a million entries or a name of a
    million characters); a long list or object also says how many entries it has."""
    text = _REPR.repr(value)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 3] + "..."
    if isinstance(value, (list, tuple, dict)) and len(value) > _REPR.maxlist:
        text += f" ({len(value)} entries)"
    return text


def is_int(x: Any) -> TypeGuard[int]:
    """A JSON integer: a Python int that is not a bool."""
    return isinstance(x, int) and not isinstance(x, bool)


def _entry(where: str, what: str, name: str, entry: Any, dtypes: Set[str]) -> Entry:
    """One tensor entry, checked: keys, shape, offsets, dtype, and the byte count."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ModelFormatError(f"{where}: tensor {brief(name)} needs exactly the keys dtype, shape, data_offsets")
    shape, offsets, dtype = entry["shape"], entry["data_offsets"], entry["dtype"]
    if not (isinstance(shape, list) and len(shape) <= 8 and all(is_int(n) and n >= 0 for n in shape)):
        raise ModelFormatError(f"{where}: tensor {brief(name)} has an invalid shape {brief(shape)}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(is_int(n) for n in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise ModelFormatError(f"{where}: tensor {brief(name)} has invalid data_offsets {brief(offsets)}")
    if not isinstance(dtype, str) or dtype not in dtypes or dtype not in DTYPES:
        raise ModelFormatError(
            f"{where}: tensor {brief(name)} has dtype {dtype!r:.20}; this {what} may hold "
            f"{' or '.join(sorted(set(dtypes) & set(DTYPES)))} only"
        )
    needed = math.prod(shape) * DTYPES[dtype].itemsize       # Python ints: never overflows, never allocates
    if needed != offsets[1] - offsets[0]:
        raise ModelFormatError(
            f"{where}: tensor {brief(name)} of shape {brief(tuple(shape))} and dtype {dtype} needs "
            f"{brief(needed)} bytes but its data_offsets span {brief(offsets[1] - offsets[0])}"
        )
    return Entry(dtype, tuple(shape), offsets[0], offsets[1])


def _check_layout(where: str, entries: dict[str, Entry], data_len: int) -> None:
    """The tensors are packed end to end from offset 0 and end exactly at the end of the file."""
    pos = 0
    for name, e in sorted(entries.items(), key=lambda kv: (kv[1].begin, kv[1].end)):
        if e.begin != pos:
            gap = f"leaves a gap of {brief(e.begin - pos)} bytes"
            problem = "overlaps the previous tensor" if e.begin < pos else gap
            raise ModelFormatError(f"{where}: tensor {brief(name)} {problem}; tensors must be packed end to end")
        pos = e.end
    if pos > data_len:
        raise ModelFormatError(
            f"{where}: the payload is truncated: tensors need {brief(pos)} bytes, the file has {data_len}")
    if pos < data_len:
        raise ModelFormatError(f"{where}: {data_len - pos} extra bytes after the last tensor")
