"""The benchmark script runs and reports what it claims (no timing is asserted: only that the
run completes, writes its JSON and chart, and that the targets' arithmetic is right)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import SRC

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

pytest.importorskip("threadpoolctl")


@pytest.fixture
def bench_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks/run.py as a module (its siblings report, runners, workloads importable)."""
    monkeypatch.syspath_prepend(str(BENCH))
    names = ("run", "report", "runners", "workloads")
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    try:
        yield importlib.import_module("run")
    finally:
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


def test_benchmark_runs_one_workload_and_writes_json_and_chart(tmp_path: Path) -> None:
    cmd = [sys.executable, "-W", "error", str(BENCH / "run.py"), "--only", "d", "--repeats", "1",
           "--warmup", "0", "--frameworks", "nlayer,gemm_floor", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": SRC, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "float32 ceiling:" in proc.stdout and "targets (issue 5):" in proc.stdout
    payload = json.loads((tmp_path / "latest.json").read_text())
    assert payload["environment"]["peak_gflops"] > 0
    (result,) = payload["results"]
    assert result["key"] == "d" and set(result["times"]) == {"nlayer", "gemm_floor"}
    assert result["flops"] == 1000 * 300 * 2 * (2 * 100 + 100 * 3) + 1000 * 300 * 2 * (2 * 100 + 2 * 100 * 3)
    assert {c["ratio"] for c in payload["targets"]} == {"nlayer traced peak / memory budget"}
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missed_target_states_the_rate_it_needs_against_the_ceiling(bench_run: ModuleType) -> None:
    result = {
        "key": "c", "flops": 1e12, "ratios": {"nlayer/pytorch": 0.9, "nlayer/gemm_floor": 1.1},
        "times": {"pytorch": {"median": 1.0}}, "gflops": {"gemm_floor": 1100.0},
        "peak_traced_bytes": {}, "memory_budget_bytes": 1,
    }
    checks = {c["ratio"]: c for c in bench_run.check_targets([result], peak_gflops=2500.0)}
    vs_torch = checks["nlayer/pytorch"]
    assert not vs_torch["met"] and vs_torch["limit"] == 0.8
    assert vs_torch["needs_gflops"] == pytest.approx(1e12 / 0.8 / 1e9)     # 1250: all of it in 0.8 s
    assert vs_torch["needs_share_of_peak"] == pytest.approx(0.5)
    assert vs_torch["floor_gflops"] == 1100.0
    line = bench_run.report.target_line(vs_torch)
    assert "MISSED: needs 1250 GFLOP/s" in line and "(50 % of the float32 ceiling)" in line
    assert "products alone run at 1100" in line
    assert checks["nlayer/gemm_floor"]["met"] and "needs_gflops" not in checks["nlayer/gemm_floor"]


def test_each_timed_run_starts_after_the_settle_pause(bench_run: ModuleType) -> None:
    """The previous framework's spinning worker threads must not steal the next one's core."""
    starts: list[tuple[str, float]] = []

    def runner(name: str):  # type: ignore[no-untyped-def]
        def run(w, X, y, r):  # type: ignore[no-untyped-def]
            starts.append((name, time.perf_counter()))
            return 0.001
        return run

    (spiral,) = [w for w in bench_run.workloads() if w.key == "d"]
    frameworks = {"nlayer": runner("nlayer"), "pytorch": runner("pytorch")}
    bench_run.bench(spiral, frameworks, repeats=2, warmup=1, settle=0.05)
    timed = starts[: 3 * 2]                                    # then one untimed run for tracemalloc
    assert [n for n, _ in timed] == ["nlayer", "pytorch"] * 3  # interleaved
    assert min(b - a for (_, a), (_, b) in zip(timed, timed[1:])) >= 0.05
