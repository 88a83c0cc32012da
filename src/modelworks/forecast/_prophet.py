"""Prophet behind the forecaster contract, with holidays and extra regressors.

Intervals for several levels come from one set of Prophet's posterior predictive samples
(``predictive_samples``), so asking for 80 % and 95 % costs one sampling pass, not two fits.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from modelworks.exceptions import ForecastError
from modelworks.forecast._base import Forecaster


class _DropPlotlyNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Importing plotly failed" not in record.getMessage()


def silence_plotly_notice() -> None:
    """Drop the "Importing plotly failed. Interactive plots will not work." line that importing
    prophet logs when plotly is absent (modelworks draws its plots with matplotlib)."""
    logger = logging.getLogger("prophet.plot")
    if not any(isinstance(f, _DropPlotlyNotice) for f in logger.filters):
        logger.addFilter(_DropPlotlyNotice())


def _quiet() -> None:
    try:  # cmdstanpy installs its handler (and resets its level) on first use: do that now
        from cmdstanpy.utils import get_logger

        get_logger()
    except ImportError:  # pragma: no cover - older cmdstanpy
        pass
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Prophet(Forecaster):
    """Meta's Prophet: trend + seasonalities + holidays + regressors (offline Stan model).

    Parameters
    ----------
    growth : {"linear", "flat", "logistic"}
    seasonality_mode : {"additive", "multiplicative"}
    yearly_seasonality, weekly_seasonality, daily_seasonality : "auto", bool or int
    holidays : pandas.DataFrame, optional
        Prophet's holiday frame: columns ``holiday``, ``ds`` (and optionally
        ``lower_window``, ``upper_window``).
    country_holidays : str, optional
        A country code (``"US"``, ``"FR"``...) whose public holidays are added.
    changepoint_prior_scale, seasonality_prior_scale : float
        Flexibility of the trend and of the seasonalities.
    uncertainty_samples : int
        Posterior samples used for the intervals.
    seed : int
        Seed of the sampling, for reproducible intervals.

    Attributes
    ----------
    model_ : prophet.Prophet
    """

    supports_exog = True
    name = "prophet"

    def __init__(self, *, growth: str = "linear", seasonality_mode: str = "additive",
                 yearly_seasonality="auto", weekly_seasonality="auto", daily_seasonality="auto",
                 holidays: pd.DataFrame | None = None, country_holidays: str | None = None,
                 changepoint_prior_scale: float = 0.05, seasonality_prior_scale: float = 10.0,
                 uncertainty_samples: int = 1000, seed: int = 0) -> None:
        self.growth = growth
        self.seasonality_mode = seasonality_mode
        self.yearly_seasonality = yearly_seasonality
        self.weekly_seasonality = weekly_seasonality
        self.daily_seasonality = daily_seasonality
        self.holidays = holidays
        self.country_holidays = country_holidays
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_prior_scale = seasonality_prior_scale
        self.uncertainty_samples = uncertainty_samples
        self.seed = seed

    def _min_observations(self) -> int:
        return 4

    def _frame(self, index, X) -> pd.DataFrame:
        df = pd.DataFrame({"ds": index})
        if X is not None:
            for c in X.columns:
                df[c] = X[c].to_numpy()
        return df

    def _fit(self, y, X) -> None:
        from modelworks._imports import require

        silence_plotly_notice()
        require("prophet", purpose="Prophet forecasts")
        from prophet import Prophet as _Prophet

        _quiet()  # after the import: cmdstanpy sets its own logger level when it loads

        if self.holidays is not None:
            need = {"holiday", "ds"}
            if not isinstance(self.holidays, pd.DataFrame) or not need <= set(self.holidays.columns):
                raise ForecastError(
                    "holidays must be a DataFrame with columns 'holiday' and 'ds' (optionally "
                    "'lower_window', 'upper_window')"
                )
        reserved = {"ds", "y", "cap", "floor", "t", "trend", "yhat"}
        if X is not None and reserved & set(X.columns):
            raise ForecastError(
                f"exogenous column name(s) {', '.join(sorted(reserved & set(X.columns)))} are "
                "reserved by Prophet; rename them"
            )
        if self.growth == "logistic":
            raise ForecastError("growth='logistic' needs a capacity; use 'linear' or 'flat'")
        model = _Prophet(
            growth=self.growth, seasonality_mode=self.seasonality_mode,
            yearly_seasonality=self.yearly_seasonality,
            weekly_seasonality=self.weekly_seasonality, daily_seasonality=self.daily_seasonality,
            holidays=self.holidays, changepoint_prior_scale=self.changepoint_prior_scale,
            seasonality_prior_scale=self.seasonality_prior_scale,
            uncertainty_samples=self.uncertainty_samples,
        )
        if self.country_holidays:
            try:
                model.add_country_holidays(country_name=self.country_holidays)
            except Exception as e:  # the holidays package raises its own types
                raise ForecastError(
                    f"unknown country for holidays {self.country_holidays!r}: {e} (use an ISO code "
                    "such as 'US', 'FR', 'DE')"
                ) from e
        if X is not None:
            for c in X.columns:
                model.add_regressor(c)
        df = self._frame(y.index, X)
        df["y"] = y.to_numpy()
        try:
            model.fit(df)
        except (RuntimeError, ValueError) as e:
            raise ForecastError(f"Prophet could not fit series '{y.name}': {e}") from e
        self.model_ = model

    def _predict(self, horizon, X, levels):
        from modelworks.forecast._series import future_index

        index = future_index(self.y_, self.freq_, horizon)
        df = self._frame(index, X)
        samples_wanted = self.model_.uncertainty_samples
        self.model_.uncertainty_samples = 0  # the point forecast needs no sampling
        try:
            point = self.model_.predict(df)["yhat"].to_numpy()
        finally:
            self.model_.uncertainty_samples = samples_wanted
        bounds = {}
        if levels:
            state = np.random.get_state()
            np.random.seed(self.seed)  # prophet samples with the global numpy generator
            try:
                samples = self.model_.predictive_samples(df)["yhat"]
            finally:
                np.random.set_state(state)
            for lv in levels:
                lo, hi = np.percentile(samples, [50 - lv / 2, 50 + lv / 2], axis=1)
                bounds[lv] = (lo, hi)
        return point, bounds
