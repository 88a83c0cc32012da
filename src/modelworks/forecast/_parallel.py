"""Many series: batches in local worker processes, or on a Dask cluster."""

from __future__ import annotations

import pandas as pd

from modelworks.exceptions import ForecastError
from modelworks.forecast import _series
from modelworks.forecast._models import make_forecaster
from modelworks.forecast._select import SeriesResult, forecast_series

DASK_CONNECT_TIMEOUT = "15s"  # how long to wait for the scheduler of --dask


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
            from modelworks.forecast._sf_import import statsforecast_models

            statsforecast_models()

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
                            "(dask scheduler / dask worker)", param="dask", fix="or leave {} out") from e
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
