"""Each model against its reference: statsmodels, statsforecast, Prophet, the textbook formulas."""

import numpy as np
import pandas as pd
import pytest

from modelworks.exceptions import ForecastError
from modelworks.forecast import ARIMA, AutoARIMA, Drift, Naive, Prophet, SeasonalNaive


def test_arima_matches_statsmodels_and_has_a_summary(nile):
    from statsmodels.tsa.arima.model import ARIMA as SM

    model = ARIMA((1, 1, 1)).fit(nile)
    ref = SM(nile.to_numpy(), order=(1, 1, 1)).fit()
    fc = model.predict(5, levels=(95,))
    np.testing.assert_allclose(fc["forecast"], ref.forecast(5), rtol=1e-6)
    np.testing.assert_allclose(fc[["lower_95", "upper_95"]], ref.get_forecast(5).conf_int(0.05),
                               rtol=1e-6)
    assert "SARIMAX Results" in str(model.summary())
    assert model.label() == "ARIMA(1,1,1)"


def test_arima_seasonal_order_takes_m_from_the_frequency(co2_monthly):
    model = ARIMA((0, 1, 1), (0, 1, 1)).fit(co2_monthly)
    assert model.seasonal_order_ == (0, 1, 1, 12)
    assert model.label() == "ARIMA(0,1,1)(0,1,1)[12]"


def test_arima_rejects_bad_orders(nile):
    with pytest.raises(ForecastError, match=r"order \(p, d, q\) must be 3 whole numbers >= 0"):
        ARIMA((1, -1, 0)).fit(nile)
    with pytest.raises(ForecastError, match="needs a seasonal period m >= 2"):
        ARIMA((1, 0, 0), (1, 0, 0, 1)).fit(nile)


def test_auto_arima_engines_agree_on_the_nile(nile):
    sf = AutoARIMA(engine="statsforecast").fit(nile)
    sm = AutoARIMA(engine="statsmodels").fit(nile)
    # the textbook answer for the Nile is an ARIMA(1,1,1)-like model with d = 1
    assert sf.order_[1] == 1 and sm.order_[1] == 1
    assert sf.seasonal_order_ == (0, 0, 0, 0) == sm.seasonal_order_
    gap = np.abs(sf.predict(5)["forecast"].to_numpy() - sm.predict(5)["forecast"].to_numpy())
    assert gap.max() < 0.05 * nile.mean()
    assert "SARIMAX Results" in str(sf.summary())


def test_auto_arima_finds_the_season_of_co2(co2_monthly):
    model = AutoARIMA().fit(co2_monthly)
    assert model.engine_ == "statsforecast"
    assert model.seasonal_order_[3] == 12 and model.seasonal_order_[1] == 1
    assert model.label().startswith("ARIMA(")


def test_auto_arima_uses_exogenous_regressors():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2015-01-01", periods=120, freq="MS")
    promo = pd.DataFrame({"promo": (rng.random(120) < 0.3).astype(float)}, index=idx)
    y = pd.Series(50 + np.cumsum(rng.normal(0, 0.5, 120)) + 8 * promo["promo"].to_numpy(),
                  index=idx, name="sales")
    model = AutoARIMA(seasonal=False).fit(y, promo)
    future = pd.DataFrame({"promo": [1.0, 0.0, 1.0]},
                          index=pd.date_range("2025-01-01", periods=3, freq="MS"))
    fc = model.predict(3, future)
    assert fc["forecast"].iloc[0] - fc["forecast"].iloc[1] == pytest.approx(8, abs=1.5)


def test_unknown_engine_is_named():
    with pytest.raises(ForecastError, match="unknown AutoARIMA engine 'pmdarima'; choose one of: auto, statsforecast, statsmodels"):
        AutoARIMA(engine="pmdarima").fit(pd.Series(np.arange(30.0) % 7, index=pd.date_range("2020", periods=30)))


def test_prophet_learns_an_extra_regressor_and_holidays():
    rng = np.random.default_rng(1)
    idx = pd.date_range("2022-01-01", periods=200, freq="D")
    temp = pd.DataFrame({"temp": rng.normal(20, 5, 200)}, index=idx)
    y = pd.Series(100 + 0.05 * np.arange(200) + 2.0 * temp["temp"].to_numpy() + rng.normal(0, 1, 200),
                  index=idx, name="load")
    holidays = pd.DataFrame({"holiday": "fair", "ds": pd.to_datetime(["2022-03-01", "2022-05-01"])})
    model = Prophet(holidays=holidays, yearly_seasonality=False, uncertainty_samples=100).fit(y, temp)
    future = pd.DataFrame({"temp": [10.0, 30.0]}, index=pd.date_range(idx[-1] + pd.Timedelta(days=1), periods=2))
    fc = model.predict(2, future)
    assert fc["forecast"].iloc[1] - fc["forecast"].iloc[0] == pytest.approx(40, rel=0.1)
    assert "fair" in model.model_.train_holiday_names.tolist()
    with pytest.raises(ForecastError, match=r"X_future lacks exogenous column\(s\) temp"):
        model.predict(2, pd.DataFrame({"humidity": [1.0, 2.0]}))


def test_baselines_follow_the_textbook(co2_monthly):
    y = co2_monthly
    naive = Naive().fit(y).predict(3, levels=(95,))
    assert (naive["forecast"] == y.iloc[-1]).all()
    widths = (naive["upper_95"] - naive["lower_95"]).to_numpy()
    np.testing.assert_allclose(widths / widths[0], np.sqrt([1, 2, 3]))
    snaive = SeasonalNaive().fit(y).predict(14)
    np.testing.assert_allclose(snaive["forecast"].iloc[:12], y.iloc[-12:].to_numpy())
    np.testing.assert_allclose(snaive["forecast"].iloc[12:], y.iloc[-12:-10].to_numpy())
    drift = Drift().fit(y).predict(2)
    slope = (y.iloc[-1] - y.iloc[0]) / (len(y) - 1)
    np.testing.assert_allclose(drift["forecast"], y.iloc[-1] + slope * np.array([1, 2]))
