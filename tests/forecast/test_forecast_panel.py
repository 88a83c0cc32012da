"""Many series at once: a long frame, worker processes, one leaderboard; auto model choice."""

import numpy as np
import pandas as pd
import pytest

from modelworks.exceptions import ColumnError, ForecastError, UnknownNameError
from modelworks.forecast import forecast


@pytest.fixture(scope="module")
def long_frame():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2018-01-01", periods=48, freq="MS")
    season = 10 * np.sin(2 * np.pi * np.arange(48) / 12)
    frames = [
        pd.DataFrame({"month": idx, "store": "seasonal", "sales": 100 + season + rng.normal(0, 1, 48)}),
        pd.DataFrame({"month": idx, "store": "trend", "sales": 50 + 2.0 * np.arange(48) + rng.normal(0, 1, 48)}),
        pd.DataFrame({"month": idx, "store": "flat", "sales": 7.0}),
    ]
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=0)  # order must not matter


def test_many_series_in_processes_give_one_leaderboard(long_frame):
    res = forecast(long_frame, time="month", target="sales", id="store", horizon=6,
                   model="auto", backtest=2, candidates=["seasonal-naive", "naive", "drift"], n_jobs=2)
    # the constant store is reported, not fatal
    assert set(res.errors) == {"flat"} and "constant" in res.errors["flat"]
    chosen = {s.id: s.model for s in res.series if not s.error}
    assert chosen == {"seasonal": "seasonal-naive", "trend": "drift"}
    board = res.leaderboard
    assert set(board["store"]) == {"seasonal", "trend"}
    assert len(board) == 6 and board["selected"].sum() == 2
    for _store, part in board.groupby("store"):
        assert part.loc[part["selected"], "mase"].iloc[0] == part["mase"].min()
    assert list(res.forecasts.columns[:3]) == ["store", "time", "model"]
    assert len(res.forecasts) == 12
    assert set(res.summary["model"]) == {"seasonal-naive", "naive", "drift"}
    assert res.summary["wins"].sum() == 2


def test_a_named_model_is_backtested_next_to_the_baselines(long_frame):
    one = long_frame[long_frame["store"] == "seasonal"].drop(columns="store")
    res = forecast(one, time="month", target="sales", horizon=3, model="arima", order=(1, 0, 0),
                   seasonal_order=(1, 0, 0), backtest=2, calibrate=False)
    assert list(res.leaderboard["model"].sort_values()) == ["arima", "drift", "naive", "seasonal-naive"]
    assert res.series[0].label == "ARIMA(1,0,0)(1,0,0)[12]"
    assert "id" not in res.leaderboard


def test_auto_needs_a_backtest_and_names_are_checked(long_frame):
    one = long_frame[long_frame["store"] == "trend"].drop(columns="store")
    with pytest.raises(ForecastError, match="model 'auto' picks the best candidate by backtest"):
        forecast(one, time="month", target="sales", horizon=3, backtest=0)
    with pytest.raises(UnknownNameError, match="unknown forecasting model 'lstm'; choose one of: auto, arima"):
        forecast(one, time="month", target="sales", horizon=3, model="lstm")
    with pytest.raises(ColumnError, match="target column 'revenue' not found; columns are: month, sales"):
        forecast(one, time="month", target="revenue", horizon=3)


def test_all_series_failing_is_an_error(long_frame):
    flat = long_frame[long_frame["store"] == "flat"]
    with pytest.raises(ForecastError, match="no series could be forecast .flat: series 'flat' is constant"):
        forecast(flat, time="month", target="sales", id="store", horizon=3, model="naive", backtest=0)
