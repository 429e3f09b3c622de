"""The ``nlayer`` command line: ``train``, ``predict``, ``evaluate``, ``gradcheck``, ``explain``.

Thin: each sub-command parses its options, calls the library, and prints. Every failure
a user can cause is one line on stderr (``nlayer: error: ...``) and exit status 1; an
interrupt (Ctrl-C) is exit status 130. ``main(argv)`` returns the exit status, so tests
run the CLI in-process.

This module holds the parser and the error handling; each sub-command lives in its own
module: ``train`` (with ``options``, ``resume`` and ``report``), ``predict`` (predict and
evaluate) and ``lecture`` (gradcheck and explain); ``common`` is what they share.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .. import __version__
from ..activations import ACTIVATIONS
from ..errors import NLayerError
from ..losses import OUTPUTS
from . import common
from .common import PROG, fail
from .lecture import cmd_explain, cmd_gradcheck
from .options import add_train_arguments, ints
from .predict import cmd_evaluate, cmd_predict
from .train import cmd_train

__all__ = ["build_parser", "console_main", "main"]


class UsageError(Exception):
    """A command line that argparse rejects (reported as one line, exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print the usage block and exit 2
        raise UsageError(f"{message} (see '{self.prog} --help')")


def console_main() -> None:
    """The ``nlayer`` program: :func:`main` on ``sys.argv``, then exit with its status.

    Only here, where the process is nlayer's own, does a stopping run ignore late signals
    (in-process callers of :func:`main`, such as tests, keep their handlers).
    """
    common.OWN_PROCESS = True
    sys.exit(main())


def _ignore_late_signals() -> None:
    if common.OWN_PROCESS:
        for sig in (signal.SIGINT, signal.SIGTERM):   # exiting: a late Ctrl-C must not kill the report
            signal.signal(sig, signal.SIG_IGN)


_SMALLER = {   # what to make smaller when a command runs out of memory
    "train": "try smaller --layers or --batch-size (or less data)",
    "predict": "split DATA into smaller files",
    "evaluate": "split DATA into smaller files",
    "gradcheck": "try smaller --layers or --batch",
}


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """Warnings, like errors, are one line on stderr: no file name, no source line."""
    print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    All error and interrupt handling of every command lives here, in one place.
    """
    parser = build_parser()
    args = argparse.Namespace()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 0
        with warnings.catch_warnings():          # restores the caller's warning display on exit
            warnings.showwarning = _one_line_warning
            return int(args.run(args))
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        _ignore_late_signals()
        return fail("interrupted", status=130)
    except BrokenPipeError:  # `nlayer predict ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, NLayerError) as exc:
        return fail(str(exc))
    except MemoryError:  # NumPy could not allocate: the network or the data is too large for this machine
        command = str(getattr(args, "command", ""))
        return fail(f"not enough memory for nlayer {command}: {_SMALLER.get(command, 'try smaller inputs')}")
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return fail(f"{exc.strerror or exc}{where}")
    except Exception as exc:  # a bug in nlayer: still one line, with a way to see the traceback
        if os.environ.get("NLAYER_DEBUG"):
            raise
        return fail(f"internal error: {type(exc).__name__}: {exc} (set NLAYER_DEBUG=1 to see the traceback)")


def _command(sub: Any, name: str, summary: str, example: str, run: Callable[[argparse.Namespace], int]) -> Any:
    p = sub.add_parser(name, help=summary, description=summary, epilog=f"example:\n  {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (``--help`` of each shows an example)."""
    parser = _Parser(prog=PROG, description="N-layer networks with back propagation written out by hand in NumPy.",
                     epilog="example:\n  nlayer train            # the lecture's spiral, then look in runs/",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nlayer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train_arguments(_command(sub, "train", "train a network and write a run folder",
                                 "nlayer train --data iris.csv --target species --layers 16 --epochs 300", cmd_train))
    for name, summary, example, run in (
        ("predict", "predict with a saved model; CSV on stdout",
         "nlayer predict runs/x/model.safetensors new.csv --proba", cmd_predict),
        ("evaluate", "score a saved model on labelled data", "nlayer evaluate runs/x/model.safetensors test.csv",
         cmd_evaluate),
    ):
        p = _command(sub, name, summary, example, run)
        p.add_argument("model", metavar="MODEL", help="a model.safetensors written by nlayer train")
        p.add_argument("data", metavar="DATA", help="spiral, FILE.csv or FILE.npz (see 'Data files' in the README)")
        p.add_argument("--target", metavar="COLUMN", help="the target column of a CSV (default: the last one)")
        if name == "predict":
            p.add_argument("--proba", action="store_true", help="add one probability column per class")
            p.add_argument("--out", metavar="FILE",
                           help="write the CSV to FILE (a regular file, replaced whole) instead of stdout; - is stdout")
    p = _command(sub, "gradcheck", "compare back propagation with central differences, per parameter",
                 "nlayer gradcheck --layers 2,4,3 --activation tanh --output softmax", cmd_gradcheck)
    _architecture_arguments(p)
    p.add_argument("--batch", type=int, default=20, help="rows of random data (default: 20)")
    p.add_argument("--l2", type=float, default=0.0, help="include an L2 term of this strength (default: 0)")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights and the data (default: 0)")
    p.add_argument("--threshold", type=float, default=1e-6, help="fail above this relative error (default: 1e-6)")
    p = _command(sub, "explain", "print the forward and backward equations with concrete shapes",
                 "nlayer explain --layers 2,4,3 --batch 300", cmd_explain)
    _architecture_arguments(p)
    p.add_argument("--batch", type=int, default=300, help="batch size m (default: 300, as in the notes)")
    return parser


def _architecture_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--layers", type=ints, default=[2, 4, 3],
                   help="all layer widths, input first (default: 2,4,3, the notes' network)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu", help="hidden activation")
    p.add_argument("--output", choices=list(OUTPUTS), default="softmax", help="output layer")
