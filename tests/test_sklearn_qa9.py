"""QA pass 9 on the scikit-learn estimators: warm refits with early stopping newly on,
refused targets and architectures that leave the model as it was, NotFittedError after a
failed first fit, float32 overflow of X, and MLPClassifier's parameter ranges."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402

from nlayer.sklearn import NLayerClassifier, NLayerRegressor  # noqa: E402
from nlayer.sklearn._stopping import validation_split  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(200, 5, n_informative=3, n_classes=3, random_state=0)


# ------------------------------------------------------- 1: early stopping on a warm refit
@pytest.mark.parametrize("cls", [NLayerClassifier, NLayerRegressor])
def test_turning_on_early_stopping_for_a_warm_refit_keeps_the_training(data, cls):
    X, y = data
    est = cls(hidden_layer_sizes=(10,), max_iter=20, random_state=0).fit(X, y.astype(float))
    w0 = est.coefs_[0].copy()
    assert est.validation_scores_ is None
    est.set_params(warm_start=True, early_stopping=True, max_iter=50).fit(X, y.astype(float))
    assert not np.array_equal(est.coefs_[0], w0)
    assert len(est.validation_scores_) == est.n_iter_ >= 1
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None


def test_warm_refit_with_early_stopping_newly_on_restores_the_best_weights_of_that_refit(data):
    X, y = data
    est = NLayerClassifier((10,), max_iter=20, random_state=0).fit(X, y)
    est.set_params(warm_start=True, early_stopping=True, max_iter=30, n_iter_no_change=1000)
    est.fit(X, y)
    # the restored weights score best_validation_score_ on the refit's split (same random_state)
    _, X_val, _, y_val, _, _ = validation_split(est, X, y, None, est._rng())
    assert est._score_network(X_val, y_val, None) == est.best_validation_score_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_turning_off_early_stopping_for_a_warm_refit_tracks_the_training_loss(data):
    X, y = data
    est = NLayerClassifier((10,), max_iter=10, early_stopping=True, random_state=0).fit(X, y)
    est.set_params(warm_start=True, early_stopping=False).fit(X, y)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_[-est.n_iter_:])


# ------------------------------------------------------------ 2: the other kind of target
def test_a_refused_multilabel_partial_fit_leaves_a_label_classifier_predicting_labels(data):
    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    est = NLayerClassifier((10,), max_iter=5, random_state=0).fit(X, labels)
    before = est.predict(X)
    with pytest.raises(ValueError, match="The object was not fitted with multilabel input"):
        est.partial_fit(X, np.c_[y == 0, y == 1].astype(int))
    np.testing.assert_array_equal(est.predict(X), before)


def test_a_refused_label_refit_leaves_a_multilabel_classifier_predicting_indicators(data):
    X, y = data
    Y = np.c_[y == 0, y == 1].astype(int)
    est = NLayerClassifier((10,), max_iter=5, random_state=0).fit(X, Y)
    before = est.predict(X)
    with pytest.raises(ValueError, match="The object was fitted with multilabel input"):
        est.partial_fit(X, y)
    with pytest.raises(ValueError, match="The object was fitted with multilabel input"):
        est.set_params(warm_start=True).fit(X, y)
    assert est.predict(X).shape == (200, 2)
    np.testing.assert_array_equal(est.predict(X), before)


# ---------------------------------------------------------- 3: architecture on warm refits
@pytest.mark.parametrize("change, name", [
    ({"hidden_layer_sizes": (4, 4)}, "hidden_layer_sizes"),
    ({"activation": "tanh"}, "activation"),
    ({"dtype": "float32"}, "dtype"),
])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_warm_refit_refuses_a_changed_architecture_parameter(data, change, name, how):
    X, y = data
    est = NLayerClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    theta = est.to_network().flat()[0]
    est.set_params(**change)
    with pytest.raises(ValueError, match=rf"{name}.*warm_start=False"):
        if how == "warm_start":
            est.set_params(warm_start=True).fit(X, y)
        else:
            est.partial_fit(X, y)
    np.testing.assert_array_equal(est.to_network().flat()[0], theta)
    net = est.set_params(warm_start=False).fit(X, y).to_network()  # the fix the message names
    assert (net.sizes, net.activation, net.dtype.name) == ([5, *est.hidden_layer_sizes, 3],
                                                           est.activation, est.dtype or "float64")


def test_a_warm_refit_accepts_the_other_name_of_the_same_activation(data):
    X, y = data
    est = NLayerClassifier((8,), activation="logistic", max_iter=5, random_state=0).fit(X, y)
    est.set_params(activation="sigmoid", warm_start=True).fit(X, y)
    assert est.n_iter_ == 5


# -------------------------------------------------------------- 4: a failed first fit
@pytest.mark.parametrize("use", [lambda est, X: est.predict(X), lambda est, X: est.coefs_,
                                 lambda est, X: est.intercepts_, lambda est, X: est.to_network()],
                         ids=["predict", "coefs_", "intercepts_", "to_network"])
def test_a_failed_first_fit_leaves_the_estimator_not_fitted(data, use):
    X, _ = data
    est = NLayerClassifier(max_iter=2)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(X, np.zeros(200))
    with pytest.raises(NotFittedError):
        use(est, X)


def test_a_failed_refit_does_not_leave_the_old_network_behind_new_attributes(data):
    X, y = data
    est = NLayerClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(np.c_[X, X], np.zeros(200))
    with pytest.raises(NotFittedError):
        est.predict(X)


# ------------------------------------------------------------ 5: float32 cannot hold X
def test_float32_estimator_refuses_X_beyond_its_range_naming_the_column(data):
    X, y = data
    big = X.copy()
    big[3, 2] = 1e39
    est = NLayerClassifier((5,), max_iter=5, dtype="float32", random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"column 2.*float32.*rescale X or use dtype='float64'"):
        est.predict(big)
    with pytest.raises(ValueError, match=r"column 2.*float32.*rescale X or use dtype='float64'"):
        NLayerRegressor((5,), max_iter=5, dtype="float32").fit(big, y.astype(float))
    assert NLayerRegressor((5,), max_iter=5, dtype="float64").fit(big / 1e38, y).n_iter_ == 5


# ---------------------------------------------------------- 6: MLPClassifier's ranges
def test_momentum_of_one_is_accepted_like_mlpclassifier(data):
    X, y = data
    with pytest.warns(ConvergenceWarning):
        est = NLayerClassifier((5,), solver="sgd", momentum=1.0, max_iter=3, random_state=0).fit(X, y)
    assert est._optimizer.momentum == 1.0
    NLayerClassifier((5,), momentum=1.0, max_iter=3).fit(X, y)         # adam ignores it


def test_validation_fraction_of_zero_is_accepted_without_early_stopping(data):
    X, y = data
    assert NLayerClassifier((5,), validation_fraction=0.0, max_iter=3).fit(X, y).n_iter_ == 3


def test_early_stopping_with_validation_fraction_zero_is_refused_before_training(data):
    X, y = data
    est = NLayerClassifier((5,), early_stopping=True, validation_fraction=0.0, max_iter=3)
    with pytest.raises(ValueError, match=r"validation_fraction=0.*early_stopping"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert NLayerClassifier((5,), solver="lbfgs", early_stopping=True, validation_fraction=0.0,
                            max_iter=3).fit(X, y).n_iter_ >= 1              # lbfgs does not split


def test_to_network_keeps_the_dataframes_column_names():
    pd = pytest.importorskip("pandas")
    X, y = make_classification(60, 3, n_informative=2, n_redundant=0, random_state=0)
    frame = pd.DataFrame(X, columns=["height", "weight", "age"])
    net = NLayerClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(frame, y).to_network()
    assert net.feature_names == ["height", "weight", "age"]
