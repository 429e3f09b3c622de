"""Pictures of a run: valid PNGs of sensible size, written atomically, no display needed."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nlayer
from nlayer import plots
from nlayer.errors import DataError

mpimg = pytest.importorskip("matplotlib.image")


def trained(output: str = "softmax", epochs: int = 30) -> tuple[nlayer.Network, np.ndarray, np.ndarray]:
    X, y = nlayer.datasets.spiral(n_per_class=30)
    if output == "identity":
        y = X[:, 0] * 2.0 - X[:, 1]
    net = nlayer.Network([2, 16, 1 if output == "identity" else 3], output=output, seed=0)
    net.fit(X, y, epochs=epochs, optimizer="adam", lr=0.01, validation_fraction=0.2, seed=0)
    return net, X, y


def test_history_plot_is_a_png_with_loss_and_accuracy_panels(tmp_path):
    net, _, _ = trained()
    assert net.history is not None
    plots.plot_history(net.history, tmp_path / "loss.png", title="spiral")
    image = mpimg.imread(tmp_path / "loss.png")
    assert image.shape[:2] == (400, 1000)                  # two panels side by side at 100 dpi
    assert image[..., :3].std() > 0.05                     # not a blank canvas


def test_history_plot_of_a_regression_has_one_panel(tmp_path):
    net, _, _ = trained("identity")
    assert net.history is not None and not net.history.accuracy
    plots.plot_history(net.history, tmp_path / "loss.png")
    assert mpimg.imread(tmp_path / "loss.png").shape[:2] == (400, 550)


def test_decision_boundary_colours_the_regions_of_each_class(tmp_path):
    net, X, y = trained(epochs=80)
    plots.plot_decision_boundary(net, X, y, tmp_path / "b.png", classes=["a", "b", "c"])
    image = mpimg.imread(tmp_path / "b.png")[..., :3]
    assert image.shape[:2] == (550, 600)
    # the three pale region colours of tab:blue/orange/green each cover a visible share
    colours = np.unique((image * 255).round().astype(np.uint8).reshape(-1, 3), axis=0, return_counts=True)
    big = colours[1] > 0.03 * image.shape[0] * image.shape[1]
    assert big.sum() >= 4                                  # white margin + 3 class regions


def test_decision_boundary_of_a_regression_draws_the_predicted_surface(tmp_path):
    net, X, y = trained("identity")
    plots.plot_decision_boundary(net, X, y, tmp_path / "r.png")
    assert mpimg.imread(tmp_path / "r.png").shape[0] == 550


def test_decision_boundary_needs_two_inputs(tmp_path):
    net = nlayer.Network([3, 4, 2], seed=0)
    with pytest.raises(DataError, match="2-D inputs"):
        plots.plot_decision_boundary(net, np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_a_failed_plot_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    net, _, _ = trained(epochs=3)
    assert net.history is not None
    target = tmp_path / "loss.png"
    target.write_bytes(b"previous")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(nlayer._atomic, "_before_replace", crash)
    with pytest.raises(OSError, match="disk full"):
        plots.plot_history(net.history, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_dollar_signs_in_labels_and_titles_are_drawn_literally_not_as_mathtext(tmp_path, monkeypatch):
    net, X, y = trained(epochs=3)
    labels = ["$0-$50k", "$5_$10", "$10^$"]                # the last two crash mathtext, the first is mangled
    figures = []
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: (figures.append(fig), save(fig, path)))
    plots.plot_decision_boundary(net, X, y, tmp_path / "b.png", classes=labels, title="cost_$x$.csv")
    assert net.history is not None
    plots.plot_history(net.history, tmp_path / "loss.png", title="cost_$\\frac.csv")
    assert mpimg.imread(tmp_path / "b.png").shape[0] == 550
    legend = figures[0].axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == labels
    assert not any(t.get_parse_math() for t in legend.get_texts())
    assert figures[0].axes[0].get_title() == "cost_$x$.csv"
    assert figures[1]._suptitle.get_text() == "cost_$\\frac.csv" and not figures[1]._suptitle.get_parse_math()


def test_a_title_with_a_file_name_that_is_not_utf8_still_plots(tmp_path):
    net, X, y = trained(epochs=3)
    title = os.fsdecode(b"tr\xff.csv: 2-16-3 relu, adam")    # a lone surrogate, as Python names such a file
    assert net.history is not None
    plots.plot_history(net.history, tmp_path / "loss.png", title=title)
    plots.plot_decision_boundary(net, X, y, tmp_path / "b.png", title=title + "\ud800")
    assert mpimg.imread(tmp_path / "loss.png").shape[:2] == (400, 1000)
    assert mpimg.imread(tmp_path / "b.png").shape[0] == 550


@pytest.mark.parametrize(("dtype", "low", "high"), [("float32", 1e38, 3.3e38), ("float64", 0.0, 1.7e308)])
def test_decision_boundary_of_features_near_the_dtype_limit_is_drawn(tmp_path, dtype, low, high):
    # the 10 % padding around such points leaves the dtype's range (or float64's, for matplotlib)
    rng = np.random.default_rng(0)
    X = np.c_[np.linspace(low, high, 40), rng.standard_normal(40)]
    y = np.arange(40) % 2
    net = nlayer.Network([2, 4, 2], seed=0, dtype=dtype)
    net.fit_input_scaling(X)
    net.fit(X, y, epochs=3)
    with np.errstate(all="raise"):                         # no overflow on the way
        plots.plot_decision_boundary(net, X, y, tmp_path / "b.png")
    assert mpimg.imread(tmp_path / "b.png")[..., :3].std() > 0.05
