"""The ``nlayer`` command line, in-process (``cli.main``) and as ``python -m nlayer``.

Each test asserts what a user relies on: the files a run writes and what they hold, that
``predict`` equals ``Network.predict`` on the same rows, that a model reloads to identical
predictions, and that every error is one line on stderr with exit status 1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nlayer
from nlayer import cli
from nlayer.cli.report import write_run
from nlayer.cli.train import build_job, prepare_out_dir, run_job

from .conftest import SRC, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"



def run_sub(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-m", "nlayer", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nlayer: error: ")
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def flowers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV with 4 features and string labels (3 separable blobs, 40 rows each)."""
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("data") / "flowers.csv"
    names = ["setosa", "versicolor", "virginica"]
    rows = ["petal_len,petal_wid,sepal_len,sepal_wid,species"]
    for c, name in enumerate(names):
        for x in rng.normal(loc=3.0 * c, scale=0.5, size=(40, 4)):
            rows.append(",".join(f"{v:.4f}" for v in x) + f",{name}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A regression CSV: y = 3 x1 - 2 x2 + 1 + noise, 2 features."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 1 + 0.01 * rng.standard_normal(200)
    path = tmp_path_factory.mktemp("data") / "plane.csv"
    path.write_text("a,b,y\n" + "".join(f"{float(a)!r},{float(b)!r},{float(t)!r}\n" for (a, b), t in zip(X, y)))
    return path


@pytest.fixture(scope="module")
def flowers_run(flowers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "flowers"
    assert cli.main(["train", "--data", str(flowers), "--layers", "16", "--epochs", "60", "--quiet",
                     "--out", str(out)]) == 0
    return out


# ----------------------------------------------------------------------------- train
def test_default_train_reaches_95_percent_and_writes_a_complete_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    rc, stdout, stderr = run_cli(capsys, "train", "--out", out)
    assert rc == 0, stderr
    assert "task: classify (inferred" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["accuracy"] >= 0.95
    assert metrics["sizes"] == [2, 100, 100, 3] and metrics["n_validation"] == 60
    assert metrics["seconds"] < 30
    table = stdout[stdout.index("loss"):].splitlines()
    assert table[1].split()[0] == "train" and table[2].split()[0] == "validation"
    assert float(table[2].split()[2]) == pytest.approx(metrics["validation"]["accuracy"], abs=1e-4)
    assert f"run folder: {out}" in stdout
    # the progress bar: epochs, loss and accuracy, on stderr
    assert "150/150" in stderr and "loss=" in stderr and "acc=" in stderr and "val_acc=" in stderr
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 150 and list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(metrics["validation"]["accuracy"])
    for name in ("loss.png", "decision_boundary.png"):
        w, h = png_size(out / name)
        assert 400 <= w <= 2000 and 300 <= h <= 2000
    net = nlayer.load(out / "model.safetensors")
    assert net.sizes == [2, 100, 100, 3] and net.classes == [0, 1, 2] and net.input_mean is not None


def test_trained_model_reloads_to_bit_identical_predictions_and_matches_its_metrics(tmp_path):
    args = cli.build_parser().parse_args(["train", "--out", str(tmp_path / "r"), "--epochs", "20", "--quiet"])
    out, _ = prepare_out_dir(args.out, args.force)
    job = build_job(args, out)
    run_job(job)
    write_run(job)
    loaded = nlayer.load(out / "model.safetensors")
    X, _ = nlayer.datasets.spiral(dtype="float64")
    np.testing.assert_array_equal(loaded.predict_proba(X), job.net.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), job.net.predict(X))
    # standardisation statistics come from the training split only
    np.testing.assert_allclose(loaded.input_mean, X[job.train_rows].mean(axis=0), rtol=1e-5)
    assert not np.allclose(loaded.input_mean, X.mean(axis=0), rtol=1e-5, atol=0)
    metrics = json.loads((out / "metrics.json").read_text())
    _, y = nlayer.datasets.spiral()
    val_acc = float(np.mean(loaded.predict(X[job.val_rows]) == y[job.val_rows]))
    assert metrics["validation"]["accuracy"] == pytest.approx(val_acc)
    assert set(np.bincount(y[job.val_rows])) == {20}          # stratified: 20 of each class


def test_quiet_silences_the_progress_bar_and_notes(tmp_path, capsys):
    rc, stdout, stderr = run_cli(capsys, "train", "--out", tmp_path / "q", "--epochs", "3", "--quiet")
    assert rc == 0 and stderr == ""
    assert "task:" not in stdout and "validation" in stdout


def test_existing_folder_is_refused_without_force_and_reused_with_it(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    rc, stdout, stderr = run_cli(capsys, "train", "--out", out, "--epochs", "2", "--quiet")
    assert_one_line_error(rc, stderr, str(out), "--force")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"] and stdout == ""
    rc, _, _ = run_cli(capsys, "train", "--out", out, "--epochs", "2", "--quiet", "--force")
    assert rc == 0 and (out / "model.safetensors").is_file() and (out / "keep.txt").read_text() == "precious"


def test_force_removes_the_previous_runs_own_files_and_keeps_the_rest(flowers, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", "--out", out, "--epochs", "4", "--layers", "8", "--checkpoint-every", "2",
                   "--quiet")[0] == 0                     # the spiral: with decision_boundary.png and a checkpoint
    (out / "notes.txt").write_text("mine")
    (out / "plots").mkdir()
    rc, _, _ = run_cli(capsys, "train", "--data", flowers, "--out", out, "--epochs", "2", "--layers", "8",
                       "--quiet", "--force")
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "loss.png", "metrics.json",
                                                     "model.safetensors", "notes.txt", "plots"]
    rc, _, stderr = run_cli(capsys, "train", "--resume", out)      # nothing of the spiral run to resume
    assert_one_line_error(rc, stderr, "only a run trained with --checkpoint-every can be resumed")
    rc, _, stderr = run_cli(capsys, "train", "--data", tmp_path / "missing.csv", "--out", out, "--force")
    assert_one_line_error(rc, stderr, "missing.csv")
    assert (out / "model.safetensors").is_file()          # a run that cannot start removes nothing


def test_every_file_a_run_writes_is_one_force_knows(tmp_path, capsys):
    from nlayer.cli.train import RUN_FILES

    out = tmp_path / "run"
    assert run_cli(capsys, "train", "--out", out, "--epochs", "2", "--layers", "8", "--checkpoint-every", "1",
                   "--quiet")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)


