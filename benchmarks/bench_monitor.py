"""Drift on 50 numeric + 10 categorical columns: modelworks vs the chapter's scipy loop vs Evidently.

    python benchmarks/bench_monitor.py                 # 1M rows per side (modelworks, scipy), 100k (all three)
    python benchmarks/bench_monitor.py --evidently-1m  # also one Evidently run at 1M rows (~10 min here)

Data (generated, seed 0): per side n rows of 50 standard-normal columns and 10 categorical columns
with 5 levels. Planted in the current side: n0-n2 shifted by 0.2 SD (real drift), n3-n4 by
0.01 SD (trivial: significant at large n, not material), c0's level shares moved (real drift).

Methods, each timed on the same frames, alternating, median of 3 repeats, one thread:
* modelworks: ``modelworks.monitor.drift`` (KS + Wasserstein/SD + PSI per numeric column, chi2 +
  Jensen-Shannon + PSI per categorical column, missing-rate tests, BH correction, effect floors);
* scipy loop: the chapter's ``detect_drift`` (``ks_2samp`` per numeric column, p < 0.05); its
  categorical columns get ``chi2_contingency`` on value counts, since KS on text is meaningless;
* Evidently 0.7 ``DataDriftPreset`` (normed Wasserstein > 0.1 / Jensen-Shannon > 0.1 at n > 1000).
Quality is printed next to speed: which columns each flags against the planted truth, and the
largest difference between our KS p-values and scipy's. Peak memory is the peak of memory allocated
during one separate call (tracemalloc, which also sees numpy buffers), input frames excluded.
Timings are noisy on the shared machine: CPU seconds (process time) are printed beside wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

TRUE_DRIFT = {"n0", "n1", "n2", "c0"}
TRIVIAL = {"n3", "n4"}
LEVELS = np.array(["alpha", "beta", "gamma", "delta", "epsilon"], dtype=object)


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def side(current: bool) -> pd.DataFrame:
        cols = {}
        for i in range(50):
            shift = (0.2 if i < 3 else 0.01 if i < 5 else 0.0) if current else 0.0
            cols[f"n{i}"] = rng.normal(shift, 1.0, n)
        for i in range(10):
            p = [0.35, 0.2, 0.15, 0.15, 0.15] if (current and i == 0) else [0.2] * 5
            cols[f"c{i}"] = LEVELS[rng.choice(5, n, p=p)]
        return pd.DataFrame(cols)

    return side(False), side(True)


# ----------------------------------------------------------------------------- the three methods
def run_modelworks(ref, cur):
    from modelworks.monitor import drift

    report = drift(ref, cur)
    t = report.table.set_index("column")
    return set(report.drifted), t["p_value"].to_dict()


def run_scipy_loop(ref, cur, threshold=0.05):
    flagged, pvalues = set(), {}
    for col in ref.columns:
        if ref[col].dtype.kind == "f":
            p = stats.ks_2samp(ref[col], cur[col]).pvalue
        else:
            counts = pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0)
            p = stats.chi2_contingency(counts.to_numpy().T).pvalue
        pvalues[col] = p
        if p < threshold:
            flagged.add(col)
    return flagged, pvalues


def run_evidently(ref, cur):
    from evidently import Report
    from evidently.presets import DataDriftPreset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    flagged = set()
    for m in snap.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift") and isinstance(m.get("value"), int | float):
            if m["value"] >= cfg.get("threshold", 0.1):
                flagged.add(cfg["column"])
    return flagged, {}


METHODS = {"modelworks": run_modelworks, "scipy loop": run_scipy_loop, "evidently": run_evidently}


# ----------------------------------------------------------------------------- measurement
def peak_memory_mb(fn, *args) -> float:
    """Peak of memory allocated during one call (tracemalloc: Python objects and numpy buffers),
    above what was allocated before it. Unlike RSS this does not depend on what the allocator
    kept from earlier calls."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def quality(flagged: set[str]) -> dict:
    return {
        "flagged": sorted(flagged, key=lambda c: (c[0], int(c[1:]))),
        "true_found": len(flagged & TRUE_DRIFT),
        "of_true": len(TRUE_DRIFT),
        "trivial_flagged": len(flagged & TRIVIAL),
        "false_alarms": len(flagged - TRUE_DRIFT - TRIVIAL),
    }


