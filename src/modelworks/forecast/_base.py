"""The forecaster contract: ``fit(y, X=None)`` then ``predict(horizon) -> Forecast``.

A forecaster subclasses :class:`Forecaster` and implements two small methods, ``_fit`` on a
clean regular series and ``_predict`` returning point values and interval bounds; validation,
frequency handling, exogenous checks and the :class:`Forecast` frame are shared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from modelworks._validation import check_scalar
from modelworks.exceptions import ForecastError, NotFittedError
from modelworks.forecast import _series


class Forecast(pd.DataFrame):
    """Forecasts as a DataFrame: ``forecast`` plus ``lower_<L>`` / ``upper_<L>`` per level.

    Indexed by the future timestamps. ``history`` holds the series the model was fitted on
    (for plots), ``levels`` the interval levels in percent and ``model_name`` the forecaster.
    """

    _metadata = ["history", "levels", "model_name"]
    history: pd.Series | None = None
    levels: tuple = ()
    model_name: str = ""

    @property
    def _constructor(self):
        return Forecast

    def interval(self, level) -> tuple[pd.Series, pd.Series]:
        """The (lower, upper) bounds at ``level`` percent."""
        key = _level_key(level)
        if f"lower_{key}" not in self.columns:
            raise ForecastError(
                f"no {key}% interval in this forecast; it has levels {', '.join(map(str, self.levels)) or 'none'} "
                "(predict(..., levels=(80, 95)))"
            )
        return self[f"lower_{key}"], self[f"upper_{key}"]

    def to_frame(self) -> pd.DataFrame:
        """A plain DataFrame copy (time as a column)."""
        frame = pd.DataFrame(self).copy()
        frame.index.name = frame.index.name or "time"
        return frame.reset_index()

    def plot(self, *, ax=None, last: int | None = 200, title: str | None = None):  # noqa: D401
        """Plot the recent history, the forecast and its shaded intervals; return the Figure.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw there instead of a new figure.
        last : int or None
            How many history points to show (None: all).
        title : str, optional
        """
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(9, 4))
        else:
            fig = ax.figure
        if self.history is not None:
            hist = self.history if last is None else self.history.iloc[-last:]
            ax.plot(hist.index, hist.to_numpy(), color="#1d2a44", lw=1.2, label="observed")
        for i, level in enumerate(sorted(self.levels, reverse=True)):
            lo, hi = self.interval(level)
            ax.fill_between(self.index, lo.to_numpy(), hi.to_numpy(), color="#2b7de9",
                            alpha=0.18 + 0.14 * i, lw=0, label=f"{level}% interval")
        ax.plot(self.index, self["forecast"].to_numpy(), color="#2b7de9", lw=1.8,
                label=f"forecast ({self.model_name})" if self.model_name else "forecast")
        ax.set_title(title or (f"{self.history.name}" if self.history is not None else "forecast"))
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        return fig


def _level_key(level) -> str:
    return f"{level:g}" if isinstance(level, float) else str(level)


def make_forecast(index: pd.DatetimeIndex, point, bounds: dict, *, history: pd.Series,
                  levels, model_name: str) -> Forecast:
    data: dict[str, Any] = {"forecast": np.asarray(point, dtype=float)}
    for level in levels:
        lo, hi = bounds[level]
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        data[f"lower_{_level_key(level)}"] = np.minimum(lo, hi)
        data[f"upper_{_level_key(level)}"] = np.maximum(lo, hi)
    frame = Forecast(data, index=index)
    frame.index.name = "time"
    frame.history = history
    frame.levels = tuple(levels)
    frame.model_name = model_name
    return frame


def normal_bounds(point, sd, levels) -> dict:
    """Gaussian intervals ``point ± z * sd`` for each level."""
    from scipy.stats import norm

    point, sd = np.asarray(point, float), np.asarray(sd, float)
    return {lv: (point - norm.ppf(0.5 + lv / 200) * sd, point + norm.ppf(0.5 + lv / 200) * sd)
            for lv in levels}


class Forecaster(BaseEstimator):
    """Base class of every modelworks forecaster.

    Subclasses implement ``_fit(y, X)`` (``y`` a float Series on a regular DatetimeIndex, ``X``
    an aligned numeric DataFrame or None) and ``_predict(horizon, X_future, levels)`` returning
    ``(point, {level: (lower, upper)})``. They set ``supports_exog`` and may override
    ``_min_observations``.

    Attributes set by ``fit``
    -------------------------
    y_ : pandas.Series
        The validated series on its regular grid.
    freq_ : str
        Its frequency.
    seasonal_period_ : int
        The seasonal period used (given, or inferred from the frequency).
    exog_columns_ : list of str or None
        Exogenous columns the model was fitted with.
    n_filled_ : int
        Values supplied by the fill policy.
    """

    supports_exog = False
    name = "forecaster"

    def _min_observations(self) -> int:
        return 3

    def _resolve_period(self, freq: str) -> int:
        given = getattr(self, "seasonal_period", None)
        if given is None:
            return _series.seasonal_period_for(freq)
        return check_scalar(given, "seasonal_period", kind=int, low=1, error=ForecastError)

    def fit(self, y, X=None, *, freq: str | None = None, fill: str | None = None) -> Forecaster:
        """Fit on a Series with a DatetimeIndex or a (time, value) DataFrame.

        Parameters
        ----------
        y : pandas.Series or pandas.DataFrame
            The series (DatetimeIndex or PeriodIndex), or a two-column (time, value) frame.
        X : pandas.DataFrame, optional
            Exogenous regressors, one row per timestamp of ``y`` (indexed by time or in order).
        freq : str, optional
            The frequency (pandas alias). Inferred when omitted.
        fill : {"interpolate", "ffill", "zero"}, optional
            How to fill missing timestamps or values. By default gaps are an error.

        Returns
        -------
        self

        Raises
        ------
        ForecastError
            Unparseable dates, non-numeric or constant target, duplicated or irregular
            timestamps, gaps without a fill policy, too few observations, bad exogenous data.
        """
        series, freq_, n_filled = _series.regularize(_series.as_series(y), freq=freq, fill=fill)
        _series.check_not_constant(series)
        period = self._resolve_period(freq_)
        Xf = None
        if X is not None:
            if not self.supports_exog:
                raise ForecastError(
                    f"{type(self).__name__} does not use exogenous variables; use ARIMA, "
                    "AutoARIMA or Prophet for regressors, or drop X"
                )
            Xf = _series.prepare_exog(X, series.index)
        self.y_ = series
        self.freq_ = freq_
        self.seasonal_period_ = period
        self.n_filled_ = int(n_filled)
        self.exog_columns_ = [str(c) for c in Xf.columns] if Xf is not None else None
        if Xf is not None:
            Xf.columns = self.exog_columns_
        need = self._min_observations()
        if len(series) < need:
            raise ForecastError(
                f"series '{series.name}' has {len(series)} observations; {type(self).__name__} "
                f"needs at least {need}{self._why_min()}"
            )
        self._fit(series, Xf)
        return self

    def _why_min(self) -> str:
        return ""

    def _check_fitted(self) -> None:
        if not hasattr(self, "y_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(y) before predict"
            )

    def predict(self, horizon: int, X_future=None, *, levels=(80, 95)) -> Forecast:
        """Forecast ``horizon`` periods ahead with intervals.

        Parameters
        ----------
        horizon : int
            Number of future periods (> 0).
        X_future : pandas.DataFrame, optional
            Future values of every exogenous column used in ``fit`` (required then).
        levels : sequence of float
            Interval levels in percent.

        Returns
        -------
        Forecast
            ``forecast``, ``lower_<L>``, ``upper_<L>`` columns on the future timestamps.
        """
        self._check_fitted()
        horizon = _series.check_horizon(horizon)
        levels = _series.check_levels(levels)
        index = _series.future_index(self.y_, self.freq_, horizon)
        Xf = _series.prepare_future_exog(X_future, self.exog_columns_, index,
                                         model=type(self).__name__)
        point, bounds = self._predict(horizon, Xf, levels)
        return make_forecast(index, point, bounds, history=self.y_, levels=levels,
                             model_name=self.label())

    def label(self) -> str:
        """A short human name for tables and plots."""
        return self.name

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict(self, horizon: int, X: pd.DataFrame | None, levels) -> tuple:  # pragma: no cover
        raise NotImplementedError
