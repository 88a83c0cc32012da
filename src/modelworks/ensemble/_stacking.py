"""Stacking: scikit-learn's stacking estimators, with zoo names as members and clearer errors.

The meta-learner is trained on out-of-fold predictions of the members (scikit-learn's
``cross_val_predict`` inside ``fit``), so the training rows it learns from were never seen by the
member that predicted them. A second level is a stack as ``final_estimator``::

    StackingClassifier(
        [("rf", "rf"), ("svm", "svm")],
        final_estimator=StackingClassifier([("lr", "logreg"), ("knn", "knn")]),
    )

Fitted attributes keep scikit-learn's names: ``estimators_``, ``named_estimators_``,
``final_estimator_``, ``stack_method_``.
"""

from __future__ import annotations

from sklearn import ensemble as _sk
from sklearn.base import clone
from sklearn.utils.multiclass import type_of_target

from modelworks.ensemble._members import build_member, check_members, classifier_task
from modelworks.exceptions import EnsembleError


def _constraints(base):
    from modelworks._compat.sklearn import has_methods, parameter_constraints

    return {**parameter_constraints(base), "final_estimator": [None, has_methods("fit"), str]}


class _ZooStackMixin:
    """Resolve zoo names (members and ``final_estimator``) when ``fit`` knows the task and data."""

    _kind = "regressor"

    def _validate_estimators(self):
        owner = type(self).__name__
        items = list(self.estimators.items()) if isinstance(self.estimators, dict) else self.estimators
        kept = [(n, e) for n, e in (items or []) if not (isinstance(e, str) and e == "drop")]
        check_members(kept if len(kept) >= 2 else items, owner, kind=self._kind)
        if len(kept) < 2:
            raise EnsembleError(f"{owner} needs at least 2 members that are not 'drop', got {len(kept)}")
        names, specs = zip(*items)
        task, X, seed = getattr(self, "_resolve_with", (None, None, 0))
        specs = tuple(
            s if not isinstance(s, str) or s == "drop" else build_member(s, task=task, X=X, seed=seed)
            for s in specs
        )
        return names, specs

    def _validate_final_estimator(self):
        if isinstance(self.final_estimator, str):
            task, X, seed = getattr(self, "_resolve_with", (None, None, 0))
            from modelworks.models import get_model

            self.final_estimator_ = clone(get_model(self.final_estimator, task, seed=seed))
            return
        super()._validate_final_estimator()

    def _fit_resolving(self, fit, X, y, task, **fit_params):
        self._resolve_with = (task, X, getattr(self, "_seed", 0))
        try:
            return fit(X, y, **fit_params)
        finally:
            del self._resolve_with


class StackingClassifier(_ZooStackMixin, _sk.StackingClassifier):
    """Stack classifiers under a meta-learner trained on their out-of-fold predictions.

    scikit-learn's :class:`sklearn.ensemble.StackingClassifier` (same parameters and fitted
    attributes) that also accepts zoo names as members or ``final_estimator`` (e.g.
    ``[("rf", "rf"), ("svm", "svm")]``), needs at least 2 members and rejects regressors.

    Parameters
    ----------
    estimators : list of (str, estimator or str)
    final_estimator : estimator or str, optional
        Default ``LogisticRegression()``. Another :class:`StackingClassifier` makes a second level.
    cv : int, CV splitter or "prefit", optional
        Folds for the out-of-fold predictions (default 5, stratified).
    stack_method : {"auto", "predict_proba", "decision_function", "predict"}
    n_jobs : int, optional
    passthrough : bool, default=False
        Also give the original features to the meta-learner (needs numeric features).
    verbose : int, default=0
    """

    _kind = "classifier"
    _parameter_constraints = _constraints(_sk.StackingClassifier)

    def fit(self, X, y, **fit_params):
        """Fit the members on all of ``X`` and the meta-learner on their out-of-fold predictions."""
        target = type_of_target(y)
        import numpy as np

        n = len(np.unique(np.asarray(y))) if target in ("binary", "multiclass") else 2
        return self._fit_resolving(super().fit, X, y, classifier_task(n), **fit_params)


class StackingRegressor(_ZooStackMixin, _sk.StackingRegressor):
    """Stack regressors under a meta-learner trained on their out-of-fold predictions.

    scikit-learn's :class:`sklearn.ensemble.StackingRegressor` (same parameters and fitted
    attributes) that also accepts zoo names as members or ``final_estimator``, needs at least 2
    members and rejects classifiers.

    Parameters
    ----------
    estimators, final_estimator, cv, n_jobs, passthrough, verbose
        As in :class:`StackingClassifier` (folds not stratified); ``final_estimator`` defaults
        to ``RidgeCV()``, and another :class:`StackingRegressor` makes a second level.
    """

    _kind = "regressor"
    _parameter_constraints = _constraints(_sk.StackingRegressor)

    def fit(self, X, y, **fit_params):
        """Fit the members on all of ``X`` and the meta-learner on their out-of-fold predictions."""
        return self._fit_resolving(super().fit, X, y, "regression", **fit_params)
