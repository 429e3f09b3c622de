"""Soak: many short runs with random settings, interrupted at random points (a callback
stop, a SIGINT, or a crash injected inside a checkpoint write), then resumed: every
resumed run must equal its uninterrupted twin bit for bit, and no file may be torn.

NLAYER_SOAK=full runs 200 runs; the default (CI) runs 15.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer import _atomic, checkpoint
from nlayer.checkpoint import load_checkpoint
from nlayer.interrupt import GracefulInterrupt

N_RUNS = 200 if os.environ.get("NLAYER_SOAK") == "full" else 15
LR = {"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "adam": 0.005}


def random_run(rng: np.random.Generator) -> dict:
    optimizer = str(rng.choice(list(LR)))
    depth = int(rng.integers(1, 3))
    return {
        "sizes": [2, *[int(rng.integers(2, 12)) for _ in range(depth)], 3],
        "activation": str(rng.choice(["relu", "tanh", "leaky_relu", "sigmoid"])),
        "dtype": str(rng.choice(["float32", "float64"])),
        "epochs": int(rng.integers(2, 9)),
        "every": int(rng.integers(1, 4)),
        "fit": {
            "optimizer": optimizer, "lr": LR[optimizer] * float(rng.uniform(0.5, 2.0)),
            "batch_size": [None, 7, 16, 64][int(rng.integers(4))],
            "l2": [0.0, 1e-3][int(rng.integers(2))],
            "schedule": [None, "step", "cosine"][int(rng.integers(3))],
            "validation_fraction": [0.0, 0.25][int(rng.integers(2))],
            "shuffle": bool(rng.integers(2)), "seed": int(rng.integers(1000)),
        },
    }


class Crash(Exception):
    """A simulated crash between writing a checkpoint's temp file and renaming it."""


def interrupted_run(run: dict, X, y, path: Path, how: str, at: int, monkeypatch) -> None:
    """Train until the interruption; returns normally or after the simulated crash."""
    net = nlayer.Network(run["sizes"], activation=run["activation"], dtype=run["dtype"], seed=1)
    if how == "callback":
        checkpoint.fit(net, X, y, checkpoint=path, every=run["every"], epochs=run["epochs"],
                       callbacks=[lambda e, logs: e < at - 1], **run["fit"])
    elif how == "signal":
        def kill(epoch, logs):
            if epoch == at - 1:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.002)

        with GracefulInterrupt() as stop:
            checkpoint.fit(net, X, y, checkpoint=path, every=run["every"], epochs=run["epochs"],
                           callbacks=[kill, stop], **run["fit"])
        assert stop.interrupted and stop.epoch == at
    else:
        writes = []

        def crash(tmp, target):
            writes.append(tmp)
            if len(writes) == at:
                raise Crash(tmp)

        with monkeypatch.context() as m:
            m.setattr(_atomic, "_before_replace", crash)
            try:
                checkpoint.fit(net, X, y, checkpoint=path, every=run["every"], epochs=run["epochs"],
                               **run["fit"])
            except Crash:
                pass


@pytest.mark.slow
def test_random_interrupted_runs_resume_bit_for_bit_and_leave_no_torn_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(2024)
    X, y = nlayer.datasets.spiral(30, 3, seed=0)
    for i in range(N_RUNS):
        run = random_run(rng)
        how = str(rng.choice(["callback", "signal", "crash"]))
        at = int(rng.integers(1, run["epochs"] + 1))
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        path = folder / "checkpoint.safetensors"
        label = f"run {i}: {run}, interrupted by {how} at {at}"

        straight = nlayer.Network(run["sizes"], activation=run["activation"], dtype=run["dtype"], seed=1)
        expected = straight.fit(X, y, epochs=run["epochs"], **run["fit"])

        interrupted_run(run, X, y, path, how, at, monkeypatch)
        assert [p.name for p in folder.iterdir()] in ([], [path.name]), label       # no temp file left
        if path.exists():
            state = load_checkpoint(path)                                            # not torn
            assert 0 < state.epoch <= run["epochs"] and state.history.epochs == state.epoch, label

        net = nlayer.Network(run["sizes"], activation=run["activation"], dtype=run["dtype"], seed=1)
        history = checkpoint.fit(net, X, y, checkpoint=path, every=run["every"], epochs=run["epochs"],
                                 resume=True, **run["fit"])
        np.testing.assert_array_equal(net.flat()[0], straight.flat()[0], err_msg=label)
        assert history == expected, label
        assert load_checkpoint(path).epoch == run["epochs"], label
