"""scikit-learn's own estimator checks over both estimators and a few non-default settings.

The instances train briefly (small hidden layer, few iterations) so the file stays fast.
Stopping at max_iter before convergence emits ``ConvergenceWarning``, exactly as
``MLPClassifier`` does; with ``-W error`` that warning is ignored here, and only here.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nlayer.sklearn import NLayerClassifier, NLayerRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(20,), learning_rate_init=0.01, max_iter=100, random_state=0)

ESTIMATORS = [
    NLayerClassifier(**FAST),
    NLayerClassifier(**{**FAST, "solver": "sgd", "learning_rate_init": 0.002}),
    NLayerClassifier(**{**FAST, "solver": "lbfgs"}),
    NLayerClassifier(**{**FAST, "dtype": "float32"}),
    NLayerClassifier(**{**FAST, "early_stopping": True}),
    NLayerRegressor(**FAST),
    NLayerRegressor(**{**FAST, "solver": "sgd", "learning_rate_init": 0.002}),
    NLayerRegressor(**{**FAST, "solver": "lbfgs"}),
    NLayerRegressor(**{**FAST, "dtype": "float32"}),
    NLayerRegressor(**{**FAST, "early_stopping": True}),
]


def expected_failures(estimator) -> dict[str, str]:
    """The checks an instance cannot pass by design, each with the reason."""
    failures = {}
    if estimator.dtype == "float32":
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "float32 arithmetic: weighted and repeated fits agree to ~1e-6 relative, the check "
            "demands 1e-7 (the float64 instances pass; test_sklearn.py checks float32 at 1e-4)"
        )
        failures["check_regressor_multioutput"] = (
            "dtype='float32' predicts float32 by design; the check requires float64 predictions"
        )
    if estimator.early_stopping:
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "the validation split draws different rows when rows are repeated instead of "
            "weighted (MLPClassifier has the same limitation)"
        )
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_check(estimator, check):
    check(estimator)
