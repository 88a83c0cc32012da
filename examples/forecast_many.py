"""Many series at once: a long frame with an id column, forecast in parallel, one leaderboard.

Data: US quarterly macro series 1959-2009 (statsmodels macrodata, no download). `model="auto"`
backtests AutoARIMA and the baselines on every series and keeps the best by MASE.
Run: python examples/forecast_many.py
"""

import pandas as pd
import statsmodels.api as sm

from modelworks.forecast import forecast

macro = sm.datasets.macrodata.load_pandas().data
quarters = pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                      freq="Q").to_timestamp()
series = ["realgdp", "realcons", "realinv", "cpi", "unemp", "m1"]
long = pd.concat([pd.DataFrame({"quarter": quarters, "series": name, "value": macro[name]})
                  for name in series], ignore_index=True)

result = forecast(long, time="quarter", target="value", id="series", horizon=8, model="auto",
                  backtest=3, candidates=["auto-arima", "naive", "seasonal-naive", "drift"], n_jobs=2)
print(f"{len(result.series)} series forecast in {result.seconds:.1f}s")
for s in result.series:
    print(f"  {s.id:<9} -> {s.label}")
print("\nmodels over all series (backtest, 3 folds x 8 quarters):")
print(result.summary.round(3).to_string(index=False))

paths = result.write("macro-forecast", subtitle="statsmodels macrodata")
print(f"\nreport: {paths['report']}  ({paths['n_plots']} plots)")
