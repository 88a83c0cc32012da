"""The job behind ``modelworks abtest``: two saved models compared on the rows of a table."""

from __future__ import annotations

import numpy as np

from modelworks.exceptions import ColumnError, ConfigError, MonitorError, UnknownNameError
from modelworks.monitor._abtest_result import ComparisonResult


def abtest(
    data,
    target: str,
    model_a,
    model_b,
    *,
    test: str | None = None,
    metric: str | None = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> ComparisonResult:
    """Is model B better than model A on ``data``? Load both, predict, test the difference.

    Parameters
    ----------
    data : path or DataFrame
        Features and the target (rows with a missing target are left out).
    target : str
        The target column.
    model_a, model_b : path, ``models:/NAME@ALIAS`` or Package
        The two models (package directory or ``.mwpkg``, a registry reference, or a loaded
        :class:`modelworks.package.Package`).
    test : {"mcnemar", "bootstrap", "cv"}, optional
        Default: ``mcnemar`` for classifiers, ``bootstrap`` for regression. ``cv`` refits both
        models by repeated cross-validation (Nadeau-Bengio corrected t-test).
    metric : str, optional
        Bootstrap: one of :data:`modelworks.monitor.METRICS`; cv: a scikit-learn scorer name.
    alpha : float
        Significance level of the verdict.
    seed : int
        Seed of the bootstrap resamples or the cross-validation splits.

    Returns
    -------
    ComparisonResult
        ``.verdict`` is a plain sentence; ``write(out_dir)`` writes ``abtest.json`` and
        ``report.html``.

    Raises
    ------
    ColumnError
        ``target`` or a feature column the models need is missing.
    ConfigError
        McNemar on a regression target, or an unknown metric.
    MonitorError
        ``data`` has labels a model never saw, or the models order their classes differently.
    """
    from modelworks._resolve import load_ref
    from modelworks.data import check_target, infer_task, load_table

    frame = load_table(data, name="data")
    if target not in frame.columns:
        raise ColumnError(
            f"target column '{target}' not found; columns are: {', '.join(map(str, frame.columns[:30]))}",
            param="target", fix="use {} NAME",
        )
    frame = check_target(frame, target, missing="drop")  # the data spine's one target check
    y, X = frame[target], frame.drop(columns=[target])
    task = infer_task(y)
    test = test or ("bootstrap" if task == "regression" else "mcnemar")
    if test not in ("mcnemar", "bootstrap", "cv"):
        raise UnknownNameError(f"unknown test {test!r}; choose one of: mcnemar, bootstrap, cv")
    if test == "mcnemar" and task == "regression":
        raise ConfigError("McNemar's test is for classifiers (right/wrong)",
                          param="test", fix="use {} bootstrap or cv for regression")
    a, b = load_ref(model_a), load_ref(model_b)
    names = (_name(model_a, "A"), _name(model_b, "B"))
    if names[0] == names[1]:
        names = (names[0] + " (A)", names[1] + " (B)")
    classes = None if task == "regression" else _classes(y, ((model_a, a), (model_b, b)))
    if test == "cv":
        return _cv(a, b, X, y, metric=metric, names=names, alpha=alpha, seed=seed)
    from modelworks.monitor import METRICS, compare_predictions

    if metric is not None and metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    if metric and METRICS[metric].kind in ("proba", "score"):
        pa, pb = (np.asarray(m.predict_proba(X, ignore_extra=True)) for m in (a, b))
        if np.asarray(b.model.classes_).tolist() != np.asarray(a.model.classes_).tolist():
            raise MonitorError(
                "the two models order their classes differently; probabilities cannot be compared"
            )
    else:
        pa, pb = (np.asarray(m.predict(X, ignore_extra=True)) for m in (a, b))
    return compare_predictions(y.to_numpy(), pa, pb, test=test, metric=metric, names=names,
                          alpha=alpha, labels=classes, seed=seed)


def _classes(y, loaded):
    """The classes the models know; ``data`` may hold no label outside them."""
    classes = None
    for ref, model in loaded:
        known = getattr(getattr(model, "model", model), "classes_", None)
        if known is None:
            continue
        unseen = sorted(set(y.tolist()) - set(np.asarray(known).tolist()), key=str)
        if unseen:
            raise MonitorError(
                f"DATA has labels model {_shown(ref)} never saw: {', '.join(map(repr, unseen[:10]))} "
                f"(it knows: {', '.join(map(repr, list(known)[:20]))}); drop those rows"
            )
        classes = np.asarray(known)
    return classes


def _cv(a, b, X, y, *, metric, names, alpha, seed) -> ComparisonResult:
    from sklearn.base import clone

    from modelworks.monitor._abtest_cv import compare_estimators

    features = list(dict.fromkeys([*getattr(a, "features", []), *getattr(b, "features", [])]))
    features = features or list(X.columns)
    missing = [c for c in features if c not in X.columns]
    if missing:
        raise ColumnError(f"DATA lacks feature column(s) the models need: {', '.join(missing[:10])}")
    return compare_estimators(clone(a.model), clone(b.model), X[features], y, scoring=metric, names=names,
                      alpha=alpha, seed=seed)


def _shown(ref) -> str:
    return str(getattr(ref, "path", ref))


def _name(ref, default: str) -> str:
    from modelworks._resolve import ref_label

    return ref_label(_shown(ref), default)  # a loaded package is named by its path
