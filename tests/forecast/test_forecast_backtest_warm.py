"""A backtest of AutoARIMA searches the orders on its first window and refits them on the later ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelworks.forecast import AutoARIMA, _arima, backtest

pytest.importorskip("statsforecast")


@pytest.fixture
def series():
    rng = np.random.default_rng(3)
    t = np.arange(120)
    y = 50 + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1.5, len(t))
    return pd.Series(y, index=pd.date_range("2010-01-01", periods=len(t), freq="MS"), name="y")


def _spy(monkeypatch):
    calls = {"search": 0, "fixed": 0}
    search, fixed = _arima._StatsforecastEngine.fit, _arima._StatsforecastEngine.fit_fixed

    def count_search(self, *a, **k):
        calls["search"] += 1
        return search(self, *a, **k)

    def count_fixed(self, *a, **k):
        calls["fixed"] += 1
        return fixed(self, *a, **k)

    monkeypatch.setattr(_arima._StatsforecastEngine, "fit", count_search)
    monkeypatch.setattr(_arima._StatsforecastEngine, "fit_fixed", count_fixed)
    return calls


def test_later_windows_refit_the_first_windows_orders(series, monkeypatch):
    calls = _spy(monkeypatch)
    result = backtest(AutoARIMA(engine="statsforecast"), series, folds=3, horizon=12)
    assert calls == {"search": 1, "fixed": 2}
    assert len(result.folds) == 3 and np.isfinite(result.metrics["mase"])


def test_without_warm_start_every_window_searches(series, monkeypatch):
    calls = _spy(monkeypatch)
    backtest(AutoARIMA(engine="statsforecast"), series, folds=3, horizon=12, warm_start=False)
    assert calls == {"search": 3, "fixed": 0}


def test_a_refitted_window_keeps_the_orders_and_uses_only_its_own_past(series):
    first = AutoARIMA(engine="statsforecast").fit(series.iloc[:84])
    later = first.for_later_windows().fit(series.iloc[:96])
    assert (later.order_, later.seasonal_order_, later.constant_) == \
           (first.order_, first.seasonal_order_, first.constant_)
    assert len(later.y_) == 96
    assert len(later.predict(12)) == 12


def test_a_later_window_applies_the_first_windows_coefficients_and_lambda(series):
    first = AutoARIMA(engine="statsforecast", box_cox="auto").fit(series.iloc[:84])
    later = first.for_later_windows().fit(series.iloc[:96])
    assert later.impl_.coef == first.impl_.coef and later.lambda_ == first.lambda_
    # the forecast starts from the later window's own last observations
    assert not np.allclose(later.predict(12)["forecast"].to_numpy(),
                           first.predict(24)["forecast"].to_numpy()[12:])
    refit = first.for_later_windows(coefficients=False).fit(series.iloc[:96])
    assert refit.impl_.coef != first.impl_.coef  # re-estimated on the longer window
    assert refit.lambda_ != first.lambda_  # and its own Guerrero lambda
    again = first.for_later_windows().orders_only().fit(series.iloc[:96])
    assert again.impl_.coef == refit.impl_.coef
