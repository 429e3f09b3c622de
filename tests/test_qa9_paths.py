"""Less-travelled paths a QA pass found wrong: many-class plots, a restored best epoch in the
summary, multi-label prediction columns, and callbacks that answer with NumPy booleans."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import nlayer
from nlayer.training import History

from .conftest import run_cli


def test_more_than_ten_classes_get_distinct_colours():
    from nlayer.plots import _class_cmap

    for k in (11, 12, 20):
        colours = {tuple(np.round(_class_cmap(k)(c), 3)) for c in range(k)}
        assert len(colours) == k


def test_the_summary_names_the_kept_epoch_when_the_best_weights_were_restored(capsys):
    from nlayer.cli.report import print_summary

    history = History(loss=[1.0, 0.5, 0.6, 0.7], best_epoch=1)
    job = SimpleNamespace(history=history, epochs_text="4 epochs", seconds=0.1, out="run")
    print_summary(job, {"train": {"loss": 0.5}})
    assert "trained 4 epochs in 0.1 s; kept epoch 2, the best" in capsys.readouterr().out
    history.best_epoch = 3                                # the last epoch kept: nothing was restored
    print_summary(job, {"train": {"loss": 0.5}})
    assert "kept" not in capsys.readouterr().out


def test_multi_label_prediction_columns_are_named_like_their_probabilities(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    Y = (X[:, :2] > 0).astype(int)
    net = nlayer.Network([3, 8, 2], output="sigmoid", seed=0)
    net.fit(X, Y, epochs=2)
    nlayer.save(net, tmp_path / "ml.safetensors")
    data = tmp_path / "ml.csv"
    data.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.3f}" for v in row) for row in X) + "\n")
    code, out, err = run_cli(capsys, "predict", tmp_path / "ml.safetensors", data, "--proba")
    assert code == 0 and out.splitlines()[0] == "prediction_0,prediction_1,proba_0,proba_1"
    net.classes = ["sports", "politics"]
    nlayer.save(net, tmp_path / "ml.safetensors")
    code, out, err = run_cli(capsys, "predict", tmp_path / "ml.safetensors", data, "--proba")
    assert out.splitlines()[0] == "prediction_sports,prediction_politics,proba_sports,proba_politics"


def test_a_callback_answering_numpy_false_stops_training():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    history = nlayer.Network([2, 8, 3], seed=0).fit(X, y, epochs=10, callbacks=[lambda e, logs: np.False_])
    assert history.epochs == 1


def test_prices_written_with_dollar_signs_are_named_not_learnt_as_classes(tmp_path, capsys):
    rows = "\n".join(f'{i},{i % 7},"${100000 + 1037 * i:,}.50"' for i in range(60))
    data = tmp_path / "houses.csv"
    data.write_text("area,rooms,price\n" + rows + "\n")
    for task in ([], ["--task", "regress"]):
        code, out, err = run_cli(capsys, "train", "--data", data, *task, "--out", tmp_path / "r", "--quiet")
        assert code == 1 and "holds numbers written as text ('$100,000.50'" in err
        assert "remove the currency signs, thousands separators" in err and not (tmp_path / "r").exists()


def test_an_identifier_column_is_not_taken_for_class_labels(tmp_path, capsys):
    data = tmp_path / "ids.csv"
    data.write_text("a,b,id\n" + "\n".join(f"{i},{i % 3},row{i}" for i in range(60)) + "\n")
    code, out, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "r", "--quiet")
    assert code == 1 and "60 distinct labels over 60 rows" in err and "--target" in err


def test_a_checkpoint_given_as_a_model_says_what_it_is_and_how_to_go_on(tmp_path, capsys):
    from .conftest import checkpointed_run

    run = checkpointed_run(tmp_path, epochs=2, every=1)
    code, out, err = run_cli(capsys, "predict", run / "checkpoint.safetensors", "spiral")
    assert code == 1 and "this is an nlayer checkpoint (training state), not a model file" in err
    assert "nlayer train --resume" in err and len(err.splitlines()) == 1


def test_a_run_whose_data_file_moved_resumes_from_its_new_place_if_the_content_is_the_same(tmp_path, capsys):
    import json
    import shutil

    rows = "\n".join(f"{i % 5},{(i * 7) % 11},{'yes' if i % 2 else 'no'}" for i in range(60))
    data = tmp_path / "a.csv"
    data.write_text("a,b,label\n" + rows + "\n")
    run = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", data, "--layers", "4", "--epochs", "2", "--checkpoint-every", "1",
                   "--out", run, "--quiet")[0] == 0
    (tmp_path / "moved").mkdir()
    moved = Path(shutil.move(data, tmp_path / "moved" / "a.csv"))
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--quiet")
    assert code == 1 and "data file" in err and "is gone; give --data" in err
    other = tmp_path / "other.csv"
    other.write_text("a,b,label\n" + rows.replace("yes", "no", 1) + "\n")
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--data", other, "--quiet")
    assert code == 1 and "data" in err                          # other content: the checkpoint's sha256 says so
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "3", "--data", moved, "--quiet")
    assert code == 0 and err == "" and "(3 in all)" in out
    assert json.loads((run / "train_args.json").read_text())["data"] == str(moved.resolve())
    code, out, err = run_cli(capsys, "train", "--resume", run, "--epochs", "4", "--quiet")
    assert code == 0 and "(4 in all)" in out


def test_a_csv_with_the_models_columns_in_another_order_is_refused(tmp_path, capsys):
    import nlayer as nl

    rows = [(i % 5, (i * 7) % 11, i % 3, "yes" if i % 2 else "no") for i in range(60)]
    data = tmp_path / "a.csv"
    data.write_text("a,b,c,label\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    run = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", data, "--layers", "4", "--epochs", "2", "--out", run, "--quiet")[0] == 0
    assert nl.load(run / "model.safetensors").feature_names == ["a", "b", "c"]
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("c,b,a,label\n" + "\n".join(f"{c},{b},{a},{y}" for a, b, c, y in rows) + "\n")
    for command in ("predict", "evaluate"):
        code, out, err = run_cli(capsys, command, run / "model.safetensors", swapped)
        assert code == 1 and "are the model's in another order" in err and "a, b, c" in err
    renamed = tmp_path / "renamed.csv"                           # other names: matched by position, as before
    renamed.write_text("x,y,z,label\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    assert run_cli(capsys, "predict", run / "model.safetensors", renamed)[0] == 0


def test_feature_names_are_an_entry_older_readers_ignore_and_are_checked_on_load(tmp_path):
    import json

    from nlayer.errors import ConfigError, ModelFormatError

    from .conftest import safetensors_bytes, split_safetensors

    net = nlayer.Network([2, 3, 2], seed=0)
    net.feature_names = ["height", "weight"]
    path = tmp_path / "m.safetensors"
    nlayer.save(net, path)
    header, payload = split_safetensors(path.read_bytes())
    assert json.loads(header["__metadata__"]["nlayer"])["format_version"] == 1
    assert nlayer.load(path).feature_names == ["height", "weight"]
    header["__metadata__"]["nlayer.features"] = json.dumps(["only one"])
    path.write_bytes(safetensors_bytes(header, payload))
    with pytest.raises(ModelFormatError, match="must list 2 column names"):
        nlayer.load(path)
    net.feature_names = ["one"]
    with pytest.raises(ConfigError, match="feature_names must be a list of 2 strings"):
        nlayer.save(net, tmp_path / "n.safetensors")


def test_repeated_prices_written_as_text_are_named_too_and_an_explicit_task_insists(tmp_path, capsys):
    from nlayer.data import check_task

    prices = np.array([f"${250 + i},000" for i in range(30)] * 3)
    with pytest.raises(nlayer.errors.DataError, match="numbers written as text.*--task classify"):
        check_task(prices, "classify", "price", "h.csv", inferred=True)
    assert len(check_task(prices, "classify", "price", "h.csv")[1]) == 30        # --task classify insists
    tiers = np.array(["$5", "$10", "10%", "20%"] * 10)                           # few labels: real classes
    assert len(check_task(tiers, "classify", inferred=True)[1]) == 4
    species = [f"species{i}" for i in range(30)] + [f"species{i}" for i in range(15)]   # rare but real classes
    rows = "\n".join(f"{i % 7},{i % 5},{s}" for i, s in enumerate(species))
    data = tmp_path / "trees.csv"
    data.write_text("a,b,species\n" + rows + "\n")
    code, out, err = run_cli(capsys, "train", "--data", data, "--val-fraction", "0", "--epochs", "1",
                             "--out", tmp_path / "r", "--quiet")
    assert code == 1 and "--task classify if these are class labels" in err
    code, out, err = run_cli(capsys, "train", "--data", data, "--task", "classify", "--val-fraction", "0",
                             "--epochs", "1", "--out", tmp_path / "r", "--quiet")
    assert code == 0 and err == ""


def test_a_target_column_among_the_features_is_named_rather_than_read_as_one(tmp_path, capsys):
    rows = "\n".join(f"{i % 5},{i % 2},{(i * 7) % 11}" for i in range(60))    # numeric labels: read silently
    data = tmp_path / "mid.csv"
    data.write_text("a,label,b\n" + rows + "\n")
    run = tmp_path / "run"
    assert run_cli(capsys, "train", "--data", data, "--target", "label", "--layers", "4", "--epochs", "2",
                   "--out", run, "--quiet")[0] == 0
    code, out, err = run_cli(capsys, "predict", run / "model.safetensors", data)
    assert code == 1 and "name that column with --target label" in err
    code, out, err = run_cli(capsys, "predict", run / "model.safetensors", data, "--target", "label")
    assert code == 0 and out.startswith("prediction\n")


def test_checkpoint_fit_checks_the_callers_callbacks_before_touching_the_network(tmp_path):
    from nlayer import checkpoint

    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    path = tmp_path / "c.safetensors"
    checkpoint.fit(nlayer.Network([2, 8, 3], seed=0), X, y, checkpoint=path, epochs=3, optimizer="adam", seed=0)
    other = nlayer.Network([2, 8, 3], seed=1)
    before = other.flat()[0].copy()
    with pytest.raises(nlayer.errors.ConfigError, match=r"callbacks\[0\]"):
        checkpoint.fit(other, X, y, checkpoint=path, resume=True, epochs=5, optimizer="adam", seed=0, callbacks=[42])
    np.testing.assert_array_equal(other.flat()[0], before)


def test_a_checkpoint_keeps_the_column_names():
    import tempfile

    from nlayer import checkpoint

    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    net = nlayer.Network([2, 8, 3], seed=0)
    net.feature_names = ["x", "y"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.safetensors"
        checkpoint.fit(net, X, y, checkpoint=path, epochs=1, seed=0)
        assert checkpoint.load_checkpoint(path).network.feature_names == ["x", "y"]


def test_a_refused_batch_size_draws_nothing_from_the_callers_generator():
    X, y = nlayer.datasets.spiral(20, 3, seed=0)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    with pytest.raises(nlayer.errors.ConfigError, match="batch_size"):
        nlayer.Network([2, 8, 3]).fit(X, y, epochs=1, batch_size=0, validation_fraction=0.2, seed=rng)
    assert rng.bit_generator.state == state
