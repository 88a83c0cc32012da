"""Scoring a large CSV: ``modelworks.predict`` in chunks vs reading it whole with pandas.

    python benchmarks/bench_predict.py                      # 1M rows (and 250k: how memory scales)
    python benchmarks/bench_predict.py --rows 200000 --scale-rows 0 --repeats 1   # a quick look

Data (generated, seeds 0 and 1): 5,000 training rows and a scoring CSV of ``--rows`` rows with a
``customer_id``, 6 numeric columns (normal, 4 decimals) and 4 categorical ones (3-8 levels); the
model is the zoo's logistic regression in the modelworks preprocessing pipeline (impute, scale,
one-hot), saved as a ``.mwpkg`` package. Both sides write the id, the prediction and one
probability column per class.

Sides, each run in its own fresh Python process so that its peak RSS is its own, alternating,
median of ``--repeats``, one thread:

* ``modelworks``: ``modelworks.predict(package, csv, out=..., proba=True, chunk_size=N)``
  (schema validation, chunks of N rows, atomic output), for each ``--chunk-sizes``;
* ``pandas``: what a user would otherwise write: ``pd.read_csv`` of the whole file, the pipeline's
  ``predict`` and ``predict_proba``, ``DataFrame.to_csv``.

Both load the package with ``modelworks.package.load`` first. Reported per run: peak RSS of the
process (``VmHWM`` of ``/proc/self/status`` read as it ends: the kernel's exact high-water mark, no
polling), its RSS once imports and the package are loaded (the same floor for both sides), seconds
to load, seconds to score (read + predict + write), and the wall time of the whole process (what
a CLI user waits). Ratios are ``this / pandas``. Quality: every output file is compared byte for
byte with the pandas side's.

Not ``ru_maxrss`` of the child (``os.wait4`` / ``RUSAGE_CHILDREN``): Linux folds the high-water
mark of the memory a child had before ``exec`` into it, and with vfork that is this parent's,
which holds the generated 1M-row frame; it read 450 MB for a run whose own peak was 419 MB.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _k, _v in {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "passive",
    "MKL_NUM_THREADS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MPLBACKEND": "Agg",
    "KERAS_BACKEND": "torch",
    "MODELWORKS_PROGRESS": "0",
}.items():
    os.environ.setdefault(_k, _v)

LEVELS = {
    "plan": ["basic", "plus", "pro"],
    "region": ["north", "south", "east", "west", "central"],
    "channel": ["web", "store", "phone", "partner"],
    "segment": ["A", "B", "C", "D", "E", "F", "G", "H"],
}
N_NUMERIC = 6


def make_frame(n: int, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {"customer_id": np.arange(n)}
    for i in range(N_NUMERIC):
        cols[f"x{i}"] = rng.normal(0.0, 1.0, n).round(4)
    for name, levels in LEVELS.items():
        cols[name] = rng.choice(np.array(levels, dtype=object), n)
    frame = pd.DataFrame(cols)
    logit = (
        frame["x0"]
        - 0.5 * frame["x1"]
        + (frame["plan"] == "pro")
        - 0.3 * (frame["region"] == "east")
    )
    frame["churn"] = np.where(logit + rng.normal(0.0, 1.0, n) > 0, "yes", "no")
    return frame


def build_package(root: Path, model: str) -> Path:
    from modelworks.data import make_pipeline
    from modelworks.models import get_model
    from modelworks.package import save

    train = make_frame(5_000, seed=0)
    X, y = train.drop(columns=["customer_id", "churn"]), train["churn"]
    pipe = make_pipeline(X, get_model(model, "binary", seed=0)).fit(X, y)
    return save(
        pipe,
        root / "churn.mwpkg",
        X_sample=X,
        y_sample=y,
        task="binary",
        target="churn",
        seed=0,
        archive=True,
    )


# ----------------------------------------------------------------------------- the two sides (child)
def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak so far) of this process, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def score_modelworks(pkg, data: str, out: str, chunk_size: int) -> dict:
    import modelworks

    res = modelworks.predict(pkg, data, out=out, proba=True, chunk_size=chunk_size)
    return {"rows": res.rows, "chunks": res.chunks}


def score_pandas(pkg, data: str, out: str, chunk_size: int) -> dict:
    import pandas as pd

    frame = pd.read_csv(data)
    ids = frame.pop("customer_id")
    model = pkg.model
    result = pd.DataFrame({"customer_id": ids, "prediction": model.predict(frame)})
    proba = model.predict_proba(frame)
    for j, cls in enumerate(model.classes_):
        result[f"proba_{cls}"] = proba[:, j]
    result.to_csv(out, index=False)
    return {"rows": len(result), "chunks": 1}


SIDES = {"modelworks": score_modelworks, "pandas": score_pandas}


def worker(args) -> int:
    t0 = time.perf_counter()
    import modelworks.package

    pkg = modelworks.package.load(args.pkg)
    loaded = time.perf_counter()
    baseline, load_peak = _status_mb("VmRSS"), _status_mb("VmHWM")
    info = SIDES[args.worker](pkg, args.data, args.out_file, args.chunk_size)
    done = time.perf_counter()
    Path(args.result).write_text(
        json.dumps(
            {
                **info,
                "load_s": loaded - t0,
                "score_s": done - loaded,
                "baseline_mb": baseline,
                "load_peak_mb": load_peak,
                "peak_mb": _status_mb("VmHWM"),
            }
        )
    )
    return 0


# ----------------------------------------------------------------------------- measurement (parent)
def run_side(side: str, pkg: Path, data: Path, out: Path, chunk_size: int, tmp: Path) -> dict:
    """One side in a fresh process, which reports its own peak RSS and timings."""
    result = tmp / "result.json"
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        side,
        "--pkg",
        str(pkg),
        "--data",
        str(data),
        "--out-file",
        str(out),
        "--chunk-size",
        str(chunk_size),
        "--result",
        str(result),
    ]
    t0 = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"{side} worker failed with exit code {code}: {' '.join(cmd)}")
    return {**json.loads(result.read_text()), "wall_s": wall}


def methods(chunk_sizes: list[int]) -> list[tuple[str, int]]:
    return [("modelworks", c) for c in chunk_sizes] + [("pandas", 0)]


def label(side: str, chunk: int) -> str:
    return f"modelworks chunk {chunk:,}" if side == "modelworks" else "pandas read-all"


def bench_size(n: int, pkg: Path, tmp: Path, chunk_sizes: list[int], repeats: int) -> list[dict]:
    data = tmp / f"score-{n}.csv"
    t0 = time.perf_counter()
    make_frame(n, seed=1).drop(columns=["churn"]).to_csv(data, index=False)
    file_mb = data.stat().st_size / 2**20
    print(
        f"\n== {n:,} rows x 11 columns (id, 6 numeric, 4 categorical), seed 1: {file_mb:.1f} MB CSV "
        f"(written in {time.perf_counter() - t0:.1f} s) ==",
        flush=True,
    )
    sides = methods(chunk_sizes)
    runs: dict[tuple[str, int], list[dict]] = {m: [] for m in sides}
    same: dict[tuple[str, int], bool] = {m: True for m in sides}
    for r in range(repeats):
        order = sides if r % 2 == 0 else sides[::-1]  # alternate the order
        outs = {}
        for side, chunk in order:
            out = tmp / f"out-{side}-{chunk}.csv"
            run = run_side(side, pkg, data, out, chunk or 50_000, tmp)
            runs[(side, chunk)].append(run)
            outs[(side, chunk)] = out
            print(
                f"  repeat {r + 1} {label(side, chunk)}: peak {run['peak_mb']:.0f} MB, "
                f"score {run['score_s']:.2f} s, wall {run['wall_s']:.2f} s",
                flush=True,
            )
        reference = outs[("pandas", 0)]
        for m, out in outs.items():
            same[m] = same[m] and filecmp.cmp(out, reference, shallow=False)
        for out in outs.values():
            out.unlink()
    data.unlink()
    rows = []
    med = {
        m: {
            k: statistics.median(x[k] for x in runs[m])
            for k in ("peak_mb", "baseline_mb", "load_s", "score_s", "wall_s")
        }
        for m in sides
    }
    base = med[("pandas", 0)]
    for side, chunk in sides:
        m = med[(side, chunk)]
        rows.append(
            {
                "rows": n,
                "file_mb": file_mb,
                "method": label(side, chunk),
                "chunk_size": chunk or None,
                "chunks": runs[(side, chunk)][0]["chunks"],
                **{f"median_{k}": v for k, v in m.items()},
                "above_baseline_mb": m["peak_mb"] - m["baseline_mb"],
                "peak_over_pandas": m["peak_mb"] / base["peak_mb"],
                "above_baseline_over_pandas": (m["peak_mb"] - m["baseline_mb"])
                / (base["peak_mb"] - base["baseline_mb"]),
                "score_over_pandas": m["score_s"] / base["score_s"],
                "wall_over_pandas": m["wall_s"] / base["wall_s"],
                "identical_to_pandas_output": same[(side, chunk)],
                "runs": runs[(side, chunk)],
            }
        )
    return rows


def table(rows: list[dict]) -> list[str]:
    head = (
        f"{'rows':>9} {'file MB':>7}  {'method':<24} {'peak MB':>7} {'>base':>6} {'load s':>6} "
        f"{'score s':>7} {'wall s':>6}  {'peak x':>6} {'>base x':>7} {'score x':>7} {'wall x':>6}  same"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['rows']:>9,} {r['file_mb']:>7.1f}  {r['method']:<24} {r['median_peak_mb']:>7.0f} "
            f"{r['above_baseline_mb']:>6.0f} {r['median_load_s']:>6.2f} {r['median_score_s']:>7.2f} "
            f"{r['median_wall_s']:>6.2f}  {r['peak_over_pandas']:>6.3f} {r['above_baseline_over_pandas']:>7.3f} "
            f"{r['score_over_pandas']:>7.3f} {r['wall_over_pandas']:>6.3f}  "
            f"{'yes' if r['identical_to_pandas_output'] else 'NO'}"
        )
    lines += [
        "peak MB: peak RSS of the process; >base: peak minus RSS after imports + package load (the same",
        "floor on both sides); x columns: this / pandas read-all (median of the repeats); same: output",
        "file byte-identical to the pandas side's.",
    ]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the scoring CSV")
    ap.add_argument(
        "--scale-rows",
        type=int,
        default=250_000,
        help="a second, smaller file to show how memory scales with size (0: skip)",
    )
    ap.add_argument(
        "--chunk-sizes", default="50000,10000", help="modelworks chunk sizes, comma-separated"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="logreg", help="zoo model in the pipeline (default: logreg)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "predict.json"))
    # the worker side: one measured run in a child process
    ap.add_argument("--worker", choices=sorted(SIDES), help=argparse.SUPPRESS)
    ap.add_argument("--pkg", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out-file", help=argparse.SUPPRESS)
    ap.add_argument("--chunk-size", type=int, default=50_000, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    chunk_sizes = [int(c) for c in args.chunk_sizes.split(",") if c]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mw-bench-predict-") as tmp_name:
        tmp = Path(tmp_name)
        pkg = build_package(tmp, args.model)
        print(
            f"model: {args.model} in the modelworks pipeline, trained on 5,000 rows (seed 0); "
            f"package {pkg.stat().st_size / 1024:.0f} KB",
            flush=True,
        )
        # warm-up: library files into the page cache; a CLI run pays the cold start once
        warm = tmp / "warm.csv"
        make_frame(20_000, seed=2).drop(columns=["churn"]).to_csv(warm, index=False)
        for side, chunk in methods(chunk_sizes[:1]):
            run = run_side(side, pkg, warm, tmp / "warm-out.csv", chunk or 50_000, tmp)
            print(
                f"  warm-up {label(side, chunk)} (20,000 rows): wall {run['wall_s']:.2f} s, "
                f"load {run['load_s']:.2f} s",
                flush=True,
            )
        rows = []
        for n in [s for s in (args.scale_rows, args.rows) if s]:
            rows += bench_size(n, pkg, tmp, chunk_sizes, args.repeats)
    lines = table(rows)
    print("\n" + "\n".join(lines))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    payload = {
        "benchmark": "score a CSV with a saved pipeline: modelworks.predict (chunks) vs pandas read-all",
        "command": "python benchmarks/bench_predict.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "data": "generated: customer_id, 6 numeric, 4 categorical columns; train seed 0, score seed 1",
        "model": args.model,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "threads": 1,
        "repeats": args.repeats,
        "note": "shared machine: absolute times are noisy, compare ratios within one run; peak MB is "
        "each process's own VmHWM, read as it ends",
        "table": lines,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from modelworks._io import write_json

    write_json(out, payload)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
