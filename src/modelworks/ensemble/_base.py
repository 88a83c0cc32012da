"""The weighted ensemble both blending and ensemble selection are: ``sum_i w_i * member_i(X)``."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from modelworks._compat.sklearn import BaseHeterogeneousEnsemble  # sklearn's own base for Voting*
from modelworks._deprecation import RandomStateAlias
from modelworks._validation import check_scalar
from modelworks.ensemble._members import (
    build_member,
    check_fitted_classes,
    check_members,
    check_proba,
    classifier_task,
)
from modelworks.exceptions import EnsembleError

# the part of the blends' and the selections' docstrings they share (``str.format`` fields:
# ``strat``, ``seeded``)
DOC_FOLDS_AND_MEMBERS = """    cv : int or CV splitter, default=5
        Folds for the out-of-fold predictions (shuffled{strat} with ``random_state``).
    random_state : int, default=0
        Seed of the folds{seeded}.
    seed : int, optional
        Deprecated name of ``random_state`` (until modelworks 0.3; warns).

    Attributes
    ----------
    estimators_ : list of estimators
        The members refitted on all the training data, in the order of ``names_``.
    names_ : list of str
"""


def make_cv(cv, *, classifier: bool, seed: int, owner: str):
    """A shuffled (stratified for classifiers) K-fold for an int, or ``cv`` as given."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = check_scalar(cv, f"{owner}: cv", kind=int, low=2, error=EnsembleError)
        return (StratifiedKFold if classifier else KFold)(cv, shuffle=True, random_state=seed)
    if cv is None or isinstance(cv, str | float | bool):
        raise EnsembleError(f"{owner}: cv must be a number of folds >= 2 or a CV splitter, got {cv!r}")
    return cv


def oof_predictions(members, X, y, *, classifier: bool, cv, seed: int = 0, names=None, owner="ensemble"):
    """Out-of-fold predictions of each unfitted member: probabilities or values, one array each."""
    from sklearn.model_selection import cross_val_predict

    splitter = make_cv(cv, classifier=classifier, seed=seed, owner=owner)
    folds = list(splitter.split(X, y)) if hasattr(splitter, "split") else list(splitter)
    method = "predict_proba" if classifier else "predict"
    out = []
    for i, est in enumerate(members):
        try:
            out.append(cross_val_predict(clone(est), X, y, cv=folds, method=method))
        except ValueError as e:
            name = names[i] if names else f"member {i}"
            if "cross_val_predict only works for partitions" in str(e):
                raise EnsembleError(f"{owner}: cv must split every row into exactly one test fold") from e
            raise type(e)(f"member '{name}': {e}") from e
    return out, folds


def check_weights(weights, names, owner: str) -> np.ndarray:
    """Validate user-given weights: one per member, finite, non-negative, not all zero."""
    try:
        w = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError) as e:
        raise EnsembleError(f"{owner}: weights must be numbers, got {weights!r}") from e
    if len(w) != len(names):
        raise EnsembleError(
            f"{owner}: got {len(w)} weights for {len(names)} members ({', '.join(names)}); "
            "give one weight per member, or none to learn them on out-of-fold predictions"
        )
    if not np.all(np.isfinite(w)):
        raise EnsembleError(f"{owner}: weights must be finite, got {w.tolist()}")
    if np.any(w < 0):
        bad = [f"{n}={x:g}" for n, x in zip(names, w) if x < 0]
        raise EnsembleError(f"{owner}: weights must be non-negative, got {', '.join(bad)}")
    if w.sum() <= 0:
        raise EnsembleError(f"{owner}: weights are all zero; give at least one positive weight")
    return w / w.sum()