DIVERGING = ["--layers", "100", "--activation", "tanh", "--optimizer", "sgd", "--lr", "1e6", "--l2", "1e-3",
             "--batch-size", "0", "--epochs", "20", "--quiet"]


@pytest.mark.parametrize("extra", [[], ["--checkpoint-every", "50"]], ids=["plain", "before-first-checkpoint"])
def test_a_run_diverging_before_any_checkpoint_leaves_no_folder(tmp_path, capsys, extra):
    out = tmp_path / "run"
    rc, _, stderr = run_cli(capsys, "train", "--out", out, *DIVERGING, *extra)
    assert_one_line_error(rc, stderr, "training diverged in epoch")
    assert not out.exists()
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    rc, _, _ = run_cli(capsys, "train", "--out", out, "--force", *DIVERGING, *extra)
    assert rc == 1 and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_full_disk_names_the_file_and_leaves_no_half_written_folder(tmp_path, capsys, monkeypatch):
    import errno

    from nlayer import _atomic

    def disk_full(tmp, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic, "_before_replace", disk_full)
    out = tmp_path / "run"
    rc, stdout, stderr = run_cli(capsys, "train", "--out", out, "--epochs", "2", "--layers", "8", "--quiet")
    assert_one_line_error(rc, stderr, f"No space left on device: {out / 'model.safetensors'}")
    assert not out.exists() and stdout == ""


def test_unwritable_run_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(nlayer.Network, "fit", lambda *a, **k: pytest.fail("training started"))
    rc, stdout, stderr = run_cli(capsys, "train", "--out", blocker / "run")
    assert_one_line_error(rc, stderr, "cannot write to the run folder", str(blocker / "run"))


def test_interrupt_exits_130_with_one_line_and_leaves_no_empty_run_folder(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nlayer.Network, "fit", interrupted)
    rc, _, stderr = run_cli(capsys, "train", "--out", tmp_path / "run", "--quiet")
    assert rc == 130 and stderr.strip() == "nlayer: interrupted"
    assert not (tmp_path / "run").exists()


