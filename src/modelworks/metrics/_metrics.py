"""Task metrics, computed the same way in compare, run, evaluate and the reports."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from modelworks.exceptions import ConfigError, DataError

# metrics computed from class probabilities: left out (not NaN) for a model without predict_proba
PROBA_METRICS = ("roc_auc", "log_loss", "brier")


class MetricError(DataError):
    """A metric cannot be computed on these predictions (the message says which and why)."""


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
        if len(classes) == 2:
            return m.roc_auc_score(y == classes[1], _proba_pos(proba))
        present = np.isin(classes, np.unique(y))
        if present.sum() < 2:
            raise ValueError("ROC AUC needs at least two classes present in the true labels")
        p = np.asarray(proba)[:, present]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        return m.roc_auc_score(y, p, multi_class="ovr", labels=np.asarray(classes)[present])

    def log_loss(y, pred, proba, classes):
        return m.log_loss(y, np.clip(np.asarray(proba), 1e-15, 1), labels=classes)

    def brier(y, pred, proba, classes):
        # scikit-learn's brier_score_loss (>= 1.7): binary, the mean squared error of the
        # positive-class probability (0..1); multiclass, the mean over rows of the sum over
        # classes of (p_k - 1[y = k])**2 (0..2)
        if len(classes) == 2:
            return m.brier_score_loss(y == classes[1], _proba_pos(proba))
        return m.brier_score_loss(y, np.asarray(proba), labels=list(classes))

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


def _labels_of(values) -> list:
    try:
        return list(np.unique(np.asarray(list(values))))
    except TypeError:  # labels of mixed types
        return sorted(set(values), key=str)


def _same_label_type(y_true, pred, classes):
    """Labels as arrays scikit-learn compares: one dtype for truth, predictions and classes.

    Out-of-fold or bootstrap labels often arrive as object arrays holding numbers while the
    truth is an integer array (a target coded 0/1); scikit-learn refuses to compare those.
    """
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    if classes is None:
        return y_true, pred, None
    classes = np.asarray(classes)
    if classes.dtype != object:
        try:
            return y_true.astype(classes.dtype), pred.astype(classes.dtype), classes
        except (TypeError, ValueError):
            pass
    # mixed or unconvertible labels: compare them as text
    as_text = np.asarray([str(c) for c in classes], dtype=object)
    return (np.asarray([str(v) for v in y_true], dtype=object), np.asarray([str(v) for v in pred], dtype=object),
            as_text)


def score_predictions(task: str, y_true, pred, proba=None, classes=None) -> dict[str, float]:
    """Every metric of ``task`` for one set of predictions (``proba`` columns follow ``classes``).

    Conventions are scikit-learn's (see :data:`PROBA_METRICS` for what needs probabilities:
    those are left out when ``proba`` is None). ``brier`` is ``brier_score_loss`` of the
    positive class for binary tasks and the multiclass Brier score (mean over rows of the sum
    over classes of squared errors, as scikit-learn >= 1.7 defines it) for multiclass.

    Raises
    ------
    MetricError
        A metric cannot be computed on these labels (e.g. ROC AUC with a single class present);
        the message names the metric and the reason. Never a silent NaN.
    """
    if task in ("binary", "multiclass"):
        if classes is None:
            if proba is not None:
                raise ConfigError("score_predictions needs classes= (the order of proba's columns)")
            classes = _labels_of(np.concatenate([np.asarray(y_true, dtype=object), np.asarray(pred, dtype=object)]))
        y_true, pred, classes = _same_label_type(y_true, pred, classes)
        if proba is not None and np.asarray(proba).ndim == 2 and np.asarray(proba).shape[1] != len(classes):
            raise ConfigError(f"proba has {np.asarray(proba).shape[1]} columns but there are {len(classes)} classes")
    else:
        y_true = np.asarray(y_true)
        pred = np.asarray(pred)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in metric_functions(task).items():
            if proba is None and name in PROBA_METRICS:
                continue
            try:
                value = float(fn(y_true, pred, proba, classes))
            except (ValueError, TypeError) as e:
                raise MetricError(
                    f"metric '{name}' cannot be computed on these {len(y_true)} rows: {e}"
                ) from e
            if not np.isfinite(value):
                raise MetricError(f"metric '{name}' is {value} on these {len(y_true)} rows (check the predictions "
                                  "for NaN or infinite values)")
            out[name] = value
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
    if task in ("binary", "multiclass") and classes is not None:
        y_true, pred, classes = _same_label_type(y_true, pred, classes)
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    n = len(y_true)
    fns = metric_functions(task)
    samples: dict[str, list[float]] = {k: [] for k in fns if proba is not None or k not in PROBA_METRICS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            idx = rng.integers(0, n, n)
            p = None if proba is None else np.asarray(proba)[idx]
            for name, fn in fns.items():
                if name not in samples:
                    continue
                try:
                    samples[name].append(float(fn(y_true[idx], pred[idx], p, classes)))
                except ValueError:  # a resample without one of the classes: that draw is left out
                    pass
    alpha = (1 - level) / 2
    out = {}
    for name, vals in samples.items():
        vals = np.asarray([v for v in vals if np.isfinite(v)])
        out[name] = (float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha))) if len(vals) else (np.nan, np.nan)
    return out
