"""The options of ``nlayer train``: declared with their defaults, and checked by name."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from ..activations import ACTIVATIONS
from ..errors import ConfigError
from ..io import MAX_LAYERS
from ..losses import OUTPUTS
from ..network import DTYPES, parameter_count
from ..optimizers import OPTIMIZERS

DEFAULTS = {  # `nlayer train` with no options: reaches >= 0.95 validation accuracy on the spiral in ~1 s
    "layers": "100,100", "activation": "relu", "epochs": 150, "batch_size": 32, "optimizer": "adam",
    "lr": 0.003, "l2": 1e-4, "val_fraction": 0.2, "seed": 0, "dtype": "float32",
}
MAX_PARAMETERS = 2**31   # weights and biases: 8 GiB each for W, dW and every optimizer state, in float32


def ints(text: str) -> list[int]:
    """``"100,100"`` -> ``[100, 100]``: comma-separated whole numbers >= 1 (an argparse ``type``)."""
    try:
        values = [int(v) for v in text.split(",")]      # an empty entry (8,,8 or 8,) is refused, not dropped
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive whole numbers like 100,100; got {text!r}")
    return values


class _Noted(argparse.Action):
    """argparse's ``store``, also noting in ``namespace.given`` that the option was typed:
    ``--resume`` must tell ``--epochs 150`` from no ``--epochs``, though both give 150."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


