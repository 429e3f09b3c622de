"""NLayerClassifier / NLayerRegressor: what a scikit-learn user relies on.

scikit-learn's generic estimator checks live in test_sklearn_checks.py; these tests pin
nlayer's own promises: dtypes, sample weights, alpha's scaling, solvers, convergence,
to_network(), pickling, and accuracy on scikit-learn's data sets.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_iris,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import nlayer  # noqa: E402
from nlayer.errors import DataError, DivergenceError  # noqa: E402
from nlayer.sklearn import NLayerClassifier, NLayerRegressor  # noqa: E402

converging = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=120, n_features=5, n_targets=1, noise=0.1, random_state=0)
    return StandardScaler().fit_transform(X), y / y.std()


def test_import_nlayer_does_not_import_sklearn():
    code = "import sys, nlayer; assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": nlayer.__path__[0] + "/.."})


# ------------------------------------------------------------------ scikit-learn tools
@converging
def test_pipeline_with_standard_scaler_learns_iris():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NLayerClassifier(hidden_layer_sizes=(20,), max_iter=300,
                                                            learning_rate_init=0.01, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.95


@converging
def test_grid_search_in_two_processes_picks_a_fitted_best_estimator(iris):
    X, y = iris
    grid = GridSearchCV(NLayerClassifier(max_iter=50, learning_rate_init=0.01, random_state=0),
                        {"hidden_layer_sizes": [(5,), (20,)], "alpha": [1e-4, 1e-1]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"hidden_layer_sizes", "alpha"}
    assert grid.best_score_ > 0.8
    assert grid.best_estimator_.predict(X).shape == y.shape


@converging
def test_cross_val_score_gives_one_accuracy_per_fold(iris):
    X, y = iris
    scores = cross_val_score(NLayerClassifier((20,), max_iter=100, learning_rate_init=0.01, random_state=0),
                             X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    assert scores.shape == (5,) and scores.mean() > 0.9


def test_clone_copies_parameters_and_drops_the_fit(iris):
    X, y = iris
    est = NLayerClassifier((7,), solver="lbfgs", alpha=0.5, dtype="float32", random_state=3).fit(X, y)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "coefs_")


# ----------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_dtype_is_kept_end_to_end(iris, dtype):
    X, y = iris
    est = NLayerClassifier((8,), solver="lbfgs", max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X.astype(dtype), y)
    assert all(W.dtype == dtype for W in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X.astype(dtype)).dtype == dtype
    assert est.to_network().dtype == dtype


def test_integer_input_trains_in_float64_and_dtype_parameter_overrides(iris):
    X, y = iris
    est = NLayerClassifier((4,), solver="lbfgs", random_state=0, max_iter=500, tol=1e-3)
    assert est.fit(np.round(X * 10).astype(np.int64), y).coefs_[0].dtype == np.float64
    assert est.set_params(dtype="float32").fit(X, y).predict_proba(X).dtype == np.float32


# ------------------------------------------------------------------------ to_network
@converging
def test_to_network_predicts_what_the_estimator_predicts(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    est = NLayerClassifier((10,), max_iter=30, random_state=0).fit(X, labels)
    net = est.to_network()
    assert isinstance(net, nlayer.Network) and net.classes == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(net.predict(X), est.predict(X))
    np.testing.assert_array_equal(net.predict_proba(X), est.predict_proba(X))


@converging
def test_to_network_of_a_regressor_predicts_the_same_values(regression):
    X, y = regression
    est = NLayerRegressor((10,), max_iter=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.to_network().predict(X), est.predict(X))


@converging
def test_to_network_passes_a_gradient_check(iris):
    X, y = iris
    est = NLayerClassifier((6,), activation="tanh", max_iter=20, random_state=0, dtype="float32").fit(X, y)
    report = nlayer.gradient_check(est.to_network().copy("float64"), X[:20], y[:20], l2=1e-3)
    assert report.passed(1e-6), str(report)


@converging
def test_saved_classifier_loads_and_predicts_identically(iris, tmp_path):
    io = pytest.importorskip("nlayer.io", reason="nlayer.io (model files) is not part of this build yet")
    X, y = iris
    labels = np.array(["a", "b", "c"])[y]
    est = NLayerClassifier((10,), max_iter=30, random_state=0).fit(X, labels)
    io.save(est.to_network(), tmp_path / "iris.nlayer")
    loaded = io.load(tmp_path / "iris.nlayer")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


@converging
@pytest.mark.parametrize("make_labels, saved", [
    (lambda y: y.astype(np.float64), [0, 1, 2]),                              # whole-number floats
    (lambda y: y == 2, [0, 1]),                                               # booleans
    (lambda y: pytest.importorskip("pandas").Series(y, dtype="Int64"), [0, 1, 2]),  # pandas nullable ints
    (lambda y: np.array(["a", "b", "c"], dtype=object)[y], ["a", "b", "c"]),   # strings stay strings
])
def test_to_network_of_any_fitted_classifier_saves_with_labels_equal_to_the_estimators(
        iris, tmp_path, make_labels, saved):
    io = pytest.importorskip("nlayer.io", reason="nlayer.io (model files) is not part of this build yet")
    X, y = iris
    labels = make_labels(y)
    est = NLayerClassifier((10,), max_iter=30, random_state=0).fit(X, labels)
    net = est.to_network()
    assert net.classes == saved and [type(c) for c in net.classes] == [type(c) for c in saved]
    io.save(net, tmp_path / "m.nlayer")
    predicted = est.predict(X)
    assert np.all(io.load(tmp_path / "m.nlayer").predict(X) == predicted)
    assert np.all(net.predict(X) == predicted)


# --------------------------------------------------------------------- sample weights
@pytest.mark.parametrize("solver, dtype, rtol", [("lbfgs", "float64", 1e-6), ("adam", "float64", 1e-6),
                                                  ("adam", "float32", 1e-4)])
def test_integer_sample_weights_equal_repeated_rows(iris, solver, dtype, rtol):
    X, y = iris[0][::2], iris[1][::2]                           # 75 rows: one batch, weighted or repeated
    w = np.random.default_rng(0).integers(0, 4, size=len(y))
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=40, random_state=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = NLayerClassifier(**params).fit(X, y, sample_weight=w)
        repeated = NLayerClassifier(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=rtol, atol=1e-7)


def test_weighted_gradient_matches_central_differences(iris):
    X, y = iris[0][::5], iris[1][::5]
    est = NLayerClassifier((5,), activation="tanh", solver="lbfgs", max_iter=1, alpha=0.3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    w = np.random.default_rng(1).uniform(0.0, 3.0, size=30)
    Y = est._Y(y, np.dtype(np.float64))
    theta, dtheta = est._network.flat()
    est._step(X, Y, w)
    analytic = dtheta.copy()
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        saved = theta[i]
        theta[i] = saved + 1e-6
        up = est._step(X, Y, w)
        theta[i] = saved - 1e-6
        down = est._step(X, Y, w)
        theta[i] = saved
        numeric[i] = (up - down) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_heavy_sample_weight_on_one_class_pulls_predictions_to_it(iris):
    X, y = iris[0][50:, :2], iris[1][50:]                      # versicolor vs virginica by sepals: overlapping
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=1000, random_state=0)
    plain = np.sum(NLayerClassifier(**params).fit(X, y).predict(X) == 2)
    weighted = np.sum(NLayerClassifier(**params).fit(X, y, sample_weight=np.where(y == 2, 10.0, 1.0)).predict(X) == 2)
    assert weighted > plain + 5


def test_label_to_index_mapping_refuses_a_label_outside_classes_instead_of_using_a_neighbour(iris):
    X, y = iris
    est = NLayerClassifier((5,), random_state=0)
    est.partial_fit(X, np.where(y == 1, 0, y), classes=[0, 2])          # classes_ = [0, 2]
    with pytest.raises(DataError, match=r"Not in `self.classes_`: \[1\]"):
        est._Y(y, np.dtype(np.float64))                                 # searchsorted alone maps 1 to 2
    with pytest.raises(DataError, match="not in `self.classes_`"):
        est.partial_fit(X, y, sample_weight=np.ones(len(y)))


def test_negative_sample_weight_is_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="non-negative"):
        NLayerClassifier().fit(X, y, sample_weight=-np.ones(len(y)))


# ------------------------------------------------------------------- alpha and losses
def test_loss_uses_alpha_scaled_by_the_number_of_samples_like_sklearn(iris):
    X, y = iris
    alpha = 0.7
    est = NLayerClassifier((5,), solver="lbfgs", alpha=alpha, max_iter=15, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    P = est.predict_proba(X)
    cross_entropy = -np.mean(np.log(P[np.arange(len(y)), y]))
    penalty = alpha / (2 * len(y)) * sum(float(np.sum(W**2)) for W in est.coefs_)
    assert est.loss_ == pytest.approx(cross_entropy + penalty, rel=1e-9)


def test_one_sgd_epoch_without_momentum_is_one_gradient_step(regression):
    X, y = regression
    lr, alpha, n = 0.05, 0.01, len(y)
    est = NLayerRegressor((4,), solver="sgd", momentum=0.0, learning_rate_init=lr, alpha=alpha,
                          batch_size=n, shuffle=False, random_state=0)
    est.partial_fit(X, y)
    before = est.to_network()
    theta0 = before.flat()[0].copy()
    _, grads = before.loss_and_gradients(X, y, l2=alpha / n)
    est.partial_fit(X, y)
    expected = theta0 - lr * np.concatenate([g[0].ravel() for g in grads] + [g[1] for g in grads])
    np.testing.assert_allclose(est.to_network().flat()[0], expected, rtol=1e-12, atol=1e-12)


@converging
def test_nesterov_and_classical_momentum_take_different_paths(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, max_iter=3, random_state=0)
    a = NLayerRegressor(nesterovs_momentum=True, **params).fit(X, y).predict(X)
    b = NLayerRegressor(nesterovs_momentum=False, **params).fit(X, y).predict(X)
    assert not np.allclose(a, b)


# ------------------------------------------------------------------------ convergence
def test_max_iter_without_convergence_warns_like_mlpclassifier(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        est = NLayerClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3


def test_training_stops_when_the_loss_stops_improving_by_tol(iris):
    X, y = iris
    est = NLayerClassifier((5,), max_iter=500, tol=0.05, n_iter_no_change=2, random_state=0).fit(X, y)
    assert est.n_iter_ < 500
    assert len(est.loss_curve_) == est.n_iter_ and est.best_loss_ == min(est.loss_curve_)


def test_lbfgs_records_one_loss_per_iteration_and_converges(iris):
    X, y = iris
    est = NLayerClassifier((5,), solver="lbfgs", alpha=1.0, max_iter=500, random_state=0).fit(X, y)
    assert 0 < est.n_iter_ < 500 and len(est.loss_curve_) == est.n_iter_
    assert est.loss_ == pytest.approx(est.loss_curve_[-1])


@converging
def test_early_stopping_tracks_validation_accuracy_and_keeps_the_best(iris):
    X, y = iris
    est = NLayerClassifier((10,), early_stopping=True, learning_rate_init=0.01, max_iter=200,
                           random_state=0).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_) > 0.8
    assert est.best_loss_ is None


@converging
def test_adaptive_learning_rate_divides_by_five_instead_of_stopping(regression):
    X, y = regression
    params = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.01, max_iter=100,
                  tol=10.0, n_iter_no_change=2, random_state=0)
    constant = NLayerRegressor(**params).fit(X, y)
    adaptive = NLayerRegressor(learning_rate="adaptive", **params).fit(X, y)
    assert constant.n_iter_ == 4                            # 1 + (n_iter_no_change + 1) epochs, as scikit-learn
    assert adaptive.n_iter_ > constant.n_iter_


def test_divergence_raises_a_clear_error_instead_of_nan(regression):
    X, y = regression
    with pytest.raises(DivergenceError, match="learning_rate_init"):
        NLayerRegressor((4,), solver="sgd", learning_rate_init=1e6, max_iter=5).fit(X * 1e3, y * 1e3)


def test_verbose_prints_the_loss_per_iteration(iris, capsys):
    X, y = iris
    with pytest.warns(ConvergenceWarning):
        NLayerClassifier((3,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    assert "Iteration 2, loss = " in capsys.readouterr().out


# -------------------------------------------------------- partial_fit and warm_start
def test_partial_fit_needs_classes_first_then_keeps_learning(iris):
    X, y = iris
    est = NLayerClassifier((10,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    est.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert list(est.classes_) == [0, 1, 2] and est.predict_proba(X).shape == (150, 3)
    for _ in range(30):
        est.partial_fit(X, y)
    assert est.score(X, y) > 0.85
    assert est.loss_curve_[-1] < est.loss_curve_[1]


@pytest.mark.parametrize("labels, classes, unknown", [
    (np.array(["a", "b", "c"]), ["a", "c"], "'b'"),           # sorts between two classes
    (np.array([0, 1, 2]), [0, 2], "1"),
    (np.array([0, 1, 2]), [0, 1], "2"),                       # sorts after the last class
    (np.array(["a", "b", "c"]), [0, 1, 2], "'a' 'b' 'c'"),      # another label type
])
def test_first_partial_fit_refuses_labels_missing_from_classes_like_mlpclassifier(iris, labels, classes, unknown):
    X, y = iris
    est = NLayerClassifier((5,), random_state=0)
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`\..*Not in `self.classes_`: \["
                                         + unknown + r"\]"):
        est.partial_fit(X, labels[y], classes=classes)
    assert not hasattr(est, "classes_")                       # still unfitted: the next call is a first call
    est.partial_fit(X, labels[y], classes=labels)
    assert list(est.classes_) == list(labels)


def test_later_partial_fit_refuses_a_label_not_seen_in_classes(iris):
    X, y = iris
    est = NLayerClassifier((5,), random_state=0).partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(DataError, match=r"Not in `self.classes_`: \[7\]"):
        est.partial_fit(X, np.where(y == 1, 7, y))


def test_partial_fit_is_absent_for_lbfgs_and_early_stopping():
    assert not hasattr(NLayerClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(NLayerRegressor(early_stopping=True), "partial_fit")
    assert hasattr(NLayerRegressor(solver="sgd"), "partial_fit")


@converging
def test_warm_start_continues_from_the_previous_weights(iris):
    X, y = iris
    est = NLayerClassifier((10,), max_iter=20, warm_start=True, random_state=0).fit(X, y)
    first = list(est.loss_curve_)
    est.fit(X, y)
    assert len(est.loss_curve_) == 40 and est.loss_curve_[20] < first[0]
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X[y < 2], y[y < 2])


def test_pickled_estimator_predicts_the_same_and_keeps_training(iris):
    X, y = iris
    est = NLayerClassifier((10,), random_state=0, learning_rate_init=0.01)
    est.partial_fit(X, y, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_allclose(copy.predict_proba(X), est.predict_proba(X), rtol=1e-12)


# ------------------------------------------------------------- targets and outputs
@converging
def test_multilabel_indicator_targets_use_one_sigmoid_per_label():
    X, Y = make_multilabel_classification(n_samples=200, n_features=8, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    est = NLayerClassifier((30,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, Y)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 4
    assert est.predict(X).shape == Y.shape and set(np.unique(est.predict(X))) <= {0, 1}
    assert est.predict_proba(X).shape == Y.shape
    assert np.mean(est.predict(X) == Y) > 0.85


@converging
def test_binary_classification_uses_two_softmax_units():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = NLayerClassifier((20,), max_iter=50, random_state=0).fit(X, y)
    assert est.out_activation_ == "softmax" and est.predict_proba(X).shape == (len(y), 2)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(est.predict_proba(X)))


def test_multi_output_regression_predicts_every_target():
    X, Y = make_regression(n_samples=150, n_features=6, n_targets=3, noise=0.1, random_state=0)
    X, Y = StandardScaler().fit_transform(X), Y / Y.std(axis=0)
    est = NLayerRegressor((30,), solver="lbfgs", max_iter=1000, random_state=0).fit(X, Y)
    assert est.out_activation_ == "identity" and est.predict(X).shape == (150, 3)
    assert est.score(X, Y) > 0.95


def test_fitted_attributes_describe_the_network(iris):
    X, y = iris
    est = NLayerClassifier((7, 5), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.n_features_in_ == 4
    assert [W.shape for W in est.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in est.intercepts_] == [(7,), (5,), (3,)]


def test_editing_coefs_and_intercepts_in_place_changes_predictions_like_mlpclassifier(iris):
    X, y = iris
    est = NLayerClassifier((7,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    for W in est.coefs_:
        W[...] = 0.0
    for b in est.intercepts_:
        b *= 0.0
    np.testing.assert_allclose(est.predict_proba(X[:3]), np.full((3, 3), 1 / 3))
    np.testing.assert_array_equal(est.to_network().flat()[0], 0.0)


def test_assigning_coefs_and_intercepts_copies_them_into_the_model(iris):
    X, y = iris
    source = NLayerClassifier((7,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    target = NLayerClassifier((7,), solver="lbfgs", max_iter=1, random_state=1)
    with pytest.warns(ConvergenceWarning):
        target.fit(X, y)
    target.coefs_ = [W.tolist() for W in source.coefs_]                    # any array-likes
    target.intercepts_ = tuple(source.intercepts_)
    np.testing.assert_array_equal(target.predict_proba(X), source.predict_proba(X))
    target.coefs_[1] = np.zeros((7, 3))                                     # one layer, as in a list
    np.testing.assert_array_equal(target.coefs_[1], 0.0)
    assert not np.array_equal(target.predict_proba(X), source.predict_proba(X))


@pytest.mark.parametrize("value, match", [
    ([np.zeros((4, 7))], "must hold 2 arrays"),
    ([np.zeros((4, 7)), np.zeros((3, 7))], r"coefs_\[1\] must have shape \(7, 3\), got \(3, 7\)"),
    ([np.zeros((4, 7)), np.full((7, 3), np.nan)], r"coefs_\[1\] must hold finite"),
    (np.zeros((4, 7)), "must be a list of 2 arrays"),
])
def test_assigning_coefs_of_the_wrong_number_shape_or_values_is_refused_and_changes_nothing(iris, value, match):
    X, y = iris
    est = NLayerClassifier((7,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    before = est.predict_proba(X)
    with pytest.raises(DataError, match=match):
        est.coefs_ = value
    with pytest.raises(DataError):
        est.coefs_[0] = np.zeros((7, 4))
    np.testing.assert_array_equal(est.predict_proba(X), before)


def test_coefs_are_unavailable_before_fit_and_survive_pickle_and_deepcopy(iris):
    X, y = iris
    est = NLayerClassifier((7,), solver="lbfgs", max_iter=500, random_state=0)
    assert not hasattr(est, "coefs_") and not hasattr(est, "intercepts_")
    with pytest.raises(AttributeError, match="not fitted"):
        est.coefs_ = [np.zeros((4, 7)), np.zeros((7, 3))]
    est.fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    for a, b in zip(restored.coefs_ + restored.intercepts_, est.coefs_ + est.intercepts_):
        np.testing.assert_array_equal(a, b)
    saved = copy.deepcopy(est.coefs_)                                # a snapshot, not the live arrays
    assert type(saved) is list
    est.coefs_[0][...] = 0.0
    assert not np.all(saved[0] == 0.0)


@pytest.mark.parametrize("params, match", [
    ({"activation": "softplus"}, "activation"),
    ({"solver": "newton"}, "solver"),
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes"),
    ({"momentum": 1.5}, "momentum"),
])
def test_bad_parameters_are_named_in_the_error(iris, params, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        NLayerClassifier(**params).fit(X, y)


def test_regressor_takes_mlpregressors_loss_and_refuses_every_other_value(regression):
    X, y = regression
    est = NLayerRegressor(**MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=200).get_params())
    assert est.get_params()["loss"] == "squared_error" and est.fit(X, y).score(X, y) > 0.9
    assert "loss" not in NLayerClassifier().get_params()
    with pytest.raises(ValueError, match="'loss' parameter of NLayerRegressor must be a str among {'squared_error'}"):
        NLayerRegressor(loss="poisson").fit(X, y)


def test_logistic_is_accepted_as_sklearns_name_for_sigmoid(iris):
    X, y = iris
    est = NLayerClassifier((5,), activation="logistic", solver="lbfgs", max_iter=500, random_state=0)
    assert est.fit(X, y).to_network().activation == "sigmoid"


# ----------------------------------------------------------------------- accuracy
@converging
def test_accuracy_on_iris_and_breast_cancer_in_cross_validation():
    for load, bound in ((load_iris, 0.93), (load_breast_cancer, 0.95)):
        X, y = load(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), NLayerClassifier(max_iter=200, random_state=0))
        assert cross_val_score(pipe, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean() > bound


@converging
def test_r2_on_diabetes_is_that_of_a_sensible_regressor():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NLayerRegressor((100,), alpha=1.0, max_iter=300, random_state=0))
    scores = cross_val_score(pipe, X, (y - y.mean()) / y.std(), cv=KFold(5, shuffle=True, random_state=0))
    assert scores.mean() > 0.4


def test_dataframe_columns_become_feature_names_in_and_are_checked_at_predict():
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    X, y = iris.data, iris.target
    clf = NLayerClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.02, max_iter=1000, random_state=0).fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns)
    assert clf.score(X, y) > 0.9
    renamed = X.rename(columns={X.columns[0]: "something else"})
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)
    assert isinstance(pd.DataFrame(clf.predict_proba(X)), pd.DataFrame)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_batch_size_above_the_samples_is_clamped_with_a_warning_at_the_callers_line(method):
    X, y = load_iris(return_X_y=True)
    X, y = X[::3][:40], y[::3][:40]
    kwargs = {"classes": np.unique(y)} if method == "partial_fit" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(NLayerClassifier(hidden_layer_sizes=(4,), batch_size=100, max_iter=2, random_state=0),
                method)(X, y, **kwargs)
    (w,) = [w for w in caught if "batch_size" in str(w.message)]
    assert str(w.message) == "batch_size=100 is larger than the 40 training rows; using 40 (full batch)"
    assert w.filename == __file__                       # points at the user's call, not into nlayer
