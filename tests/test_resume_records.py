"""`nlayer train --resume RUN_DIR` on a hand-edited RUN_DIR/train_args.json: every stored
value is checked against what its option could have produced (type and choices taken from
the parser itself) and against the options' ranges, and refused in one line naming the file,
the key, the value and the fix; a record nlayer wrote resumes as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nlayer.cli.options import stored_value, train_actions

from .conftest import checkpointed_run, run_cli

FIX = "fix it in that file, or delete the run folder and train again"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A run folder of 2 spiral epochs, checkpointed every epoch (trained once per module)."""
    return checkpointed_run(tmp_path_factory.mktemp("record"), epochs=2, every=1)


@pytest.fixture
def run(finished_run, tmp_path) -> Path:
    """A copy of the finished run, free to edit."""
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def edit(run: Path, **changes: object) -> dict:
    """Rewrite RUN/train_args.json with ``changes``; returns the record as it was."""
    path = run / "train_args.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, **changes}))
    return record


def files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in run.iterdir() if p.name != "train_args.json"}


def refused(capsys, run: Path) -> str:
    """The one-line error of ``--resume RUN``, after checking the run folder was left alone."""
    before = files(run)
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--quiet")
    assert code == 1 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"nlayer: error: {run / 'train_args.json'}") and "internal error" not in err, err
    assert files(run) == before
    return err


def test_a_record_nlayer_wrote_resumes(run, capsys):
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--quiet")
    assert code == 0 and err == "" and "trained 1 epochs (3 in all)" in out


@pytest.mark.parametrize(("key", "value", "named"), [
    ("epochs", "ten", '"epochs" is "ten", but --epochs takes a whole number'),
    ("lr", [1], '"lr" is [1], but --lr takes a number'),
    ("layers", 5, '"layers" is 5, but --layers takes a list of whole numbers >= 1 like [100, 100]'),
    ("layers", ["16"], '"layers" is ["16"], but --layers takes a list'),
    ("layers", [0], '"layers" is [0], but --layers takes a list'),
    ("seed", 1.5, '"seed" is 1.5, but --seed takes a whole number'),
    ("seed", True, '"seed" is true, but --seed takes a whole number'),
    ("batch_size", None, '"batch_size" is null, but --batch-size takes a whole number'),
    ("data", 3, '"data" is 3, but --data takes a string'),
    ("dtype", "float16", '"dtype" is "float16", but --dtype takes one of "float32", "float64"'),
    ("activation", "ReLU", '"activation" is "ReLU", but --activation takes one of "relu"'),
    ("task", "cluster", '"task" is "cluster", but --task takes one of "classify", "regress" or null'),
    ("quiet", "true", '"quiet" is "true", but --quiet takes true or false'),
    ("early_stopping", 2.0, '"early_stopping" is 2.0, but --early-stopping takes a whole number or null'),
    ("checkpoint_every", "1", '"checkpoint_every" is "1", but --checkpoint-every takes a whole number;'),
])
def test_a_value_of_the_wrong_type_is_refused_naming_file_key_value_and_fix(run, capsys, key, value, named):
    edit(run, **{key: value})
    err = refused(capsys, run)
    assert named in err and err.rstrip().endswith(FIX)


def test_every_option_of_the_parser_is_checked(run, capsys):
    """The expectations come from the parser, so an option added later is covered too."""
    original = edit(run)
    for key in train_actions():
        (run / "train_args.json").write_text(json.dumps({**original, key: {"not": "an option value"}}))
        err = refused(capsys, run)
        assert f'"{key}" is {{"not": "an option value"}}, but --' in err and FIX in err


@pytest.mark.parametrize(("key", "value", "named"), [
    ("epochs", 0, "--epochs must be a whole number >= 1; got 0"),
    ("lr", float("nan"), "--lr must be a positive finite number; got nan"),
    ("val_fraction", 1.5, "--val-fraction must be in [0, 1); got 1.5"),
    ("layers", [1] * 1000, "--layers must be at most 999 hidden widths"),
    ("early_stopping", 3, "--early-stopping cannot be combined with --checkpoint-every"),
])
def test_a_value_out_of_range_is_refused_naming_the_file(run, capsys, key, value, named):
    edit(run, **{key: value})
    err = refused(capsys, run)
    assert named in err and FIX in err


def test_an_unknown_key_is_named(run, capsys):
    edit(run, hidden=[5])
    assert 'not an nlayer train record: unknown key(s) "hidden"' in refused(capsys, run)


@pytest.mark.parametrize("text", ["[]", '"run"', "null"])
def test_a_record_that_is_not_an_object_is_refused(run, capsys, text):
    (run / "train_args.json").write_text(text)
    assert "is not an nlayer train record (a JSON object of options)" in refused(capsys, run)


def test_deeply_nested_json_is_one_line_not_a_recursion_error(run, capsys):
    (run / "train_args.json").write_text('{"lr": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, _, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--quiet")
    assert code == 1 and "cannot read train_args.json" in err and len(err.splitlines()) == 1
    edit_nested = {"lr": json.loads("[" * 500 + "]" * 500)}
    (run / "train_args.json").write_text(json.dumps(edit_nested))
    assert '"lr" is [[[[' in refused(capsys, run)


@pytest.mark.parametrize(("dest", "value", "held"), [
    ("lr", 1, 1.0),                     # a JSON whole number for a float option: what --lr 1 holds
    ("lr", 0.003, 0.003),
    ("layers", [16, 8], [16, 8]),
    ("target", None, None),             # the default, though --target never parses to null
    ("task", "regress", "regress"),
    ("quiet", True, True),
    ("quiet", False, False),
])
def test_stored_value_accepts_what_the_option_could_hold(dest, value, held):
    got = stored_value(train_actions()[dest], value)
    assert got == held and type(got) is type(held)


@pytest.mark.parametrize(("dest", "value"), [
    ("epochs", 10.0), ("epochs", "10"), ("quiet", 1), ("lr", True), ("layers", "16"), ("target", 0),
    ("optimizer", None), ("layers", [[16]]),
])
def test_stored_value_refuses_what_the_option_could_not_hold(dest, value):
    with pytest.raises(ValueError, match=" takes "):
        stored_value(train_actions()[dest], value)
