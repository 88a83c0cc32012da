"""Forecast one series or many: backtest candidates, pick the best, refit, forecast.

A long frame with an id column is split into series that are processed in parallel worker
processes (joblib's loky backend); the per-series results are gathered into one leaderboard.
Baselines are always backtested next to the requested model, so every leaderboard shows
whether the model beats naive, seasonal naive and drift.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks._validation import check_scalar
from modelworks.exceptions import ColumnError, ForecastError, UnknownNameError
from modelworks.forecast import _series
from modelworks.forecast._arima import ARIMA, AutoARIMA
from modelworks.forecast._backtest import BacktestResult, backtest
from modelworks.forecast._base import Forecast, Forecaster
from modelworks.forecast._baselines import Drift, Naive, SeasonalNaive
from modelworks.forecast._prophet import Prophet

# model name -> forecaster class (the names the CLI and ``forecast`` accept)
MODELS: dict[str, type[Forecaster]] = {
    "arima": ARIMA,
    "auto-arima": AutoARIMA,
    "prophet": Prophet,
    "naive": Naive,
    "seasonal-naive": SeasonalNaive,
    "drift": Drift,
}
BASELINES = ("naive", "seasonal-naive", "drift")
AUTO_CANDIDATES = ("auto-arima", "prophet", "seasonal-naive", "naive", "drift")
SELECT_BY = "mase"


def make_forecaster(name: str, **options: Any) -> Forecaster:
    """A new forecaster by name; options it does not take (e.g. ``order`` for naive) are ignored.

    Parameters
    ----------
    name : str
        One of ``arima``, ``auto-arima``, ``prophet``, ``naive``, ``seasonal-naive``, ``drift``.
    **options
        Constructor parameters, applied where the model has them (None values are skipped).
    """
    if name not in MODELS:
        raise UnknownNameError(
            f"unknown forecasting model {name!r}; choose one of: auto, {', '.join(MODELS)}"
        )
    est = MODELS[name]()
    params = est.get_params()
    est.set_params(**{k: v for k, v in options.items() if v is not None and k in params})
    return est


def _available(name: str) -> bool:
    if name == "prophet":
        from modelworks._imports import is_available

        return is_available("prophet")
    return True


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


DASK_CONNECT_TIMEOUT = "15s"  # how long to wait for the scheduler of --dask
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


def _coverage_gap(coverage: dict) -> float:
    gaps = [abs(c - lv / 100) for lv, c in coverage.items() if np.isfinite(c)]
    return float(np.mean(gaps)) if gaps else float("nan")


def forecast_series(y, *, horizon: int, model: str = "auto", backtest_folds: int = 3,
                    levels=(80, 95), freq: str | None = None, fill: str | None = None,
                    candidates=None, series_id: str = "", options: dict | None = None,
                    calibrate="auto", box_cox="auto", X=None, X_future=None) -> SeriesResult:
    """Backtest, choose (for ``model="auto"``), refit on all data and forecast one series.

    ``box_cox="auto"`` backtests AutoARIMA with and without a Box-Cox transform (Guerrero's
    lambda) and keeps the transform only when the backtest prefers it (see
    :func:`_prefers_box_cox`). ``calibrate="auto"`` replaces the chosen model's intervals by
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
        raise ForecastError("calibrated intervals are learned from the backtest errors; give "
                            "--backtest K >= 1 (or drop --calibrate)")
    if box_cox not in (None, "auto") and not isinstance(box_cox, int | float):
        raise ForecastError(f"box_cox must be None, 'auto' or a number, got {box_cox!r}")
    if model != "auto" and model not in MODELS:
        make_forecaster(model)  # raises the unknown-name error
    if X is not None:
        X = _series.prepare_exog(X, series.index)
    if model == "auto":
        if not backtest_folds:
            raise ForecastError(
                "model 'auto' picks the best candidate by backtest; give --backtest K >= 1 or "
                "name a model (--model auto-arima)"
            )
        names = [n for n in (candidates or AUTO_CANDIDATES) if _available(n)]
    else:
        names = [model] + ([b for b in BASELINES if b != model] if backtest_folds else [])
    if X is not None:
        if model != "auto" and not MODELS[model].supports_exog:
            raise ForecastError(f"model {model!r} does not use exogenous regressors; use "
                                "auto-arima, arima or prophet with --exog")

    def exog_for(name):
        return X if (X is not None and MODELS[name].supports_exog) else None

    positive = bool(np.all(series.to_numpy() > 0))
    # Box-Cox "auto": decided by the backtest below; a number is applied as given
    model_options = {name: dict(options) for name in names}
    try_box_cox = box_cox == "auto" and positive and "auto-arima" in names and backtest_folds
    if "auto-arima" in model_options and box_cox not in ("auto", None):
        model_options["auto-arima"]["box_cox"] = box_cox
    results: dict[str, BacktestResult] = {}
    rows = []
    for name in names:
        est = make_forecaster(name, **model_options[name])
        row: dict[str, Any] = {"id": series_id, "model": name}
        if backtest_folds:
            try:
                bt = backtest(est, series, exog_for(name), folds=backtest_folds, horizon=horizon,
                              levels=bt_levels, freq=freq_)
                if name == "auto-arima" and try_box_cox:
                    bc = backtest(make_forecaster(name, **{**model_options[name], "box_cox": "auto"}),
                                  series, exog_for(name), folds=backtest_folds, horizon=horizon,
                                  levels=bt_levels, freq=freq_)
                    keep = _prefers_box_cox(bt, bc, bt_levels)
                    row["box_cox"] = "kept" if keep else "rejected"
                    if keep:
                        bt = bc
                        model_options[name]["box_cox"] = "auto"
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
            fitted = make_forecaster(name, **model_options[name]).fit(series, exog_for(name),
                                                                      freq=freq_)
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


