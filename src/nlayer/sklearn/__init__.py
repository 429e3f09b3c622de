"""scikit-learn estimators over nlayer's hand-written network: NLayerClassifier, NLayerRegressor.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from nlayer.sklearn import NLayerClassifier
    clf = make_pipeline(StandardScaler(), NLayerClassifier(hidden_layer_sizes=(100,), random_state=0))
    clf.fit(X, y).score(X_test, y_test)

Parameters mean what they mean in ``MLPClassifier`` / ``MLPRegressor``; every step is
nlayer's own forward and back propagation (``Network.train_step``) and nlayer's optimizers.
Where the meaning differs, it says so here:

- ``alpha`` is scaled exactly as scikit-learn scales it: each batch's loss gains
  ``alpha / (2 s) * sum ||W||^2`` where ``s`` is the batch's total sample weight (its size
  without weights), i.e. nlayer's ``l2 = alpha / s``.
- ``activation`` takes scikit-learn's names (``logistic`` is nlayer's ``sigmoid``) and
  nlayer's (``sigmoid``, ``leaky_relu``).
- Weights and biases start as in scikit-learn: uniform in ``+-sqrt(6 / (n_in + n_out))``
  (``sqrt(2 / ...)`` for logistic), drawn from ``random_state`` (the numbers differ).
- Binary classification uses two softmax units (scikit-learn: one logistic unit), so the
  network from ``to_network()`` predicts class labels by itself; the loss is the same.
- Multi-output regression sums the squared error over outputs (scikit-learn averages it).
- ``solver="lbfgs"`` also records ``loss_curve_`` (one loss per L-BFGS iteration).
- ``warm_start`` and ``partial_fit`` refuse a changed ``hidden_layer_sizes``, ``activation``
  or ``dtype`` with a ``ValueError`` (MLPClassifier crashes or ignores the change).
- Dense input only (sparse matrices are refused with scikit-learn's message).
- ``NLayerRegressor``'s ``loss`` takes only ``"squared_error"`` and is keyword-only.
- ``to_network()`` stores booleans and whole-number float labels as ints (a model file
  holds strings or ints); each compares equal to the estimator's label.

scikit-learn (and SciPy) are imported here only: ``import nlayer`` does not need them.

The modules: ``_base`` (parameters, ``fit``, initialisation, pickling), ``_solvers``
(the weighted step, L-BFGS, the sgd/adam loop), ``_stopping`` (early stopping and
convergence), ``_checks`` (what a warm refit keeps; X in the network's dtype), ``_weights``
(``coefs_`` / ``intercepts_``: the network's live arrays) and ``_estimators`` (what differs
between classifier and regressor).
"""

from ._estimators import NLayerClassifier, NLayerRegressor

__all__ = ["NLayerClassifier", "NLayerRegressor"]
