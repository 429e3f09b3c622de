"""Model files: ``save(net, path)`` and ``load(path)``, in the safetensors format.

A model file is a plain safetensors file (see docs/model-format.md), readable by any
safetensors reader in any language::

    W1 (n_0, n_1), b1 (n_1,), ..., WL (n_{L-1}, n_L), bL (n_L,)     the lecture's names
    input_mean (n_0,), input_scale (n_0,)                             only if standardised
    __metadata__["nlayer"] = JSON {"format_version": 1, "sizes": [...], "activation": ...,
                                   "output": ..., "classes": [...] | null,
                                   "dtype": "float32" | "float64", "standardized": bool}

Loading trusts nothing: the 8-byte header length, the JSON header, every tensor entry,
the metadata and every value are checked here, before any array is built, and every
problem is a :class:`~nlayer.errors.ModelFormatError` naming the file and the key. The
format holds only numbers and JSON, so nothing in a file is ever unpickled or executed.
Writes are atomic (temp file, fsync, rename): a crash leaves the old file or the new one.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from ._atomic import atomic_write_bytes
from .activations import ACTIVATIONS
from .errors import ConfigError, ModelFormatError
from .losses import OUTPUTS
from .network import Network

__all__ = ["FORMAT_VERSION", "MAX_FILE_BYTES", "MAX_HEADER_BYTES", "load", "read_header", "save"]

FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100 * 2**20     # the JSON header; the safetensors library uses the same cap
MAX_FILE_BYTES = 2**34             # 16 GiB: 4 billion float32 parameters, far beyond an MLP
METADATA_KEYS = ("format_version", "sizes", "activation", "output", "classes", "dtype", "standardized")
ST_DTYPES = {"float32": ("F32", "<f4"), "float64": ("F64", "<f8")}   # metadata dtype -> (safetensors, numpy)
ITEMSIZE = {"F32": 4, "F64": 8}


def _safetensors() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError:  # safetensors is a dependency of the package, but the core runs without it
        raise ImportError("nlayer model files need the safetensors package: pip install safetensors") from None
    return st


# --------------------------------------------------------------------------- save
def save(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path`` as a safetensors model file, atomically.

    The file holds ``W1..WL``, ``b1..bL`` (and ``input_mean``, ``input_scale`` when set)
    in the network's dtype, plus the architecture as JSON metadata. Raises ``ConfigError``
    if the network holds something the format cannot represent (non-finite weights,
    class labels that are not strings or integers).
    """
    if not isinstance(net, Network):
        raise TypeError(f"save() needs an nlayer.Network; got {type(net).__name__}")
    dt = net.dtype
    tensors: dict[str, np.ndarray] = {}
    for name, p in zip(net.parameter_names(), net.parameters()):
        tensors[name] = np.ascontiguousarray(p, dtype=dt)
    standardized = net.input_mean is not None and net.input_scale is not None
    if standardized:
        tensors["input_mean"] = np.ascontiguousarray(net.input_mean, dtype=dt)
        tensors["input_scale"] = np.ascontiguousarray(net.input_scale, dtype=dt)
    for name, arr in tensors.items():
        if not np.all(np.isfinite(arr)):
            raise ConfigError(f"cannot save: {name} contains NaN or infinity (did training diverge?)")
    meta = {
        "format_version": FORMAT_VERSION,
        "sizes": [int(n) for n in net.sizes],
        "activation": net.activation,
        "output": net.output.name,
        "classes": _json_classes(net.classes),
        "dtype": dt.name,
        "standardized": standardized,
    }
    data = _safetensors().save(tensors, metadata={"nlayer": json.dumps(meta)})
    atomic_write_bytes(path, data)


def _json_classes(classes: Any) -> list[str] | list[int] | None:
    """Class labels as a JSON-safe list of Python str or int (NumPy scalars converted)."""
    if classes is None:
        return None
    out: list[Any] = []
    for c in list(classes):
        if isinstance(c, (str, np.str_)):
            out.append(str(c))
        elif isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)):
            out.append(int(c))
        else:
            raise ConfigError(f"cannot save class label {c!r}: labels must be strings or integers")
    return out


