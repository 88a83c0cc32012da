"""Many short series, CPU seconds in one process each: modelworks forecast() vs StatsForecast.

One command:  python benchmarks/bench_forecast_many_cpu.py

The wall-time comparison of bench_forecast.py --many (both sides with all cores, one after the
other) drifts with the load of a shared machine; this one runs both sides with n_jobs=1 in the
same process, alternating in blocks of 100 series (300 generated series, the same generator and
AutoARIMA settings as bench_forecast.py part 3), and compares process CPU time.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_forecast as b  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "forecast_many_cpu.json"


def main() -> int:
    warnings.simplefilter("ignore")
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA as SF

    from modelworks._io import write_json
    from modelworks.forecast import forecast

    frame = b.many_series(300, seed=1, n=24)
    kw = dict(time="ds", target="y", id="unique_id", horizon=6, model="auto-arima", backtest=0,
              levels=(80, 95), model_options=b.MANY_OPTIONS, box_cox=None, n_jobs=1)

    def sf(df):
        return StatsForecast(models=[SF(season_length=1, **b.MANY_OPTIONS)], freq="YS",
                             n_jobs=1).forecast(df=df, h=6, level=[80, 95])

    small = frame.iloc[:240]
    sf(small)
    forecast(small, **kw)  # imports and first calls outside the timings
    ids = sorted(frame["unique_id"].unique())
    tot = {"statsforecast_cpu_s": 0.0, "modelworks_cpu_s": 0.0}
    for part in range(3):
        sub = frame[frame["unique_id"].isin(ids[part * 100:(part + 1) * 100])]
        c = time.process_time()
        sf(sub)
        tot["statsforecast_cpu_s"] += time.process_time() - c
        c = time.process_time()
        forecast(sub, **kw)
        tot["modelworks_cpu_s"] += time.process_time() - c
        print(part, {k: round(v, 2) for k, v in tot.items()}, flush=True)
    ratio = tot["modelworks_cpu_s"] / tot["statsforecast_cpu_s"]
    print(f"CPU ratio modelworks / statsforecast: {ratio:.2f}")
    write_json(OUT, {"benchmark": "many short series, CPU in one process each side",
                     "command": "python benchmarks/bench_forecast_many_cpu.py",
                     "n_series": 300, "points_per_series": 24, "autoarima_options": b.MANY_OPTIONS, **tot,
                     "ratio_modelworks_to_statsforecast_cpu": ratio,
                     "load_avg_1min": os.getloadavg()[0]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
