"""Bad input gets a ForecastError that says what is wrong and what to do."""

import numpy as np
import pandas as pd
import pytest

from modelworks.exceptions import ForecastError, ModelworksError, NotFittedError
from modelworks.forecast import ARIMA, AutoARIMA, Naive, SeasonalNaive, seasonal_period_for


def monthly(n=36, start="2020-01-01"):
    idx = pd.date_range(start, periods=n, freq="MS")
    return pd.Series(np.arange(n, dtype=float) + np.sin(np.arange(n)), index=idx, name="sales")


def test_unparseable_dates_name_the_rows():
    df = pd.DataFrame({"date": ["2020-01-01", "2020-02-01", "not a date", "2020-04-01", "31/13/2020"],
                       "sales": [1.0, 2, 3, 4, 5]})
    with pytest.raises(ForecastError, match=r"time column 'date' has 2 value\(s\) that are not dates: "
                                            r"row 2 \('not a date'\), row 4 \('31/13/2020'\)"):
        Naive().fit(df)


def test_non_numeric_target_names_the_values():
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=4, freq="D"),
                       "sales": ["1", "2", "three", "4"]})
    with pytest.raises(ForecastError, match=r"target 'sales' is not numeric: row 2 \('three'\)"):
        Naive().fit(df)


def test_numeric_strings_are_accepted_as_numbers():
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=5, freq="D"),
                       "sales": ["1", "2", "3.5", "4", "5"]})
    assert Naive().fit(df).predict(1)["forecast"].iloc[0] == 5.0


def test_constant_series_is_refused():
    y = pd.Series(3.0, index=pd.date_range("2020-01-01", periods=20, freq="D"), name="flat")
    with pytest.raises(ForecastError, match="series 'flat' is constant .every value is 3.; there is nothing"):
        Naive().fit(y)


def test_duplicated_timestamps_are_listed():
    y = monthly(6)
    y = pd.concat([y, y.iloc[[2]]])
    with pytest.raises(ForecastError, match=r"duplicated timestamps: 2020-03-01 \(2 rows\); keep one value"):
        Naive().fit(y)


def test_gaps_need_an_explicit_fill_policy():
    y = monthly(24).drop(pd.Timestamp("2020-05-01"))
    with pytest.raises(ForecastError, match=r"1 missing timestamp\(s\) and 0 missing value\(s\) on its "
                                            r"'MS' grid \(first: 2020-05-01\); fill them explicitly"):
        Naive().fit(y)
    model = Naive().fit(y, fill="interpolate")
    assert model.n_filled_ == 1
    assert model.y_.loc["2020-05-01"] == pytest.approx((y.loc["2020-04-01"] + y.loc["2020-06-01"]) / 2,
                                                        rel=0.05)
    assert Naive().fit(y, fill="zero").y_.loc["2020-05-01"] == 0.0
    with pytest.raises(ForecastError, match="unknown fill policy 'mean'; choose one of: interpolate, ffill, zero"):
        Naive().fit(y, fill="mean")


def test_missing_values_count_as_gaps():
    y = monthly(24)
    y.iloc[5] = np.nan
    with pytest.raises(ForecastError, match=r"0 missing timestamp\(s\) and 1 missing value"):
        Naive().fit(y)
    assert Naive().fit(y, fill="ffill").y_.iloc[5] == y.iloc[4]


def test_irregular_timestamps_ask_for_a_frequency():
    idx = pd.to_datetime(["2020-01-01", "2020-01-04", "2020-01-05", "2020-01-11", "2020-01-12 07:00"],
                         format="mixed")
    y = pd.Series([1.0, 2, 3, 4, 5], index=idx, name="x")
    with pytest.raises(ForecastError, match="irregular timestamps .*; or give one with freq .e.g. D for days."):
        Naive().fit(y)
    with pytest.raises(ForecastError, match=r"1 timestamp\(s\) off its 'D' grid: 2020-01-12 07:00:00"):
        Naive().fit(y, freq="D")


