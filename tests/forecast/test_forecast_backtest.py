"""Rolling-origin backtests: the folds, the metrics and the coverage they report."""

import numpy as np
import pandas as pd
import pytest

from modelworks.exceptions import ForecastError
from modelworks.forecast import Drift, Naive, SeasonalNaive, accuracy, backtest
from modelworks.forecast._backtest import fold_origins, mase_scale


def test_origins_end_at_the_last_observation():
    assert fold_origins(100, folds=3, horizon=12) == [64, 76, 88]
    assert fold_origins(100, folds=3, horizon=12, step=1) == [86, 87, 88]
    with pytest.raises(ForecastError, match=r"3 fold\(s\) with horizon 12 needs at least 60 observations "
                                            r".*the series has 40: use fewer folds"):
        fold_origins(40, folds=3, horizon=12, min_train=24)


def test_accuracy_metrics_by_hand():
    got = accuracy([10, 20, 0.0 + 40], [12, 18, 40], scale=2.0)
    assert got["mae"] == pytest.approx(4 / 3)
    assert got["rmse"] == pytest.approx(np.sqrt(8 / 3))
    assert got["mape"] == pytest.approx((0.2 + 0.1 + 0) / 3 * 100)
    assert got["smape"] == pytest.approx((2 * 2 / 22 + 2 * 2 / 38 + 0) / 3 * 100)
    assert got["mase"] == pytest.approx(2 / 3)
    assert np.isnan(accuracy([0, 1], [1, 1])["mape"])  # undefined with a zero actual


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    x = np.array([1.0, 2, 4, 7, 11])
    assert mase_scale(x, 1) == pytest.approx(np.mean([1, 2, 3, 4]))
    assert mase_scale(x, 2) == pytest.approx(np.mean([3, 5, 7]))


def test_backtest_reports_folds_metrics_and_coverage(co2_monthly):
    bt = backtest(SeasonalNaive(), co2_monthly, folds=3, horizon=6)
    assert list(bt.folds["fold"]) == [1, 2, 3]
    assert list(bt.folds["train_size"]) == [78, 84, 90]
    assert len(bt.predictions) == 18
    # the seasonal naive forecast of fold 3 is the season ending at its origin
    p3 = bt.predictions[bt.predictions["fold"] == 3]
    np.testing.assert_allclose(p3["forecast"], co2_monthly.iloc[78:84].to_numpy())
    np.testing.assert_allclose(p3["actual"], co2_monthly.iloc[90:96].to_numpy())
    assert set(bt.metrics) >= {"mae", "rmse", "mape", "smape", "mase", "coverage_80", "coverage_95"}
    assert bt.metrics["mase"] > 0
    assert 0 <= bt.coverage[80] <= bt.coverage[95] <= 1
    table = bt.coverage_table()
    assert list(table["level"]) == [80, 95]
    assert table["gap_points"].iloc[0] == pytest.approx((bt.coverage[80] - 0.8) * 100)


def test_seasonal_model_beats_naive_on_a_seasonal_series(co2_monthly):
    s = backtest(SeasonalNaive(), co2_monthly, folds=3, horizon=12)
    n = backtest(Naive(), co2_monthly, folds=3, horizon=12)
    assert s.metrics["mase"] < n.metrics["mase"]


def test_naive_intervals_are_honest_on_a_random_walk(random_walk):
    bt = backtest(Naive(), random_walk, folds=60, horizon=5, levels=(80, 95))
    # 300 forecast points of a true random walk: coverage close to nominal
    assert abs(bt.coverage[80] - 0.80) < 0.08
    assert abs(bt.coverage[95] - 0.95) < 0.05


def test_backtest_refuses_too_short_series():
    y = pd.Series(np.arange(20.0) ** 1.1, index=pd.date_range("2020-01-01", periods=20, freq="MS"), name="s")
    with pytest.raises(ForecastError, match="use fewer folds"):
        backtest(Drift(), y, folds=4, horizon=6)


def test_backtest_with_exogenous_uses_the_actual_future_rows():
    from modelworks.forecast import ARIMA

    rng = np.random.default_rng(3)
    idx = pd.date_range("2019-01-01", periods=80, freq="W-MON")
    X = pd.DataFrame({"x": rng.normal(size=80)}, index=idx)
    y = pd.Series(5 * X["x"].to_numpy() + rng.normal(0, 0.1, 80) + 20, index=idx, name="y")
    with_x = backtest(ARIMA((0, 0, 0)), y, X, folds=2, horizon=4)
    without = backtest(ARIMA((0, 0, 0)), y, folds=2, horizon=4)
    assert with_x.metrics["mae"] < 0.2 < without.metrics["mae"]