class WeightedEnsemble(RandomStateAlias, BaseHeterogeneousEnsemble):
    """Base of blends and ensemble selections: fitted members and weights summing to 1.

    Subclasses define ``__init__`` (their parameters: they store their own and hand the shared
    ones to this ``__init__``) and ``_learn_weights(oof, y, task, names, classes)``; ``_kind`` is
    ``"classifier"`` or ``"regressor"``.
    """

    _kind = "regressor"

    def __init__(self, estimators, *, cv=5, random_state=0, seed="deprecated"):
        super().__init__(estimators)
        self.cv = cv
        self.random_state = random_state
        self.seed = seed

    def _learn_weights(self, oof, y, task, names, classes):  # pragma: no cover - abstract
        raise NotImplementedError

    def _given_weights(self, names):
        return None  # learn them

    def _check_params(self, task):
        """Validate the subclass's own parameters before any member is fitted."""

    # -- fitting -------------------------------------------------------------------------------
    def _validate_estimators(self):
        names, specs = check_members(self.estimators, type(self).__name__, kind=self._kind)
        return names, specs

    def fit(self, X, y):
        """Learn the weights on out-of-fold predictions (unless given), then refit every member.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        owner = type(self).__name__
        names, specs = self._validate_estimators()
        validate_data(self, X, reset=True, skip_check_array=True)
        if y is None:
            raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        classifier = self._kind == "classifier"
        seed = self._random_state()
        if classifier:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            task = classifier_task(len(self.classes_))
        else:
            y = y.astype(float)
            if not np.all(np.isfinite(y)):
                raise ValueError(f"{owner}: y contains NaN or infinity.")
            task = "regression"
        self._check_params(task)
        members = [build_member(spec, task=task, X=X, seed=seed) for spec in specs]
        if classifier:
            for name, est in zip(names, members):
                check_proba(name, est, owner)
        weights = self._given_weights(names)
        self.oof_predictions_ = None
        if weights is None:
            oof, _ = oof_predictions(members, X, y, classifier=classifier, cv=self.cv, seed=seed,
                                     names=names, owner=owner)
            weights = self._learn_weights(oof, y, task, names, getattr(self, "classes_", None))
            self.oof_predictions_ = np.stack([np.asarray(p, dtype=float) for p in oof])
        self.estimators_ = [clone(est).fit(X, y) for est in members]
        self.names_ = list(names)
        self.weights_ = np.asarray(weights, dtype=float)
        return self

    @classmethod
    def from_fitted(cls, names, fitted_estimators, weights, *, classes=None, **params):
        """Build a fitted ensemble from members that are already fitted, without refitting.

        Use it with weights learned on out-of-fold predictions you already have
        (:func:`learn_blend_weights`, :func:`ensemble_selection_weights`).

        Parameters
        ----------
        names : list of str
        fitted_estimators : list of fitted estimators, same order as ``names``
        weights : array-like
            Non-negative, one per member; normalised to sum to 1.
        classes : array-like, optional
            Classifiers: the class labels (default: the first member's ``classes_``).
        **params
            Other constructor parameters (e.g. ``cv``, ``random_state``) to record.

        Returns
        -------
        A fitted ensemble whose output is ``sum_i weights_[i] * member_i(X)``.
        """
        names = list(names)
        fitted = list(fitted_estimators)
        if len(names) != len(fitted):
            raise EnsembleError(f"{cls.__name__}.from_fitted: {len(names)} names for {len(fitted)} estimators")
        obj = cls(estimators=list(zip(names, fitted)), **params)
        check_members(obj.estimators, cls.__name__, kind=cls._kind)
        w = check_weights(weights, names, cls.__name__)
        for name, est in zip(names, fitted):
            try:
                check_is_fitted(est)
            except Exception as e:
                raise EnsembleError(
                    f"{cls.__name__}.from_fitted: member '{name}' ({type(est).__name__}) is not fitted; "
                    "fit it first, or use fit() to fit all members"
                ) from e
        if cls._kind == "classifier":
            for name, est in zip(names, fitted):
                check_proba(name, est, cls.__name__)
            obj.classes_ = check_fitted_classes(names, fitted, cls.__name__, classes)
        else:
            odd = [n for n, e in zip(names, fitted) if hasattr(e, "classes_")]
            if odd:
                raise EnsembleError(
                    f"{cls.__name__}.from_fitted: member '{odd[0]}' was fitted as a classifier "
                    "(it has classes_); a regression ensemble needs regressors"
                )
        first = fitted[0]
        if hasattr(first, "n_features_in_"):
            obj.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            obj.feature_names_in_ = first.feature_names_in_
        obj.estimators_ = fitted
        obj.names_ = names
        obj.weights_ = w
        obj.oof_predictions_ = None
        return obj

    # -- predicting ----------------------------------------------------------------------------
    def _combine(self, X, method: str):
        check_is_fitted(self, "weights_")
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) != 2:
            raise ValueError(
                f"Expected 2D array, got {len(shape)}D array instead. Reshape your data with "
                "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample."
            )
        if hasattr(self, "n_features_in_"):
            validate_data(self, X, reset=False, skip_check_array=True)
        total = None
        for w, est in zip(self.weights_, self.estimators_):
            if w == 0:  # contributes exactly nothing: skip the work
                continue
            part = w * np.asarray(getattr(est, method)(X), dtype=float)
            total = part if total is None else total + part
        return total

    @property
    def named_estimators_(self):
        """The fitted members by name."""
        from sklearn.utils import Bunch

        check_is_fitted(self, "weights_")
        return Bunch(**dict(zip(self.names_, self.estimators_)))

    def weights_table(self):
        """``{member name: weight}`` of the fitted ensemble."""
        check_is_fitted(self, "weights_")
        return {n: float(w) for n, w in zip(self.names_, self.weights_)}


class WeightedClassifierMixin:
    """``predict_proba`` is the weighted sum of the members'; ``predict`` its argmax."""

    _kind = "classifier"

    def predict_proba(self, X):
        """``sum_i weights_[i] * estimators_[i].predict_proba(X)``, shape (n_samples, n_classes)."""
        return self._combine(X, "predict_proba")

    def predict(self, X):
        """The class with the highest blended probability."""
        check_is_fitted(self, "weights_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class WeightedRegressorMixin:
    """``predict`` is the weighted sum of the members' predictions."""

    _kind = "regressor"

    def predict(self, X):
        """``sum_i weights_[i] * estimators_[i].predict(X)``, shape (n_samples,)."""
        return self._combine(X, "predict")
