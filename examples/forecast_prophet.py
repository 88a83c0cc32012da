"""The chapter's Prophet steps with modelworks: a ds/y frame, a future, predictions and a plot.

Data: Mauna Loa CO2, monthly means 1990-2001 (ships with statsmodels, no download).
Run: python examples/forecast_prophet.py
"""

import pandas as pd
import statsmodels.api as sm

from modelworks.forecast import Prophet, SeasonalNaive, backtest

weekly = sm.datasets.co2.load_pandas().data["co2"]
monthly = weekly.resample("MS").mean().interpolate().loc["1990":]
# chapter: prepare data with columns ds, y
df = pd.DataFrame({"ds": monthly.index, "y": monthly.to_numpy()})

# chapter: model = Prophet(); model.fit(df) -- a (time, value) frame is accepted as it is
model = Prophet(uncertainty_samples=300).fit(df)

# chapter: future = model.make_future_dataframe(periods=12); forecast = model.predict(future)
forecast = model.predict(12, levels=(80, 95))
print("Prophet forecast of CO2 (ppm), next 12 months:")
print(forecast.round(2).head(6).to_string())

# chapter: model.plot(forecast)
forecast.plot(title="CO2: Prophet").savefig("co2_prophet.png")
print("plot written to co2_prophet.png")

# are Prophet's intervals honest, and does it beat the seasonal naive baseline?
for candidate in (Prophet(uncertainty_samples=300), SeasonalNaive()):
    bt = backtest(candidate, df, folds=3, horizon=12)
    cov = ", ".join(f"{lv}%: {100 * c:.0f}%" for lv, c in bt.coverage.items())
    print(f"{bt.model:<15} MASE {bt.metrics['mase']:.3f}  sMAPE {bt.metrics['smape']:.2f}%  coverage {cov}")
