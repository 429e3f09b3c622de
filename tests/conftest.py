from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import nlayer

SRC = str(Path(nlayer.__file__).resolve().parents[1])   # PYTHONPATH for the CLI in a subprocess

# CI runs must not depend on luck: the same examples every run, and no example database.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def spiral() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's data: X (300, 2) float32, y (300,) in {0, 1, 2}."""
    return nlayer.datasets.spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)


def make_targets(output: str, m: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Targets a user would pass for an output: labels, 0/1 columns, or real values."""
    if output == "softmax":
        return rng.integers(0, k, size=m)
    if output == "sigmoid":
        return rng.integers(0, 2, size=(m, k)).astype(float)
    return rng.standard_normal((m, k))


def blobs(n: int = 100, d: int = 5, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k Gaussian classes around random centres: X (n, d) float32, y (n,) in 0..k-1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.standard_normal((n, d)) + rng.standard_normal((k, d))[y]
    return X.astype(np.float32), y


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``nlayer ARGV`` in-process: (exit status, stdout, stderr)."""
    from nlayer import cli

    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def checkpointed_run(folder: Path, epochs: int, every: int) -> Path:
    """FOLDER/run: ``nlayer train`` on the spiral (4 hidden units) for ``epochs`` epochs with a
    checkpoint every ``every``, as a module-scoped fixture trains it once and tests copy it."""
    from nlayer import cli

    run = folder / "run"
    assert cli.main(["train", "--out", str(run), "--epochs", str(epochs), "--checkpoint-every", str(every),
                     "--layers", "4", "--quiet"]) == 0
    return run


def write_file(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    """A data file of these exact bytes (text is UTF-8 encoded) in tmp_path."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def safetensors_bytes(header: dict, payload: bytes = b"") -> bytes:
    """A safetensors file built by hand: the header's length (8 bytes, little-endian), the
    header as JSON, then the payload. Any header, any payload: hostile files included."""
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + payload


def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    """(header, payload) of a well-formed safetensors byte string."""
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]
