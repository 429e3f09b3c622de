"""The command line on files it must not overwrite (predict --out MODEL or DATA, --data inside
--out), rows still to be labelled, whitespace-only lines, empty --layers entries, a resume
that names the run's default target or task, and the wording of a few refusals: each bad
input is one line on stderr naming the problem and the fix, exit status 1, nothing lost."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from nlayer import cli

from .conftest import run_cli, write_file


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 1 and out == "" and len(err.splitlines()) == 1, (out, err)
    assert err.startswith("nlayer: error: ") and "internal error" not in err and "Traceback" not in err, err
    return err


def base_csv() -> str:
    """60 rows of ``a,b,label``: numeric a, b and a label in {no, yes}."""
    rng = np.random.default_rng(0)
    rows = [f"{a:.4f},{b:.4f},{'yes' if a + b > 0 else 'no'}" for a, b in rng.standard_normal((60, 2))]
    return "a,b,label\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """base.csv and run_base (3 epochs) beside it, trained once per module."""
    folder = tmp_path_factory.mktemp("qa9")
    write_file(folder, base_csv(), "base.csv")
    assert cli.main(["train", "--data", str(folder / "base.csv"), "--layers", "8", "--epochs", "3",
                     "--out", str(folder / "run_base"), "--quiet"]) == 0
    return folder


@pytest.fixture
def work(trained, tmp_path) -> Path:
    """A copy of base.csv and of the model, free to overwrite."""
    shutil.copy(trained / "base.csv", tmp_path / "base.csv")
    shutil.copy(trained / "run_base" / "model.safetensors", tmp_path / "model.safetensors")
    return tmp_path


# ------------------------------------------------------------------ 1. predict --out MODEL or DATA
@pytest.mark.parametrize("which", ["model.safetensors", "base.csv"])
def test_predict_refuses_an_out_that_is_the_model_or_the_data_and_writes_nothing(work, capsys, which):
    before = {name: (work / name).read_bytes() for name in ("model.safetensors", "base.csv")}
    err = one_line_error(*run_cli(capsys, "predict", work / "model.safetensors", work / "base.csv",
                                  "--out", work / which))
    assert f"--out {work / which} is the" in err and "choose another file name" in err
    assert {name: (work / name).read_bytes() for name in before} == before


def test_predict_refuses_an_out_that_links_to_the_data(work, capsys):
    os.symlink(work / "base.csv", work / "link.csv")
    before = (work / "base.csv").read_bytes()
    err = one_line_error(*run_cli(capsys, "predict", work / "model.safetensors", work / "base.csv",
                                  "--out", work / "link.csv"))
    assert "is the DATA file" in err and (work / "base.csv").read_bytes() == before


def test_predict_out_to_another_file_still_writes_it(work, capsys):
    code, out, err = run_cli(capsys, "predict", work / "model.safetensors", work / "base.csv",
                             "--out", work / "pred.csv")
    assert code == 0 and out == "" and err == ""
    assert (work / "pred.csv").read_text().splitlines()[0] == "prediction"


# ------------------------------------------------------------------ 2. --data among the run files of --out
@pytest.mark.parametrize("name", ["history.csv", "metrics.json", "train_args.json"])
def test_train_force_refuses_data_that_is_a_run_file_of_out_before_touching_anything(work, capsys, name):
    (work / "dl").mkdir()
    data = work / "dl" / name
    shutil.copy(work / "base.csv", data)
    before = data.read_bytes()
    err = one_line_error(*run_cli(capsys, "train", "--data", data, "--epochs", "2", "--out", work / "dl",
                                  "--force", "--quiet"))
    assert f"is the run file {name} in --out" in err and "move or rename the data file" in err
    assert data.read_bytes() == before and sorted(p.name for p in (work / "dl").iterdir()) == [name]


def test_train_refuses_data_linked_to_a_run_file_of_out(work, capsys):
    (work / "dl").mkdir()
    shutil.copy(work / "base.csv", work / "dl" / "history.csv")
    os.symlink(work / "dl" / "history.csv", work / "data.csv")
    one_line_error(*run_cli(capsys, "train", "--data", work / "data.csv", "--out", work / "dl", "--force",
                            "--quiet"))
    assert (work / "dl" / "history.csv").read_bytes() == (work / "base.csv").read_bytes()


def test_train_force_keeps_data_in_out_under_another_name(work, capsys):
    (work / "dl").mkdir()
    shutil.copy(work / "base.csv", work / "dl" / "mydata.csv")
    code, _, err = run_cli(capsys, "train", "--data", work / "dl" / "mydata.csv", "--epochs", "2", "--layers", "4",
                           "--out", work / "dl", "--force", "--quiet")
    assert code == 0 and err == "" and (work / "dl" / "mydata.csv").read_bytes() == (work / "base.csv").read_bytes()


# ------------------------------------------------------------------ 3. predict on rows still to be labelled
def test_predict_reads_no_target_cells_so_empty_ones_are_fine(trained, tmp_path, capsys):
    data = write_file(tmp_path, "a,b,label\n1,2,\n3,4,\n", "nolab.csv")
    model = trained / "run_base" / "model.safetensors"
    for extra in ((), ("--target", "label")):
        code, out, err = run_cli(capsys, "predict", model, data, *extra)
        assert code == 0 and err == "" and len(out.splitlines()) == 3 and out.startswith("prediction\n")


def test_predict_with_a_target_named_first_ignores_its_empty_cells(trained, tmp_path, capsys):
    data = write_file(tmp_path, "label,a,b\n,1,2\n,3,4\n", "nolab.csv")
    code, out, err = run_cli(capsys, "predict", trained / "run_base" / "model.safetensors", data,
                             "--target", "label", "--proba")
    assert code == 0 and err == "" and len(out.splitlines()) == 3


def test_evaluate_still_requires_the_targets(trained, tmp_path, capsys):
    data = write_file(tmp_path, "a,b,label\n1,2,\n3,4,\n", "nolab.csv")
    err = one_line_error(*run_cli(capsys, "evaluate", trained / "run_base" / "model.safetensors", data))
    assert "line 2, column 'label': empty target" in err


# ------------------------------------------------------------------ 4. whitespace-only lines
@pytest.mark.parametrize("text", ["a,b,label\n1,2,no\n   \n3,4,yes\n", "a,b,label\n1,2,no\n3,4,yes\n \t \n",
                                  "a,b,label\n1,2,no\n3,4,yes\n  ", "  \na,b,label\r\n1,2,no\r\n \r\n3,4,yes\r\n"])
def test_whitespace_only_lines_are_skipped_like_blank_ones(trained, tmp_path, capsys, text):
    data = write_file(tmp_path, text)
    code, out, err = run_cli(capsys, "evaluate", trained / "run_base" / "model.safetensors", data)
    assert code == 0 and err == "" and "2 rows, target 'label'" in out


def test_a_later_bad_row_is_still_named_by_its_line_after_a_whitespace_line(trained, tmp_path, capsys):
    data = write_file(tmp_path, "a,b,label\n1,2,no\n   \n3,x,yes\n")
    err = one_line_error(*run_cli(capsys, "evaluate", trained / "run_base" / "model.safetensors", data))
    assert "line 4, column 'b': 'x' is not a number" in err


def test_a_quoted_blank_cell_is_not_a_blank_line(tmp_path, capsys):
    data = write_file(tmp_path, 'a,b,label\n1,2,no\n"  "\n3,4,yes\n')
    err = one_line_error(*run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", "--quiet"))
    assert "line 3: 1 fields but the header has 3" in err


# ------------------------------------------------------------------ 5. empty --layers entries
@pytest.mark.parametrize("layers", ["8,,8", "8,8,", ",8", ","])
@pytest.mark.parametrize("command", ["train", "gradcheck", "explain"])
def test_empty_layer_widths_are_refused_naming_the_value(tmp_path, capsys, layers, command):
    extra = ("--out", tmp_path / "run") if command == "train" else ()
    err = one_line_error(*run_cli(capsys, command, f"--layers={layers}", *extra))
    assert f"argument --layers: expected comma-separated positive whole numbers like 100,100; got {layers!r}" in err
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ 6. resume naming the run's own defaults
@pytest.fixture
def resumable(work, capsys) -> Path:
    code, _, _ = run_cli(capsys, "train", "--data", work / "base.csv", "--layers", "8", "--epochs", "2",
                         "--checkpoint-every", "1", "--out", work / "rr", "--quiet")
    assert code == 0
    return work / "rr"


def test_resume_accepts_the_target_task_and_output_the_run_chose_by_default(resumable, capsys):
    code, out, err = run_cli(capsys, "train", "--resume", resumable, "--target", "label", "--task", "classify",
                             "--output", "softmax", "--epochs", "3", "--quiet")
    assert code == 0 and err == "" and "trained 1 epochs (3 in all)" in out


def test_resume_names_the_default_the_run_used_never_none(resumable, capsys):
    before = (resumable / "checkpoint.safetensors").read_bytes()
    err = one_line_error(*run_cli(capsys, "train", "--resume", resumable, "--target", "b", "--task", "regress",
                                  "--epochs", "3", "--quiet"))
    assert "--target: the run used the default (the last column, 'label'), this command gives 'b'" in err
    assert "--task: the run used the default (inferred from the data, 'classify'), this command gives 'regress'" in err
    assert "None" not in err and (resumable / "checkpoint.safetensors").read_bytes() == before


def test_resume_names_an_option_the_run_left_unset_without_none(resumable, capsys):
    err = one_line_error(*run_cli(capsys, "train", "--resume", resumable, "--early-stopping", "3"))
    assert "--early-stopping: the run used the default (none), this command gives 3" in err and "None" not in err


# ------------------------------------------------------------------ 7. the wording of a few refusals
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_header_only_csv_for_predict_says_nothing_of_training(trained, tmp_path, capsys, command):
    data = write_file(tmp_path, "a,b,label\n")
    err = one_line_error(*run_cli(capsys, command, trained / "run_base" / "model.safetensors", data))
    assert "0 data row(s); at least 1 is needed" in err and "training" not in err


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_csv_separated_otherwise_than_by_commas_gets_a_hint(trained, tmp_path, capsys, sep, name, command):
    data = write_file(tmp_path, f"a{sep}b{sep}label\n1{sep}2{sep}no\n3{sep}4{sep}yes\n")
    argv = (("train", "--data", data, "--out", tmp_path / "run") if command == "train"
            else ("predict", trained / "run_base" / "model.safetensors", data))
    err = one_line_error(*run_cli(capsys, *argv))
    assert f"nlayer reads comma-separated files; this one looks separated by {name}" in err


def test_a_semicolon_row_under_a_comma_header_gets_the_hint_too(tmp_path, capsys):
    data = write_file(tmp_path, "a,b,label\n1;2,3,no\n3,4,yes\n")
    err = one_line_error(*run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run"))
    assert "'1;2' is not a number (nlayer reads comma-separated files" in err


def test_gradcheck_names_the_l2_option(capsys):
    err = one_line_error(*run_cli(capsys, "gradcheck", "--l2", "-1"))
    assert "--l2 must be a finite number >= 0; got -1.0" in err


def test_out_a_broken_symlink_is_named_as_such(tmp_path, capsys):
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    err = one_line_error(*run_cli(capsys, "train", "--out", tmp_path / "dangling", "--epochs", "1", "--quiet"))
    assert "is a broken symbolic link" in err and "File exists" not in err
    assert os.path.islink(tmp_path / "dangling") and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("name", ["loss.png", "model.safetensors", "decision_boundary.png"])
def test_a_folder_in_the_way_of_a_run_file_is_refused_before_training(work, capsys, name):
    out = work / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / name).mkdir()
    err = one_line_error(*run_cli(capsys, "train", "--data", work / "base.csv", "--epochs", "2", "--layers", "4",
                                  "--out", out, "--force", "--quiet"))
    assert f"{out / name} is a folder" in err and "move or remove it" in err
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "notes.txt"])


def test_a_folder_in_the_way_of_the_checkpoint_is_refused_only_when_checkpointing(work, capsys):
    out = work / "run"
    out.mkdir()
    (out / "checkpoint.safetensors").mkdir()
    argv = ("train", "--data", work / "base.csv", "--epochs", "2", "--layers", "4", "--out", out, "--force", "--quiet")
    err = one_line_error(*run_cli(capsys, *argv, "--checkpoint-every", "1"))
    assert "checkpoint.safetensors is a folder" in err and not (out / "model.safetensors").exists()
    code, _, err = run_cli(capsys, *argv)
    assert code == 0 and err == "" and (out / "model.safetensors").is_file()


# ------------------------------------------------------------------ memory before training
def test_a_network_too_large_for_free_memory_is_refused_before_anything_is_created(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("nlayer.cli.options._mem_available", lambda: 64 * 2**20)      # 64 MiB free
    code, out, err = run_cli(capsys, "train", "--layers", "3000,3000", "--epochs", "1", "--out", tmp_path / "x")
    assert code == 1 and "needs about" in err and "GiB" in err and "smaller widths" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "x").exists()


def test_the_memory_estimate_counts_the_optimizers_state():
    from nlayer.cli.options import check_memory
    from nlayer.errors import ConfigError

    sizes = [100, 1000, 10]                            # 111,010 parameters
    room = 6 * 111_010 * 4 + 4 * 32 * 1010 * 4         # sgd needs 5 copies of theta, adam 9
    check_memory(sizes, "sgd", "float32", 32, available=room)
    with pytest.raises(ConfigError, match="adam's state"):
        check_memory(sizes, "adam", "float32", 32, available=room)
    with pytest.raises(ConfigError, match=r"^--data: .*1,000,000 rows of data in float64.*--dtype float32"):
        check_memory(sizes, "sgd", "float64", 32, rows=1_000_000, available=2 * room)
    check_memory(sizes, "adam", "float64", 32)         # this machine's free memory: far more than needed


def test_a_batch_too_large_for_free_memory_names_the_batch_size():
    from nlayer.cli.options import check_memory
    from nlayer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^--batch-size: .*400,000 rows at a time"):
        check_memory([2, 3000, 3000, 2], "adam", "float32", 400_000, available=2**30)


def test_a_value_beyond_an_unscaled_models_dtype_is_named_by_line_and_column(tmp_path, capsys):
    import nlayer

    nlayer.save(nlayer.Network([2, 4, 1], output="identity", seed=0), tmp_path / "m.safetensors")
    data = write_file(tmp_path, "a,b\n0.5,1\n1e39,2\n")
    code, out, err = run_cli(capsys, "predict", tmp_path / "m.safetensors", data)
    assert code == 1 and f"{data}, line 3, column 'a': 1e+39 is beyond float32" in err
