"""The package surface: the public names, the version, typing, and a NumPy-only core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nlayer

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = [
    "Adam", "Callback", "Cosine", "Dense", "GradientCheckReport", "History", "Momentum", "Nesterov", "Network",
    "Optimizer", "ParameterCheck", "SGD", "Schedule", "StepDecay", "Trainer", "__version__", "data", "datasets",
    "errors", "explain", "gradient_check", "load", "save",
]

BLOCK_OPTIONAL = """
import sys
class Block:
    blocked = ("matplotlib", "tqdm", "safetensors", "sklearn", "scipy", "torch")
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ImportError(f"blocked optional import: {name}")
        return None
sys.meta_path.insert(0, Block())
import nlayer
X, y = nlayer.datasets.spiral(n_per_class=20)
net = nlayer.Network([2, 8, 3], seed=0)
net.fit(X, y, epochs=3, batch_size=16, optimizer="adam", validation_fraction=0.2, seed=0)
print(len(nlayer.explain([2, 8, 3])), nlayer.gradient_check(net, X[:5], y[:5]).passed(1e-4))
print(sorted(m for m in sys.modules if m.split(".")[0] in Block.blocked))
"""


@pytest.fixture
def pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_all_is_pinned_and_every_name_exists():
    assert sorted(nlayer.__all__) == sorted(PUBLIC)
    for name in nlayer.__all__:
        assert hasattr(nlayer, name), name


def test_version_is_a_release_string_and_the_package_version(pyproject):
    parts = nlayer.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nlayer.__version__"}


def test_py_typed_marker_ships_with_the_package(pyproject):
    assert (Path(nlayer.__file__).parent / "py.typed").is_file()
    meta = pyproject
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["nlayer"]
    assert meta["project"]["scripts"]["nlayer"] == "nlayer.cli:console_main"


def test_the_core_trains_with_numpy_alone():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, "-c", BLOCK_OPTIONAL], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    count, passed, modules = r.stdout.split(maxsplit=2)
    assert int(count) > 10 and passed == "True" and modules.strip() == "[]"


def test_the_cli_depends_only_on_declared_packages(pyproject):
    deps = pyproject["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip() for d in deps}
    assert names == {"numpy", "tqdm", "matplotlib", "safetensors"}
