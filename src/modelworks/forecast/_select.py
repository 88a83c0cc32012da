"""One series: backtest the candidates, pick the best, refit, calibrate, forecast."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ForecastError
from modelworks.forecast import _series
from modelworks.forecast._backtest import BacktestResult, backtest
from modelworks.forecast._base import Forecast
from modelworks.forecast._models import (
    BASELINES,
    MODELS,
    SELECT_BY,
    _available,
    auto_candidates,
    make_forecaster,
)


@dataclass
class SeriesResult:
    """The outcome for one series."""

    id: str
    model: str = ""  # the chosen model's name ("auto-arima")
    label: str = ""  # its fitted description ("ARIMA(1,1,1)(0,1,1)[12]")
    forecast: Forecast | None = None
    leaderboard: pd.DataFrame | None = None
    backtests: dict[str, BacktestResult] = field(default_factory=dict)
    error: str | None = None
    n_obs: int = 0
    freq: str = ""
    seconds: float = 0.0
    intervals: str = "model"  # "model" or "calibrated"


CALIBRATE_MARGIN = 0.01  # "auto" calibrates when that brings coverage >= 1 point closer to nominal
CALIBRATE_CHOICES = ("auto", True, False)
BOX_COX_MARGIN = 1.02  # Box-Cox is kept only if its backtest MASE is at most 2 % worse


def _check_calibrate(calibrate):
    if isinstance(calibrate, str) and calibrate in ("always", "never"):
        return calibrate == "always"
    if calibrate not in CALIBRATE_CHOICES or (not isinstance(calibrate, bool) and calibrate != "auto"):
        raise ForecastError(f"calibrate must be 'auto', True or False, got {calibrate!r}")
    return calibrate


def interval_score(predictions: pd.DataFrame, level) -> float:
    """Mean scaled interval score (MSIS, as in the M4 competition): width plus 2/alpha times
    the misses, in MASE units; lower is better, rewarding intervals both narrow and honest."""
    from modelworks.forecast._base import _level_key

    key = _level_key(level)
    a = predictions["actual"].to_numpy(float)
    lo = predictions[f"lower_{key}"].to_numpy(float)
    hi = predictions[f"upper_{key}"].to_numpy(float)
    alpha = 1 - level / 100
    score = (hi - lo) + 2 / alpha * np.maximum(lo - a, 0) + 2 / alpha * np.maximum(a - hi, 0)
    return float(np.mean(score / predictions["scale"].to_numpy(float)))


def _prefers_box_cox(plain: BacktestResult, transformed: BacktestResult, levels) -> bool:
    """Whether the backtest says to keep the Box-Cox transform: intervals better by MSIS
    (mean over the levels) and point forecasts at most ``BOX_COX_MARGIN`` worse by MASE."""
    msis = [np.mean([interval_score(bt.predictions, lv) for lv in levels])
            for bt in (plain, transformed)]
    mase_ok = transformed.metrics["mase"] <= BOX_COX_MARGIN * plain.metrics["mase"]
    return bool(mase_ok and msis[1] < msis[0])


UNDER_COVERAGE_WEIGHT = 2.0  # a point of coverage below nominal counts as two above it


def _coverage_gap(coverage: dict) -> float:
    """Mean distance from nominal over the levels, shortfalls counted double: intervals
    that promise more than they keep are the worse error."""
    gaps = [UNDER_COVERAGE_WEIGHT * max(lv / 100 - c, 0) + max(c - lv / 100, 0)
            for lv, c in coverage.items() if np.isfinite(c)]
    return float(np.mean(gaps)) if gaps else float("nan")


def _final_fit(name, options, series, X, freq, *, box_cox_kept: bool):
    """``name`` fitted on the whole series. A Box-Cox transform the backtest kept is applied
    as it was backtested: the orders searched on the untransformed series, refitted on the
    transformed one (no second search on the transformed scale)."""
    fitted = make_forecaster(name, **options).fit(series, X, freq=freq)
    if not box_cox_kept:
        return fitted
    transformed = fitted.for_later_windows(coefficients=False).set_params(box_cox="auto")
    return transformed.fit(series, X, freq=freq)


def forecast_series(y, *, horizon: int, model: str = "auto", backtest_folds: int = 3,
                    levels=(80, 95), freq: str | None = None, fill: str | None = None,
                    candidates=None, series_id: str = "", options: dict | None = None,
                    calibrate="auto", box_cox="auto", X=None, X_future=None) -> SeriesResult:
    """Backtest, choose (for ``model="auto"``), refit on all data and forecast one series.

    ``box_cox="auto"`` backtests AutoARIMA with and without a Box-Cox transform (Guerrero's
    lambda; the transformed trial refits the orders searched on the untransformed first
    window) and keeps the transform only when the backtest prefers it (see
    :func:`_prefers_box_cox`); a kept one is applied as it was backtested, to the orders
    searched on the untransformed series (see :func:`_final_fit`). ``calibrate="auto"`` replaces the chosen model's intervals by
    conformal ones (:class:`~modelworks.forecast.Calibrated`) when those, calibrated fold by
    fold on the other folds, came closer to the nominal coverage in the backtest. ``X`` /
    ``X_future`` are exogenous regressors for the models that take them (the baselines ignore
    them).
    """
    t_start = time.perf_counter()
    options = dict(options or {})
    calibrate = _check_calibrate(calibrate)
    horizon = _series.check_horizon(horizon)
    levels = _series.check_levels(levels)
    bt_levels = tuple(sorted(set(levels) | {80})) if calibrate is not False else levels
    series, freq_, _ = _series.regularize(_series.as_series(y), freq=freq, fill=fill)
    _series.check_not_constant(series)
    if calibrate is True and not backtest_folds:
        raise ForecastError("calibrated intervals are learned from the backtest errors", param="backtest",
                            fix="give {} K >= 1, or do not ask for calibration")
    if box_cox not in (None, "auto") and not isinstance(box_cox, int | float):
        raise ForecastError(f"box_cox must be None, 'auto' or a number, got {box_cox!r}")
    if model != "auto" and model not in MODELS:
        make_forecaster(model)  # raises the unknown-name error
    if X is not None:
        X = _series.prepare_exog(X, series.index)
    if model == "auto":
        if not backtest_folds:
            raise ForecastError("model 'auto' picks the best candidate by backtest", param="backtest",
                                fix="give {} K >= 1, or name a model (e.g. auto-arima)")
        names = [n for n in (candidates or auto_candidates(freq_)) if _available(n)]
    else:
        names = [model] + ([b for b in BASELINES if b != model] if backtest_folds else [])
    if X is not None:
        if model != "auto" and not MODELS[model].supports_exog:
            raise ForecastError(f"model {model!r} does not use exogenous regressors", param="model",
                                fix="use auto-arima, arima or prophet as {}")

    def exog_for(name):
        return X if (X is not None and MODELS[name].supports_exog) else None

    positive = bool(np.all(series.to_numpy() > 0))
    # Box-Cox "auto": decided by the backtest below; a number is applied as given
    model_options = {name: dict(options) for name in names}
    try_box_cox = box_cox == "auto" and positive and "auto-arima" in names and backtest_folds
    if "auto-arima" in model_options and box_cox not in ("auto", None):
        model_options["auto-arima"]["box_cox"] = box_cox
    results: dict[str, BacktestResult] = {}
    kept_box_cox: set[str] = set()
    rows = []
    for name in names:
        est = make_forecaster(name, **model_options[name])
        row: dict[str, Any] = {"id": series_id, "model": name}
        if backtest_folds:
            try:
                bt = backtest(est, series, exog_for(name), folds=backtest_folds, horizon=horizon,
                              levels=bt_levels, freq=freq_)
                if name == "auto-arima" and try_box_cox:
                    # the orders searched on the first window, refitted on the transformed
                    # series (no second search); a kept transform is applied the same way at
                    # the end (see _final_fit)
                    trial = bt.spec.orders_only().set_params(box_cox="auto") \
                        if bt.spec is not None else \
                        make_forecaster(name, **{**model_options[name], "box_cox": "auto"})
                    bc = backtest(trial, series, exog_for(name), folds=backtest_folds,
                                  horizon=horizon, levels=bt_levels, freq=freq_)
                    keep = _prefers_box_cox(bt, bc, bt_levels)
                    row["box_cox"] = "kept" if keep else "rejected"
                    if keep:
                        bt = bc
                        kept_box_cox.add(name)
            except ForecastError as e:
                if name == model:
                    raise
                row["error"] = str(e)
            else:
                results[name] = bt
                row.update(bt.metrics)
                row["fit_time"] = bt.fit_time
        rows.append(row)
    order = list(names)
    if model == "auto":
        if not results:
            reasons = "; ".join(f"{r['model']}: {r.get('error')}" for r in rows)
            raise ForecastError(f"no candidate model could be backtested ({reasons})")
        order = sorted(results, key=lambda n: (np.nan_to_num(results[n].metrics[SELECT_BY],
                                                             nan=np.inf), names.index(n)))
    chosen, fitted, last_error = None, None, None
    for name in order if model == "auto" else [model]:
        try:
            fitted = _final_fit(name, model_options[name], series, exog_for(name), freq_,
                                box_cox_kept=name in kept_box_cox)
            chosen = name
            break
        except ForecastError as e:
            last_error = e
            if model != "auto":
                raise
    if fitted is None:
        raise ForecastError(f"no candidate could be fitted on the whole series: {last_error}")
    board = pd.DataFrame(rows)
    board["selected"] = board["model"] == chosen
    intervals = "model"
    if calibrate is not False and chosen in results:
        from modelworks.forecast._base import _level_key
        from modelworks.forecast._calibrate import Calibrated, cross_fold_coverage

        preds = results[chosen].predictions
        cal_cov = cross_fold_coverage(preds, levels)
        raw_cov = {lv: results[chosen].coverage[lv] for lv in levels}
        use = calibrate is True or _coverage_gap(cal_cov) < _coverage_gap(raw_cov) - CALIBRATE_MARGIN
        if use:
            fitted = Calibrated.from_backtest(fitted, preds)
            intervals = "calibrated"
        for lv, cov in cal_cov.items():
            board[f"calibrated_coverage_{_level_key(lv)}"] = np.where(board["selected"], cov, np.nan)
    board["intervals"] = np.where(board["selected"], intervals, None)
    fc = fitted.predict(horizon, X_future if exog_for(chosen) is not None else None, levels=levels)
    labels = {chosen: fitted.label()}
    board.insert(2, "label", board["model"].map(labels).fillna(board["model"]))
    if "error" not in board:
        board["error"] = None
    if SELECT_BY in board:
        board = board.sort_values(SELECT_BY, na_position="last", kind="stable")
    return SeriesResult(id=series_id, model=chosen, label=fitted.label(), forecast=fc,
                        leaderboard=board.reset_index(drop=True), backtests=results,
                        n_obs=len(series), freq=freq_, seconds=time.perf_counter() - t_start,
                        intervals=intervals)
