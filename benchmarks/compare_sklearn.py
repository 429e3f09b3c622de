"""Accuracy and fit time of nlayer's estimators against scikit-learn's MLP, side by side.

    PYTHONPATH=src python benchmarks/compare_sklearn.py            # writes the table below too
    PYTHONPATH=src python benchmarks/compare_sklearn.py --repeats 1 --threads 2

Both estimators get the same pipeline (StandardScaler first; for regression the target is
standardised too, with TransformedTargetRegressor), the same hyper-parameters and the same
folds: stratified 5-fold cross-validation (plain 5-fold for regression), repeated with
``--repeats`` different shuffles to average out the luck of the split and of the seed.
Prints a markdown table and writes it to benchmarks/results/sklearn_comparison.md.

Acceptance (issue 4): mean accuracy within 1 point of MLPClassifier's or better; R2 within
0.02 of MLPRegressor's or better. The exit status is 1 when a row misses it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import nlayer
from nlayer.sklearn import NLayerClassifier, NLayerRegressor

RESULTS = Path(__file__).parent / "results" / "sklearn_comparison.md"

CLASSIFICATION = dict(hidden_layer_sizes=(100,), solver="adam", max_iter=300, random_state=0)
REGRESSION = [
    dict(hidden_layer_sizes=(100,), solver="adam", alpha=1.0, max_iter=300, random_state=0),
    dict(hidden_layer_sizes=(100,), solver="lbfgs", alpha=10.0, max_iter=500, random_state=0),
]
CASES: list[tuple[str, Any, str, dict]] = [
    *[(name, load, "accuracy", CLASSIFICATION) for name, load in (
        ("digits", load_digits), ("iris", load_iris), ("wine", load_wine), ("breast_cancer", load_breast_cancer))],
    *[("diabetes", load_diabetes, "r2", params) for params in REGRESSION],
]


def pipeline(cls: type, params: dict, regression: bool) -> Any:
    est = cls(**params)
    if regression:
        est = TransformedTargetRegressor(regressor=est, transformer=StandardScaler())
    return make_pipeline(StandardScaler(), est)


def evaluate(cls: type, params: dict, X: np.ndarray, y: np.ndarray, regression: bool, repeats: int) -> dict:
    splitter = RepeatedKFold if regression else RepeatedStratifiedKFold
    cv = splitter(n_splits=5, n_repeats=repeats, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = cross_validate(pipeline(cls, params, regression), X, y, cv=cv, scoring="r2" if regression else "accuracy")
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"mean": res["test_score"].mean(), "std": res["test_score"].std(),
            "fit_s": res["fit_time"].mean(), "unconverged": unconverged, "fits": res["fit_time"].size}


def row(name: str, load: Any, metric: str, params: dict, repeats: int) -> tuple[list[str], bool]:
    X, y = load(return_X_y=True)
    regression = metric == "r2"
    ref = evaluate(MLPRegressor if regression else MLPClassifier, params, X, y, regression, repeats)
    ours = evaluate(NLayerRegressor if regression else NLayerClassifier, params, X, y, regression, repeats)
    scale, unit, allowed = (1.0, "", 0.02) if regression else (100.0, " pt", 1.0)
    diff = (ours["mean"] - ref["mean"]) * scale
    ok = diff >= -allowed
    setting = f"{params['solver']}, alpha={params.get('alpha', 1e-4):g}, max_iter={params['max_iter']}"
    cells = [
        f"{name} ({X.shape[0]}x{X.shape[1]})", f"{metric}, {setting}",
        f"{ref['mean'] * scale:.2f} ± {ref['std'] * scale:.2f}",
        f"{ours['mean'] * scale:.2f} ± {ours['std'] * scale:.2f}",
        f"{diff:+.2f}{unit}", f"{ref['fit_s']:.3f}", f"{ours['fit_s']:.3f}", f"{ref['fit_s'] / ours['fit_s']:.2f}x",
        f"{ref['unconverged']}/{ref['fits']} · {ours['unconverged']}/{ours['fits']}",
        "yes" if ok else "**NO**",
    ]
    return cells, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="shuffles of the 5-fold split (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both (default 1)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results file")
    args = parser.parse_args(argv)
    header = ["data set", "metric, setting", "scikit-learn", "nlayer", "nlayer - sklearn", "sklearn fit s",
              "nlayer fit s", "speed-up", "max_iter hit (sk · nl)", "within bound"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    all_ok = True
    with threadpool_limits(args.threads):
        for case in CASES:
            cells, ok = row(*case, repeats=args.repeats)
            all_ok &= ok
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], file=sys.stderr)
    note = (
        f"Generated by `benchmarks/compare_sklearn.py` on {datetime.date.today().isoformat()}: "
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, {args.threads} BLAS thread(s); "
        f"Python {platform.python_version()}, NumPy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"nlayer {nlayer.__version__}. Scores: mean ± std over {5 * args.repeats} folds "
        f"(5-fold, {args.repeats} shuffles); accuracy in percent. Fit time: mean seconds per fold "
        "(pipeline included). `max_iter hit`: fits that stopped at max_iter (ConvergenceWarning)."
    )
    table = "\n".join(lines) + "\n\n" + note + "\n"
    print(table)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(table, encoding="utf-8")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
