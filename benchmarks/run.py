"""nlayer vs PyTorch vs scikit-learn's MLPClassifier on the CPU, in one invocation.

    PYTHONPATH=src python benchmarks/run.py            # all workloads, 5 repeats (~2 minutes on 2 cores)
    PYTHONPATH=src python benchmarks/run.py --only a,d --repeats 3

Frameworks run interleaved (nlayer, PyTorch, MLPClassifier, GEMM floor, nlayer, ...) after
one warm-up round, each timed run after a pause (``--settle``) that lets the previous
framework's worker threads go idle, with BLAS threads pinned (threadpoolctl for NumPy and scikit-learn,
``torch.set_num_threads`` for PyTorch). Medians with min-max are reported, with the ratios
the targets of issue 5 are stated in. The environment is never changed: the OpenBLAS kernel
in use is printed, not chosen. Writes ``results/latest.json`` and ``results/latest.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
try:
    import nlayer  # noqa: F401
except ImportError:  # running from a checkout without installing: use its src/
    sys.path.insert(0, str(HERE.parent / "src"))

import report  # noqa: E402
import runners  # noqa: E402
from workloads import Workload, make_data, workloads  # noqa: E402

# (ratio, workloads, limit): nlayer's time over the other's time, at most `limit`.
TARGETS = [
    ("nlayer/pytorch", "abcf", 0.8),
    ("nlayer/pytorch", "d", 0.6),
    ("nlayer/pytorch", "e", 1 / 1.5),       # inference: at least 1.5x PyTorch's rows/s
    ("nlayer/sklearn", "af", 0.7),
    ("nlayer/gemm_floor", "ac", 1.15),
]


# After its last product OpenBLAS's worker thread spins for about 0.1 s (2^28 cycles) before
# it sleeps, and holds one of the two cores while the next framework starts: PyTorch's
# inference (e) measured 178 ms right after nlayer's run, 153 after a 0.05 s pause, 122-134
# after 0.1-0.4 s (benchmarks/NOTES.md, round 7). Every timed run starts this long after the
# one before it, so each framework meets a quiet machine, as it would when run on its own.
SETTLE_S = 0.25


def traced_peak(run: runners.Runner, w: Workload, X: Any, y: Any) -> int:
    """Peak bytes NumPy allocated during one run (tracemalloc sees NumPy's data buffers)."""
    tracemalloc.start()
    try:
        run(w, X, y, 0)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_budget(w: Workload, X: Any) -> int:
    """Issue 5's bound: the data plus 1.5x (parameters + batch activations), in bytes."""
    params = sum(a * b + b for a, b in zip(w.sizes[:-1], w.sizes[1:]))
    rows = min(w.batch_size, X.shape[0])
    activations = 4 * rows * sum(w.sizes[1:])          # Z, A, dA, dZ per layer
    data = X.nbytes + X.shape[0] * w.sizes[-1] * 4     # X and one-hot Y
    return int(data + 1.5 * 4 * (params + activations))


def bench(
    w: Workload, frameworks: dict[str, runners.Runner], repeats: int, warmup: int, settle: float = SETTLE_S
) -> dict[str, Any]:
    """Times of ``repeats`` interleaved rounds after ``warmup``, each run ``settle`` seconds
    after the one before it, with the ratios, FLOP rates and peak memory of one workload."""
    X, y = make_data(w)
    times: dict[str, list[float]] = {name: [] for name in frameworks}
    for r in range(warmup + repeats):
        for name, run in frameworks.items():          # interleaved: A B C D A B C D ...
            time.sleep(settle)                         # the previous run's spinning threads go idle
            seconds = run(w, X, y, r)
            if r >= warmup:
                times[name].append(seconds)
    summary = {name: report.summarize(t) for name, t in times.items()}
    med = {name: s["median"] for name, s in summary.items()}
    ratios = {f"nlayer/{n}": med["nlayer"] / med[n] for n in med if n != "nlayer"}
    flops = w.flops()
    result: dict[str, Any] = {
        "key": w.key, "label": w.label(), "short": f"({w.key}) {w.title.split(',')[0]}",
        "sizes": list(w.sizes), "batch_size": w.batch_size, "optimizer": w.optimizer, "lr": w.lr,
        "n_samples": w.n_samples, "epochs": w.epochs, "steps": 0 if w.inference else w.steps, "note": w.note,
        "times": summary, "ratios": ratios, "flops": flops,
        "gflops": {n: flops / m / 1e9 for n, m in med.items()},
        "raw_seconds": times,
    }
    if w.inference:
        result["rows_per_s"] = {n: w.n_samples / m for n, m in med.items() if n != "gemm_floor"}
    result["peak_traced_bytes"] = {n: traced_peak(frameworks[n], w, X, y) for n in ("nlayer", "sklearn")
                                   if n in frameworks}
    result["memory_budget_bytes"] = memory_budget(w, X)
    return result


def check_targets(results: list[dict[str, Any]], peak_gflops: float | None = None) -> list[dict[str, Any]]:
    """Each of issue 5's targets for the workloads run: value, limit, met. A target against
    another framework also says what it asks of the machine: the GFLOP/s nlayer's whole run
    would need (its matrix products' FLOPs over ``limit`` times the other's median) and, with
    ``peak_gflops`` (:func:`runners.peak_gflops`), that rate as a share of the machine's best
    float32 product; above about 0.9 no float32 implementation can meet it here."""
    by_key = {r["key"]: r for r in results}
    checks = []
    for ratio, keys, limit in TARGETS:
        for k in keys:
            if k in by_key and ratio in by_key[k]["ratios"]:
                r = by_key[k]
                value = r["ratios"][ratio]
                check = {"workload": k, "ratio": ratio, "value": value, "limit": limit, "met": value <= limit}
                other = ratio.split("/", 1)[1]
                if other != "gemm_floor":
                    check["needs_gflops"] = r["flops"] / (limit * r["times"][other]["median"]) / 1e9
                    if "gemm_floor" in r["gflops"]:
                        check["floor_gflops"] = r["gflops"]["gemm_floor"]
                    if peak_gflops:
                        check["needs_share_of_peak"] = check["needs_gflops"] / peak_gflops
                checks.append(check)
    for r in results:
        peak = r["peak_traced_bytes"].get("nlayer")
        if peak is not None and not r["key"] == "e":
            checks.append({"workload": r["key"], "ratio": "nlayer traced peak / memory budget",
                           "value": peak / r["memory_budget_bytes"], "limit": 1.0,
                           "met": peak <= r["memory_budget_bytes"]})
    return checks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="timed runs per framework (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    p.add_argument("--settle", type=float, default=SETTLE_S,
                   help=f"seconds of pause before each timed run (default {SETTLE_S})")
    p.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads (default 2)")
    p.add_argument("--only", default="abcdef", help="workload letters to run, e.g. a,d")
    p.add_argument("--frameworks", default="nlayer,pytorch,sklearn,gemm_floor",
                   help="comma-separated subset of nlayer,pytorch,sklearn,gemm_floor (nlayer is always run)")
    p.add_argument("--c-samples", type=int, default=20_000, help="rows for workload (c) (default 20,000)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for latest.json / latest.png")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    wanted = set(args.frameworks.split(",")) | {"nlayer"}
    frameworks = {k: v for k, v in runners.available().items() if k in wanted}
    if "pytorch" in frameworks:
        import torch

        torch.set_num_threads(args.threads)
    env = report.environment(args.threads)
    env["peak_gflops"] = runners.peak_gflops()
    print(report.describe(env), flush=True)
    chosen = [w for w in workloads(args.c_samples) if w.key in args.only.replace(",", "")]
    results = []
    for w in chosen:
        t0 = time.perf_counter()
        results.append(bench(w, frameworks, args.repeats, args.warmup, args.settle))
        note = f" [{w.note}]" if w.note else ""
        print(f"{w.label()}{note}: {time.perf_counter() - t0:.0f} s", flush=True)
    print()
    print(report.table(results))
    checks = check_targets(results, env["peak_gflops"])
    print("\ntargets (issue 5):")
    for c in checks:
        print(report.target_line(c))
    payload = {"command": " ".join(sys.argv), "time": time.strftime("%Y-%m-%d %H:%M:%S"),
               "environment": env, "repeats": args.repeats, "warmup": args.warmup, "settle_s": args.settle,
               "results": results, "targets": checks}
    report.write_json(args.out / "latest.json", payload)
    report.write_chart(args.out / "latest.png", results)
    print(f"\nwrote {args.out / 'latest.json'} and {args.out / 'latest.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
