"""Model files: ``save(net, path)`` and ``load(path)``, in the safetensors format.

A model file is a plain safetensors file (see docs/model-format.md), readable by any
safetensors reader in any language::

    W1 (n_0, n_1), b1 (n_1,), ..., WL (n_{L-1}, n_L), bL (n_L,)     the lecture's names
    input_mean (n_0,), input_scale (n_0,)                             only if standardised
    target_mean (n_L,), target_scale (n_L,)                           only if the targets are (version 2)
    __metadata__["nlayer"] = JSON {"format_version": 1 | 2, "sizes": [...], "activation": ...,
                                   "output": ..., "classes": [...] | null,
                                   "dtype": "float32" | "float64", "standardized": bool,
                                   "target_standardized": true (version 2 only)}

A network without target scaling is written as version 1, which every nlayer reads; version 2
adds the regression targets' standardisation (``Network.fit_target_scaling``).

Loading trusts nothing: the container (8-byte header length, JSON header, every tensor
entry, the byte layout) is checked by :mod:`nlayer._safetensors`, the metadata, the
architecture and every value here, and every problem is a
:class:`~nlayer.errors.ModelFormatError` naming the file and the key. The
format holds only numbers and JSON, so nothing in a file is ever unpickled or executed.
A file describes at most :data:`MAX_LAYERS` layers (checked on the tensor count before any
entry is checked or any array exists, then on 'sizes'), so a crafted file cannot make
``load`` build hundreds of thousands of layers; :func:`save` refuses deeper networks.
Writes are atomic (temp file, fsync, rename): a crash leaves the old file or the new one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from . import _safetensors
from ._atomic import atomic_write_bytes
from ._safetensors import MAX_FILE_BYTES, MAX_HEADER_BYTES, Limit, brief, is_int
from .activations import ACTIVATIONS
from .errors import ConfigError, ModelFormatError
from .losses import OUTPUTS
from .network import Network

__all__ = ["FORMAT_VERSION", "MAX_FILE_BYTES", "MAX_HEADER_BYTES", "MAX_LAYERS", "load", "read_header", "save"]

FORMAT_VERSION = 2                     # the newest version this nlayer reads and writes
METADATA_KEYS = ("format_version", "sizes", "activation", "output", "classes", "dtype", "standardized")
V2_KEYS = (*METADATA_KEYS, "target_standardized")   # version 2: with the targets' statistics
FEATURES = "nlayer.features"   # __metadata__ entry: JSON list of the input columns' names (optional, any version)
ST_DTYPES = {"float32": "F32", "float64": "F64"}     # metadata dtype -> safetensors dtype code
CODES = frozenset(ST_DTYPES.values())
WHAT = "model file"                                    # what the container layer's messages call the file
MAX_LAYERS = 1000             # the deepest network a model file or checkpoint holds: far beyond any trained MLP
MAX_TENSORS = Limit(2 * MAX_LAYERS + 4, f"W and b for each of at most {MAX_LAYERS} layers, input_mean, "
                                        "input_scale, target_mean, target_scale")


def depth_problem(n_layers: int) -> str | None:
    """Why a network of ``n_layers`` layers cannot be stored (``"1001 layers, more than ..."``),
    or None if it can."""
    if n_layers > MAX_LAYERS:
        return f"{n_layers} layers, more than the {MAX_LAYERS} a model file or checkpoint holds"
    return None


# --------------------------------------------------------------------------- save
def save(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path`` as a safetensors model file, atomically.

    The file holds ``W1..WL``, ``b1..bL`` (and ``input_mean``, ``input_scale`` when set)
    in the network's dtype, plus the architecture as JSON metadata. Raises ``ConfigError``
    if ``net`` is not a Network, or holds something the format cannot represent
    (non-finite weights, class labels that :func:`load` would refuse), so a good file is
    never replaced by one that cannot be loaded.
    """
    if not isinstance(net, Network):
        raise ConfigError(f"save() needs an nlayer.Network; got {type(net).__name__} (for a fitted "
                          "nlayer.sklearn estimator, save est.to_network())")
    problem = depth_problem(len(net.layers))
    if problem:
        raise ConfigError(f"cannot save a network of {problem}")
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
    if standardized and not np.all(tensors["input_scale"] > 0):
        raise ConfigError("cannot save: input_scale must be > 0 everywhere (it divides every input)")
    targets = net._target_statistics() is not None    # ConfigError if set on a non-identity output
    if targets:
        tensors["target_mean"] = np.ascontiguousarray(net.target_mean, dtype=dt)
        tensors["target_scale"] = np.ascontiguousarray(net.target_scale, dtype=dt)
        if not (np.all(np.isfinite(tensors["target_mean"])) and np.all(tensors["target_scale"] > 0)
                and np.all(np.isfinite(tensors["target_scale"]))):
            raise ConfigError("cannot save: target_mean must be finite and target_scale finite and > 0")
    meta: dict[str, Any] = {
        "format_version": 2 if targets else 1,
        "sizes": [int(n) for n in net.sizes],
        "activation": net.activation,
        "output": net.output.name,
        "classes": json_classes(net.classes, net.output.name, net.n_outputs),
        "dtype": dt.name,
        "standardized": standardized,
    }
    if targets:
        meta["target_standardized"] = True
    try:                                           # what load checks of the layout, checked first
        _check_architecture("the network", meta, {n: (ST_DTYPES[dt.name], a.shape) for n, a in tensors.items()})
    except ModelFormatError as e:
        raise ConfigError(f"cannot save {e} (a layer's W or b, input_mean / input_scale or target_mean / "
                          "target_scale was replaced "
                          "by an array of another shape)") from None
    extra = {"nlayer": json.dumps(meta)}
    if net.feature_names is not None:               # an entry of its own: readers of version 1 ignore it
        names = net.feature_names
        if not column_names(names, net.n_inputs):
            raise ConfigError(f"cannot save: feature_names must be a list of {net.n_inputs} strings, one per input "
                              "column, or None")
        extra[FEATURES] = json.dumps(names)
    atomic_write_bytes(path, _safetensors.encode(tensors, extra))