class _NotedFlag(_Noted):
    """argparse's ``store_true``, noted like :class:`_Noted`."""

    def __init__(self, option_strings: list[str], dest: str, default: bool = False, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, const=True, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        super().__call__(parser, namespace, True, option_string)


def given(args: argparse.Namespace) -> set[str]:
    """The destinations of the ``nlayer train`` options typed on the command line."""
    return set(getattr(args, "given", ()))


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nlayer train`` (extensions add theirs after these); each one typed
    is noted in ``args.given`` (see :func:`given`)."""
    for name, action in ((None, _Noted), ("store", _Noted), ("store_true", _NotedFlag)):
        p.register("action", name, action)
    d = DEFAULTS
    p.add_argument("--data", default="spiral", help="spiral (the built-in 300 points), FILE.csv or FILE.npz")
    p.add_argument("--target", metavar="COLUMN", help="target column of a CSV (default: the last one)")
    p.add_argument("--task", choices=["classify", "regress"], help="default: inferred from the target, and printed")
    p.add_argument("--layers", type=ints, default=ints(str(d["layers"])),
                   help=f"hidden layer widths; input and output widths come from the data (default: {d['layers']})")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default=d["activation"], help="hidden activation")
    p.add_argument("--output", choices=list(OUTPUTS), help="default: softmax to classify, identity to regress")
    p.add_argument("--epochs", type=int, default=d["epochs"], help=f"default: {d['epochs']}")
    p.add_argument("--batch-size", type=int, default=d["batch_size"],
                   help=f"rows per step; 0 for full batch as in the lecture (default: {d['batch_size']})")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=d["optimizer"], help=f"default: {d['optimizer']}")
    p.add_argument("--lr", type=float, default=d["lr"], help=f"learning rate (default: {d['lr']})")
    p.add_argument("--l2", type=float, default=d["l2"], help=f"L2 strength (default: {d['l2']})")
    p.add_argument("--val-fraction", type=float, default=d["val_fraction"],
                   help=f"rows held out for validation, stratified by class (default: {d['val_fraction']})")
    p.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop when the validation loss has not improved for PATIENCE epochs; keep the best weights")
    p.add_argument("--seed", type=int, default=d["seed"], help=f"weights, split and shuffling (default: {d['seed']})")
    p.add_argument("--dtype", choices=list(DTYPES), default=d["dtype"], help=f"default: {d['dtype']}")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<timestamp>)")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty --out folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes; only the final table")
    p.add_argument("--checkpoint-every", type=int, metavar="N",
                   help="save RUN_DIR/checkpoint.safetensors every N epochs and on Ctrl-C, so the run can be resumed")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR (trained with --checkpoint-every) to --epochs, bit for bit; "
                        "its options are reused, and changing them is refused")


def train_defaults() -> dict[str, Any]:
    """Every ``nlayer train`` option at its default value, by destination name."""
    p = argparse.ArgumentParser()
    add_train_arguments(p)
    return vars(p.parse_args([]))


def train_actions() -> dict[str, argparse.Action]:
    """Every ``nlayer train`` option as the parser declares it (type, choices, default), by destination name."""
    p = argparse.ArgumentParser(add_help=False)
    add_train_arguments(p)
    return {a.dest: a for a in p._actions}


def stored_value(action: argparse.Action, value: Any, nullable: bool = True) -> Any:
    """``value``, read from JSON, if the option could have produced it: its default, a flag's
    constant, or what its ``type`` makes of the value written out as typed (``[16, 8]`` as
    ``16,8``), within its ``choices``. Returns it as the parser holds it (JSON ``1`` for a
    float option is ``1.0``); ``ValueError`` saying what the option takes. ``nullable=False``:
    a default of None (the option not typed) is refused too."""
    candidates = [action.default] if nullable or action.default is not None else []
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value)):
        candidates = []                                     # typed text is never nested: a string or a flat list
    elif action.nargs == 0:                                 # a flag: its default or its constant
        candidates.append(action.const)
    else:
        try:
            parsed = action.type(_as_typed(value)) if callable(action.type) else _as_typed(value)
            if action.choices is None or parsed in action.choices:
                candidates.append(parsed)
        except (argparse.ArgumentTypeError, TypeError, ValueError):
            pass                                            # not a value the option takes
    for candidate in candidates:
        if _same(candidate, value):
            return candidate
    name = action.option_strings[0] if action.option_strings else action.dest
    raise ValueError(f"{name} takes {_takes(action, nullable)}")


def _as_typed(value: Any) -> str:
    """A JSON value as it would be typed: lists comma-separated, strings as they are."""
    if isinstance(value, list):
        return ",".join(_as_typed(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value)


def _same(parsed: Any, value: Any) -> bool:
    """The same JSON value (``true`` is not ``1``, ``"3"`` is not ``3``; NaN is NaN), or equal numbers."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    return json.dumps(parsed) == json.dumps(value) or (number(parsed) and number(value) and parsed == value)


_TAKES: dict[Any, str] = {int: "a whole number", float: "a number", str: "a string", None: "a string",
                          ints: "a list of whole numbers >= 1 like [100, 100]"}   # by argparse type


def _takes(action: argparse.Action, nullable: bool = True) -> str:
    """What an option's value may be, in JSON terms: ``a whole number``, ``one of "relu", ...``
    (``or null`` where the default is None, unless not ``nullable``)."""
    if action.nargs == 0:
        return "true or false"
    if action.choices is not None:
        what = "one of " + ", ".join(json.dumps(c) for c in action.choices)
    elif action.type in _TAKES:
        what = _TAKES[action.type]
    elif action.default is not None:
        what = f"a value like {json.dumps(action.default)}"
    else:
        what = f"a value {getattr(action.type, '__name__', 'the option')} accepts"
    return what + (" or null" if action.default is None and nullable else "")


def check_train_args(args: argparse.Namespace) -> None:
    """Reject out-of-range numbers and conflicting options, by option name, before anything is created."""
    every = getattr(args, "checkpoint_every", None)
    checks = [
        ("--data", repr(args.data), args.data != "", "spiral, FILE.csv or FILE.npz"),
        ("--epochs", args.epochs, args.epochs >= 1, "a whole number >= 1"),
        ("--batch-size", args.batch_size, args.batch_size >= 0, "a whole number >= 0 (0 is full batch)"),
        ("--lr", args.lr, 0 < args.lr < float("inf"), "a positive finite number"),
        ("--l2", args.l2, 0 <= args.l2 < float("inf"), "a finite number >= 0"),
        ("--val-fraction", args.val_fraction, 0 <= args.val_fraction < 1, "in [0, 1)"),
        ("--early-stopping", args.early_stopping, args.early_stopping is None or args.early_stopping >= 1,
         "a patience in epochs >= 1"),
        ("--seed", args.seed, args.seed >= 0, "a whole number >= 0"),
        ("--layers", f"{len(args.layers)} widths", len(args.layers) < MAX_LAYERS,
         f"at most {MAX_LAYERS - 1} hidden widths (a model file holds at most {MAX_LAYERS} layers)"),
        ("--checkpoint-every", every, every is None or every >= 1, "a whole number of epochs >= 1"),
    ]
    for name, value, ok, want in checks:
        if not ok:
            raise ConfigError(f"{name} must be {want}; got {value}")
    check_network_size([1, *args.layers, 1])
    if every is not None and args.early_stopping is not None:
        raise ConfigError("--early-stopping cannot be combined with --checkpoint-every or --resume: "
                          "its best weights cannot be restored exactly from a checkpoint")


def check_network_size(sizes: Sequence[int], counted: str = "") -> None:
    """``ConfigError`` for a network of these widths (input first) with more than
    :data:`MAX_PARAMETERS` weights and biases, counted in Python ints: no overflow, nothing
    allocated. ``nlayer train`` checks its hidden widths between one input and one output
    (a lower bound: absurd widths fail before the data is read), then with the data's own
    (``counted`` says so)."""
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        raise ConfigError(f"--layers: a network of these widths{counted} has {_about(count)} parameters "
                          f"(widest layer {_about(max(sizes))}); nlayer allows at most {MAX_PARAMETERS:,}: "
                          "choose smaller widths")


def check_memory(sizes: Sequence[int], optimizer: str, dtype: str, batch: int, rows: int = 0,
                 available: int | None = None) -> None:
    """``ConfigError`` when the arrays training allocates for a network of these widths
    clearly exceed the memory this machine has free (``available`` bytes; by default
    MemAvailable of /proc/meminfo, and no check where that is unknown). Counted: W and dW
    (the flat theta and dtheta), the optimizer's state, fit's copy of the last finite
    weights and the L2 scratch, its copy of the best weights, the batch buffers (Z, A, dZ, dA
    per layer), and the ``rows`` of data in the network's dtype (X standardised, Y; the file's
    own table is already loaded, so free memory counts it). Without it a network that passes
    :func:`check_network_size` can still be killed by the kernel's out-of-memory killer, with
    no message at all."""
    free = _mem_available() if available is None else available
    if free is None:
        return
    itemsize = 8 if dtype == "float64" else 4
    state = len(OPTIMIZERS[optimizer].state_names) if optimizer in OPTIMIZERS else 2
    last_good = 1 + state                                                # fit's copies of theta and the state
    weights = itemsize * parameter_count(sizes) * (4 + state + last_good)   # W, dW, L2 scratch, best + those
    buffers = itemsize * 4 * batch * sum(sizes[1:])                      # Z, A, dZ, dA of every layer
    data = itemsize * rows * (sizes[0] + sizes[-1])                      # X standardised, Y
    if weights + buffers + data > free:
        need = f"about {(weights + buffers + data) / 2**30:.1f} GiB"
        if data > max(weights, buffers):
            raise ConfigError(f"--data: training needs {need}, {data / 2**30:.1f} of it for {rows:,} rows of "
                              f"data in {dtype}, more than the {free / 2**30:.1f} GiB this machine has free: "
                              "train on fewer rows" + (" or with --dtype float32" if dtype == "float64" else ""))
        if buffers > weights:
            raise ConfigError(f"--batch-size: training needs {need}, "
                              f"{buffers / 2**30:.1f} of it for the activations of {batch:,} rows at a time, "
                              f"more than the {free / 2**30:.1f} GiB this machine has free: choose a smaller "
                              "--batch-size (0 is the full batch) or smaller --layers")
        raise ConfigError(f"--layers: training this network needs {need} "
                          f"(weights, gradients and {optimizer}'s state), more than the {free / 2**30:.1f} GiB "
                          "this machine has free: choose smaller widths")


def _mem_available() -> int | None:
    """Bytes of memory available to a new process (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _about(n: int) -> str:
    """A count, exact up to a trillion, else rounded (``1e+20``): ints of any size."""
    if n < 10**12:
        return f"{n:,}"
    return f"{n:.3g}" if n < 10**300 else "more than 1e+300"
