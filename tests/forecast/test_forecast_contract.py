"""One suite, every forecaster: the same invariants for the whole family."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from modelworks.forecast import (
    ARIMA,
    AutoARIMA,
    Drift,
    Forecast,
    Naive,
    Prophet,
    SeasonalNaive,
)

FORECASTERS = [
    Naive(),
    SeasonalNaive(),
    Drift(),
    ARIMA((1, 1, 1), (0, 1, 1)),
    AutoARIMA(engine="statsforecast"),
    AutoARIMA(engine="statsmodels", seasonal=False, max_p=2, max_q=2),
    Prophet(uncertainty_samples=200),
]


@pytest.fixture(scope="module", params=FORECASTERS, ids=lambda m: f"{type(m).__name__}-{m.get_params().get('engine', '')}")
def fitted(request, co2_monthly):
    return clone(request.param).fit(co2_monthly)


def test_forecast_frame_has_point_and_ordered_bounds(fitted, co2_monthly):
    fc = fitted.predict(6, levels=(80, 95))
    assert isinstance(fc, Forecast)
    assert list(fc.columns) == ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    expected = pd.date_range(co2_monthly.index[-1] + pd.offsets.MonthBegin(), periods=6, freq="MS")
    assert fc.index.equals(expected)
    assert np.isfinite(fc.to_numpy()).all()
    assert (fc["lower_95"] <= fc["lower_80"] + 1e-9).all()
    assert (fc["lower_80"] <= fc["forecast"] + 1e-9).all()
    assert (fc["forecast"] <= fc["upper_80"] + 1e-9).all()
    assert (fc["upper_80"] <= fc["upper_95"] + 1e-9).all()
    assert (fc["upper_95"] - fc["lower_95"]).iloc[-1] > 0


def test_forecast_is_near_the_series(fitted, co2_monthly):
    fc = fitted.predict(3)
    # CO2 moves a few ppm a year: a forecast far off means a broken model or a unit mix-up
    assert np.abs(fc["forecast"] - co2_monthly.iloc[-12:].mean()).max() < 10


def test_fitted_state_and_label(fitted):
    assert fitted.freq_ == "MS"
    assert fitted.seasonal_period_ == 12
    assert len(fitted.y_) == 96
    assert isinstance(fitted.label(), str) and fitted.label()


def test_clone_keeps_params_and_drops_fitted_state(fitted):
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "y_")


def test_levels_can_be_chosen_and_plot_draws(fitted):
    fc = fitted.predict(4, levels=(50,))
    assert list(fc.columns) == ["forecast", "lower_50", "upper_50"]
    fig = fc.plot()
    assert len(fig.axes[0].lines) == 2  # history + forecast
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_same_fit_same_forecast(fitted):
    a, b = fitted.predict(5), fitted.predict(5)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
