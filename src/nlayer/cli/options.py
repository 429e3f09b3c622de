"""The options of ``nlayer train``: declared with their defaults, and checked by name."""

from __future__ import annotations

import argparse
from typing import Any

from ..activations import ACTIVATIONS
from ..errors import ConfigError
from ..losses import OUTPUTS
from ..network import DTYPES
from ..optimizers import OPTIMIZERS

DEFAULTS = {  # `nlayer train` with no options: reaches >= 0.95 validation accuracy on the spiral in ~1 s
    "layers": "100,100", "activation": "relu", "epochs": 150, "batch_size": 32, "optimizer": "adam",
    "lr": 0.003, "l2": 1e-4, "val_fraction": 0.2, "seed": 0, "dtype": "float32",
}


def ints(text: str) -> list[int]:
    """``"100,100"`` -> ``[100, 100]``: comma-separated whole numbers >= 1 (an argparse ``type``)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
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


def check_train_args(args: argparse.Namespace) -> None:
    """Reject out-of-range numbers and conflicting options, by option name, before anything is created."""
    every = getattr(args, "checkpoint_every", None)
    checks = [
        ("--epochs", args.epochs, args.epochs >= 1, "a whole number >= 1"),
        ("--batch-size", args.batch_size, args.batch_size >= 0, "a whole number >= 0 (0 is full batch)"),
        ("--lr", args.lr, 0 < args.lr < float("inf"), "a positive finite number"),
        ("--l2", args.l2, 0 <= args.l2 < float("inf"), "a finite number >= 0"),
        ("--val-fraction", args.val_fraction, 0 <= args.val_fraction < 1, "in [0, 1)"),
        ("--early-stopping", args.early_stopping, args.early_stopping is None or args.early_stopping >= 1,
         "a patience in epochs >= 1"),
        ("--seed", args.seed, args.seed >= 0, "a whole number >= 0"),
        ("--checkpoint-every", every, every is None or every >= 1, "a whole number of epochs >= 1"),
    ]
    for name, value, ok, want in checks:
        if not ok:
            raise ConfigError(f"{name} must be {want}; got {value}")
    if every is not None and args.early_stopping is not None:
        raise ConfigError("--early-stopping cannot be combined with --checkpoint-every or --resume: "
                          "its best weights cannot be restored exactly from a checkpoint")