def bench_size(n: int, methods: list[str], repeats: int) -> list[dict]:
    ref, cur = make_data(n)
    print(
        f"\n== n = {n:,} rows per side, 50 numeric + 10 categorical columns, seed 0 ==", flush=True
    )
    for name in methods:  # warm-up: imports, first-touch page faults (a CLI run pays this once)
        t0 = time.perf_counter()
        METHODS[name](ref.iloc[:2000], cur.iloc[:2000])
        print(f"  warm-up {name}: {time.perf_counter() - t0:.2f} s", flush=True)
    times = {m: [] for m in methods}
    cpu = {m: [] for m in methods}
    results = {}
    for r in range(repeats):
        order = methods if r % 2 == 0 else methods[::-1]  # alternate the order
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            results[name] = METHODS[name](ref, cur)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            print(
                f"  repeat {r + 1} {name}: {times[name][-1]:.2f} s wall, {cpu[name][-1]:.2f} s cpu",
                flush=True,
            )
    rows = []
    base = statistics.median(times["modelworks"])
    base_cpu = statistics.median(cpu["modelworks"])
    mw_p = results["modelworks"][1]
    for name in methods:
        med = statistics.median(times[name])
        med_cpu = statistics.median(cpu[name])
        row = {
            "n": n,
            "method": name,
            "median_s": med,
            "times_s": times[name],
            "median_cpu_s": med_cpu,
            "cpu_s": cpu[name],
            "modelworks_over_this": base / med if name != "modelworks" else 1.0,
            "modelworks_over_this_cpu": base_cpu / med_cpu if name != "modelworks" else 1.0,
            "peak_mb": peak_memory_mb(METHODS[name], ref, cur),
            **quality(results[name][0]),
        }
        if name == "scipy loop":
            num = [c for c in mw_p if c.startswith("n")]
            row["max_abs_ks_p_diff_vs_modelworks"] = max(
                abs(mw_p[c] - results[name][1][c]) for c in num
            )
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'n':>9} {'method':<11} {'wall s':>8} {'mw/this':>8} {'cpu s':>8} {'mw/this':>8} {'peak MB':>8} "
        f"{'true':>5} {'trivial':>7} {'false':>5}  flagged"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        flagged = ",".join(r["flagged"])
        print(
            f"{r['n']:>9,} {r['method']:<11} {r['median_s']:>8.2f} {r['modelworks_over_this']:>8.3f} "
            f"{r.get('median_cpu_s', float('nan')):>8.2f} {r.get('modelworks_over_this_cpu', float('nan')):>8.3f} "
            f"{r['peak_mb']:>8.0f} {r['true_found']:>2}/{r['of_true']:<2} {r['trivial_flagged']:>7} "
            f"{r['false_alarms']:>5}  {flagged[:60]}"
        )
    for r in rows:
        if "max_abs_ks_p_diff_vs_modelworks" in r:
            print(
                f"n={r['n']:,}: largest |KS p(modelworks) - p(scipy)| = {r['max_abs_ks_p_diff_vs_modelworks']:.2e}"
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--n", type=int, default=1_000_000, help="rows per side for modelworks vs scipy"
    )
    ap.add_argument(
        "--n-evidently", type=int, default=100_000, help="rows per side for the 3-way comparison"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--evidently-1m", action="store_true", help="also time Evidently once at --n rows"
    )
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "monitor.json"))
    args = ap.parse_args(argv)

    rows = bench_size(args.n_evidently, ["modelworks", "scipy loop", "evidently"], args.repeats)
    rows += bench_size(args.n, ["modelworks", "scipy loop"], args.repeats)
    if args.evidently_1m:
        ref, cur = make_data(args.n)
        t0 = time.perf_counter()
        flagged, _ = run_evidently(ref, cur)
        took = time.perf_counter() - t0
        mw = next(r for r in rows if r["n"] == args.n and r["method"] == "modelworks")
        rows.append(
            {
                "n": args.n,
                "method": "evidently",
                "median_s": took,
                "times_s": [took],
                "modelworks_over_this": mw["median_s"] / took,
                "peak_mb": float("nan"),
                **quality(flagged),
            }
        )
    print_table(rows)
    payload = {
        "benchmark": "drift, 50 numeric + 10 categorical columns",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "threads": 1,
        "repeats": args.repeats,
        "seed": 0,
        "planted": {"true_drift": sorted(TRUE_DRIFT), "trivial_0.01sd": sorted(TRIVIAL)},
        "note": "shared 2-core machine: absolute times are noisy, compare ratios within one run",
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from modelworks._io import write_json

    write_json(out, payload)
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
