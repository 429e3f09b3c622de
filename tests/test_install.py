"""A fresh virtual environment, the package installed the README's way (``pip install .``
from PyPI's dependencies), then ``nlayer train``: what a new user does first."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nlayer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pip_install_in_an_empty_venv_then_nlayer_train(tmp_path):
    src = tmp_path / "checkout"                       # a copy: pip's in-tree build must not touch the repo
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    pip = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "."], cwd=src, env=env,
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    out = tmp_path / "run"
    r = subprocess.run([str(bin_dir / "nlayer"), "train", "--epochs", "2", "--out", str(out)], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "run folder:" in r.stdout and "2/2" in r.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
    assert nlayer.load(out / "model.safetensors").sizes == [2, 100, 100, 3]
    assert (out / "loss.png").stat().st_size > 1000 and (out / "decision_boundary.png").stat().st_size > 1000
    # the installed package is the copy, not this checkout
    r = subprocess.run([str(bin_dir / "python"), "-c", "import nlayer; print(nlayer.__file__)"], env=env,
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert str(venv) in r.stdout
