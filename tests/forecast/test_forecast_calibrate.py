"""Calibrated intervals: rescaled by backtest errors until they cover what they claim."""

import numpy as np
import pytest

from modelworks.exceptions import ForecastError
from modelworks.forecast import Calibrated, Naive, backtest, forecast
from modelworks.forecast._calibrate import conformal_quantile


class Overconfident(Naive):
    """A naive forecast whose intervals are four times too narrow (a custom forecaster)."""

    name = "overconfident"

    def _fit(self, y, X):
        super()._fit(y, X)
        self.sigma_ /= 4


def test_conformal_quantile_uses_the_n_plus_one_rank():
    scores = np.arange(1.0, 20.0)  # 19 scores
    assert conformal_quantile(scores, 80) == 16.0  # ceil(20 * 0.8) = 16th smallest
    assert conformal_quantile(scores, 95) == 19.0
    assert conformal_quantile(scores[:5], 95) == 5.0  # too few scores: the largest


def test_high_level_multiplier_is_at_least_the_laplace_extrapolation_of_the_80_one():
    from scipy.stats import norm

    from modelworks.forecast._calibrate import interval_quantile

    scores = np.sort(np.abs(np.random.default_rng(0).normal(size=24)))
    q80, q95 = conformal_quantile(scores, 80), interval_quantile(scores, 95)
    assert interval_quantile(scores, 80) == q80
    assert q95 >= q80 * np.log(0.05) / np.log(0.2) - 1e-12  # Laplace tails at least
    assert q95 > q80 * norm.ppf(0.975) / norm.ppf(0.9)  # wider than the normal shape
    assert q95 >= conformal_quantile(scores, 95)
    flat = np.ones(24)  # every error on the 80 % line: the floor widens the 95 % interval
    assert interval_quantile(flat, 95) > conformal_quantile(flat, 95)


def test_calibration_repairs_intervals_that_are_too_narrow(random_walk):
    y = random_walk.iloc[:400]
    raw = backtest(Overconfident(), y, folds=20, horizon=5)
    assert raw.coverage[80] < 0.5
    calibrated = backtest(Calibrated(Overconfident(), folds=20, horizon=5), y, folds=20, horizon=5)
    assert abs(calibrated.coverage[80] - 0.80) < 0.10
    assert abs(calibrated.coverage[95] - 0.95) < 0.06
    # the point forecasts are the wrapped model's
    np.testing.assert_allclose(calibrated.predictions["forecast"], raw.predictions["forecast"])


def test_calibrated_forecaster_reports_its_widening(random_walk):
    model = Calibrated(Overconfident(), folds=10, horizon=5).fit(random_walk)
    fc = model.predict(5, levels=(80, 95))
    assert model.calibration_folds_ == 10
    assert model.factors_[80] > 2.5  # about 4x, estimated from 50 errors
    plain = Overconfident().fit(random_walk).predict(5)
    assert (fc["upper_80"] - fc["lower_80"]).iloc[0] > 2.5 * (plain["upper_80"] - plain["lower_80"]).iloc[0]
    assert model.label() == "overconfident (calibrated)"


def test_forecast_with_calibrate_shows_cross_fold_coverage(co2_monthly):
    res = forecast(co2_monthly, horizon=6, model="seasonal-naive", backtest=4, calibrate=True)
    board = res.leaderboard.set_index("model")
    assert board.loc["seasonal-naive", "calibrated_coverage_80"] >= 0
    assert np.isnan(board.loc["naive", "calibrated_coverage_80"])
    assert res.series[0].label == "seasonal-naive (calibrated)"
    assert "calibrated_coverage_95" in res.summary
    with pytest.raises(ForecastError, match="calibrated intervals are learned from the backtest errors"):
        forecast(co2_monthly, horizon=6, model="naive", backtest=0, calibrate=True)


def test_calibrated_needs_a_forecaster(co2_monthly):
    with pytest.raises(ForecastError, match="Calibrated needs a modelworks forecaster to wrap, got str"):
        Calibrated("arima").fit(co2_monthly)
