"""What every ``nlayer`` sub-command shares: the one-line failure, notes, and loading DATA."""

from __future__ import annotations

import argparse
import sys

from ..data import Table, load_table
from ..errors import ConfigError

PROG = "nlayer"
OWN_PROCESS = False   # True when nlayer is the program (console script, python -m nlayer): set by console_main


def fail(message: str, status: int = 1) -> int:
    """Print ``nlayer: error: MESSAGE`` (``nlayer: MESSAGE`` for 130) as one line on stderr; return ``status``."""
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}" if status != 130 else f"{PROG}: {one_line}", file=sys.stderr)
    return status


def say(args: argparse.Namespace, message: str) -> None:
    """A note on stdout, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(message)


def load_dataset(spec: str, target: str | None = None, min_rows: int = 2, n_features: int | None = None,
                 ignore_target: bool = False) -> Table:
    """``spiral`` (the lecture's 300 points, seed 0) or a CSV/NPZ file via ``nlayer.data``
    (``n_features``: the columns a model expects, checked before a file's values are read;
    ``ignore_target``: a CSV's target cells are not read, as ``predict`` needs none)."""
    if spec == "spiral":
        if target is not None:
            raise ConfigError("--target applies to CSV files; the spiral has no columns to choose from")
        from ..datasets import spiral

        X, y = spiral(100, 3, noise=0.2, seed=0, dtype="float64")
        return Table(X, y, ["x1", "x2"], "class", "spiral")
    return load_table(spec, target=target, min_rows=min_rows, n_features=n_features, ignore_target=ignore_target)
