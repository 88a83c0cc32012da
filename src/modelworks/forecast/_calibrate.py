"""Intervals that cover what they claim: conformal rescaling from rolling-origin errors.

Model-based intervals (ARIMA's, Prophet's) ignore parameter and model uncertainty and are
often too narrow. :class:`Calibrated` wraps any forecaster, runs a rolling-origin backtest on
the training data, and records each error in units of the model's own interval scale
(``|actual - forecast| / s``, with ``s`` the half-width of the model's 80 % interval on the
side of the error, divided by the normal 80 % quantile). At predict time the ``L`` % interval
is ``forecast ± q_L * s``, with ``q_L`` the conformal quantile (rank ``ceil((n + 1) L / 100)``)
of those scores (above 80 %, at least the 80 % one carried to ``L`` by the ratio of
quantiles of a Laplace distribution, see :func:`interval_quantile`): the width still grows with the horizon the way the model says, but its size
is set by the errors actually seen.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone

from modelworks.exceptions import ForecastError
from modelworks.forecast._base import Forecaster

_REF_LEVEL = 80
_Z_REF = float(norm.ppf(0.5 + _REF_LEVEL / 200))


def conformity_scores(predictions: pd.DataFrame) -> np.ndarray:
    """Errors in units of the model's interval scale, from backtest predictions."""
    f = predictions["forecast"].to_numpy(float)
    e = predictions["actual"].to_numpy(float) - f
    up = (predictions[f"upper_{_REF_LEVEL}"].to_numpy(float) - f) / _Z_REF
    lo = (f - predictions[f"lower_{_REF_LEVEL}"].to_numpy(float)) / _Z_REF
    scale = np.where(e >= 0, up, lo)
    fallback = np.nanmean(np.abs(e)) or 1.0  # a zero-width interval: fall back to the MAE
    scale = np.where(scale > 0, scale, fallback)
    return np.sort(np.abs(e) / scale)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    n = len(scores)
    k = math.ceil((n + 1) * level / 100)
    return float(scores[min(k, n) - 1])


def tail_ratio(level: float) -> float:
    """How much wider the ``level`` % interval is than the 80 % one for Laplace errors,
    ``ln(1 - level) / ln(1 - 0.8)`` (normal errors: 1.53 at 95 %; Laplace: 1.86)."""
    return math.log(1 - level / 100) / math.log(1 - _REF_LEVEL / 100)


def interval_quantile(scores: np.ndarray, level: float) -> float:
    """The multiplier of the model's scale for the ``level`` % interval: the conformal
    quantile, and at least the 80 % one carried to ``level`` by the Laplace shape.

    With the few dozen scores of a short backtest the high quantiles rest on the one or two
    largest errors (the 95 % one is the maximum below 19 scores), and those scores are not
    independent: the errors of one fold share its forecast path, so a backtest of three folds
    holds about three draws of how far a path strays. The floor keeps the 95 % interval at
    least as much wider than the 80 % one as for Laplace errors (:func:`tail_ratio`, 1.86)
    rather than normal ones (1.53): the errors of a model whose scale is re-estimated, fold by
    fold and horizon by horizon, are a mixture of normals of different variances, whose tails
    are heavier than normal. A normal floor left the 95 % intervals of the benchmark's
    series covering 91.6 % of the backtest values on average (``benchmarks/bench_forecast.py``).
    """
    q = conformal_quantile(scores, level)
    if level <= _REF_LEVEL:
        return q
    return max(q, conformal_quantile(scores, _REF_LEVEL) * tail_ratio(level))


def cross_fold_coverage(predictions: pd.DataFrame, levels) -> dict:
    """Coverage of calibrated intervals, each fold calibrated on the other folds only."""
    hits = {lv: [] for lv in levels}
    folds = predictions["fold"].unique()
    if len(folds) < 2:
        return {lv: float("nan") for lv in levels}
    for k in folds:
        train, test = predictions[predictions["fold"] != k], predictions[predictions["fold"] == k]
        scores = conformity_scores(train)
        f = test["forecast"].to_numpy(float)
        a = test["actual"].to_numpy(float)
        up = (test[f"upper_{_REF_LEVEL}"].to_numpy(float) - f) / _Z_REF
        lo = (f - test[f"lower_{_REF_LEVEL}"].to_numpy(float)) / _Z_REF
        for lv in levels:
            q = interval_quantile(scores, lv)
            hits[lv].extend(((a >= f - q * lo) & (a <= f + q * up)).tolist())
    return {lv: float(np.mean(h)) for lv, h in hits.items()}


