"""``nlayer gradcheck`` and ``nlayer explain``: the lecture's checks and equations for an architecture."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import ConfigError
from ..network import Network
from .common import fail
from .options import check_network_size


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """``nlayer gradcheck``: random data, a float64 network, one relative error per parameter."""
    from ..gradient_check import gradient_check

    if args.batch < 1:
        raise ConfigError(f"--batch must be >= 1; got {args.batch}")
    if not args.threshold > 0:
        raise ConfigError(f"--threshold must be > 0; got {args.threshold}")
    if not 0 <= args.l2 < float("inf"):           # named as the option, not as gradient_check's argument
        raise ConfigError(f"--l2 must be a finite number >= 0; got {args.l2}")
    check_network_size(args.layers)
    net = Network(args.layers, activation=args.activation, output=args.output, seed=args.seed, dtype="float64")
    rng = np.random.default_rng(args.seed + 1)
    k, m = net.n_outputs, args.batch
    X = rng.standard_normal((m, net.n_inputs))
    y: np.ndarray
    if args.output == "softmax":
        y = rng.integers(0, k, size=m)
    elif args.output == "sigmoid":
        y = rng.integers(0, 2, size=(m, k)).astype(np.float64)
    else:
        y = rng.standard_normal((m, k))
    report = gradient_check(net, X, y, l2=args.l2)
    print(f"gradient check of {net!r} on {m} random rows (float64, h={report.h:g})")
    print(report)
    worst = max(report.parameters, key=lambda p: p.relative_error)
    if not report.passed(args.threshold):
        return fail(f"gradient check failed: {worst.name} has relative error {worst.relative_error:.3e} "
                    f"> threshold {args.threshold:g}")
    print(f"passed: max relative error {worst.relative_error:.3e} ({worst.name}) < threshold {args.threshold:g}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """``nlayer explain``: the lecture's equations for this architecture, with shapes."""
    from ..explain import explain

    print("\n".join(explain(args.layers, args.batch, args.activation, args.output)))
    return 0