def test_string_labels_train_predict_and_evaluate_round_trip(flowers, flowers_run, capsys, tmp_path):
    metrics = json.loads((flowers_run / "metrics.json").read_text())
    assert metrics["classes"] == ["setosa", "versicolor", "virginica"] and metrics["target"] == "species"
    assert not (flowers_run / "decision_boundary.png").exists()          # 4 inputs: no 2-D picture
    model = flowers_run / "model.safetensors"
    net = nlayer.load(model)
    table = nlayer.data.load_table(flowers)
    rc, stdout, _ = run_cli(capsys, "predict", model, flowers)
    rows = read_csv(stdout)
    assert rc == 0 and rows[0] == ["prediction"] and len(rows) == 121
    assert [r[0] for r in rows[1:]] == list(net.predict(table.X))
    # the same file without its target column, and --proba, and --out
    features_only = tmp_path / "features.csv"
    features_only.write_text("\n".join(",".join(line.split(",")[:4]) for line in flowers.read_text().splitlines()))
    rc, _, _ = run_cli(capsys, "predict", model, features_only, "--proba", "--out", tmp_path / "p.csv")
    rows = read_csv((tmp_path / "p.csv").read_text())
    assert rows[0] == ["prediction", "proba_setosa", "proba_versicolor", "proba_virginica"]
    P = np.array([[float(v) for v in r[1:]] for r in rows[1:]], dtype=np.float32)
    np.testing.assert_array_equal(P, net.predict_proba(table.X))
    assert [r[0] for r in rows[1:]] == list(net.predict(table.X))
    rc, stdout, _ = run_cli(capsys, "evaluate", model, flowers)
    assert rc == 0 and "accuracy" in stdout and "confusion matrix" in stdout
    acc = float(np.mean(net.predict(table.X) == table.y))
    assert f"{acc:.4f}" in stdout
    matrix = stdout[stdout.index("confusion"):].splitlines()[2:]
    counts = np.array([[int(v) for v in line.split()[1:]] for line in matrix])
    assert counts.shape == (3, 3) and counts.sum() == 120 and np.trace(counts) == round(acc * 120)


def test_predict_out_writes_through_a_symlink_and_dash_is_stdout(flowers, flowers_run, capsys, tmp_path):
    model = flowers_run / "model.safetensors"
    rc, expected, _ = run_cli(capsys, "predict", model, flowers)
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    link.symlink_to(real.name)
    rc, stdout, stderr = run_cli(capsys, "predict", model, flowers, "--out", link)
    assert rc == 0 and stdout == stderr == ""
    assert link.is_symlink() and real.read_text() == expected
    rc, stdout, _ = run_cli(capsys, "predict", model, flowers, "--out", "-")
    assert rc == 0 and stdout == expected and not (Path.cwd() / "-").exists()


def test_predict_out_refuses_a_fifo_a_folder_or_a_link_to_one_and_leaves_it(flowers, flowers_run, capsys, tmp_path):
    fifo, folder, link = tmp_path / "fifo", tmp_path / "folder", tmp_path / "stdout"
    os.mkfifo(fifo)
    folder.mkdir()
    link.symlink_to(fifo)                    # like /dev/stdout or /proc/self/fd/1 on a pipe
    for path, says in ((fifo, "is a FIFO, not a regular file"), (folder, "Is a directory"),
                       (link, "is a FIFO, not a regular file")):
        rc, stdout, stderr = run_cli(capsys, "predict", flowers_run / "model.safetensors", flowers, "--out", path)
        assert_one_line_error(rc, stderr, str(path), says)
        assert stdout == ""
    assert fifo.is_fifo() and link.is_symlink() and folder.is_dir() and list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "stdout"]


