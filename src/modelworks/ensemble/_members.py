"""Ensemble members: validate ``[(name, estimator_or_zoo_name)]`` and build the estimators."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor

from modelworks.exceptions import EnsembleError

_KIND_CHECK = {"classifier": is_classifier, "regressor": is_regressor}


_SCALE_SENSITIVE = {"linear", "kernel", "neighbors", "neural"}


def wrap_for_data(X, estimator, *, family: str = "other"):
    """Put preprocessing in front of a zoo model when ``X`` or the model needs it.

    A DataFrame with non-numeric columns or missing values gets
    :func:`modelworks.data.make_pipeline` (impute, scale, one-hot). Scale-sensitive models
    (``family`` linear, kernel, neighbors, neural) are always standardised: through
    ``make_pipeline`` for a DataFrame, a ``StandardScaler`` for an array. Trees on numeric data
    get the data as it is. This is the one place that decides it.
    """
    import pandas as pd

    scale = family in _SCALE_SENSITIVE
    if not isinstance(X, pd.DataFrame):
        if not scale:
            return estimator
        from sklearn.pipeline import make_pipeline as sk_make_pipeline
        from sklearn.preprocessing import StandardScaler

        return sk_make_pipeline(StandardScaler(), estimator)
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in X.dtypes)
    if numeric and not scale and not X.isna().to_numpy().any():
        return estimator
    from modelworks.data import make_pipeline

    return make_pipeline(X, estimator)


def check_members(estimators, owner: str, *, kind: str):
    """Validate the ``estimators`` parameter; return ``(names, specs)``.

    ``specs`` are estimators or zoo names, in order. Raises :class:`EnsembleError` for fewer than
    2 members, bad or duplicate names, and members of the wrong kind (a regressor in a classifier
    ensemble and the reverse).
    """
    if isinstance(estimators, dict):
        estimators = list(estimators.items())
    if estimators is None or isinstance(estimators, str | bytes) or not hasattr(estimators, "__iter__"):
        raise EnsembleError(
            f"{owner}: estimators must be a list of (name, estimator or zoo name) pairs, "
            f"got {type(estimators).__name__}"
        )
    items = list(estimators)
    for item in items:
        if not (isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str)):
            raise EnsembleError(
                f"{owner}: each member must be a (name, estimator or zoo name) pair, got {item!r}"
            )
    if len(items) < 2:
        got = ", ".join(repr(n) for n, _ in items) or "none"
        raise EnsembleError(
            f"{owner} needs at least 2 members, got {len(items)} ({got}); "
            "add another, e.g. estimators=[('rf', 'rf'), ('logreg', 'logreg')]"
        )
    names = [n for n, _ in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise EnsembleError(f"{owner}: member names must be unique; repeated: {', '.join(dup)}")
    bad = [n for n in names if "__" in n]
    if bad:
        raise EnsembleError(f"{owner}: member names must not contain '__': {', '.join(bad)}")
    check = _KIND_CHECK[kind]
    for name, spec in items:
        if isinstance(spec, str):
            continue
        if not (hasattr(spec, "fit") and hasattr(spec, "get_params")):
            raise EnsembleError(
                f"{owner}: member '{name}' must be a scikit-learn estimator or a zoo model name, "
                f"got {type(spec).__name__}"
            )
        if not check(spec):
            other = "regressor" if kind == "classifier" else "classifier"
            fix = "Regressor" if kind == "classifier" else "Classifier"
            raise EnsembleError(
                f"{owner}: member '{name}' ({type(spec).__name__}) is a {other} but this ensemble "
                f"combines {kind}s; use a {kind} or the {owner.replace('Classifier', '').replace('Regressor', '')}{fix} "
                "for this task"
            )
    return names, [spec for _, spec in items]


def classifier_task(n_classes: int) -> str:
    return "binary" if n_classes <= 2 else "multiclass"


def build_member(spec, *, task: str, X, seed: int = 0):
    """An unfitted estimator for one member spec: clone it, or build a zoo model for ``task``."""
    if isinstance(spec, str):
        from modelworks.models import get_entry, get_model

        return wrap_for_data(X, get_model(spec, task, seed=seed), family=get_entry(spec).family)
    return clone(spec)


def check_proba(name: str, estimator, owner: str) -> None:
    """Blending classifiers averages probabilities: refuse members that cannot give them."""
    if not hasattr(estimator, "predict_proba"):
        inner = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        raise EnsembleError(
            f"{owner}: member '{name}' ({type(inner).__name__}) cannot predict probabilities, "
            "which blending needs; use a model with predict_proba (e.g. 'logreg', 'rf') or wrap it "
            "in sklearn.calibration.CalibratedClassifierCV(model, ensemble=False)"
        )


def check_fitted_classes(names, estimators, owner: str, classes=None):
    """All fitted classifier members must know the same classes; return them."""
    found = []
    for name, est in zip(names, estimators):
        c = getattr(est, "classes_", None)
        if c is None:
            raise EnsembleError(
                f"{owner}: member '{name}' ({type(est).__name__}) has no classes_; it is not a fitted "
                "classifier (was it fitted on a regression task?)"
            )
        found.append(np.asarray(c))
    ref = np.asarray(classes) if classes is not None else found[0]
    for name, c in zip(names, found):
        if len(c) != len(ref) or not np.array_equal(c, ref):
            raise EnsembleError(
                f"{owner}: member '{name}' was fitted on classes {c.tolist()[:10]} but the ensemble's "
                f"classes are {ref.tolist()[:10]}; fit all members on the same target"
            )
    return ref
