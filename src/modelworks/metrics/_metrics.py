"""Task metrics, computed the same way in compare, run, evaluate and the reports."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from modelworks.exceptions import ConfigError

# the metric that ranks models, as a scikit-learn scorer name (higher is better)
PRIMARY = {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "neg_root_mean_squared_error"}
# the same, as the key of score_predictions' result and whether higher is better
PRIMARY_KEY = {"binary": ("roc_auc", True), "multiclass": ("log_loss", False), "regression": ("rmse", False)}


def _proba_pos(proba):
    proba = np.asarray(proba)
    return proba[:, 1] if proba.ndim == 2 else proba


def _cls_metrics() -> dict[str, Callable]:
    from sklearn import metrics as m

    def roc_auc(y, pred, proba, classes):
        if proba is None:
            return np.nan
        if len(classes) == 2:
            return m.roc_auc_score(y == classes[1], _proba_pos(proba))
        present = np.isin(classes, np.unique(y))
        if present.sum() < 2:
            return np.nan
        p = np.asarray(proba)[:, present]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        return m.roc_auc_score(y, p, multi_class="ovr", labels=np.asarray(classes)[present])

    def log_loss(y, pred, proba, classes):
        if proba is None:
            return np.nan
        return m.log_loss(y, np.clip(np.asarray(proba), 1e-15, 1), labels=classes)

    def brier(y, pred, proba, classes):
        if proba is None:
            return np.nan
        onehot = (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(float)
        return float(np.mean(np.sum((np.asarray(proba) - onehot) ** 2, axis=1)))

    def f1(y, pred, proba, classes):
        if len(classes) == 2:
            return m.f1_score(y, pred, pos_label=classes[1], zero_division=0)
        return m.f1_score(y, pred, average="macro", zero_division=0)

    return {
        "accuracy": lambda y, pred, proba, classes: m.accuracy_score(y, pred),
        "balanced_accuracy": lambda y, pred, proba, classes: m.balanced_accuracy_score(y, pred),
        "f1": f1,
        "roc_auc": roc_auc,
        "log_loss": log_loss,
        "brier": brier,
    }


def _reg_metrics() -> dict[str, Callable]:
    from sklearn import metrics as m

    return {
        "rmse": lambda y, pred, *_: float(np.sqrt(m.mean_squared_error(y, pred))),
        "mae": lambda y, pred, *_: m.mean_absolute_error(y, pred),
        "r2": lambda y, pred, *_: m.r2_score(y, pred),
    }


HIGHER_IS_BETTER = {
    "accuracy": True, "balanced_accuracy": True, "f1": True, "roc_auc": True,
    "log_loss": False, "brier": False, "rmse": False, "mae": False, "r2": True,
}


def metric_functions(task: str) -> dict[str, Callable]:
    """``{name: f(y_true, pred, proba, classes)}`` for a task."""
    if task in ("binary", "multiclass"):
        return _cls_metrics()
    if task == "regression":
        return _reg_metrics()
    raise ConfigError(f"unknown task {task!r}; use binary, multiclass or regression")


def score_predictions(task: str, y_true, pred, proba=None, classes=None) -> dict[str, float]:
    """Every metric of ``task`` for one set of predictions (``proba`` columns follow ``classes``)."""
    y_true = np.asarray(y_true)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in metric_functions(task).items():
            try:
                out[name] = float(fn(y_true, np.asarray(pred), proba, classes))
            except ValueError:
                out[name] = float("nan")
    return out


def predict_outputs(model, X, task: str):
    """``(pred, proba, classes)`` of a fitted model; proba is None when it has no predict_proba."""
    pred = np.asarray(model.predict(X))
    if task == "regression":
        return pred, None, None
    classes = np.asarray(getattr(model, "classes_", np.unique(pred)))
    proba = None
    if hasattr(model, "predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(X))
        except (AttributeError, NotImplementedError):
            proba = None
    return pred, proba, classes


def bootstrap_ci(task: str, y_true, pred, proba=None, classes=None, *, n_boot: int = 500,
                 level: float = 0.95, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence intervals of every metric (rows resampled with replacement)."""
    rng = np.random.default_rng(seed)
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    n = len(y_true)
    fns = metric_functions(task)
    samples: dict[str, list[float]] = {k: [] for k in fns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            idx = rng.integers(0, n, n)
            p = None if proba is None else np.asarray(proba)[idx]
            for name, fn in fns.items():
                try:
                    samples[name].append(float(fn(y_true[idx], pred[idx], p, classes)))
                except ValueError:
                    pass
    alpha = (1 - level) / 2
    out = {}
    for name, vals in samples.items():
        vals = np.asarray([v for v in vals if np.isfinite(v)])
        out[name] = (float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha))) if len(vals) else (np.nan, np.nan)
    return out