# --------------------------------------------------------------------------- load
def load(path: str | os.PathLike[str]) -> Network:
    """Read a model file written by :func:`save`; returns a ready-to-use ``Network``.

    Everything is validated before use; any problem raises ``ModelFormatError`` naming
    the file and what is wrong. Nothing in the file is executed.
    """
    where = str(path)
    data = _read_bytes(where)
    meta, table, start = _parse(where, data[: _header_end(where, data[:8], len(data))], len(data))
    dt = np.dtype(ST_DTYPES[meta["dtype"]][1])
    arrays = {}
    for name, (shape, begin, end, _) in table.items():
        arr = np.frombuffer(data, dtype=dt, count=(end - begin) // dt.itemsize, offset=start + begin)
        if not np.all(np.isfinite(arr)):
            raise ModelFormatError(f"{where}: tensor {name!r} contains NaN or infinity")
        arrays[name] = arr.reshape(shape)
    if meta["standardized"] and not np.all(arrays["input_scale"] > 0):
        raise ModelFormatError(f"{where}: tensor 'input_scale' must be > 0 everywhere")
    net = Network(meta["sizes"], meta["activation"], meta["output"], seed=0, dtype=meta["dtype"])
    for l, layer in enumerate(net.layers, start=1):
        layer.W[...] = arrays[f"W{l}"]
        layer.b[...] = arrays[f"b{l}"]
    net.classes = None if meta["classes"] is None else list(meta["classes"])
    if meta["standardized"]:
        net.input_mean = arrays["input_mean"].astype(net.dtype, copy=True)
        net.input_scale = arrays["input_scale"].astype(net.dtype, copy=True)
    return net


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``nlayer`` metadata of a model file, reading the header only.

    The header and tensor table are checked against the file size exactly as
    :func:`load` does; tensor values are not read (use ``load`` for that).
    """
    where = str(path)
    size = _file_size(where)
    try:
        with open(where, "rb") as f:
            prefix = f.read(8)
            header = prefix + f.read(_header_end(where, prefix, size) - 8)
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot read model file ({e.strerror or e})") from None
    meta, _, _ = _parse(where, header, size)
    return meta


def _file_size(where: str) -> int:
    try:
        st = os.stat(where)
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot open model file ({e.strerror or e})") from None
    if not Path(where).is_file():
        raise ModelFormatError(f"{where}: not a model file (it is a directory or a special file)")
    if st.st_size > MAX_FILE_BYTES:
        raise ModelFormatError(f"{where}: {st.st_size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
    return st.st_size


def _read_bytes(where: str) -> bytes:
    size = _file_size(where)
    try:
        with open(where, "rb") as f:
            data = f.read(size + 1)
    except OSError as e:
        raise ModelFormatError(f"{where}: cannot read model file ({e.strerror or e})") from None
    if len(data) != size:
        raise ModelFormatError(f"{where}: the file changed size while it was being read")
    return data


def _header_end(where: str, prefix: bytes, size: int) -> int:
    """Where the JSON header ends: 8 + the little-endian u64 length at the start."""
    if size < 8 or len(prefix) < 8:
        raise ModelFormatError(
            f"{where}: not a safetensors model file ({size} bytes; a model file starts with an 8-byte header length)"
        )
    n = int.from_bytes(prefix[:8], "little")
    if n < 2 or n > MAX_HEADER_BYTES:
        raise ModelFormatError(
            f"{where}: not a safetensors model file (header length {n} is outside 2..{MAX_HEADER_BYTES})"
        )
    if 8 + n > size:
        raise ModelFormatError(f"{where}: header length {n} runs past the end of the {size}-byte file (truncated?)")
    return 8 + n


def _parse(where: str, header: bytes, size: int) -> tuple[dict[str, Any], dict[str, tuple], int]:
    """Validate the JSON header; returns (nlayer metadata, {name: (shape, begin, end)}, data start)."""
    start = len(header)
    try:
        text = header[8:].decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFormatError(f"{where}: the header is not UTF-8 JSON ({e})") from None
    if not isinstance(doc, dict):
        raise ModelFormatError(f"{where}: the header must be a JSON object; got {type(doc).__name__}")
    extra = doc.pop("__metadata__", None)
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise ModelFormatError(f"{where}: the header has no '__metadata__' object of strings (not an nlayer model)")
    if "nlayer" not in extra:
        raise ModelFormatError(f"{where}: no 'nlayer' metadata entry; this safetensors file is not an nlayer model")
    meta = _check_metadata(where, extra["nlayer"])
    table = _check_tensors(where, doc, size - start)
    _check_architecture(where, meta, table)
    return meta, table, start


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_metadata(where: str, raw: str) -> dict[str, Any]:
    """Parse and validate the ``nlayer`` metadata JSON; returns it as a dict."""
    try:
        m = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ModelFormatError(f"{where}: metadata 'nlayer' is not valid JSON ({e})") from None
    if not isinstance(m, dict):
        raise ModelFormatError(f"{where}: metadata 'nlayer' must be a JSON object")
    version = m.get("format_version")
    if _is_int(version) and version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{where}: made by a newer nlayer (format_version {version}; this nlayer reads version "
            f"{FORMAT_VERSION}); upgrade nlayer: pip install -U nlayer"
        )
    missing = [k for k in METADATA_KEYS if k not in m]
    unknown = sorted(set(m) - set(METADATA_KEYS))
    if missing or unknown:
        raise ModelFormatError(f"{where}: metadata 'nlayer' has {_listing('keys', missing, unknown)}")
    if version != FORMAT_VERSION or not _is_int(version):
        raise ModelFormatError(f"{where}: metadata 'format_version' must be {FORMAT_VERSION}; got {version!r}")
    sizes = m["sizes"]
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_is_int(n) and n >= 1 for n in sizes)):
        raise ModelFormatError(f"{where}: metadata 'sizes' must list at least two widths >= 1; got {sizes!r}")
    for key, valid in (("activation", ACTIVATIONS), ("output", OUTPUTS), ("dtype", ST_DTYPES)):
        if not isinstance(m[key], str) or m[key] not in valid:
            raise ModelFormatError(f"{where}: metadata {key!r} must be one of {', '.join(valid)}; got {m[key]!r}")
    if sizes[-1] < OUTPUTS[m["output"]].min_outputs:
        raise ModelFormatError(f"{where}: metadata 'sizes' ends in {sizes[-1]} unit(s), too few for {m['output']}")
    if not isinstance(m["standardized"], bool):
        raise ModelFormatError(f"{where}: metadata 'standardized' must be true or false; got {m['standardized']!r}")
    _check_classes(where, m["classes"], m["output"], sizes[-1])
    return m


def _check_classes(where: str, classes: Any, output: str, k: int) -> None:
    if classes is None:
        return
    want = 0 if output == "identity" else (2 if output == "sigmoid" and k == 1 else k)
    ok = isinstance(classes, list) and (
        all(isinstance(c, str) for c in classes) or all(_is_int(c) for c in classes)
    )
    if not ok or len(classes) != want or len(set(classes)) != len(classes):
        raise ModelFormatError(
            f"{where}: metadata 'classes' must be null or {want} distinct labels, all strings or all "
            f"integers, for a {output} output with {k} unit(s); got {classes!r:.200}"
        )


def _check_tensors(where: str, doc: dict[str, Any], data_len: int) -> dict[str, tuple]:
    """Validate each tensor entry and the byte layout; returns {name: (shape, begin, end)}."""
    table: dict[str, tuple] = {}
    for name, entry in doc.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFormatError(f"{where}: tensor {name!r} needs exactly the keys dtype, shape, data_offsets")
        shape, offsets, dtype = entry["shape"], entry["data_offsets"], entry["dtype"]
        if not (isinstance(shape, list) and len(shape) <= 8 and all(_is_int(n) and n >= 0 for n in shape)):
            raise ModelFormatError(f"{where}: tensor {name!r} has an invalid shape {shape!r:.100}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(n) for n in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise ModelFormatError(f"{where}: tensor {name!r} has invalid data_offsets {offsets!r:.100}")
        if dtype not in ITEMSIZE:
            raise ModelFormatError(
                f"{where}: tensor {name!r} has dtype {dtype!r:.20}; nlayer model files hold F32 or F64 only"
            )
        if math.prod(shape) * ITEMSIZE[dtype] != offsets[1] - offsets[0]:
            raise ModelFormatError(
                f"{where}: tensor {name!r} of shape {tuple(shape)} and dtype {dtype} needs "
                f"{math.prod(shape) * ITEMSIZE[dtype]} bytes but its data_offsets span {offsets[1] - offsets[0]}"
            )
        table[name] = (tuple(shape), offsets[0], offsets[1], dtype)
    pos = 0
    for name, (_, begin, end, _) in sorted(table.items(), key=lambda kv: (kv[1][1], kv[1][2])):
        if begin != pos:
            problem = "overlaps the previous tensor" if begin < pos else f"leaves a gap of {begin - pos} bytes"
            raise ModelFormatError(f"{where}: tensor {name!r} {problem}; tensors must be packed end to end")
        pos = end
    if pos > data_len:
        raise ModelFormatError(f"{where}: the payload is truncated: tensors need {pos} bytes, the file has {data_len}")
    if pos < data_len:
        raise ModelFormatError(f"{where}: {data_len - pos} extra bytes after the last tensor")
    return table


def _check_architecture(where: str, meta: dict[str, Any], table: dict[str, tuple]) -> None:
    """The tensors are exactly the metadata's layers, in its dtype, and their shapes chain."""
    sizes, L = meta["sizes"], len(meta["sizes"]) - 1
    names = [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")]
    names += ["input_mean", "input_scale"] if meta["standardized"] else []
    missing, unknown = [n for n in names if n not in table], sorted(set(table) - set(names))
    if missing or unknown:
        raise ModelFormatError(f"{where}: for sizes {sizes} the file has {_listing('tensors', missing, unknown)}")
    code = ST_DTYPES[meta["dtype"]][0]
    for name in names:
        if table[name][3] != code:
            raise ModelFormatError(
                f"{where}: tensor {name!r} has dtype {table[name][3]} but metadata 'dtype' is {meta['dtype']} ({code})"
            )
    for l in range(1, L + 1):
        W, b = table[f"W{l}"][0], table[f"b{l}"][0]
        if len(W) != 2 or len(b) != 1:
            raise ModelFormatError(f"{where}: W{l} must be 2-D and b{l} 1-D; got shapes {W} and {b}")
        if l > 1 and W[0] != table[f"W{l - 1}"][0][1]:
            raise ModelFormatError(
                f"{where}: shapes do not chain: W{l - 1} {table[f'W{l - 1}'][0]} has {table[f'W{l - 1}'][0][1]} "
                f"columns but W{l} {W} has {W[0]} rows"
            )
        if W != (sizes[l - 1], sizes[l]) or b != (sizes[l],):
            raise ModelFormatError(
                f"{where}: W{l} {W} and b{l} {b} do not match metadata sizes {sizes}: expected "
                f"{(sizes[l - 1], sizes[l])} and {(sizes[l],)}"
            )
    for name in names[2 * L:]:
        if table[name][0] != (sizes[0],):
            raise ModelFormatError(f"{where}: tensor {name!r} has shape {table[name][0]}; expected {(sizes[0],)}")


def _is_int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _listing(what: str, missing: list[str], unknown: list[str]) -> str:
    parts = ([f"missing {what} {missing}"] if missing else []) + ([f"unknown {what} {unknown}"] if unknown else [])
    return " and ".join(parts)
