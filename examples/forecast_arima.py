"""The chapter's ARIMA steps with modelworks: fit, summary, forecast, intervals, automatic orders.

Data: the Nile's annual flow 1871-1970 (ships with statsmodels, no download).
Run: python examples/forecast_arima.py
"""

import pandas as pd
import statsmodels.api as sm

from modelworks.forecast import ARIMA, AutoARIMA, Drift, Naive, backtest

nile = sm.datasets.nile.load_pandas().data
y = pd.Series(nile["volume"].to_numpy(), index=pd.to_datetime(nile["year"].astype(int).astype(str)),
              name="nile")

# chapter: model = ARIMA(data, order=(1, 1, 1)); result = model.fit(); print(result.summary())
model = ARIMA(order=(1, 1, 1)).fit(y)
print(model.summary().tables[1])

# chapter: result.forecast(steps) and result.get_forecast(steps).conf_int()
forecast = model.predict(5, levels=(80, 95))
print("\nARIMA(1,1,1) forecast with 80% and 95% intervals:")
print(forecast.round(1).to_string())

# what the chapter leaves to the reader: picking the orders, and checking they are worth it
auto = AutoARIMA().fit(y)
print(f"\nAutoARIMA chose {auto.label()} (engine: {auto.engine_})")
candidates = {"AutoARIMA": AutoARIMA(), "ARIMA(1,1,1)": ARIMA(order=(1, 1, 1)),
              "naive": Naive(), "drift": Drift()}
print("rolling-origin backtest, 4 folds x 5 years:")
for name, candidate in candidates.items():
    bt = backtest(candidate, y, folds=4, horizon=5)
    cov = ", ".join(f"{lv}%: {100 * c:.0f}%" for lv, c in bt.coverage.items())
    print(f"  {name:<13} MASE {bt.metrics['mase']:.3f}  sMAPE {bt.metrics['smape']:.1f}%  coverage {cov}")

fig = forecast.plot(title="Nile: ARIMA(1,1,1)")
fig.savefig("nile_arima.png")
print("\nplot written to nile_arima.png")
