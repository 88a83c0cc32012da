"""Blending: a weighted average of members, weights given or learned on out-of-fold predictions."""

from __future__ import annotations

from sklearn.base import ClassifierMixin, RegressorMixin

from modelworks.ensemble._base import (
    DOC_FOLDS_AND_MEMBERS,
    WeightedClassifierMixin,
    WeightedEnsemble,
    WeightedRegressorMixin,
    check_weights,
)
from modelworks.ensemble._weights import learn_blend_weights

_SEEDED = " and of zoo members"
_DOC_PARAMS = """
    Parameters
    ----------
    estimators : list of (str, estimator or str)
        The members: scikit-learn estimators/pipelines or zoo names (``"rf"``, ``"logreg"`` ...;
        built for the task with ``random_state``, behind preprocessing when the data needs it).
    weights : array-like of shape (n_members,), optional
        Fixed weights (normalised to sum to 1). ``None`` (default) learns them on out-of-fold
        predictions: non-negative, summing to 1, minimising {loss}.
""" + DOC_FOLDS_AND_MEMBERS + """    weights_ : ndarray of shape (n_members,)
        Non-negative weights summing to 1. The output is exactly
        ``sum_i weights_[i] * estimators_[i].{method}(X)``.
    oof_predictions_ : ndarray of shape (n_members, n_samples{oofshape}) or None
        The members' out-of-fold predictions the weights were learned on (None when given).
"""


class _BlendMixin:
    """What the two blends share: their parameters, given weights, weights learned on OOF predictions."""

    def __init__(self, estimators, *, weights=None, cv=5, random_state=0, seed="deprecated"):
        super().__init__(estimators, cv=cv, random_state=random_state, seed=seed)
        self.weights = weights

    def _given_weights(self, names):
        return None if self.weights is None else check_weights(self.weights, names, type(self).__name__)

    def _learn_weights(self, oof, y, task, names, classes):
        return learn_blend_weights(oof, y, task, names=names, classes=classes)


class BlendClassifier(_BlendMixin, WeightedClassifierMixin, ClassifierMixin, WeightedEnsemble):
    __doc__ = (
        "Blend classifiers by a weighted average of their predicted probabilities.\n"
        + _DOC_PARAMS.format(loss="the log-loss", strat=", stratified", method="predict_proba", seeded=_SEEDED,
                             oofshape=", n_classes")
        + """    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from modelworks.ensemble import BlendClassifier
    >>> blend = BlendClassifier([("rf", "rf"), ("logreg", "logreg")])  # doctest: +SKIP
    >>> blend.fit(X, y).weights_  # doctest: +SKIP
    array([0.63, 0.37])
"""
    )



class BlendRegressor(_BlendMixin, WeightedRegressorMixin, RegressorMixin, WeightedEnsemble):
    __doc__ = (
        "Blend regressors by a weighted average of their predictions.\n"
        + _DOC_PARAMS.format(loss="the squared error", strat="", method="predict", oofshape="",
                             seeded=_SEEDED)
    )

