"""Rolling-origin backtesting: accuracy and the honesty of the intervals.

The last ``folds * step`` observations (``step`` defaults to the horizon) are cut into folds;
for each origin the model is refitted on everything before it and forecasts ``horizon``
periods. Errors are pooled over folds. MASE is scaled, fold by fold, by the in-sample MAE of
the seasonal naive forecast on that fold's training data; coverage is the share of actual
values inside each interval, shown next to its nominal level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from modelworks._validation import check_scalar
from modelworks.exceptions import ForecastError
from modelworks.forecast import _series
from modelworks.forecast._base import _level_key


def _mae(e, y, f, scale):
    return float(np.mean(np.abs(e)))


def _rmse(e, y, f, scale):
    return float(np.sqrt(np.mean(e**2)))


def _mape(e, y, f, scale):
    if np.any(y == 0):
        return float("nan")  # undefined when an actual value is 0; sMAPE and MASE still apply
    return float(np.mean(np.abs(e / y)) * 100)


def _smape(e, y, f, scale):
    denom = np.abs(y) + np.abs(f)
    ratio = np.where(denom > 0, 2 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0)
    return float(np.mean(ratio) * 100)


def _mase(e, y, f, scale):
    return float(np.mean(np.abs(e) / scale))


# metric name -> function(errors, actuals, forecasts, per-point MASE scale); lower is better
METRICS = {"mae": _mae, "rmse": _rmse, "mape": _mape, "smape": _smape, "mase": _mase}


def accuracy(actual, forecast, *, scale=1.0) -> dict[str, float]:
    """MAE, RMSE, MAPE (%), sMAPE (%) and MASE of ``forecast`` against ``actual``."""
    y, f = np.asarray(actual, float), np.asarray(forecast, float)
    s = np.broadcast_to(np.asarray(scale, float), y.shape)
    e = y - f
    return {name: fn(e, y, f, s) for name, fn in METRICS.items()}


def mase_scale(train: np.ndarray, m: int) -> float:
    """In-sample MAE of the seasonal naive (naive when ``m`` is 1 or too long) forecast."""
    m = m if 1 < m < len(train) else 1
    diffs = np.abs(train[m:] - train[:-m])
    scale = float(np.mean(diffs)) if len(diffs) else float("nan")
    if not scale > 0:  # a flat training window: fall back to the naive scale, then to 1
        d1 = np.abs(np.diff(train))
        scale = float(np.mean(d1)) if len(d1) and np.mean(d1) > 0 else 1.0
    return scale


@dataclass
class BacktestResult:
    """What :func:`backtest` measured.

    Attributes
    ----------
    model : str
        The forecaster's name.
    metrics : dict
        Pooled ``mae``, ``rmse``, ``mape``, ``smape``, ``mase`` and ``coverage_<L>`` per level.
    coverage : dict
        level -> empirical coverage (0-1) of that interval.
    folds : pandas.DataFrame
        One row per fold: origin, train size and the metrics of that fold.
    predictions : pandas.DataFrame
        One row per forecast point: fold, time, step, actual, forecast, bounds.
    fit_time : float
        Mean seconds per fit+predict.
    """

    model: str
    metrics: dict[str, float]
    coverage: dict[Any, float]
    folds: pd.DataFrame
    predictions: pd.DataFrame
    fit_time: float
    horizon: int
    levels: tuple = ()
    notes: list[str] = field(default_factory=list)
    spec: Any = None  # unfitted: refits the first window's searched specification (warm start)

    def coverage_table(self) -> pd.DataFrame:
        """Nominal vs empirical coverage per level, and the gap in percentage points."""
        rows = [{"level": lv, "nominal": lv / 100, "empirical": cov,
                 "gap_points": (cov - lv / 100) * 100} for lv, cov in self.coverage.items()]
        return pd.DataFrame(rows, columns=["level", "nominal", "empirical", "gap_points"])

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "horizon": self.horizon, "folds": len(self.folds),
                "metrics": self.metrics, "fit_time": self.fit_time,
                "coverage": {str(k): v for k, v in self.coverage.items()}, "notes": self.notes}


def fold_origins(n: int, *, folds: int, horizon: int, step: int | None = None,
                 min_train: int = 3) -> list[int]:
    """Training sizes of the ``folds`` rolling origins (the last fold ends at ``n``)."""
    folds = check_scalar(folds, "folds", kind=int, low=1, error=ForecastError)
    step = check_scalar(horizon if step is None else step, "step", kind=int, low=1, error=ForecastError)
    origins = [n - horizon - step * (folds - 1 - k) for k in range(folds)]
    if origins[0] < min_train:
        raise ForecastError(
            f"a backtest of {folds} fold(s) with horizon {horizon} needs at least "
            f"{min_train + horizon + step * (folds - 1)} observations (training windows of "
            f">= {min_train}); the series has {n}: use fewer folds, a shorter horizon, or more data",
            param="backtest", fix="fewer folds: lower {}",
        )
    return origins


def backtest(model, y, X=None, *, folds: int = 3, horizon: int, step: int | None = None,
             levels=(80, 95), freq: str | None = None, fill: str | None = None,
             min_train: int | None = None, warm_start: bool = True) -> BacktestResult:
    """Rolling-origin evaluation of a forecaster.

    Parameters
    ----------
    model : Forecaster
        Unfitted (it is cloned for each fold).
    y : pandas.Series or pandas.DataFrame
        The series, as for ``fit``.
    X : pandas.DataFrame, optional
        Exogenous regressors aligned with ``y``; each fold uses the actual future rows.
    folds : int
        Number of origins ``K``.
    horizon : int
        Periods forecast from each origin ``H``.
    step : int, optional
        Periods between origins (default: ``horizon``, non-overlapping test windows).
    levels : sequence of float
        Interval levels whose empirical coverage is measured.
    freq, fill : optional
        As for ``fit``.
    min_train : int, optional
        Smallest training window allowed (default: what the model needs).
    warm_start : bool, default=True
        For models that search a specification (AutoARIMA), search on the first window only and
        refit that specification on the later ones (each still fitted on data before its origin
        only); False searches on every window.

    Returns
    -------
    BacktestResult
    """
    import time

    horizon = _series.check_horizon(horizon)
    levels = _series.check_levels(levels)
    series, freq_, _ = _series.regularize(_series.as_series(y), freq=freq, fill=fill)
    _series.check_not_constant(series)
    Xa = _series.prepare_exog(X, series.index) if X is not None else None
    probe = clone(model)
    probe.seasonal_period_ = probe._resolve_period(freq_)
    need = max(probe._min_observations(), min_train or 0)
    origins = fold_origins(len(series), folds=folds, horizon=horizon, step=step, min_train=need)
    m = probe.seasonal_period_
    values = series.to_numpy()
    rows, preds, times, notes = [], [], [], []
    later = None  # a forecaster that refits the first window's choices (see for_later_windows)
    for k, origin in enumerate(origins):
        train = series.iloc[:origin]
        est = later if later is not None else _fresh(model)
        t0 = time.perf_counter()
        try:
            est.fit(train, None if Xa is None else Xa.iloc[:origin], freq=freq_)
            fc = est.predict(horizon, None if Xa is None else Xa.iloc[origin:origin + horizon],
                             levels=levels)
            if later is None and warm_start and callable(getattr(est, "for_later_windows", None)) \
                    and getattr(est, "engine_", None) == "statsforecast":
                later = est.for_later_windows()
            elif later is not None:
                later = est.for_later_windows()
        except ForecastError as e:
            if "constant" in str(e):  # a flat window: the naive value is the honest forecast
                notes.append(f"fold {k + 1}: {e}")
                fc = _flat_forecast(train, horizon, freq_, levels)
            else:
                raise
        times.append(time.perf_counter() - t0)
        actual = values[origin:origin + horizon]
        scale = mase_scale(train.to_numpy(), m)
        point = fc["forecast"].to_numpy()
        fold = {"fold": k + 1, "origin": series.index[origin - 1], "train_size": origin,
                **accuracy(actual, point, scale=scale)}
        pred = pd.DataFrame({"fold": k + 1, "time": fc.index, "step": np.arange(1, horizon + 1),
                             "actual": actual, "forecast": point, "scale": scale})
        for lv in levels:
            lo, hi = fc.interval(lv)
            key = _level_key(lv)
            pred[f"lower_{key}"], pred[f"upper_{key}"] = lo.to_numpy(), hi.to_numpy()
            inside = (actual >= lo.to_numpy()) & (actual <= hi.to_numpy())
            fold[f"coverage_{key}"] = float(np.mean(inside))
        rows.append(fold)
        preds.append(pred)
    predictions = pd.concat(preds, ignore_index=True)
    metrics = accuracy(predictions["actual"], predictions["forecast"], scale=predictions["scale"])
    coverage = {}
    for lv in levels:
        key = _level_key(lv)
        inside = ((predictions["actual"] >= predictions[f"lower_{key}"])
                  & (predictions["actual"] <= predictions[f"upper_{key}"]))
        coverage[lv] = float(inside.mean())
        metrics[f"coverage_{key}"] = coverage[lv]
    return BacktestResult(model=getattr(model, "name", type(model).__name__), metrics=metrics,
                          coverage=coverage, folds=pd.DataFrame(rows), predictions=predictions,
                          fit_time=float(np.mean(times)), horizon=horizon, levels=levels,
                          notes=notes, spec=later)


def _fresh(model):
    """An unfitted copy of ``model``, keeping a specification fixed by ``for_later_windows``."""
    twin = clone(model)
    fixed = getattr(model, "_fixed_orders", None)
    if fixed is not None:
        twin._fixed_orders = fixed
    return twin


def _flat_forecast(train: pd.Series, horizon: int, freq: str, levels):
    from modelworks.forecast._base import make_forecast

    index = _series.future_index(train, freq, horizon)
    point = np.full(horizon, float(train.iloc[-1]))
    return make_forecast(index, point, {lv: (point, point) for lv in levels}, history=train,
                         levels=levels, model_name="flat")