def test_regression_is_inferred_and_scored_with_mse_mae_r2(plane, tmp_path, capsys):
    out = tmp_path / "reg"
    rc, stdout, _ = run_cli(capsys, "train", "--data", plane, "--out", out, "--epochs", "80", "--layers", "32")
    assert rc == 0 and "task: regress (inferred" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["output"] == "identity" and metrics["validation"]["r2"] > 0.95
    assert png_size(out / "decision_boundary.png")[0] > 300
    net = nlayer.load(out / "model.safetensors")
    table = nlayer.data.load_table(plane)
    rc, stdout, _ = run_cli(capsys, "predict", out / "model.safetensors", plane)
    values = np.array([float(r[0]) for r in read_csv(stdout)[1:]], dtype=np.float64)   # float64: y's own units
    np.testing.assert_array_equal(values, net.predict(table.X))
    rc, stdout, _ = run_cli(capsys, "evaluate", out / "model.safetensors", plane)
    header, row = stdout.splitlines()[1:3]
    assert header.split() == ["loss", "mse", "mae", "r2"]
    err = net.predict(table.X).astype(np.float64) - table.y
    assert float(row.split()[2]) == pytest.approx(np.mean(err**2), abs=1e-4)
    rc, _, stderr = run_cli(capsys, "predict", out / "model.safetensors", plane, "--proba")
    assert_one_line_error(rc, stderr, "--proba", "regression")


def test_npz_data_and_training_option_families(tmp_path, capsys):
    X, y = nlayer.datasets.spiral(n_per_class=40, dtype="float64")
    np.savez(tmp_path / "s.npz", X=X, y=y)
    out = tmp_path / "npz"
    rc, _, stderr = run_cli(capsys, "train", "--data", tmp_path / "s.npz", "--out", out, "--quiet", "--layers", "8,6",
                        "--activation", "tanh", "--optimizer", "momentum", "--lr", "0.05", "--l2", "0",
                        "--batch-size", "0", "--epochs", "40", "--early-stopping", "2", "--val-fraction", "0.25",
                        "--seed", "3", "--dtype", "float64")
    assert rc == 0, stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["sizes"] == [2, 8, 6, 3] and m["activation"] == "tanh" and m["optimizer"] == "momentum"
    assert m["batch_size"] is None and m["n_validation"] == 30 and m["seed"] == 3
    net = nlayer.load(out / "model.safetensors")
    assert net.dtype == np.float64 and net.activation == "tanh"
    with open(out / "history.csv") as f:
        lrs = {row["lr"] for row in csv.DictReader(f)}
    assert lrs == {"0.05"}
    assert m["stopped_early"] and m["epochs_run"] == m["best_epoch"] + 2 < 40   # patience 2, 1-based epochs


def test_sigmoid_output_for_two_classes_and_no_validation(tmp_path, capsys):
    X, y = nlayer.datasets.spiral(n_per_class=50, n_classes=2, dtype="float64")
    np.savez(tmp_path / "two.npz", X=X, y=y)
    out = tmp_path / "sig"
    rc, stdout, _ = run_cli(capsys, "train", "--data", tmp_path / "two.npz", "--output", "sigmoid", "--out", out,
                        "--val-fraction", "0", "--epochs", "30", "--quiet")
    assert rc == 0 and "validation" not in stdout
    net = nlayer.load(out / "model.safetensors")
    assert net.sizes[-1] == 1 and net.output.name == "sigmoid"
    rc, stdout, _ = run_cli(capsys, "predict", out / "model.safetensors", tmp_path / "two.npz")
    preds = [int(r[0]) for r in read_csv(stdout)[1:]]
    assert preds == [int(v) for v in net.predict(X)]


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
def test_each_optimizer_trains_from_the_cli(optimizer, tmp_path, capsys):
    rc, _, _ = run_cli(capsys, "train", "--optimizer", optimizer, "--lr", "0.1", "--epochs", "5", "--quiet",
                   "--out", tmp_path / "o")
    assert rc == 0 and json.loads((tmp_path / "o" / "metrics.json").read_text())["optimizer"] == optimizer


# ------------------------------------------------------------------ gradcheck, explain
def test_gradcheck_prints_every_parameter_and_fails_above_the_threshold(capsys):
    rc, stdout, _ = run_cli(capsys, "gradcheck", "--activation", "tanh")
    assert rc == 0 and "passed" in stdout
    names = [line.split()[0] for line in stdout.splitlines()[2:6]]
    assert names == ["W1", "b1", "W2", "b2"]
    assert all(float(line.split()[-2]) < 1e-6 for line in stdout.splitlines()[2:6])
    rc, stdout, stderr = run_cli(capsys, "gradcheck", "--layers", "3,5,2", "--output", "identity",
                                 "--threshold", "1e-300")
    assert_one_line_error(rc, stderr, "gradient check failed", "threshold")
    assert "W1" in stdout and "b2" in stdout


