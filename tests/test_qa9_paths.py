"""Less-travelled paths a QA pass found wrong: many-class plots, a restored best epoch in the
summary, multi-label prediction columns, and callbacks that answer with NumPy booleans."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

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