def _work(series_id, y, kwargs) -> SeriesResult:
    """Worker: one series, errors kept in the result so one bad series does not stop the rest."""
    try:
        return forecast_series(y, series_id=series_id, **kwargs)
    except ForecastError as e:
        return SeriesResult(id=series_id, error=str(e))


def _work_batch(batch, kwargs) -> list[SeriesResult]:
    """Worker: a batch of (id, y, X, X_future) series (one task per batch keeps the overhead low)."""
    _quiet_warnings()
    return [_work(key, y, {**kwargs, "X": X, "X_future": Xf}) for key, y, X, Xf in batch]


def _quiet_warnings() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message=".*convergence.*")


def _batches(groups: list, n_workers: int) -> list[list]:
    """About four batches per worker, so that a slow series does not leave workers idle."""
    size = max(1, -(-len(groups) // max(1, 4 * n_workers)))
    return [groups[i:i + size] for i in range(0, len(groups), size)]


def _run_local(groups, kwargs, jobs: int, progress: bool) -> list[SeriesResult]:
    from tqdm.auto import tqdm

    # mininterval=0: every finished series is drawn, so the bar always ends on N/N
    bar = tqdm(total=len(groups), unit="series", desc="forecasting", disable=not progress,
               leave=False, mininterval=0)
    try:
        if jobs <= 1 or len(groups) == 1:
            results = []
            for g in groups:
                results.extend(_work_batch([g], kwargs))
                bar.update(1)
            return results
        batches = _batches(groups, jobs)
        results = []
        for part in _pool_map(_work_batch, batches, kwargs, jobs):
            results.extend(part)
            bar.update(len(part))
        return results
    finally:
        bar.close()


def _statsforecast_on_dask(groups, kwargs, workers: int) -> list[SeriesResult] | None:
    """AutoARIMA without a backtest: statsforecast's own Dask backend (fugue), or None.

    That backend runs statsforecast's models only, so it is used when nothing else is asked
    for (``model="auto-arima"``, ``backtest=0``, no regressors, no fill, one frequency);
    otherwise the whole per-series pipeline (backtests, Box-Cox trial, calibration) is mapped
    over the cluster by :func:`_run_dask`.
    """
    from modelworks._imports import is_available

    simple = (kwargs["model"] == "auto-arima" and not kwargs["backtest_folds"]
              and kwargs["fill"] is None and kwargs["box_cox"] in (None, "auto")
              and all(X is None for _, _, X, _ in groups))
    if not simple or not all(is_available(m) for m in ("fugue_dask", "dask.dataframe")):
        return None
    import dask.dataframe as dd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA as _SFAutoARIMA

    from modelworks.forecast._base import make_forecast

    est = make_forecaster("auto-arima", **kwargs["options"])
    results, frames, kept, freqs = {}, [], {}, set()
    for key, y, _, _ in groups:
        try:
            series, freq, _ = _series.regularize(_series.as_series(y), freq=kwargs["freq"])
            _series.check_not_constant(series)
            est.seasonal_period_ = est._resolve_period(freq)
            if len(series) < est._min_observations():
                raise ForecastError(f"series '{key}' has {len(series)} observations; AutoARIMA "
                                    f"needs at least {est._min_observations()}")
        except ForecastError as e:
            results[key] = SeriesResult(id=key, error=str(e))
            continue
        freqs.add(freq)
        kept[key] = (series, est._seasonal_m())
        frames.append(pd.DataFrame({"unique_id": key, "ds": series.index, "y": series.to_numpy()}))
    periods = {m for _, m in kept.values()}
    if not frames or len(freqs) != 1 or len(periods) != 1:
        return None  # mixed frequencies: one statsforecast call cannot take them
    freq, m = freqs.pop(), periods.pop()
    long = pd.concat(frames, ignore_index=True)
    levels = kwargs["levels"]
    lv = [int(v) if float(v).is_integer() else v for v in levels]
    model = _SFAutoARIMA(
        d=est.d, D=est.D, max_p=est.max_p, max_q=est.max_q, max_P=est.max_P, max_Q=est.max_Q,
        max_d=est.max_d, max_D=est.max_D, seasonal=est.seasonal and m > 1,
        ic=est.information_criterion, stepwise=est.stepwise, season_length=m,
        approximation=est.approximation)
    ddf = dd.from_pandas(long, npartitions=max(1, min(len(kept), 4 * workers)))
    out = StatsForecast(models=[model], freq=freq).forecast(df=ddf, h=kwargs["horizon"],
                                                           level=lv).compute()
    out["unique_id"] = out["unique_id"].astype(str)
    for key, part in out.groupby("unique_id", sort=False):
        series, _ = kept[key]
        part = part.sort_values("ds")
        bounds = {v: (part[f"AutoARIMA-lo-{k}"].to_numpy(), part[f"AutoARIMA-hi-{k}"].to_numpy())
                  for v, k in zip(levels, lv)}
        index = _series.future_index(series, freq, kwargs["horizon"])
        label = "AutoARIMA (statsforecast on Dask)"
        fc = make_forecast(index, part["AutoARIMA"].to_numpy(), bounds, history=series,
                           levels=levels, model_name=label)
        results[key] = SeriesResult(id=key, model="auto-arima", label=label, forecast=fc,
                                    n_obs=len(series), freq=freq)
    return [results.get(key) or SeriesResult(id=key, error="no forecast came back from the cluster")
            for key, *_ in groups]


def _pool_map(fn, batches, kwargs, jobs: int):
    """``fn(batch, kwargs)`` for each batch in ``jobs`` processes, results in order.

    Where the OS can fork (Linux), the workers are forked from this process, so they start
    with numpy, pandas and statsforecast already imported (as StatsForecast's own pool does);
    elsewhere joblib's loky workers are used.
    """
    import multiprocessing
    import sys

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        from modelworks._imports import is_available

        if is_available("statsforecast"):  # imported once here, inherited by every worker
            import statsforecast.models  # noqa: F401

        with ProcessPoolExecutor(max_workers=jobs,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(fn, batches, [kwargs] * len(batches))
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
        delayed(fn)(b, kwargs) for b in batches)


def _run_dask(groups, kwargs, address, progress: bool) -> list[SeriesResult]:
    """Batches of series as tasks on a Dask cluster (``address``: scheduler or a Client)."""
    from modelworks._imports import require

    distributed = require("distributed", purpose="forecasting on a Dask cluster (--dask)")
    own = not isinstance(address, distributed.Client)
    try:
        client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT) if own else address
    except (OSError, TimeoutError, ValueError) as e:
        raise ForecastError(f"cannot reach the Dask scheduler at {address!r}: {e}; start one "
                            "(dask scheduler / dask worker) or drop --dask") from e
    try:
        workers = max(1, sum(client.nthreads().values()))
        native = _statsforecast_on_dask(groups, kwargs, workers)
        if native is not None:
            return native
        futures = client.map(_work_batch, _batches(groups, workers), kwargs=kwargs, pure=False)
        from tqdm.auto import tqdm

        results_by_future = {}
        with tqdm(total=len(groups), unit="series", desc="forecasting (dask)",
                  disable=not progress, leave=False, mininterval=0) as bar:
            for fut, part in distributed.as_completed(futures, with_results=True):
                results_by_future[fut.key] = part
                bar.update(len(part))
        return [r for fut in futures for r in results_by_future[fut.key]]
    finally:
        if own:
            client.close()


@dataclass
class ForecastResult:
    """Forecasts and backtest leaderboards for one or many series.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        Long: ``id`` (when there is one), ``time``, ``model``, ``forecast``, bounds per level.
    leaderboard : pandas.DataFrame
        One row per (series, model) with the backtest metrics, coverage, fit time, ``selected``.
    summary : pandas.DataFrame
        One row per model over all series: mean/median MASE, sMAPE, coverage, wins.
    series : list of SeriesResult
    errors : dict
        series id -> why it could not be forecast.
    """

    forecasts: pd.DataFrame
    leaderboard: pd.DataFrame
    summary: pd.DataFrame
    series: list[SeriesResult]
    errors: dict[str, str]
    horizon: int
    levels: tuple
    model: str
    backtest_folds: int
    id_column: str | None = None
    seconds: float = 0.0
    calibrated: Any = False
    columns: dict = field(default_factory=dict)

    def write(self, out_dir, *, title: str = "modelworks forecast", subtitle: str = "") -> dict:
        """Write forecasts.csv, leaderboard.csv, forecast.json, a plot per series and report.html.

        Returns a dict of the paths written. All writes are atomic.
        """
        from modelworks.forecast._report import write_outputs

        return write_outputs(self, out_dir, title=title, subtitle=subtitle)

    def coverage(self) -> pd.DataFrame:
        """Nominal vs achieved backtest coverage per level, over the selected models.

        ``model`` is the coverage of the models' own intervals, ``calibrated`` that of
        conformal intervals (each fold calibrated on the other folds), ``delivered`` that of
        the intervals actually in the forecasts (calibrated where they were used).
        """
        return coverage_table(self.leaderboard, self.levels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "horizon": self.horizon, "levels": list(self.levels),
            "backtest_folds": self.backtest_folds, "n_series": len(self.series),
            "calibrated": self.calibrated, "columns": self.columns,
            "coverage": self.coverage().to_dict(orient="records"),
            "intervals": {s.id: s.intervals for s in self.series if not s.error},
            "seconds": self.seconds,
            "selected": {s.id: s.label for s in self.series if not s.error},
            "summary": self.summary.to_dict(orient="records"),
            "leaderboard": self.leaderboard.to_dict(orient="records"),
            "errors": self.errors,
        }


def coverage_table(board: pd.DataFrame, levels) -> pd.DataFrame:
    """Per level: nominal, model, calibrated and delivered coverage over the selected rows."""
    from modelworks.forecast._base import _level_key

    cols = ["level", "nominal", "model", "calibrated", "delivered", "n_series"]
    if board.empty or "selected" not in board:
        return pd.DataFrame(columns=cols)
    chosen = board[board["selected"]]
    use_cal = (chosen["intervals"] == "calibrated").to_numpy() if "intervals" in chosen else \
        np.zeros(len(chosen), bool)
    rows = []
    for lv in levels:
        key = _level_key(lv)
        raw = chosen.get(f"coverage_{key}", pd.Series(np.nan, index=chosen.index)).to_numpy(float)
        cal = chosen.get(f"calibrated_coverage_{key}",
                         pd.Series(np.nan, index=chosen.index)).to_numpy(float)
        delivered = np.where(use_cal, cal, raw)
        rows.append({"level": lv, "nominal": lv / 100,
                     "model": float(np.nanmean(raw)) if np.isfinite(raw).any() else np.nan,
                     "calibrated": float(np.nanmean(cal)) if np.isfinite(cal).any() else np.nan,
                     "delivered": float(np.nanmean(delivered)) if np.isfinite(delivered).any()
                     else np.nan, "n_series": int(np.isfinite(delivered).sum())})
    return pd.DataFrame(rows, columns=cols)


def _summarise(board: pd.DataFrame, levels) -> pd.DataFrame:
    if board.empty or SELECT_BY not in board:
        return pd.DataFrame(columns=["model", "n_series"])
    ok = board[board[SELECT_BY].notna()]
    best = ok.loc[ok.groupby("id")[SELECT_BY].idxmin(), "model"].value_counts()
    agg: dict[str, Any] = {"n_series": ("id", "nunique"), "mase_mean": ("mase", "mean"),
                           "mase_median": ("mase", "median"), "smape_mean": ("smape", "mean")}
    for lv in levels:
        col = f"coverage_{lv:g}" if isinstance(lv, float) else f"coverage_{lv}"
        agg[col] = (col, "mean")
        if f"calibrated_{col}" in ok:
            agg[f"calibrated_{col}"] = (f"calibrated_{col}", "mean")
    agg["fit_time"] = ("fit_time", "mean")
    summary = ok.groupby("model", sort=False).agg(**agg).reset_index()
    summary["wins"] = summary["model"].map(best).fillna(0).astype(int)
    return summary.sort_values("mase_mean", kind="stable").reset_index(drop=True)


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
        The models ``auto`` chooses from.
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
        raise ForecastError("future values are only used with exogenous columns; give exog=[...] "
                            "(--exog COL,...) or drop future (--future)")
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


def _is_date_like(col: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(col.dtype) or isinstance(col.dtype, pd.PeriodDtype):
        return True
    if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
        return False
    sample = col.dropna().astype(str).head(50)
    if sample.empty or not sample.str.contains(r"\d").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())


def _ambiguous(frame, what: str, found: list[str], none: str, several: str, how: str) -> ForecastError:
    why = none if not found else f"{several}: {', '.join(found)}"
    return ForecastError(f"cannot tell {what} ({why}); name it with {how}; columns are: "
                         f"{', '.join(map(str, frame.columns[:20]))}")


def infer_columns(frame: pd.DataFrame, *, time=None, target=None, exclude=()) -> dict:
    """The time and target columns: given, or the single date-like / numeric column."""
    out = {"time": time, "target": target, "inferred": []}
    rest = [c for c in frame.columns if str(c) not in set(exclude)]
    if time is None:
        dates = [str(c) for c in rest if _is_date_like(frame[c])]
        if len(dates) != 1:
            raise _ambiguous(frame, "which column holds the dates", dates, "none looks like dates",
                             "several look like dates", "--time COL (time=...)")
        out["time"] = dates[0]
        out["inferred"].append("time")
    if target is None:
        nums = [str(c) for c in rest if str(c) != out["time"]
                and pd.api.types.is_numeric_dtype(frame[c].dtype)
                and not pd.api.types.is_bool_dtype(frame[c].dtype)]
        if len(nums) != 1:
            raise _ambiguous(frame, "which column to forecast", nums, "no numeric column",
                             "several numeric columns", "--target COL (target=...)")
        out["target"] = nums[0]
        out["inferred"].append("target")
    return out


def _split(data, *, time, target, id, exog=None) -> tuple[list[tuple[str, Any]], dict]:
    """The series to forecast, as (id, frame) pairs (time, target[, exog...]), and the columns."""
    if isinstance(data, pd.Series):
        if id is not None:
            raise ForecastError("id= needs a long table, not a single Series")
        if exog:
            raise ForecastError("exog= needs a table with the regressor columns, not a Series")
        return [(str(data.name or "series"), data)], {"time": None, "target": data.name,
                                                      "inferred": []}
    from modelworks.data import load_table

    frame = load_table(data)
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    for what, col in (("time", time), ("target", target), ("id", id)):
        if col is not None and col not in cols:
            flag = {"time": "--time", "target": "--target", "id": "--id"}[what]
            raise ColumnError(
                f"{what} column '{col}' not found; columns are: {', '.join(cols[:30])} "
                f"(use {flag} NAME)"
            )
    missing = [c for c in exog or () if c not in cols]
    if missing:
        raise ColumnError(f"exogenous column(s) {', '.join(missing)} not found; columns are: "
                          f"{', '.join(cols[:30])} (--exog COL,...)")
    columns = infer_columns(frame, time=time, target=target,
                           exclude=[c for c in [id, *(exog or ())] if c])
    time, target = columns["time"], columns["target"]
    keep = [time, target, *(exog or ())]
    if id is None:
        return [(str(target), frame[keep])], columns
    groups = []
    for key, part in frame.groupby(id, sort=True, dropna=False):
        groups.append((str(key), part[keep].rename(columns={target: str(key)})))
    return groups, columns


def _attach_future(groups, future, columns, exog, id) -> list[tuple]:
    """Split each group into (id, y, X) and attach its rows of the future frame."""
    from modelworks.data import load_table

    time = columns["time"]
    fut = None
    if future is not None:
        fut = load_table(future)
        fut.columns = [str(c) for c in fut.columns]
        need = [time, *exog] + ([id] if id else [])
        absent = [c for c in need if c not in fut.columns]
        if absent:
            raise ColumnError(f"the future file lacks column(s) {', '.join(absent)}; it needs "
                              f"{', '.join(need)} (one row per future period"
                              f"{' and series' if id else ''})")
        if id:
            fut[id] = fut[id].astype(str)
    out = []
    for key, part in groups:
        times = _series.parse_times(part[time], column=time)
        y = pd.Series(part.iloc[:, 1].to_numpy(), index=times, name=part.columns[1])
        X = part[exog].set_axis(times)
        Xf = None
        if fut is not None:
            rows = fut[fut[id] == key] if id else fut
            Xf = rows[exog].set_axis(_series.parse_times(rows[time], column=time))
        out.append((key, y, X, Xf))
    return out