def test_explain_prints_the_lecture_equations_with_shapes(capsys):
    rc, stdout, _ = run_cli(capsys, "explain")
    lines = [" ".join(line.split()) for line in stdout.splitlines()]
    assert rc == 0
    assert "dW2 = A1^T dZ2 (4, 300) @ (300, 3) -> (4, 3)" in lines
    assert "dW1 = X^T dZ1 (2, 300) @ (300, 4) -> (2, 4)" in lines
    assert "dZ2 = (A2 - Y) / m (300, 3) - (300, 3) -> (300, 3)" in lines
    assert not any(line.startswith("dA0") for line in lines)


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv, fragments", [
    (["train", "--layers", "10,x"], ["--layers", "10,x"]),
    (["train", "--optimizer", "rmsprop"], ["--optimizer", "rmsprop", "adam"]),
    (["train", "--data", "missing.csv"], ["missing.csv"]),
    (["train", "--target", "y"], ["--target", "spiral"]),
    (["train", "--val-fraction", "1.5"], ["--val-fraction"]),
    (["train", "--lr", "-1"], ["lr"]),
    (["train", "--batch-size", "-4"], ["--batch-size"]),
    (["train", "--output", "identity"], ["identity", "regression"]),
    (["predict", "no-such-model.safetensors", "spiral"], ["no-such-model.safetensors"]),
    (["explain", "--layers", "2"], ["sizes"]),
    (["gradcheck", "--batch", "0"], ["--batch"]),
    (["frobnicate"], ["frobnicate"]),
])
def test_bad_input_is_one_line_on_stderr_with_exit_1(argv, fragments, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, stderr = run_cli(capsys, *argv)
    assert_one_line_error(rc, stderr, *fragments)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_regression_target_with_task_classify_is_refused(plane, tmp_path, capsys):
    rc, _, stderr = run_cli(capsys, "train", "--data", plane, "--task", "classify", "--out", tmp_path / "r")
    assert_one_line_error(rc, stderr, "regress")
    assert not (tmp_path / "r").exists()


def test_a_corrupt_model_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x80\x04not a model at all")
    for command in ("predict", "evaluate"):
        rc, stdout, stderr = run_cli(capsys, command, bad, "spiral")
        assert_one_line_error(rc, stderr, str(bad))
        assert stdout == ""


def test_evaluate_names_a_label_the_model_never_saw(flowers, flowers_run, tmp_path, capsys):
    odd = tmp_path / "odd.csv"
    lines = flowers.read_text().splitlines()
    odd.write_text("\n".join([*lines[:3], lines[3].rsplit(",", 1)[0] + ",rose"]) + "\n")
    rc, _, stderr = run_cli(capsys, "evaluate", flowers_run / "model.safetensors", odd)
    assert_one_line_error(rc, stderr, "'rose'", "line 4")


def test_an_unknown_label_is_named_by_the_line_an_editor_shows(flowers, flowers_run, tmp_path, capsys):
    lines = flowers.read_text().splitlines()
    gappy = tmp_path / "gappy.csv"                  # header, blank, row, 2 blank, row, bad row: line 7
    gappy.write_text("\n".join([lines[0], "", lines[1], "", "", lines[2], lines[3].rsplit(",", 1)[0] + ",rose"]))
    rc, _, stderr = run_cli(capsys, "evaluate", flowers_run / "model.safetensors", gappy)
    assert_one_line_error(rc, stderr, f"{gappy}, line 7, column 'species': label 'rose', which the model never saw; "
                                      "its classes are ['setosa', 'versicolor', 'virginica']")
    table = nlayer.data.load_table(flowers)
    npz = tmp_path / "odd.npz"
    np.savez(npz, X=table.X[:3], y=np.array(["setosa", "virginica", "rose"]))
    rc, _, stderr = run_cli(capsys, "evaluate", flowers_run / "model.safetensors", npz)
    assert_one_line_error(rc, stderr, f"{npz}: y[2] is 'rose', a label which the model never saw")


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "gradcheck", "explain"])
def test_every_command_has_help_with_an_example(command, capsys):
    rc, stdout, _ = run_cli(capsys, command, "--help")
    assert rc == 0 and "example:" in stdout and f"nlayer {command}" in stdout


