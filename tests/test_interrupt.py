"""SIGINT/SIGTERM during training: a graceful stop, exit 130, a whole checkpoint, exact resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer import _atomic, checkpoint, interrupt
from nlayer.checkpoint import load_checkpoint
from nlayer.errors import ConfigError
from nlayer.interrupt import GracefulInterrupt

from .conftest import SRC

EPOCHS = 40
SCRIPT = textwrap.dedent(
    f"""
    import sys, time
    import nlayer
    from nlayer import checkpoint
    from nlayer.interrupt import GracefulInterrupt

    path = sys.argv[1]
    X, y = nlayer.datasets.spiral(300, 3, seed=0)
    net = nlayer.Network([2, 32, 3], seed=0)

    def ready(epoch, logs):
        if epoch == 0:
            print("ready", flush=True)
        time.sleep(0.02)        # slows the run down, changes no number

    try:
        with GracefulInterrupt() as stop:
            checkpoint.fit(net, X, y, checkpoint=path, every=1, epochs={EPOCHS}, resume=True,
                           optimizer="adam", lr=0.01, batch_size=16, seed=0, callbacks=[ready, stop])
    except KeyboardInterrupt:
        print(f"stopped at once; resume with: python train.py {{path}}", file=sys.stderr)
        sys.exit(130)
    if stop.interrupted:
        print(f"interrupted ({{stop.signal_name}}) at epoch {{stop.epoch}}; resume with: python train.py {{path}}",
              file=sys.stderr)
        sys.exit(130)
    """
)
KW = dict(optimizer="adam", lr=0.01, batch_size=16, seed=0)


def data():
    return nlayer.datasets.spiral(300, 3, seed=0)


def launch(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    ckpt = tmp_path / "checkpoint.safetensors"
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-W", "error", str(script), str(ckpt)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc, ckpt


def uninterrupted() -> np.ndarray:
    X, y = data()
    net = nlayer.Network([2, 32, 3], seed=0)
    net.fit(X, y, epochs=EPOCHS, **KW)
    return net.flat()[0]


def assert_resumes_exactly(ckpt: Path) -> None:
    X, y = data()
    net = nlayer.Network([2, 32, 3], seed=0)
    checkpoint.fit(net, X, y, checkpoint=ckpt, every=1, epochs=EPOCHS, resume=True, **KW)
    np.testing.assert_array_equal(net.flat()[0], uninterrupted())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_run_exits_130_with_resume_line_and_whole_checkpoint(tmp_path, sig):
    proc, ckpt = launch(tmp_path)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"interrupted ({signal.Signals(sig).name}) at epoch ")
    assert "resume with: python train.py" in lines[0]
    epoch = int(lines[0].split(" at epoch ")[1].split(";")[0])
    state = load_checkpoint(ckpt)
    assert 1 <= state.epoch == epoch < EPOCHS
    assert state.history.epochs == epoch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors", "train.py"]
    assert_resumes_exactly(ckpt)


def test_second_sigint_stops_at_once_and_leaves_a_valid_checkpoint(tmp_path):
    proc, ckpt = launch(tmp_path)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.005)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert load_checkpoint(ckpt).epoch >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors", "train.py"]
    assert_resumes_exactly(ckpt)


def test_first_signal_stops_at_the_epoch_boundary_and_resume_is_exact(tmp_path):
    X, y = data()
    ckpt = tmp_path / "c.safetensors"

    def send_sigint(epoch, logs):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)    # let the handler run

    net = nlayer.Network([2, 32, 3], seed=0)
    with GracefulInterrupt() as stop:
        history = checkpoint.fit(net, X, y, checkpoint=ckpt, epochs=EPOCHS, callbacks=[send_sigint, stop], **KW)
    assert stop.interrupted and stop.signal_name == "SIGINT" and stop.count == 1
    assert stop.epoch == 3 and history.epochs == 3 and load_checkpoint(ckpt).epoch == 3
    assert_resumes_exactly(ckpt)


def test_second_signal_during_a_write_is_deferred_until_the_file_is_whole(tmp_path, monkeypatch):
    X, y = data()
    ckpt = tmp_path / "c.safetensors"
    writes = []

    def signal_twice_mid_write(tmp, target):
        writes.append(tmp)
        if len(writes) == 3:            # while epoch 3's checkpoint sits in its temp file
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)            # both handlers run here, inside the write

    monkeypatch.setattr(_atomic, "_before_replace", signal_twice_mid_write)
    net = nlayer.Network([2, 32, 3], seed=0)
    with GracefulInterrupt() as stop, pytest.raises(KeyboardInterrupt, match="during a file write"):
        checkpoint.fit(net, X, y, checkpoint=ckpt, epochs=EPOCHS, callbacks=[stop], **KW)
    assert stop.count == 2
    assert load_checkpoint(ckpt).epoch == 3         # the write in progress completed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.safetensors"]
    assert not interrupt._pending
    assert_resumes_exactly(ckpt)


def test_signal_before_training_starts_stops_before_the_first_epoch():
    X, y = data()
    net = nlayer.Network([2, 32, 3], seed=0)
    before = net.flat()[0].copy()
    with GracefulInterrupt() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        history = net.fit(X, y, epochs=5, callbacks=[stop])
    assert stop.signal_name == "SIGTERM" and history.epochs == 0
    np.testing.assert_array_equal(net.flat()[0], before)


def test_previous_handlers_are_restored_on_exit():
    def mine(signum, frame):
        pass

    old = signal.signal(signal.SIGTERM, mine)
    try:
        with GracefulInterrupt():
            assert signal.getsignal(signal.SIGTERM) is not mine
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, old)


def test_outside_the_main_thread_is_a_config_error():
    errors = []

    def run():
        try:
            with GracefulInterrupt():
                pass
        except ConfigError as e:
            errors.append(str(e))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert errors and "main thread" in errors[0]