def test_plain_integer_index_is_refused_but_years_are_dates():
    with pytest.raises(ForecastError, match="plain integer index, not timestamps"):
        Naive().fit(pd.Series([1.0, 2, 3, 4]))
    years = pd.DataFrame({"year": [1990, 1991, 1992, 1993], "v": [1.0, 3, 2, 4]})
    fc = Naive().fit(years).predict(2)
    assert list(fc.index.year) == [1994, 1995]


def test_horizon_must_be_positive():
    model = Naive().fit(monthly())
    for bad in (0, -3):
        with pytest.raises(ForecastError, match=rf"horizon must be > 0 periods, got {bad}"):
            model.predict(bad)
    with pytest.raises(ForecastError, match="horizon must be a whole number"):
        model.predict(2.5)


def test_levels_must_be_percentages():
    with pytest.raises(ForecastError, match="strictly between 0 and 100"):
        Naive().fit(monthly()).predict(3, levels=(0.95,) + (120,))


def test_too_few_observations_for_the_seasonal_period():
    y = monthly(18)
    with pytest.raises(ForecastError, match=r"has 18 observations; SeasonalNaive needs at least 24 "
                                            r"\(two full seasons of period 12\)"):
        SeasonalNaive().fit(y)
    with pytest.raises(ForecastError, match=r"ARIMA needs at least 24 for seasonal period 12"):
        ARIMA((1, 0, 0), (0, 1, 0)).fit(y)
    with pytest.raises(ForecastError, match="seasonal=False or a smaller seasonal_period"):
        AutoARIMA().fit(y)
    assert SeasonalNaive(seasonal_period=4).fit(y).seasonal_period_ == 4


def test_exogenous_columns_must_be_in_the_future_frame():
    y = monthly(40)
    X = pd.DataFrame({"promo": np.arange(40) % 3, "price": np.linspace(1, 2, 40)}, index=y.index)
    model = ARIMA((1, 0, 0)).fit(y, X)
    with pytest.raises(ForecastError, match=r"fitted with exogenous column\(s\) promo, price; predict "
                                            r"needs X_future .* for the 3 future period\(s\) "
                                            r"\(2023-05-01 .. 2023-07-01\)"):
        model.predict(3)
    with pytest.raises(ForecastError, match=r"X_future lacks exogenous column\(s\) price"):
        model.predict(3, pd.DataFrame({"promo": [0, 1, 2]}))
    with pytest.raises(ForecastError, match="X_future has 2 rows but 3 are needed"):
        model.predict(3, pd.DataFrame({"promo": [0, 1], "price": [2.0, 2.1]}))
    with pytest.raises(ForecastError, match="Naive does not use exogenous variables"):
        Naive().fit(y, X)
    with pytest.raises(ForecastError, match="fitted without exogenous variables but X_future"):
        Naive().fit(y).predict(3, X.iloc[:3])


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        AutoARIMA().predict(3)


def test_errors_are_value_errors_and_modelworks_errors():
    with pytest.raises(ValueError):
        Naive().fit(pd.Series([1.0, 2, 3]))
    assert issubclass(ForecastError, ModelworksError)


@pytest.mark.parametrize(("freq", "period"), [("MS", 12), ("ME", 12), ("QS-OCT", 4), ("W-SUN", 52),
                                              ("D", 7), ("B", 5), ("h", 24), ("YS", 1), ("15min", 4),
                                              ("2h", 12)])
def test_seasonal_period_follows_the_frequency(freq, period):
    assert seasonal_period_for(freq) == period


def test_frequency_with_gaps_is_still_inferred_from_the_grid():
    y = monthly(30).drop([pd.Timestamp("2020-03-01"), pd.Timestamp("2021-07-01")])
    model = Naive().fit(y, fill="interpolate")
    assert model.freq_ == "MS" and len(model.y_) == 30


def test_asking_for_a_level_that_was_not_predicted_names_the_available_ones():
    fc = Naive().fit(monthly()).predict(3, levels=(80, 95))
    with pytest.raises(ForecastError, match="no 99% interval in this forecast; it has levels 80, 95"):
        fc.interval(99)
    flat = fc.to_frame()
    assert list(flat.columns) == ["time", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert type(flat) is pd.DataFrame