# ---------------------------------------------------------------- as a subprocess
def test_python_dash_m_nlayer_runs_every_command(tmp_path, flowers):
    r = run_sub("train", "--data", flowers, "--layers", "8", "--epochs", "5", "--out", tmp_path / "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "validation" in r.stdout and "5/5" in r.stderr
    model = tmp_path / "run" / "model.safetensors"
    net = nlayer.load(model)
    r = run_sub("predict", model, flowers, cwd=tmp_path)
    assert r.returncode == 0
    assert [row[0] for row in read_csv(r.stdout)[1:]] == list(net.predict(nlayer.data.load_table(flowers).X))
    r = run_sub("evaluate", model, flowers, cwd=tmp_path)
    assert r.returncode == 0 and "confusion matrix" in r.stdout
    r = run_sub("gradcheck", cwd=tmp_path)
    assert r.returncode == 0 and "passed" in r.stdout
    r = run_sub("explain", "--layers", "2,4,3", cwd=tmp_path)
    assert r.returncode == 0 and "dW2 = A1^T dZ2" in r.stdout
    r = run_sub("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"nlayer {nlayer.__version__}"
    r = run_sub("evaluate", model, tmp_path / "nope.csv", cwd=tmp_path)
    assert_one_line_error(r.returncode, r.stderr, "nope.csv")
    assert r.stdout == ""


# ------------------------------------------------- QA: labels, messages, numbers
def labelled_csv(path: Path, labels: list[str], rows: int = 60) -> Path:
    """2 features, class c around (c, 0), the labels given cycling over the rows."""
    rng = np.random.default_rng(3)
    lines = ["a,b,label"] + [f"{i % len(labels) + rng.normal() * 0.3:.3f},{rng.normal():.3f},{labels[i % len(labels)]}"
                             for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("labels", [["9007199254740992", "9007199254740993", "5"],
                                    ["10000000000000000001", "10000000000000000002", "3"],
                                    ["007", "010", "7"]])
def test_whole_number_labels_come_back_exactly_as_written(labels, tmp_path, capsys):
    data = labelled_csv(tmp_path / "ids.csv", labels)
    rc, stdout, stderr = run_cli(capsys, "train", "--data", data, "--epochs", "30", "--layers", "16",
                                 "--out", tmp_path / "r")
    assert rc == 0 and stderr.count("warning") == 0 and "3 classes" in stdout
    rc, stdout, _ = run_cli(capsys, "predict", tmp_path / "r" / "model.safetensors", data)
    predicted = {row[0] for row in read_csv(stdout)[1:]}
    assert rc == 0 and predicted <= set(labels) and len(predicted) >= 2
    rc, stdout, _ = run_cli(capsys, "evaluate", tmp_path / "r" / "model.safetensors", data)
    assert rc == 0 and all(label in stdout.split() for label in labels)


def test_predict_names_the_bad_feature_cell_not_the_text_target(flowers, flowers_run, tmp_path, capsys):
    header, first, second = flowers.read_text().splitlines()[:3]
    cells = second.split(",")
    cells[1] = ""                                                   # petal_wid of line 3
    gap = tmp_path / "gap.csv"
    gap.write_text("\n".join([header, first, ",".join(cells)]) + "\n")
    rc, _, stderr = run_cli(capsys, "predict", flowers_run / "model.safetensors", gap)
    assert_one_line_error(rc, stderr, "gap.csv, line 3, column 'petal_wid': empty field")
    short = tmp_path / "short.csv"
    short.write_text("\n".join(",".join(line.split(",")[1:]) for line in (header, first)) + "\n")
    for command in ("predict", "evaluate"):
        rc, _, stderr = run_cli(capsys, command, flowers_run / "model.safetensors", short)
        assert_one_line_error(rc, stderr, "short.csv", "3 feature column", "'species'", "expects 4")


def test_a_feature_too_large_to_standardise_is_refused_before_training(tmp_path, capsys):
    data = tmp_path / "big.csv"
    data.write_text("a,b,y\n1,3e38,x\n2,-3e38,y\n3,4,x\n4,5,y\n5,6,x\n6,7,y\n")
    rc, stdout, stderr = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "r", "--val-fraction", "0")
    assert_one_line_error(rc, stderr, "big.csv, column 'b'", "3e+38", "float32", "--dtype float64")
    assert "train:" not in stderr and not (tmp_path / "r").exists()
    rc, _, stderr = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "r", "--val-fraction", "0",
                            "--dtype", "float64", "--epochs", "2", "--quiet")
    assert rc == 0 and stderr == ""


def test_features_of_1e30_train_in_float32(tmp_path, capsys):
    data = tmp_path / "astro.csv"                   # statistics in float64: once refused from about 1e19 on
    data.write_text("a,b,y\n" + "".join(f"{i},{(-1) ** i * 1e30 * (1 + i)},{'xy'[i % 2]}\n" for i in range(12)))
    rc, _, stderr = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "r", "--val-fraction", "0",
                            "--epochs", "2", "--quiet")
    assert rc == 0 and stderr == ""
    net = nlayer.load(tmp_path / "r" / "model.safetensors")
    assert net.dtype == np.float32 and np.all(np.isfinite(net.input_scale)) and net.input_scale[1] > 1e30


