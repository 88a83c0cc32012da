"""Losses an ensemble minimises on out-of-fold predictions, and scores for reports.

Everything here works on *prediction arrays*, never on estimators: classifiers give
probabilities of shape ``(n_samples, n_classes)`` with ``y`` as class indices, regressors give
values of shape ``(n_samples,)``. Losses are "lower is better". Reports score with
:mod:`modelworks.metrics`, like the rest of modelworks.
"""

from __future__ import annotations

import numpy as np

from modelworks.data._task import TASK_NAMES
from modelworks.exceptions import EnsembleError, UnknownNameError

EPS = 1e-15
CLASSIFICATION = ("binary", "multiclass")
TASKS = TASK_NAMES


def _log_loss(y, P):
    p = np.clip(P[np.arange(len(y)), y], EPS, 1.0)
    return float(-np.mean(np.log(p)))


def _brier(y, P):
    onehot = np.zeros_like(P)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((P - onehot) ** 2, axis=1)))


def _error_rate(y, P):
    return float(np.mean(np.argmax(P, axis=1) != y))


def _one_minus_auc(y, P):
    from sklearn.metrics import roc_auc_score

    if P.shape[1] == 2:
        return 1.0 - float(roc_auc_score(y, P[:, 1]))
    P = P / np.clip(P.sum(axis=1, keepdims=True), EPS, None)
    return 1.0 - float(roc_auc_score(y, P, multi_class="ovr", labels=np.arange(P.shape[1])))


def _mse(y, p):
    return float(np.mean((p - y) ** 2))


def _rmse(y, p):
    return float(np.sqrt(np.mean((p - y) ** 2)))


def _mae(y, p):
    return float(np.mean(np.abs(p - y)))


# metric name -> (loss function, tasks it applies to); losses are minimised
LOSSES = {
    "log_loss": (_log_loss, CLASSIFICATION),
    "brier": (_brier, CLASSIFICATION),
    "accuracy": (_error_rate, CLASSIFICATION),
    "roc_auc": (_one_minus_auc, CLASSIFICATION),
    "mse": (_mse, ("regression",)),
    "rmse": (_rmse, ("regression",)),
    "mae": (_mae, ("regression",)),
}
DEFAULT_METRIC = {"binary": "log_loss", "multiclass": "log_loss", "regression": "rmse"}


def check_task(task) -> str:
    if task not in TASKS:
        raise EnsembleError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return task


def get_loss(metric: str | None, task: str):
    """The loss function named ``metric`` for ``task`` (``None``: log-loss or RMSE)."""
    metric = DEFAULT_METRIC[task] if metric is None else metric
    if metric not in LOSSES:
        known = [m for m, (_, tasks) in LOSSES.items() if task in tasks]
        raise UnknownNameError(f"unknown ensemble metric {metric!r}; for {task} use one of: {', '.join(known)}")
    fn, tasks = LOSSES[metric]
    if task not in tasks:
        known = [m for m, (_, t) in LOSSES.items() if task in t]
        raise EnsembleError(f"metric {metric!r} does not apply to {task}; use one of: {', '.join(known)}")
    return fn


def encode_target(y, task: str, classes=None):
    """``y`` as class indices (classification, with the classes) or floats (regression)."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.ravel()
    if task == "regression":
        try:
            return y.astype(float), None
        except (TypeError, ValueError) as e:
            raise EnsembleError(f"a regression target must be numeric, got values like {y[:3].tolist()}") from e
    if classes is None:
        classes = np.unique(y)
    classes = np.asarray(classes)
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, len(classes) - 1)
    if not np.array_equal(classes[idx], y):
        unknown = sorted(set(y.tolist()) - set(classes.tolist()), key=str)[:5]
        raise EnsembleError(f"target has classes the members were not trained on: {unknown}")
    return idx, classes
