"""The three benchmark forecasts every report shows: naive, seasonal naive and drift.

Intervals follow the residual-based formulas of Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice*, section 5.5 (normal errors, variance growing with the horizon).
"""

from __future__ import annotations

import numpy as np

from modelworks.forecast._base import Forecaster, normal_bounds


def _sigma(residuals: np.ndarray, n_params: int = 0) -> float:
    r = residuals[np.isfinite(residuals)]
    dof = max(len(r) - n_params, 1)
    return float(np.sqrt(np.sum(r**2) / dof))


class Naive(Forecaster):
    """Every future value is the last observed value (a random walk)."""

    name = "naive"

    def _fit(self, y, X) -> None:
        values = y.to_numpy()
        self.last_ = float(values[-1])
        self.sigma_ = _sigma(np.diff(values))

    def _predict(self, horizon, X, levels):
        h = np.arange(1, horizon + 1)
        point = np.full(horizon, self.last_)
        return point, normal_bounds(point, self.sigma_ * np.sqrt(h), levels)


class SeasonalNaive(Forecaster):
    """Every future value is the value one seasonal period earlier.

    Parameters
    ----------
    seasonal_period : int, optional
        Observations per cycle; inferred from the frequency (12 for monthly data...) if omitted.
    """

    name = "seasonal-naive"

    def __init__(self, *, seasonal_period: int | None = None) -> None:
        self.seasonal_period = seasonal_period

    def _min_observations(self) -> int:
        return 2 * self.seasonal_period_ if self.seasonal_period_ > 1 else 3

    def _why_min(self) -> str:
        return (f" (two full seasons of period {self.seasonal_period_}); give more data or a "
                "smaller seasonal_period (--seasonal-period)")

    def _fit(self, y, X) -> None:
        m = self.seasonal_period_
        values = y.to_numpy()
        self.season_ = values[-m:].astype(float)
        self.sigma_ = _sigma(values[m:] - values[:-m])

    def _predict(self, horizon, X, levels):
        m = self.seasonal_period_
        h = np.arange(1, horizon + 1)
        point = self.season_[(h - 1) % m]
        k = (h - 1) // m
        return point, normal_bounds(point, self.sigma_ * np.sqrt(k + 1), levels)


class Drift(Forecaster):
    """The line from the first to the last observation, extended (random walk with drift)."""

    name = "drift"

    def _fit(self, y, X) -> None:
        values = y.to_numpy()
        self.n_ = len(values)
        self.last_ = float(values[-1])
        diffs = np.diff(values)
        self.slope_ = float(diffs.mean())
        self.sigma_ = _sigma(diffs - self.slope_, n_params=1)

    def _predict(self, horizon, X, levels):
        h = np.arange(1, horizon + 1)
        point = self.last_ + self.slope_ * h
        sd = self.sigma_ * np.sqrt(h * (1 + h / (self.n_ - 1)))
        return point, normal_bounds(point, sd, levels)