def test_task_errors_name_the_file_and_the_real_column(flowers, tmp_path, capsys):
    one = tmp_path / "oneclass.csv"
    one.write_text("a,b,y\n1,2,x\n2,3,x\n3,4,x\n")
    rc, _, stderr = run_cli(capsys, "train", "--data", one, "--out", tmp_path / "r")
    assert_one_line_error(rc, stderr, f"{one}, column 'y': every row has the same class ('x')")
    rc, _, stderr = run_cli(capsys, "train", "--data", flowers, "--task", "regress", "--out", tmp_path / "r")
    assert_one_line_error(rc, stderr, f"{flowers}, column 'species' holds text labels")


def test_results_table_keeps_large_numbers_apart():
    from nlayer.cli.report import table

    text = table({"train": {"loss": 172268761.6000, "mse": 344537527.575, "mae": 14510.8749, "r2": 0.8177},
                  "validation": {"loss": 1e200, "mse": 3.2e-5, "mae": 0.0, "r2": float("nan")}})
    header, train, validation = text.splitlines()
    assert train.split() == ["train", "1.7227e+08", "3.4454e+08", "14510.8749", "0.8177"]
    assert validation.split() == ["validation", "1.0000e+200", "3.2000e-05", "0.0000", "nan"]
    assert len({len(header), len(train), len(validation)}) == 1      # columns aligned


def test_metrics_json_is_strict_json_with_null_for_an_undefined_score(tmp_path, capsys):
    data = tmp_path / "flat.csv"
    data.write_text("a,y\n" + "".join(f"{i},1.5\n" for i in range(20)))     # constant targets: r2 undefined
    rc, stdout, _ = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "r", "--epochs", "3", "--quiet")
    assert rc == 0 and "nan" in stdout

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in metrics.json")

    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text(), parse_constant=refuse)
    assert metrics["validation"]["r2"] is None and metrics["train"]["r2"] is None


def test_npz_target_is_used_or_refused_never_ignored(tmp_path, capsys):
    X, y = nlayer.datasets.spiral(n_per_class=20, dtype="float64")
    data = tmp_path / "d.npz"
    np.savez(data, X=X, kind=np.array(["abc"[k] for k in y]), y=np.zeros(len(y)))
    rc, stdout, _ = run_cli(capsys, "train", "--data", data, "--target", "kind", "--epochs", "3",
                            "--out", tmp_path / "r")
    assert rc == 0 and "target 'kind', 3 classes: a, b, c" in stdout
    for command in ("train", "evaluate", "predict"):
        extra = ["--data", data] if command == "train" else [tmp_path / "r" / "model.safetensors", data]
        rc, _, stderr = run_cli(capsys, command, *extra, "--target", "label")
        assert_one_line_error(rc, stderr, "no array named 'label'", "['X', 'kind', 'y']")


def test_predict_checks_the_npz_column_count_before_reading_the_data(flowers_run, tmp_path, capsys):
    data = tmp_path / "wide.npz"
    np.savez_compressed(data, X=np.zeros((200_000, 10)))                # 16 MB of data in a small file
    rc, _, stderr = run_cli(capsys, "predict", flowers_run / "model.safetensors", data)
    assert_one_line_error(rc, stderr, "wide.npz: X has 10 column(s); the model expects 4 feature columns")