class Calibrated(Forecaster):
    """Wrap a forecaster so that its intervals are calibrated on its own backtest errors.

    Parameters
    ----------
    forecaster : Forecaster
        The model whose point forecasts are kept and whose intervals are rescaled.
    folds : int
        Rolling origins used to collect errors (fewer are used when the series is short).
    horizon : int, optional
        Periods forecast from each origin; default two seasons (or 8 periods without season).

    Attributes
    ----------
    model_ : Forecaster
        The wrapped forecaster fitted on the whole series.
    scores_ : numpy.ndarray
        Sorted conformity scores from the backtest.
    factors_ : dict
        level -> how much the model's interval was widened (> 1) or narrowed (< 1), for the
        levels of the last ``predict``.
    """

    supports_exog = True

    def __init__(self, forecaster=None, *, folds: int = 4, horizon: int | None = None) -> None:
        self.forecaster = forecaster
        self.folds = folds
        self.horizon = horizon

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{getattr(self.forecaster, 'name', 'model')} (calibrated)"

    def _inner(self) -> Forecaster:
        if not isinstance(self.forecaster, Forecaster):
            raise ForecastError(
                f"Calibrated needs a modelworks forecaster to wrap, got {type(self.forecaster).__name__}"
            )
        return self.forecaster

    def _probe(self) -> Forecaster:
        """An unfitted copy of the wrapped model that knows its seasonal period."""
        probe = clone(self._inner())
        own = getattr(probe, "seasonal_period", None)
        probe.seasonal_period_ = int(own) if own else self.seasonal_period_
        return probe

    def _min_observations(self) -> int:
        return self._probe()._min_observations() + self._cal_horizon()

    def _cal_horizon(self) -> int:
        if self.horizon is not None:
            return int(self.horizon)
        m = self.seasonal_period_
        return 2 * m if 1 < m <= 26 else 8

    def _fit(self, y, X) -> None:
        from modelworks.forecast._backtest import backtest

        inner = self._inner()
        if self.exog_columns_ and not inner.supports_exog:
            raise ForecastError(f"{type(inner).__name__} does not use exogenous variables")
        h = self._cal_horizon()
        room = (len(y) - self._probe()._min_observations() - h) // h + 1
        folds = max(1, min(int(self.folds), room))
        bt = backtest(clone(inner), y, X, folds=folds, horizon=h, levels=(_REF_LEVEL,),
                      freq=self.freq_)
        self._set_scores(bt.predictions)
        self.calibration_folds_ = folds
        self.model_ = clone(inner).fit(y, X, freq=self.freq_)

    def _set_scores(self, predictions: pd.DataFrame) -> None:
        self.scores_ = conformity_scores(predictions)

    @classmethod
    def from_backtest(cls, fitted: Forecaster, predictions: pd.DataFrame) -> Calibrated:
        """Calibrate an already fitted forecaster with the predictions of a backtest of it.

        ``predictions`` must contain ``lower_80`` / ``upper_80`` (backtest with level 80).
        """
        fitted._check_fitted()
        if f"lower_{_REF_LEVEL}" not in predictions:
            raise ForecastError("calibration needs a backtest with the 80% level")
        cal = cls(clone(fitted))
        for attr in ("y_", "freq_", "seasonal_period_", "n_filled_", "exog_columns_"):
            setattr(cal, attr, getattr(fitted, attr))
        cal.model_ = fitted
        cal._set_scores(predictions)
        cal.calibration_folds_ = int(predictions["fold"].nunique())
        return cal

    def _predict(self, horizon, X, levels):
        fc = self.model_.predict(horizon, X, levels=(_REF_LEVEL,))
        f = fc["forecast"].to_numpy(float)
        up = (fc[f"upper_{_REF_LEVEL}"].to_numpy(float) - f) / _Z_REF
        lo = (f - fc[f"lower_{_REF_LEVEL}"].to_numpy(float)) / _Z_REF
        bounds, factors = {}, {}
        for lv in levels:
            q = interval_quantile(self.scores_, lv)
            bounds[lv] = (f - q * lo, f + q * up)
            factors[lv] = q / float(norm.ppf(0.5 + lv / 200))
        self.factors_ = factors
        return f, bounds

    def label(self) -> str:
        inner = getattr(self, "model_", None)
        return (inner.label() if inner is not None else self._inner().name) + " (calibrated)"