def json_classes(classes: Any, output: str, k: int) -> list[str] | list[int] | None:
    """Class labels as the JSON list a file stores: Python str or int (NumPy scalars
    converted). ``ConfigError`` for labels a file could not hold, so that nothing is
    written that :func:`load` (or a checkpoint's loader) would refuse."""
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
    problem = classes_problem(out, output, k)
    if problem:
        raise ConfigError(f"cannot save the class labels: they {problem}")
    return out


def classes_problem(classes: Any, output: str, k: int) -> str | None:
    """Why ``classes`` (as read from JSON) cannot label a ``output`` layer of ``k`` units,
    or None if they can (or are null): one label per unit, two for a single sigmoid unit,
    none for identity; distinct; all strings or all integers."""
    if classes is None:
        return None
    want = 0 if output == "identity" else (2 if output == "sigmoid" and k == 1 else k)
    ok = isinstance(classes, list) and len(classes) == want and (      # the length first: cheap
        all(isinstance(c, str) for c in classes) or all(is_int(c) for c in classes)
    )
    if ok and len(set(classes)) == len(classes):
        return None
    return (f"must be null or {want} distinct labels, all strings or all integers, for a {output} "
            f"output with {k} unit(s); got {brief(classes)}")


# --------------------------------------------------------------------------- load
def load(path: str | os.PathLike[str]) -> Network:
    """Read a model file written by :func:`save`; returns a ready-to-use ``Network``.

    Everything is validated before use; any problem raises ``ModelFormatError`` naming
    the file and what is wrong. Nothing in the file is executed.
    """
    where = str(path)
    read_header(where)                             # the header and layout first: a crafted size costs nothing
    arrays, extra = _safetensors.decode(_safetensors.read(where, what=WHAT), where, CODES, what=WHAT,
                                        max_tensors=MAX_TENSORS)
    meta = _check(where, extra, {name: (ST_DTYPES[a.dtype.name], a.shape) for name, a in arrays.items()})
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise ModelFormatError(f"{where}: tensor {brief(name)} contains NaN or infinity")
    if meta["standardized"] and not np.all(arrays["input_scale"] > 0):
        raise ModelFormatError(f"{where}: tensor 'input_scale' must be > 0 everywhere")
    net = Network(meta["sizes"], meta["activation"], meta["output"], seed=0, dtype=meta["dtype"])
    for l, layer in enumerate(net.layers, start=1):
        layer.W[...] = arrays[f"W{l}"]
        layer.b[...] = arrays[f"b{l}"]
    net.classes = None if meta["classes"] is None else list(meta["classes"])
    net.feature_names = _feature_names(where, extra, net.n_inputs)
    if meta["standardized"]:
        net.input_mean = arrays["input_mean"].astype(net.dtype, copy=True)
        net.input_scale = arrays["input_scale"].astype(net.dtype, copy=True)
    if meta.get("target_standardized"):
        if not np.all(arrays["target_scale"] > 0):
            raise ModelFormatError(f"{where}: tensor 'target_scale' must be > 0 everywhere")
        net.target_mean = arrays["target_mean"].astype(net.dtype, copy=True)
        net.target_scale = arrays["target_scale"].astype(net.dtype, copy=True)
    return net


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``nlayer`` metadata of a model file, reading the header only.

    The header and tensor table are checked against the file size exactly as
    :func:`load` does; tensor values are not read (use ``load`` for that).
    """
    where = str(path)
    entries, extra = _safetensors.read_header(where, what=WHAT, dtypes=CODES, max_tensors=MAX_TENSORS)
    return _check(where, extra, {name: (e.dtype, e.shape) for name, e in entries.items()})


def _check(where: str, extra: dict[str, str], table: dict[str, tuple[str, tuple[int, ...]]]) -> dict[str, Any]:
    """The nlayer meaning of a valid safetensors header: metadata, then the tensors'
    names, dtypes and shapes (``table``: {name: (dtype code, shape)}). Returns the metadata."""
    if "nlayer" not in extra:
        if extra.get("format") == "nlayer-checkpoint":     # checkpoint.FORMAT (not imported: it imports io)
            raise ModelFormatError(
                f"{where}: this is an nlayer checkpoint (training state), not a model file: resume its run "
                "with nlayer train --resume RUN_DIR (model.safetensors is written when training ends), or "
                "in Python take nlayer.checkpoint.load_checkpoint(path).network")
        found = "no 'nlayer' metadata entry" if extra else "no '__metadata__'"
        raise ModelFormatError(f"{where}: the header has {found}; this safetensors file is not an nlayer model")
    meta = _check_metadata(where, extra["nlayer"], len(table))
    _check_architecture(where, meta, table)
    problem = classes_problem(meta["classes"], meta["output"], meta["sizes"][-1])
    if problem:
        raise ModelFormatError(f"{where}: metadata 'classes' {problem}")
    return meta


def _check_metadata(where: str, raw: str, n_tensors: int) -> dict[str, Any]:
    """Parse and validate the ``nlayer`` metadata JSON of a file holding ``n_tensors``
    tensors; returns it as a dict. The work is bounded by the tensors, not by the length
    of 'sizes': a crafted 'sizes' of a million widths is refused after one comparison."""
    try:
        m = _safetensors.strict_json(raw)
    except (ValueError, RecursionError) as e:
        raise ModelFormatError(f"{where}: metadata 'nlayer' is not valid JSON ({e})") from None
    if not isinstance(m, dict):
        raise ModelFormatError(f"{where}: metadata 'nlayer' must be a JSON object")
    version = m.get("format_version")
    if is_int(version) and version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{where}: made by a newer nlayer (format_version {brief(version)}; this nlayer reads version "
            f"{FORMAT_VERSION}); upgrade nlayer: pip install -U nlayer"
        )
    if version not in (1, 2) or not is_int(version):
        raise ModelFormatError(f"{where}: metadata 'format_version' must be 1 or {FORMAT_VERSION}; "
                               f"got {brief(version)}")
    keys = V2_KEYS if version == 2 else METADATA_KEYS
    missing = [k for k in keys if k not in m]
    unknown = sorted(set(m) - set(keys))
    if missing or unknown:
        raise ModelFormatError(f"{where}: metadata 'nlayer' has {_listing('keys', missing, unknown)}")
    sizes = m["sizes"]
    if isinstance(sizes, list) and len(sizes) - 1 > n_tensors + 1:    # 2 tensors a layer: far too many layers
        raise ModelFormatError(
            f"{where}: metadata 'sizes' lists {len(sizes)} widths ({len(sizes) - 1} layers, "
            f"{2 * (len(sizes) - 1)} tensors W1, b1, ...) but the file holds {n_tensors} tensors"
        )
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(is_int(n) and n >= 1 for n in sizes)):
        raise ModelFormatError(f"{where}: metadata 'sizes' must list at least two widths >= 1; got {brief(sizes)}")
    problem = depth_problem(len(sizes) - 1)
    if problem:
        raise ModelFormatError(f"{where}: metadata 'sizes' describes {problem}")
    for key, valid in (("activation", ACTIVATIONS), ("output", OUTPUTS), ("dtype", ST_DTYPES)):
        if not isinstance(m[key], str) or m[key] not in valid:
            raise ModelFormatError(f"{where}: metadata {key!r} must be one of {', '.join(valid)}; got {brief(m[key])}")
    if sizes[-1] < OUTPUTS[m["output"]].min_outputs:
        raise ModelFormatError(
            f"{where}: metadata 'sizes' ends in {brief(sizes[-1])} unit(s), too few for {m['output']}")
    if not isinstance(m["standardized"], bool):
        raise ModelFormatError(
            f"{where}: metadata 'standardized' must be true or false; got {brief(m['standardized'])}")
    if version == 2 and (m["target_standardized"] is not True or m["output"] != "identity"):
        raise ModelFormatError(f"{where}: metadata 'target_standardized' must be true, for an identity output "
                               f"(version 2 files hold the regression targets' statistics); got "
                               f"{brief(m['target_standardized'])} for output {brief(m['output'])}")
    return m


def _check_architecture(where: str, meta: dict[str, Any], table: dict[str, tuple[str, tuple[int, ...]]]) -> None:
    """The tensors are exactly the metadata's layers, in its dtype, and their shapes chain
    (at most about twice as many names as the file has tensors: see _check_metadata)."""
    sizes, L = meta["sizes"], len(meta["sizes"]) - 1
    names = [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")]
    names += ["input_mean", "input_scale"] if meta["standardized"] else []
    targets = ["target_mean", "target_scale"] if meta.get("target_standardized") else []
    missing, unknown = [n for n in names + targets if n not in table], sorted(set(table) - set(names + targets))
    if missing or unknown:
        raise ModelFormatError(
            f"{where}: for sizes {brief(sizes)} the file has {_listing('tensors', missing, unknown)}")
    code, shape = ST_DTYPES[meta["dtype"]], {name: s for name, (_, s) in table.items()}
    for name in names:
        if table[name][0] != code:
            raise ModelFormatError(
                f"{where}: tensor {name!r} has dtype {table[name][0]} but metadata 'dtype' is {meta['dtype']} ({code})"
            )
    for l in range(1, L + 1):
        W, b = shape[f"W{l}"], shape[f"b{l}"]
        if len(W) != 2 or len(b) != 1:
            raise ModelFormatError(f"{where}: W{l} must be 2-D and b{l} 1-D; got shapes {brief(W)} and {brief(b)}")
        if l > 1 and W[0] != shape[f"W{l - 1}"][1]:
            raise ModelFormatError(
                f"{where}: shapes do not chain: W{l - 1} {brief(shape[f'W{l - 1}'])} has "
                f"{brief(shape[f'W{l - 1}'][1])} columns but W{l} {brief(W)} has {brief(W[0])} rows"
            )
        if W != (sizes[l - 1], sizes[l]) or b != (sizes[l],):
            raise ModelFormatError(
                f"{where}: W{l} {brief(W)} and b{l} {brief(b)} do not match metadata sizes {brief(sizes)}: "
                f"expected {brief((sizes[l - 1], sizes[l]))} and {brief((sizes[l],))}"
            )
    for name in names[2 * L:]:
        if shape[name] != (sizes[0],):
            raise ModelFormatError(
                f"{where}: tensor {name!r} has shape {brief(shape[name])}; expected {brief((sizes[0],))}")
    for name in targets:
        if table[name][0] != code or shape[name] != (sizes[-1],):
            raise ModelFormatError(f"{where}: tensor {name!r} must be {meta['dtype']} of shape "
                                   f"{brief((sizes[-1],))}; got {table[name][0]} {brief(shape[name])}")


def column_names(names: Any, n_in: int) -> bool:
    """Whether ``names`` can be a network's ``feature_names``: a list of ``n_in`` strings."""
    return isinstance(names, list) and len(names) == n_in and all(isinstance(n, str) for n in names)


def _feature_names(where: str, extra: dict[str, str], n_in: int) -> list[str] | None:
    """The optional ``nlayer.features`` entry: n_in column names (strings), or None."""
    if FEATURES not in extra:
        return None
    try:
        names = _safetensors.strict_json(extra[FEATURES])
    except (ValueError, RecursionError) as e:
        raise ModelFormatError(f"{where}: metadata {FEATURES!r} is not valid JSON ({e})") from None
    if not column_names(names, n_in):
        raise ModelFormatError(f"{where}: metadata {FEATURES!r} must list {n_in} column names (strings); got "
                               f"{brief(names)}")
    return names


def _listing(what: str, missing: list[str], unknown: list[str]) -> str:
    """``missing keys ['a'] and unknown keys ['b']``, each list cut short (see ``brief``)."""
    parts = [f"{kind} {what} {brief(names)}" for kind, names in (("missing", missing), ("unknown", unknown)) if names]
    return " and ".join(parts)
