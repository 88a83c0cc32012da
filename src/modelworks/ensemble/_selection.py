"""Greedy ensemble selection with replacement (Caruana et al. 2004), as AutoGluon and auto-sklearn use."""

from __future__ import annotations

from sklearn.base import ClassifierMixin, RegressorMixin

from modelworks.ensemble._base import (
    DOC_FOLDS_AND_MEMBERS,
    WeightedClassifierMixin,
    WeightedEnsemble,
    WeightedRegressorMixin,
)
from modelworks.ensemble._weights import ensemble_selection_weights

_SEEDED = ", of zoo members and of tie-breaking"
_DOC_PARAMS = """
    Each of ``n_iter`` greedy steps adds (with replacement) the member that most lowers the
    ``metric`` of the averaged out-of-fold predictions; the best prefix is kept and a member's
    weight is the share of picks it got. Members never picked get weight 0 (they are still
    refitted, so ``estimators_`` lines up with ``names_``).

    Parameters
    ----------
    estimators : list of (str, estimator or str)
        The library of candidates: estimators/pipelines or zoo names.
    n_iter : int, default=50
        Greedy picks (the largest ensemble size).
    metric : str, optional
        {metrics}
""" + DOC_FOLDS_AND_MEMBERS + """    weights_ : ndarray of shape (n_members,)
        Non-negative weights summing to 1; the output is ``sum_i weights_[i] * estimators_[i].{method}(X)``.
    history_ : list of float
        The out-of-fold loss after each greedy pick.
    oof_predictions_ : ndarray of shape (n_members, n_samples{oofshape})
"""


class _SelectionMixin:
    """What the two selections share: their parameters and the greedy weights."""

    def __init__(self, estimators, *, n_iter=50, metric=None, cv=5, random_state=0, seed="deprecated"):
        super().__init__(estimators, cv=cv, random_state=random_state, seed=seed)
        self.n_iter = n_iter
        self.metric = metric

    def _given_weights(self, names):
        return None

    def _check_params(self, task):
        from modelworks._validation import check_scalar
        from modelworks.ensemble._losses import get_loss
        from modelworks.exceptions import EnsembleError

        check_scalar(self.n_iter, f"{type(self).__name__}: n_iter", kind=int, low=1, error=EnsembleError)
        get_loss(self.metric, task)

    def _learn_weights(self, oof, y, task, names, classes):
        w, self.history_ = ensemble_selection_weights(
            oof, y, task, n_iter=self.n_iter, metric=self.metric, seed=self._random_state(), names=names,
            classes=classes, return_history=True)
        return w


class EnsembleSelectionClassifier(_SelectionMixin, WeightedClassifierMixin, ClassifierMixin, WeightedEnsemble):
    __doc__ = "Greedy ensemble selection over classifiers (blends predicted probabilities).\n" + _DOC_PARAMS.format(
        metrics="``log_loss`` (default), ``brier``, ``accuracy`` or ``roc_auc``.",
        strat=", stratified", method="predict_proba", oofshape=", n_classes", seeded=_SEEDED) + (
        "    classes_ : ndarray of shape (n_classes,)\n")


class EnsembleSelectionRegressor(_SelectionMixin, WeightedRegressorMixin, RegressorMixin, WeightedEnsemble):
    __doc__ = "Greedy ensemble selection over regressors.\n" + _DOC_PARAMS.format(
        metrics="``rmse`` (default), ``mse`` or ``mae``.", strat="", method="predict", oofshape="", seeded=_SEEDED)
