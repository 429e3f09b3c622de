"""The command line on resumed runs whose target moved, hand-edited records, absurd widths,
memory running out, and new data beyond the model's dtype: each refused in one line on
stderr naming the problem and the fix, exit status 1, never "internal error"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from .conftest import checkpointed_run, run_cli, write_file

FIX = "fix it in that file, or delete the run folder and train again"


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 1 and out == "" and len(err.splitlines()) == 1, (out, err)
    assert err.startswith("nlayer: error: ") and "internal error" not in err and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def four_epochs(tmp_path_factory) -> Path:
    """A spiral run of 4 epochs checkpointed every 2 (trained once per module)."""
    return checkpointed_run(tmp_path_factory.mktemp("qa8"), epochs=4, every=2)


@pytest.fixture
def run(four_epochs, tmp_path) -> Path:
    """A copy of the 4-epoch run, free to resume and edit."""
    return Path(shutil.copytree(four_epochs, tmp_path / "run"))


def record(run: Path) -> dict:
    return json.loads((run / "train_args.json").read_text())


# ------------------------------------------------------------------ 1. a resumed run's new target
def test_a_plain_resume_after_resuming_to_more_epochs_finds_nothing_to_do(run, capsys):
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet")
    assert code == 0 and err == "" and "trained 2 epochs (6 in all)" in out
    assert record(run)["epochs"] == 6
    code, out, err = run_cli(capsys, "train", "--resume", run, "--quiet")
    assert code == 0 and err == "" and "trained 0 epochs (6 in all)" in out


def test_a_new_checkpoint_every_is_recorded_for_the_next_resume(run, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--checkpoint-every", "3", "--quiet")
    assert code == 0 and err == ""
    assert record(run)["epochs"] == 6 and record(run)["checkpoint_every"] == 3


def test_a_refused_resume_leaves_the_record_as_it_was(run, capsys):
    before = (run / "train_args.json").read_bytes()
    one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "8", "--lr", "0.5", "--quiet"))
    assert (run / "train_args.json").read_bytes() == before


def test_fewer_epochs_than_the_checkpoint_holds_speaks_of_the_option_typed(run, capsys):
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--quiet"))
    assert "already at epoch 4; --epochs 3 is behind it" in err and "--epochs 4 or more" in err
    assert "epochs=" not in err


def test_a_record_behind_its_checkpoint_says_which_epochs_to_give(run, capsys):
    assert run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet")[0] == 0
    path = run / "train_args.json"
    path.write_text(json.dumps({**record(run), "epochs": 4}))      # as nlayer before this fix left it
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--quiet"))
    assert "already at epoch 6" in err and str(path) in err and "--epochs 6 or more" in err


# ------------------------------------------------------------------ 2. checkpoint_every in a record
@pytest.mark.parametrize("how", ["null", "missing"])
def test_a_record_without_checkpoint_every_names_file_key_and_fix(run, capsys, how):
    saved = record(run)
    if how == "null":
        saved["checkpoint_every"] = None
    else:
        del saved["checkpoint_every"]
    (run / "train_args.json").write_text(json.dumps(saved))
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet"))
    assert err.startswith(f"nlayer: error: {run / 'train_args.json'}: \"checkpoint_every\" is {how}")
    assert "None" not in err and err.rstrip().endswith(FIX)


def test_checkpoint_every_in_a_record_is_not_said_to_take_null(run, capsys):
    (run / "train_args.json").write_text(json.dumps({**record(run), "checkpoint_every": "2"}))
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet"))
    assert "--checkpoint-every takes a whole number" in err and "null" not in err


# ------------------------------------------------------------------ 3. how the record file is read
def test_a_record_saved_with_a_byte_order_mark_resumes(run, capsys):
    path = run / "train_args.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())         # Windows Notepad's UTF-8
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet")
    assert code == 0 and err == "" and "(6 in all)" in out


@pytest.mark.parametrize("text", ["", "{", "{\"epochs\": 4,}"])
def test_a_record_that_is_not_json_says_how_to_fix_it(run, capsys, text):
    (run / "train_args.json").write_text(text)
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet"))
    assert "train_args.json" in err and err.rstrip().endswith(FIX)


def test_an_empty_data_value_in_a_record_is_named(run, capsys):
    (run / "train_args.json").write_text(json.dumps({**record(run), "data": ""}))
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet"))
    assert '"data" is ""' in err and err.rstrip().endswith(FIX)


def test_an_empty_data_option_is_refused_naming_it(tmp_path, capsys):
    err = one_line_error(*run_cli(capsys, "train", "--data", "", "--epochs", "1", "--out", tmp_path / "x"))
    assert "--data" in err and not (tmp_path / "x").exists()


# ------------------------------------------------------------------ 4. widths that cannot fit
@pytest.mark.parametrize("layers", ["100000000000000000000", "100000,100000", "10," + "1" * 300])
def test_absurd_widths_are_refused_before_anything_is_created(tmp_path, capsys, layers):
    err = one_line_error(*run_cli(capsys, "train", "--layers", layers, "--epochs", "1", "--out", tmp_path / "x"))
    assert "--layers" in err and "parameters" in err and "smaller" in err
    assert not (tmp_path / "x").exists()


def test_widths_too_large_with_the_datas_inputs_are_refused_after_loading(tmp_path, capsys):
    columns = ",".join(f"x{j}" for j in range(60))
    rows = "\n".join(",".join(["1"] * 60 + [str(i % 2)]) for i in range(10))
    data = write_file(tmp_path, f"{columns},y\n{rows}\n")
    err = one_line_error(*run_cli(capsys, "train", "--data", data, "--layers", "40000000", "--epochs", "1",
                                  "--out", tmp_path / "x", "--quiet"))
    assert "60 inputs" in err and "smaller" in err and not (tmp_path / "x").exists()


def test_a_record_with_absurd_widths_is_refused_naming_the_file(run, capsys):
    (run / "train_args.json").write_text(json.dumps({**record(run), "layers": [10**20]}))
    err = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "6", "--quiet"))
    assert str(run / "train_args.json") in err and "--layers" in err and err.rstrip().endswith(FIX)


def test_gradcheck_refuses_absurd_widths(capsys):
    err = one_line_error(*run_cli(capsys, "gradcheck", "--layers", "2,100000000000000000000,3"))
    assert "--layers" in err and "parameters" in err


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_running_out_of_memory_is_one_line_with_a_hint(tmp_path, capsys, monkeypatch, four_epochs, command):
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("nlayer.network.Network.__init__" if command == "train" else "nlayer.io.load",
                        out_of_memory)
    argv = (["train", "--epochs", "1", "--out", tmp_path / "x", "--quiet"] if command == "train"
            else [command, four_epochs / "model.safetensors", "spiral"])
    err = one_line_error(*run_cli(capsys, *argv))
    assert "not enough memory" in err
    assert ("--layers" in err) if command == "train" else ("DATA" in err)
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ 5. new data beyond the model's dtype
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_csv_value_beyond_the_models_dtype_is_named_by_line_and_column(four_epochs, tmp_path, capsys, command):
    data = write_file(tmp_path, "a,b,y\n0.1,0.5,0\n\n2,-1e39,1\n3,1e40,1\n")
    err = one_line_error(*run_cli(capsys, command, four_epochs / "model.safetensors", data))
    assert f"{data}, line 4, column 'b': -1e+39 is beyond float32, the model's dtype" in err
    assert "rescale the column as it was in training" in err and "dtype='float64'" not in err


def test_an_npz_value_beyond_the_models_dtype_is_named_by_index(four_epochs, tmp_path, capsys):
    path = tmp_path / "big.npz"
    np.savez(path, X=np.array([[0.1, 0.2], [3.0, 1e40]]), y=np.array([0, 1]))
    for command in ("predict", "evaluate"):
        err = one_line_error(*run_cli(capsys, command, four_epochs / "model.safetensors", path))
        assert f"{path}: X[1, 1]: 1e+40 is beyond float32, the model's dtype" in err


def test_a_value_too_far_out_to_standardise_is_named_by_line_and_column(four_epochs, tmp_path, capsys):
    data = write_file(tmp_path, "a,b\n0.1,0.2\n0.1,3e38\n")     # within float32, not once standardised
    err = one_line_error(*run_cli(capsys, "predict", four_epochs / "model.safetensors", data))
    assert f"{data}, line 3, column 'b': 3e+38 is too far from the training data's mean" in err
    assert "to standardise in float32" in err and "rescale the column as it was in training" in err


def test_large_values_that_standardise_are_predicted(four_epochs, tmp_path, capsys):
    data = write_file(tmp_path, "a,b\n0.1,1e30\n")
    code, out, err = run_cli(capsys, "predict", four_epochs / "model.safetensors", data)
    assert code == 0 and err == "" and out.startswith("prediction\n")
