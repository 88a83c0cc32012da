"""Time-series forecasting: one contract, ARIMA / AutoARIMA / Prophet / baselines, backtests.

Every forecaster is fitted with ``fit(y, X=None)`` on a Series with a DatetimeIndex (or a
``(time, value)`` frame) and returns a :class:`Forecast` from ``predict(horizon, X_future=None,
levels=(80, 95))``: point values plus lower/upper bounds per interval level, with ``.plot()``.

>>> from modelworks.forecast import AutoARIMA, backtest  # doctest: +SKIP
>>> fc = AutoARIMA().fit(y).predict(12)                   # doctest: +SKIP
>>> backtest(AutoARIMA(), y, folds=3, horizon=12).coverage  # doctest: +SKIP
"""

from modelworks.forecast._arima import ARIMA, AutoARIMA
from modelworks.forecast._backtest import BacktestResult, accuracy, backtest
from modelworks.forecast._base import Forecast, Forecaster
from modelworks.forecast._baselines import Drift, Naive, SeasonalNaive
from modelworks.forecast._calibrate import Calibrated
from modelworks.forecast._job import ForecastJobResult, forecast_job
from modelworks.forecast._panel import (
    MODELS,
    ForecastResult,
    SeriesResult,
    forecast,
    forecast_series,
    make_forecaster,
)
from modelworks.forecast._prophet import Prophet
from modelworks.forecast._series import FILL_POLICIES, seasonal_period_for

__all__ = [
    "ARIMA",
    "AutoARIMA",
    "BacktestResult",
    "Calibrated",
    "Drift",
    "FILL_POLICIES",
    "Forecast",
    "ForecastJobResult",
    "ForecastResult",
    "Forecaster",
    "MODELS",
    "Naive",
    "Prophet",
    "SeasonalNaive",
    "SeriesResult",
    "accuracy",
    "backtest",
    "forecast",
    "forecast_job",
    "forecast_series",
    "make_forecaster",
    "seasonal_period_for",
]
