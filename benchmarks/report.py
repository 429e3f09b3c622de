"""Machine description, result table, JSON and the PNG bar chart of the benchmark."""

from __future__ import annotations

import json
import os
import platform
import statistics
import warnings
from pathlib import Path
from typing import Any

NAMES = {"nlayer": "nlayer", "pytorch": "PyTorch", "sklearn": "MLPClassifier", "gemm_floor": "GEMM floor"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    except OSError:
        pass
    return []


def environment(threads: int) -> dict[str, Any]:
    """What decides the timings: CPU, cores, BLAS library and the kernel it selected."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [
        {"used_by": _owner(d.get("filepath", "")),
         **{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}}
        for d in threadpool_info() if d.get("user_api") == "blas"
    ]
    env: dict[str, Any] = {
        "cpu": cpu_model(), "cpu_flags": cpu_flags(), "logical_cpus": os.cpu_count(),
        "python": platform.python_version(), "numpy": np.__version__, "threads": threads,
        "blas": blas, "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "nlayer_fused_sgd": _fused_sgd(),
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except ImportError:
        pass
    try:
        import sklearn

        env["sklearn"] = sklearn.__version__
    except ImportError:
        pass
    return env


def _fused_sgd() -> bool:
    """Whether nlayer's mini-batch SGD takes its step inside the products (``nlayer._blas``)."""
    from nlayer import _blas

    return _blas.plan is not None


def _owner(filepath: str) -> str:
    """Which package bundles a BLAS library, from its path (numpy.libs, scipy.libs, torch/lib)."""
    for name in ("numpy", "scipy", "torch", "sklearn"):
        if f"/{name}.libs/" in filepath or f"/{name}/" in filepath:
            return name
    return filepath


def describe(env: dict[str, Any]) -> str:
    lines = [f"CPU: {env['cpu']} ({env['logical_cpus']} logical CPUs; {', '.join(env['cpu_flags'])})",
             f"threads: {env['threads']} (threadpoolctl for NumPy/scikit-learn, torch.set_num_threads)"]
    for b in env["blas"]:
        lines.append(f"BLAS of {b['used_by']}: {b['internal_api']} {b['version']}, "
                     f"kernel (coretype) {b['architecture']}, {b['num_threads']} threads")
    lines.append(f"OPENBLAS_CORETYPE: {env['OPENBLAS_CORETYPE'] or 'not set (OpenBLAS chose from the CPU)'}")
    lines.append("nlayer's SGD and momentum steps inside the products (BLAS beta != 0): "
                 + ("on, in NumPy's own OpenBLAS" if env.get("nlayer_fused_sgd")
                    else "off (NumPy's bundled OpenBLAS not found, or NLAYER_FUSED_BLAS=0): NumPy alone"))
    if "torch" in env:
        lines.append(f"PyTorch {env['torch']}, CPU capability {env['torch_cpu_capability']}")
    if env.get("peak_gflops"):
        lines.append(f"float32 ceiling: {env['peak_gflops']:.0f} GFLOP/s (NumPy's best 2048^3 product, "
                     f"{env['threads']} threads)")
    lines.append(f"NumPy {env['numpy']}, Python {env['python']}"
                 + (f", scikit-learn {env['sklearn']}" if "sklearn" in env else ""))
    return "\n".join(lines)


def target_line(c: dict[str, Any]) -> str:
    """One target's line: the ratio, its limit, met or MISSED, and for a missed target
    against another framework the matrix-product rate meeting it would take."""
    line = (f"  ({c['workload']}) {c['ratio']} = {c['value']:.2f}  (<= {c['limit']:.2f})  "
            f"{'met' if c['met'] else 'MISSED'}")
    if not c["met"] and "needs_gflops" in c:
        line += f": needs {c['needs_gflops']:.0f} GFLOP/s over the whole run"
        if "needs_share_of_peak" in c:
            line += f" ({100 * c['needs_share_of_peak']:.0f} % of the float32 ceiling)"
        if "floor_gflops" in c:
            line += f"; the products alone run at {c['floor_gflops']:.0f}"
    return line


def summarize(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table: medians (min-max), ratios, GFLOP/s, share of the GEMM floor, peak memory."""
    head = ("| workload | nlayer | PyTorch | MLPClassifier | GEMM floor | nlayer / PyTorch | "
            "nlayer / MLPClassifier | nlayer / floor | nlayer GFLOP/s | nlayer peak MiB |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        t, ratios = r["times"], r["ratios"]
        c = {name: _cell(t[name]) if name in t else "skipped" for name in NAMES}
        q = {key: "-" if key not in ratios else f"{ratios[key]:.2f}"
             for key in ("nlayer/pytorch", "nlayer/sklearn", "nlayer/gemm_floor")}
        peak = r.get("peak_traced_bytes", {}).get("nlayer")
        rows.append(
            f"| {r['label']} | {c['nlayer']} | {c['pytorch']} | {c['sklearn']} | {c['gemm_floor']} | "
            f"{q['nlayer/pytorch']} | {q['nlayer/sklearn']} | {q['nlayer/gemm_floor']} | "
            f"{r['gflops'].get('nlayer', 0):.1f} | {'-' if peak is None else f'{peak / 2**20:.1f}'} |"
        )
    return "\n".join(rows)


def _cell(s: dict[str, float]) -> str:
    unit, scale = ("ms", 1e3) if s["median"] < 10 else ("s", 1.0)
    return f"{s['median'] * scale:.3g} {unit} ({s['min'] * scale:.3g}-{s['max'] * scale:.3g})"


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def write_chart(path: Path, results: list[dict[str, Any]]) -> None:
    """Grouped bars: speed relative to PyTorch (PyTorch = 1, higher is faster), min-max whiskers.
    Deprecation warnings raised inside matplotlib's dependencies (matplotlib < 3.11 calls
    pyparsing 3.3's deprecated names) are silenced, as ``nlayer.plots`` does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _write_chart(path, results)


def _write_chart(path: Path, results: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in NAMES if any(n in r["times"] for r in results)]
    ref = "pytorch" if all("pytorch" in r["times"] for r in results) else "nlayer"
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs, hs, lo, hi = [], [], [], []
        for j, r in enumerate(results):
            if name not in r["times"]:
                continue
            base, s = r["times"][ref]["median"], r["times"][name]
            xs.append(j + (i - (len(names) - 1) / 2) * width)
            hs.append(base / s["median"])
            lo.append(base / s["median"] - base / s["max"])
            hi.append(base / s["min"] - base / s["median"])
        ax.bar(xs, hs, width, yerr=[lo, hi], capsize=2, label=NAMES[name])
    ax.set_yscale("log")  # the GEMM floor of (d) is ~15x PyTorch; a log axis keeps the rest readable
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xticks(range(len(results)), [r["short"] for r in results])
    ax.set_ylabel(f"speed relative to {NAMES[ref]} (higher is faster)")
    ax.set_title("nlayer vs PyTorch vs MLPClassifier, float32, medians with min-max")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
