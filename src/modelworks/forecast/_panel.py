"""Forecast one series or many: backtest candidates, pick the best, refit, forecast.

A long frame with an id column is split into series that are processed in parallel worker
processes (joblib's loky backend); the per-series results are gathered into one leaderboard.
Baselines are always backtested next to the requested model, so every leaderboard shows
whether the model beats naive, seasonal naive and drift.
"""

from __future__ import annotations

import os

import pandas as pd

from modelworks._validation import check_scalar
from modelworks.exceptions import ForecastError
from modelworks.forecast import _series
from modelworks.forecast._models import (  # noqa: F401  (the names forecast() accepts)
    AUTO_CANDIDATES,
    BASELINES,
    MODELS,
    auto_candidates,
    make_forecaster,
)
from modelworks.forecast._parallel import _run_dask, _run_local
from modelworks.forecast._result import ForecastResult, _summarise, coverage_table  # noqa: F401
from modelworks.forecast._select import (  # noqa: F401
    SeriesResult,
    _check_calibrate,
    forecast_series,
)
from modelworks.forecast._table import _attach_future, _split, infer_columns  # noqa: F401


def forecast(data, *, time: str | None = None, target: str | None = None, id: str | None = None,
             horizon: int, model: str = "auto", backtest: int = 3, levels=(80, 95),
             freq: str | None = None, fill: str | None = None, order=None, seasonal_order=None,
             seasonal_period: int | None = None, candidates=None, n_jobs: int | None = None,
             calibrate="auto", box_cox="auto", exog=None, future=None, dask=None,
             progress: bool = False, model_options: dict | None = None) -> ForecastResult:
    """Forecast one series, or every series of a long frame in parallel.

    Parameters
    ----------
    data : pandas.Series, pandas.DataFrame or path
        A Series with a DatetimeIndex, or a table (CSV/Parquet path or DataFrame) with a time
        column, a target column and optionally an id column.
    time, target : str, optional
        Column names. When omitted they are inferred if the table has exactly one date-like
        column and one numeric column (besides ``id`` and ``exog``); ``result.columns`` says
        what was used.
    id : str, optional
        Column identifying the series in a long frame; each series is forecast separately.
    horizon : int
        Periods to forecast.
    model : str
        ``auto`` (backtest the candidates and keep the lowest MASE), or one of ``arima``,
        ``auto-arima``, ``prophet``, ``naive``, ``seasonal-naive``, ``drift``.
    backtest : int
        Rolling-origin folds (0: no backtest). The baselines are backtested alongside.
    levels : sequence of float
        Interval levels in percent.
    freq, fill : optional
        Frequency (inferred by default) and fill policy for gaps (gaps are an error by default).
    order, seasonal_order, seasonal_period : optional
        Passed to the models that take them.
    candidates : sequence of str, optional
        The models ``auto`` chooses from (default: AutoARIMA and the baselines, plus Prophet
        for daily and finer data).
    n_jobs : int, optional
        Worker processes for many series (default: one per CPU, at most one per series).
    calibrate : {"auto", True, False}
        Conformal intervals from the backtest errors (:class:`Calibrated`): always (True),
        never (False), or (``"auto"``) when they came closer to the nominal coverage than the
        model's own, each fold calibrated on the other folds. The leaderboard shows
        ``calibrated_coverage_<L>`` and which ``intervals`` were used.
    box_cox : {"auto", None} or float
        ``"auto"``: backtest AutoARIMA with and without a Box-Cox transform (Guerrero's lambda)
        and keep the better; None: never; a number: that lambda.
    exog : sequence of str, optional
        Columns of ``data`` used as exogenous regressors (by ARIMA, AutoARIMA and Prophet).
    future : path or pandas.DataFrame, optional
        Their future values: the time column, the ``exog`` columns (and ``id`` for many
        series), covering the ``horizon`` periods after each series ends.
    dask : str or distributed.Client, optional
        Run the series on this Dask cluster (scheduler address) instead of local processes.
    progress : bool
        Show a progress bar (on stderr) while the series are forecast.
    model_options : dict, optional
        More constructor options for the models (e.g. ``{"max_p": 2}``), each applied where a
        model takes it.

    Returns
    -------
    ForecastResult
    """
    import time as _time

    t0 = _time.perf_counter()
    horizon = _series.check_horizon(horizon)
    levels = _series.check_levels(levels)
    calibrate = _check_calibrate(calibrate)
    if model != "auto" and model not in MODELS:
        make_forecaster(model)
    backtest = check_scalar(backtest, "backtest", kind=int, low=0, error=ForecastError)
    exog = [exog] if isinstance(exog, str) else (list(exog) if exog is not None else None)
    if future is not None and not exog:
        raise ForecastError("future values are only used with exogenous columns", param="exog",
                            fix="name those columns with {}, or leave the future values out")
    groups, columns = _split(data, time=time, target=target, id=id, exog=exog)
    if exog:
        groups = _attach_future(groups, future, columns, exog, id)
    else:
        groups = [(k, y, None, None) for k, y in groups]
    if model_options is not None and not isinstance(model_options, dict):
        raise ForecastError(f"model_options must be a dict of model parameters, got "
                            f"{type(model_options).__name__}")
    options = {**(model_options or {}), "order": order, "seasonal_order": seasonal_order,
               "seasonal_period": seasonal_period}
    kwargs = {"horizon": horizon, "model": model, "backtest_folds": int(backtest),
              "levels": levels, "freq": freq, "fill": fill, "candidates": candidates,
              "options": options, "calibrate": calibrate, "box_cox": box_cox}
    if id is None and dask is None:
        key, y, X, Xf = groups[0]
        results = [forecast_series(y, series_id=key, X=X, X_future=Xf, **kwargs)]
    elif dask is not None:
        results = _run_dask(groups, kwargs, dask, progress)
    else:
        jobs = n_jobs if n_jobs is not None else min(len(groups), os.cpu_count() or 1)
        results = _run_local(groups, kwargs, jobs, progress and len(groups) > 1)
    errors = {r.id: r.error for r in results if r.error}
    if len(errors) == len(results) and (id is not None or dask is not None):
        first = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
        raise ForecastError(f"no series could be forecast ({first})")
    frames, boards = [], []
    for r in results:
        if r.error:
            continue
        f = r.forecast.to_frame()
        f.insert(1, "model", r.label)
        if id is not None:
            f.insert(0, id, r.id)
        frames.append(f)
        if r.leaderboard is not None:
            boards.append(r.leaderboard)
    board = pd.concat(boards, ignore_index=True) if boards else pd.DataFrame()
    if id is None and "id" in board:
        board = board.drop(columns="id")
    elif id is not None and "id" in board:
        board = board.rename(columns={"id": id})
    summary = _summarise(board.rename(columns={id: "id"}) if id else board.assign(id="series"),
                         levels)
    return ForecastResult(forecasts=pd.concat(frames, ignore_index=True), leaderboard=board,
                          summary=summary, series=results, errors=errors, horizon=horizon,
                          levels=levels, model=model, backtest_folds=int(backtest),
                          id_column=id, seconds=_time.perf_counter() - t0,
                          calibrated=calibrate, columns=columns)
