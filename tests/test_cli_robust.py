"""`nlayer train` with --checkpoint-every and --resume: exact resume, Ctrl-C/SIGTERM exit 130,
divergence exit 1 keeping the last good checkpoint, refusals naming the difference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer.checkpoint import load_checkpoint

from .conftest import SRC, run_cli

FAST = ["--layers", "16", "--quiet"]


def train(capsys, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "train", *argv)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_train_10_equals_train_4_then_resume_to_10(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert train(capsys, "--out", str(a), "--epochs", "10", "--checkpoint-every", "3", *FAST)[0] == 0
    assert train(capsys, "--out", str(b), "--epochs", "4", "--checkpoint-every", "3", *FAST)[0] == 0
    assert load_checkpoint(b / "checkpoint.safetensors").epoch == 4
    code, out, err = train(capsys, "--resume", str(b), "--epochs", "10", "--quiet")
    assert code == 0 and err == "" and "trained 6 epochs (10 in all)" in out
    assert (a / "history.csv").read_bytes() == (b / "history.csv").read_bytes()
    np.testing.assert_array_equal(nlayer.io.load(a / "model.safetensors").flat()[0],
                                  nlayer.io.load(b / "model.safetensors").flat()[0])
    np.testing.assert_array_equal(load_checkpoint(a / "checkpoint.safetensors").network.flat()[0],
                                  load_checkpoint(b / "checkpoint.safetensors").network.flat()[0])


def launch(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    run = tmp_path / "run"
    cmd = [sys.executable, "-W", "error", "-m", "nlayer", "train", "--out", str(run), "--epochs", "5000",
           *FAST, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC}, cwd=tmp_path)
    marker = run / ("checkpoint.safetensors" if "--checkpoint-every" in extra else "")
    deadline = time.monotonic() + 60
    while not (marker.is_file() if "--checkpoint-every" in extra else marker.is_dir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    time.sleep(0.05)                                       # now well inside the training loop
    return proc, run


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_exits_130_with_resume_line_and_resume_is_exact(tmp_path, capsys, sig):
    proc, run = launch(tmp_path, "--checkpoint-every", "1")
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == "" and "Traceback" not in err and len(err.splitlines()) == 1
    epoch = load_checkpoint(run / "checkpoint.safetensors").epoch
    assert err == f"nlayer: interrupted at epoch {epoch}; resume with: nlayer train --resume {run}\n"
    assert names(run) == ["checkpoint.safetensors", "train_args.json"]    # no model, no temp file

    target = str(epoch + 3)
    code, _, err = train(capsys, "--resume", str(run), "--epochs", target, "--quiet")
    assert code == 0 and err == ""
    straight = tmp_path / "straight"
    assert train(capsys, "--out", str(straight), "--epochs", target, "--checkpoint-every", "1", *FAST)[0] == 0
    assert (run / "history.csv").read_bytes() == (straight / "history.csv").read_bytes()
    np.testing.assert_array_equal(nlayer.io.load(run / "model.safetensors").flat()[0],
                                  nlayer.io.load(straight / "model.safetensors").flat()[0])


def test_second_sigint_still_exits_130_with_a_whole_checkpoint(tmp_path):
    proc, run = launch(tmp_path, "--checkpoint-every", "1")
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.002)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "resume with: nlayer train --resume" in err
    assert load_checkpoint(run / "checkpoint.safetensors").epoch >= 1
    assert names(run) == ["checkpoint.safetensors", "train_args.json"]


def test_sigint_without_checkpoints_says_nothing_was_saved_and_leaves_no_folder(tmp_path):
    proc, run = launch(tmp_path)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.startswith("nlayer: interrupted at epoch ") and "--checkpoint-every" in err
    assert len(err.splitlines()) == 1 and not run.exists()


DIVERGE = ["--layers", "100", "--activation", "tanh", "--optimizer", "sgd", "--lr", "1e6", "--l2", "1e-3",
           "--batch-size", "0", "--checkpoint-every", "1", "--quiet"]


def test_divergence_exits_1_in_one_line_keeping_the_last_good_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = train(capsys, "--out", str(run), "--epochs", "60", *DIVERGE)
    assert code == 1 and out == ""
    assert err.startswith("nlayer: error: training diverged in epoch 7") and len(err.splitlines()) == 1
    assert f"the last good checkpoint, {run / 'checkpoint.safetensors'}, holds epoch 6" in err
    assert names(run) == ["checkpoint.safetensors", "train_args.json"]       # no model, metrics or history
    good = tmp_path / "good"
    assert train(capsys, "--out", str(good), "--epochs", "6", *DIVERGE)[0] == 0
    np.testing.assert_array_equal(load_checkpoint(run / "checkpoint.safetensors").network.flat()[0],
                                  load_checkpoint(good / "checkpoint.safetensors").network.flat()[0])


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    rows = ["x1,x2,label", *(f"{a!r},{b!r},{int(c)}" for (a, b), c in zip(X.tolist(), y))]
    path.write_text("\n".join(rows) + "\n")


def test_resume_refuses_changed_options_or_data_naming_them(tmp_path, capsys):
    X, y = nlayer.datasets.spiral(40, 3, seed=0, dtype="float64")
    data, run = tmp_path / "data.csv", tmp_path / "run"
    write_csv(data, X, y)
    assert train(capsys, "--data", str(data), "--out", str(run), "--epochs", "4", "--checkpoint-every", "2",
                 *FAST)[0] == 0
    before = (run / "checkpoint.safetensors").read_bytes()

    code, _, err = train(capsys, "--resume", str(run), "--layers", "8", "--lr", "0.1")
    assert code == 1 and len(err.splitlines()) == 1
    assert "--layers: the run used [16], this command gives [8]" in err and "--lr: the run used 0.003" in err

    X2 = X.copy()
    X2[3, 1] += 0.5
    write_csv(data, X2, y)
    code, _, err = train(capsys, "--resume", str(run), "--epochs", "8", "--quiet")
    assert code == 1 and "data.X.sha256" in err and len(err.splitlines()) == 1
    assert (run / "checkpoint.safetensors").read_bytes() == before
    assert "model.safetensors" in names(run)               # the finished 4-epoch run's files stay as they were


def csv_run(capsys, folder: Path, *argv: str) -> Path:
    """FOLDER/data.csv (120 spiral rows) and FOLDER/run, 4 epochs of it checkpointed every 2 epochs."""
    X, y = nlayer.datasets.spiral(40, 3, seed=0, dtype="float64")
    write_csv(folder / "data.csv", X, y)
    run = folder / "run"
    assert train(capsys, "--data", str(folder / "data.csv"), "--out", str(run), "--epochs", "4",
                 "--checkpoint-every", "2", "--layers", "8", "--quiet", *argv)[0] == 0
    return run


def epochs_run(run: Path) -> int:
    return int(json.loads((run / "metrics.json").read_text())["epochs_run"])


def test_resume_continues_to_the_epochs_typed_even_when_that_is_the_default(tmp_path, capsys):
    run = csv_run(capsys, tmp_path)
    code, out, _ = train(capsys, "--resume", str(run), "--epochs", "150", "--quiet")     # 150: the default
    assert code == 0 and epochs_run(run) == 150 and load_checkpoint(run / "checkpoint.safetensors").epoch == 150


def test_resume_reports_this_sessions_epochs_and_the_total(tmp_path, capsys):
    run = csv_run(capsys, tmp_path)
    code, out, _ = train(capsys, "--resume", str(run), "--epochs", "10", "--quiet")
    assert code == 0 and "trained 6 epochs (10 in all) in " in out
    code, out, _ = train(capsys, "--data", str(tmp_path / "data.csv"), "--out", str(tmp_path / "fresh"),
                         "--epochs", "3", "--layers", "8", "--quiet")
    assert code == 0 and "trained 3 epochs in " in out


def test_resume_refuses_options_typed_at_their_default_value_naming_each(tmp_path, capsys):
    run = csv_run(capsys, tmp_path, "--lr", "0.01")
    before = (run / "checkpoint.safetensors").read_bytes()
    code, out, err = train(capsys, "--resume", str(run), "--epochs", "150", "--lr", "0.003",
                           "--layers", "100,100", "--data", "spiral", "--quiet")   # every value is the default
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    for named in ("--data: the run used", "this command gives 'spiral'", "--layers: the run used [8]",
                  "--lr: the run used 0.01, this command gives 0.003"):
        assert named in err
    assert (run / "checkpoint.safetensors").read_bytes() == before and epochs_run(run) == 4


def test_resume_works_from_another_directory_and_with_the_data_named_another_way(tmp_path, capsys, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    run = csv_run(capsys, Path("."))                          # --data data.csv, relative
    assert json.loads((run / "train_args.json").read_text())["data"] == str(tmp_path / "data.csv")
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = train(capsys, "--resume", str(tmp_path / "run"), "--epochs", "6", "--quiet")
    assert code == 0 and err == "" and epochs_run(tmp_path / "run") == 6
    code, _, err = train(capsys, "--resume", str(tmp_path / "run"), "--epochs", "8", "--data", "../data.csv",
                         "--out", "../run/", "--quiet")
    assert code == 0 and err == "" and epochs_run(tmp_path / "run") == 8
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["data"] == "../data.csv"   # as typed


def test_an_old_run_folder_with_a_relative_data_path_resumes_from_its_own_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = csv_run(capsys, Path("."))
    record = json.loads((run / "train_args.json").read_text())
    (run / "train_args.json").write_text(json.dumps({**record, "data": "data.csv"}))   # as older nlayer stored it
    assert train(capsys, "--resume", "run", "--epochs", "6", "--quiet")[0] == 0 and epochs_run(run) == 6
    code, _, err = train(capsys, "--resume", "run", "--epochs", "8", "--data", str(tmp_path / "data.csv"), "--quiet")
    assert code == 0 and err == "" and epochs_run(run) == 8


def test_epochs_text_after_a_resume_counts_this_sessions_epochs_and_all(tmp_path, capsys):
    from nlayer.cli.train import TrainJob

    job = TrainJob(None, tmp_path, None, "classify", np.zeros(0), np.zeros(0), np.zeros(0), None)  # type: ignore[arg-type]
    job.history = nlayer.History(loss=[1.0] * 800)
    assert job.epochs_text == "800 epochs"
    job.epochs_before = 730
    assert job.epochs_text == "70 epochs (800 in all)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--checkpoint-every", "0"], "--checkpoint-every must be a whole number of epochs >= 1"),
        (["--checkpoint-every", "2", "--early-stopping", "3"], "--early-stopping cannot be combined"),
    ],
)
def test_bad_checkpoint_options_fail_before_training(tmp_path, capsys, argv, message):
    run = tmp_path / "run"
    code, out, err = train(capsys, "--out", str(run), "--epochs", "3", *FAST, *argv)
    assert code == 1 and message in err and len(err.splitlines()) == 1
    assert not run.exists() or names(run) == []            # not even train_args.json: nothing to resume
    assert not (run / "checkpoint.safetensors").exists()


def test_resume_of_a_folder_that_is_not_a_resumable_run_is_refused(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    code, _, err = train(capsys, "--resume", str(tmp_path / "plain"))
    assert code == 1 and "only a run trained with --checkpoint-every can be resumed" in err
    assert names(tmp_path / "plain") == []


def test_unwritable_output_folder_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    code, out, err = train(capsys, "--out", str(blocker / "run"), "--epochs", "3", "--checkpoint-every", "1", *FAST)
    assert code == 1 and err.startswith("nlayer: error: cannot write to the run folder") and out == ""
    assert blocker.read_text() == "not a folder" and names(tmp_path) == ["file.txt"]
    if os.geteuid() != 0:                                   # root ignores permissions
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            code, _, err = train(capsys, "--out", str(locked / "run"), "--epochs", "3", *FAST)
            assert code == 1 and "cannot write to the run folder" in err
            assert names(locked) == []
        finally:
            locked.chmod(0o700)


def test_a_diverging_run_prints_one_line_even_without_warnings_as_errors(tmp_path):
    """The lecture's full-batch SGD at lr 1e6: NumPy overflows, the user sees one line."""
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "nlayer", "train", "--optimizer", "sgd", "--lr", "1e6", "--l2", "1e-3",
         "--batch-size", "0", "--checkpoint-every", "1", "--out", str(run), "--quiet"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC}, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("nlayer: error: training diverged in epoch")
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    epoch = load_checkpoint(run / "checkpoint.safetensors").epoch
    assert f"holds epoch {epoch}" in proc.stderr


def test_warnings_inside_a_command_are_one_line_on_stderr(monkeypatch, capsys):
    import warnings

    import nlayer.cli as cli

    def noisy(args):
        warnings.warn("something odd\n   happened", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "cmd_explain", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert cli.main(["explain"]) == 0
    assert capsys.readouterr().err == "nlayer: warning: something odd happened\n"
