"""A/B comparison of two models with the test that fits the question.

* McNemar (statsmodels): exact binomial when there are few discordant pairs, continuity-corrected
  chi-squared otherwise; reports the discordant counts and the accuracy difference with a CI.
* Paired bootstrap (``scipy.stats.bootstrap(paired=True)``): a CI and p-value for the difference
  in any metric (accuracy, AUC, log-loss, RMSE, MAE) on the same rows.
* Nadeau-Bengio corrected resampled t-test: two models compared by repeated cross-validation on
  the same folds, with the variance inflated for the overlap of training sets (the test here,
  the cross-validation runner in ``_abtest_cv``).

The result is :class:`~modelworks.monitor._abtest_result.ComparisonResult`; the job behind
``modelworks abtest`` (two packages on a table) is ``_abtest_job.abtest``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelworks._validation import check_scalar
from modelworks.exceptions import ConfigError, MonitorError, UnknownNameError
from modelworks.monitor._abtest_result import ComparisonResult

MCNEMAR_EXACT_BELOW = 25  # discordant pairs; below this the chi-squared approximation is poor


def _acc(y, p):
    return (np.asarray(y) == np.asarray(p)).astype(float)


def _sq(y, p):
    return (np.asarray(y, float) - np.asarray(p, float)) ** 2


def _abs(y, p):
    return np.abs(np.asarray(y, float) - np.asarray(p, float))


def _nll(y, p):
    p = np.clip(np.asarray(p, float), 1e-15, 1 - 1e-15)
    return -np.log(p)  # p is the probability given to the true class (see _true_class_proba)


@dataclass(frozen=True)
class Metric:
    """A metric for the bootstrap: per-row loss + how rows combine, or a whole-sample scorer."""

    name: str
    kind: str  # "label" | "proba" | "score" | "regression"
    higher_is_better: bool
    points: bool  # report differences in percentage points
    per_row: Any = None  # (y, pred) -> per-row values; the metric is a function of their mean
    finish: Any = None  # mean -> metric (e.g. sqrt for RMSE)


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "label", True, True, _acc),
    "error_rate": Metric("error_rate", "label", False, True, lambda y, p: 1 - _acc(y, p)),
    "log_loss": Metric("log_loss", "proba", False, False, _nll),
    "roc_auc": Metric("roc_auc", "score", True, True),
    "rmse": Metric("rmse", "regression", False, False, _sq, np.sqrt),
    "mse": Metric("mse", "regression", False, False, _sq),
    "mae": Metric("mae", "regression", False, False, _abs),
}


# ----------------------------------------------------------------------------- input checks
def _vector(x, name: str) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise MonitorError(f"{name} must be an array of predictions, got a single value")
    return arr


def _check(y_true, pred_a, pred_b, names):
    y = _vector(y_true, "y_true").ravel() if np.ndim(y_true) <= 1 else _vector(y_true, "y_true")
    pa, pb = (
        _vector(pred_a, f"predictions of {names[0]}"),
        _vector(pred_b, f"predictions of {names[1]}"),
    )
    lens = {"y_true": len(y), names[0]: len(pa), names[1]: len(pb)}
    if len(set(lens.values())) > 1:
        raise MonitorError(
            "predictions of different lengths: "
            + ", ".join(f"{k} has {v}" for k, v in lens.items())
            + "; predict both models on the same rows as y_true"
        )
    if len(y) < 2:
        raise MonitorError(f"need at least 2 rows to compare models, got {len(y)}")
    for nm, arr in (("y_true", y), (names[0], pa), (names[1], pb)):
        if pd.isna(pd.DataFrame(arr.reshape(len(arr), -1))).to_numpy().any():
            raise MonitorError(f"{nm} contains missing values (NaN); drop those rows first")
    return y, pa, pb


def _check_labels(y: np.ndarray, labels) -> None:
    if labels is None:
        return
    known = set(np.asarray(labels).tolist())
    unseen = sorted({v for v in np.unique(y).tolist() if v not in known}, key=str)
    if unseen:
        raise MonitorError(
            f"y_true has labels the models never saw: {', '.join(map(repr, unseen[:10]))} "
            f"(the models know: {', '.join(map(repr, sorted(known, key=str)[:20]))}); "
            "drop those rows or retrain on data that has them"
        )


def _infer_metric(y: np.ndarray, pa: np.ndarray) -> str:
    if pa.ndim == 2:
        return "log_loss"
    if pd.api.types.is_float_dtype(y) and (np.unique(y).size > 20 or not np.all(np.mod(y, 1) == 0)):
        return "rmse"
    return "accuracy"


def _true_class_proba(y, proba, labels):
    labels = np.asarray(labels)
    if proba.shape[1] != labels.size:
        raise MonitorError(
            f"probabilities have {proba.shape[1]} columns but there are {labels.size} labels "
            f"({', '.join(map(str, labels[:10]))}); pass labels= in the column order"
        )
    index = {v: i for i, v in enumerate(labels.tolist())}
    return proba[np.arange(len(y)), [index[v] for v in y.tolist()]]


def _labels_from_proba(proba, labels):
    return np.asarray(labels)[np.argmax(proba, axis=1)]


# ----------------------------------------------------------------------------- tests
def _mcnemar(y, pa, pb, names, alpha, labels) -> ComparisonResult:
    from statsmodels.stats.contingency_tables import mcnemar

    if pa.ndim == 2:
        if labels is None:
            raise MonitorError(
                "McNemar needs predicted labels; pass labels= to turn probabilities into labels"
            )
        pa, pb = _labels_from_proba(pa, labels), _labels_from_proba(pb, labels)
    ra, rb = pa == y, pb == y
    both = int((ra & rb).sum())
    a_only = int((ra & ~rb).sum())
    b_only = int((~ra & rb).sum())
    neither = int((~ra & ~rb).sum())
    discordant = a_only + b_only
    exact = discordant < MCNEMAR_EXACT_BELOW
    table = [[both, a_only], [b_only, neither]]
    res = mcnemar(table, exact=exact, correction=True)
    n = len(y)
    diff = (b_only - a_only) / n
    # Agresti-Min interval for a paired difference of proportions (half a count added to each
    # cell): good coverage down to a handful of discordant pairs, where the Wald interval fails
    # and an interval conditional on the discordant count cannot reach past all-B-wins
    b_adj, c_adj, n_adj = a_only + 0.5, b_only + 0.5, n + 2.0
    centre = (c_adj - b_adj) / n_adj
    se = math.sqrt(max(b_adj + c_adj - (c_adj - b_adj) ** 2 / n_adj, 0.0)) / n_adj
    z = 1.959963984540054
    ci = (max(centre - z * se, -1.0), min(centre + z * se, 1.0))
    return ComparisonResult(
        test="mcnemar exact" if exact else "mcnemar chi2",
        metric="accuracy",
        names=names,
        score_a=float(ra.mean()),
        score_b=float(rb.mean()),
        difference=diff,
        ci=(float(ci[0]), float(ci[1])),
        p_value=float(res.pvalue),
        alpha=alpha,
        higher_is_better=True,
        points=True,
        details={
            "both_right": both,
            "a_only_right": a_only,
            "b_only_right": b_only,
            "both_wrong": neither,
            "discordant": discordant,
            "exact": exact,
            "statistic": float(res.statistic),
            "odds_ratio": (b_only / a_only) if a_only else None,
            "n": n,
            "ci_method": "Agresti-Min (paired difference, 0.5 added to each cell)",
        },
    )


def _bootstrap(
    y, pa, pb, names, alpha, metric: Metric, labels, n_boot: int, seed: int
) -> ComparisonResult:
    from scipy import stats

    n = len(y)
    if metric.kind == "label" and pa.ndim == 2:
        if labels is None:
            raise MonitorError(
                f"{metric.name} needs predicted labels; pass labels= to turn probabilities into labels"
            )
        pa, pb = _labels_from_proba(pa, labels), _labels_from_proba(pb, labels)
    if metric.kind == "proba":
        if pa.ndim == 1:  # binary: probability of the positive (second) label
            pa, pb = np.column_stack([1 - pa, pa]), np.column_stack([1 - pb, pb])
        labels = labels if labels is not None else np.unique(y)
        pa, pb = _true_class_proba(y, pa, labels), _true_class_proba(y, pb, labels)
    if metric.per_row is not None:
        va, vb = metric.per_row(y, pa), metric.per_row(y, pb)
        finish = metric.finish or (lambda m: m)

        def statistic(a, b, axis=-1):
            return finish(np.mean(b, axis=axis)) - finish(np.mean(a, axis=axis))

        data, vectorized = (va, vb), True
        score_a, score_b = float(finish(va.mean())), float(finish(vb.mean()))
    else:  # AUC: not a mean over rows, scored whole on each resample
        from sklearn.metrics import roc_auc_score

        if pa.ndim == 2:
            if pa.shape[1] != 2:
                raise MonitorError(
                    "roc_auc in the A/B test is for binary problems; use log_loss or accuracy"
                )
            pa, pb = pa[:, 1], pb[:, 1]
        classes = np.unique(y)
        if classes.size != 2:
            raise MonitorError(f"roc_auc needs two classes in y_true, found {classes.size}")
        yy = (y == classes[1]).astype(int)

        def statistic(t, a, b):
            if t.min() == t.max():
                return np.nan
            return roc_auc_score(t, b) - roc_auc_score(t, a)

        data, vectorized = (yy, pa, pb), False
        score_a, score_b = float(roc_auc_score(yy, pa)), float(roc_auc_score(yy, pb))
    observed = score_b - score_a
    # keep each vectorised batch of resamples to ~20M numbers
    batch = max(1, int(2e7 // max(n, 1)))
    res = stats.bootstrap(
        data,
        statistic,
        n_resamples=n_boot,
        paired=True,
        vectorized=vectorized,
        method="percentile",
        confidence_level=0.95,
        batch=batch,
        rng=seed,
    )
    dist = np.asarray(res.bootstrap_distribution, dtype=float)
    dist = dist[np.isfinite(dist)]
    p = min(1.0, 2 * min(np.mean(dist <= 0), np.mean(dist >= 0))) if dist.size else float("nan")
    p = max(p, 1.0 / (dist.size + 1)) if dist.size else p  # never claim p = 0 from finite resamples
    return ComparisonResult(
        test="paired bootstrap",
        metric=metric.name,
        names=names,
        score_a=score_a,
        score_b=score_b,
        difference=float(observed),
        ci=(float(res.confidence_interval.low), float(res.confidence_interval.high)),
        p_value=float(p),
        alpha=alpha,
        higher_is_better=metric.higher_is_better,
        points=metric.points,
        details={"n": n, "resamples": n_boot, "ci_method": "percentile", "seed": seed},
        _bootstrap=dist,
    )


TESTS = {"mcnemar", "bootstrap"}


def compare_predictions(
    y_true,
    pred_a,
    pred_b,
    *,
    test: str = "mcnemar",
    metric: str | None = None,
    names: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    labels=None,
    n_boot: int = 2000,
    seed: int = 0,
) -> ComparisonResult:
    """Compare two models' predictions on the same rows.

    Parameters
    ----------
    y_true : array-like
        True labels or values.
    pred_a, pred_b : array-like
        Predicted labels (McNemar, accuracy), probabilities (``log_loss``: 1-D for the positive
        class or 2-D by ``labels``; ``roc_auc``: scores), or values (RMSE, MAE).
    test : {"mcnemar", "bootstrap"}
        McNemar's test on correct/wrong (exact binomial below 25 discordant pairs, otherwise
        chi-squared with continuity correction), or a paired bootstrap CI of the difference in
        ``metric``.
    metric : str, optional
        For the bootstrap: one of ``accuracy``, ``error_rate``, ``roc_auc``, ``log_loss``,
        ``rmse``, ``mse``, ``mae``. Default: ``rmse`` for continuous targets, ``log_loss`` for
        2-D probabilities, else ``accuracy``.
    names : (str, str)
        Display names of the two models.
    alpha : float
        Significance level of the verdict.
    labels : array-like, optional
        The classes the models know (e.g. ``model.classes_``), in probability-column order;
        ``y_true`` labels outside them raise an error.
    n_boot, seed : int
        Bootstrap resamples and random seed.

    Returns
    -------
    ComparisonResult
        ``.verdict`` is a plain sentence; ``.difference`` is metric(B) - metric(A).
    """
    if test not in TESTS:
        raise UnknownNameError(
            f"unknown test {test!r}; choose one of: mcnemar, bootstrap (or compare_estimators for cv)"
        )
    alpha = check_scalar(alpha, "alpha", kind=float, low=0, high=1, closed="neither")
    if not (isinstance(names, tuple | list) and len(names) == 2 and names[0] != names[1]):
        raise ConfigError(f"names must be two different names, got {names!r}")
    names = (str(names[0]), str(names[1]))
    y, pa, pb = _check(y_true, pred_a, pred_b, names)
    _check_labels(y, labels)
    if test == "mcnemar":
        if metric not in (None, "accuracy"):
            raise ConfigError(
                f"McNemar's test compares accuracy; for {metric!r} use test='bootstrap'"
            )
        return _mcnemar(y, pa, pb, names, alpha, labels)
    name = metric or _infer_metric(y, pa)
    if name not in METRICS:
        raise UnknownNameError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}")
    n_boot = check_scalar(n_boot, "n_boot", kind=int, low=100)
    return _bootstrap(y, pa, pb, names, alpha, METRICS[name], labels, n_boot, seed)


# ----------------------------------------------------------------------------- CV comparison
def corrected_ttest(diffs, n_train: float, n_test: float, *, alpha: float = 0.05) -> dict:
    """Nadeau & Bengio's corrected resampled t-test on per-split score differences.

    The variance of the mean difference is ``(1/J + n_test/n_train) * s^2`` instead of ``s^2/J``
    because the J training sets overlap; the statistic follows Student's t with J-1 degrees of
    freedom (scipy).
    """
    from scipy import stats

    d = np.asarray(diffs, dtype=float)
    j = d.size
    if j < 2:
        raise MonitorError("the corrected t-test needs at least 2 cross-validation splits")
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    se = math.sqrt((1.0 / j + n_test / n_train) * var)
    if se == 0:
        t, p = (0.0, 1.0) if mean == 0 else (math.copysign(math.inf, mean), 0.0)
    else:
        t = mean / se
        p = float(2 * stats.t.sf(abs(t), j - 1))
    q = float(stats.t.ppf(1 - alpha / 2, j - 1))
    return {
        "mean": mean,
        "t": t,
        "p_value": p,
        "df": j - 1,
        "se": se,
        "ci": (mean - q * se, mean + q * se),
    }
