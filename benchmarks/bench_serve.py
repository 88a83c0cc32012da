# ruff: noqa: B023  (the timed lambdas run immediately inside the loop that defines them)
"""Prediction server latency and throughput: modelworks serve vs `mlflow models serve` vs raw predict.

One command: ``python benchmarks/bench_serve.py [--repeats 3] [--single 200] [--batches 20]``.

Data: scikit-learn's breast cancer table (569 rows x 30 numeric features), the same modelworks
preprocessing pipeline for every side, seed 0. Models: logistic regression and a 100-tree random
forest. Sides, measured in alternating rounds from one client over loopback (keep-alive HTTP/1.1,
one request at a time, so latency and rows/s are comparable):

* ``raw``: ``model.predict(frame)`` in this process (the floor: no HTTP, no JSON, no validation);
* ``validated``: ``Package.predict_proba(frame)`` in this process (schema validation, no HTTP);
* ``modelworks``: ``modelworks serve PACKAGE`` (schema validation, predictions + probabilities);
* ``mlflow``: ``mlflow models serve -m MODEL --env-manager local`` on the same fitted pipeline saved
  with ``mlflow.sklearn.save_model`` (predictions only), 1 worker each.

Cases: single-row requests and 1,000-row batches. Prints p50/p99 latency, rows/s and the ratios,
plus agreement of the predictions (quality next to speed); writes ``benchmarks/results/serve.json``.
Timings are noisy on a shared machine: ratios within one run are what to read.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _k, _v in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive", "MLFLOW_DISABLE_TELEMETRY": "true",
               "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg", "KERAS_BACKEND": "torch"}.items():
    os.environ.setdefault(_k, _v)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "serve.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def reconnect(self):
        """A fresh keep-alive connection (servers close idle ones after a few seconds)."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        return r.status, r.read()

    def close(self):
        self.conn.close()


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            if c.getresponse().status == 200:
                c.close()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def start_modelworks(pkg: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "modelworks", "serve", str(pkg), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, "/health", proc)
    return proc, port


def start_mlflow(model_dir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    proc = subprocess.Popen([str(mlflow_bin), "models", "serve", "-m", str(model_dir), "--env-manager", "local",
                             "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PATH": f"{mlflow_bin.parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    wait_ready(port, "/ping", proc)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM) if proc.pid == os.getpgid(proc.pid) else proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    except Exception:
        proc.kill()


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def pct(values, q):
    return float(np.percentile(values, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--single", type=int, default=200, help="single-row requests per side per repeat")
    ap.add_argument("--batches", type=int, default=15, help="1,000-row requests per side per repeat")
    args = ap.parse_args()

    import mlflow.sklearn
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    import modelworks.package as mp
    from modelworks.data import make_pipeline

    frame = load_breast_cancer(as_frame=True).frame
    X, y = frame.drop(columns="target"), frame["target"]
    rng = np.random.default_rng(0)
    batch = X.iloc[rng.integers(0, len(X), 1000)].reset_index(drop=True)
    singles = [X.iloc[[i]] for i in rng.integers(0, len(X), 50)]
    models = {
        "logistic_regression": LogisticRegression(max_iter=2000),
        "random_forest_100": RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1),
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    rows_out, agreement = [], {}
    print(f"data: breast_cancer {X.shape[0]}x{X.shape[1]}, seed 0; repeats {args.repeats}, "
          f"{args.single} single-row and {args.batches} x 1,000-row requests per side per repeat")
    for name, est in models.items():
        model = make_pipeline(X, est).fit(X, y)
        pkg = mp.save(model, tmp / f"{name}-pkg", X_sample=X, y_sample=y, task="binary", target="target")
        from skops.io import dumps, get_untrusted_types

        mlflow_dir = tmp / f"{name}-mlflow"
        mlflow.sklearn.save_model(model, str(mlflow_dir), pip_requirements=["scikit-learn"],
                                  skops_trusted_types=get_untrusted_types(data=dumps(model)))
        t0 = time.perf_counter()
        mw_proc, mw_port = start_modelworks(pkg)
        mw_start = time.perf_counter() - t0
        t0 = time.perf_counter()
        ml_proc, ml_port = start_mlflow(mlflow_dir)
        ml_start = time.perf_counter() - t0
        mw, ml = Client(mw_port), Client(ml_port)
        try:
            single_bodies_mw = [json.dumps({"records": s.to_dict(orient="records")}).encode() for s in singles]
            single_bodies_ml = [json.dumps({"dataframe_records": s.to_dict(orient="records")}).encode()
                                for s in singles]
            batch_mw = json.dumps({"records": batch.to_dict(orient="records")}).encode()
            batch_ml = json.dumps({"dataframe_records": batch.to_dict(orient="records")}).encode()
            # quality: all three agree on the 1,000-row batch
            s1, b1 = mw.post("/predict", batch_mw)
            s2, b2 = ml.post("/invocations", batch_ml)
            assert s1 == 200 and s2 == 200, (s1, b1[:200], s2, b2[:200])
            raw = model.predict(batch)
            ours, theirs = np.asarray(json.loads(b1)["predictions"]), np.asarray(json.loads(b2)["predictions"])
            agreement[name] = {"modelworks_vs_raw": float((ours == raw).mean()),
                               "mlflow_vs_raw": float((theirs == raw).mean()),
                               "max_abs_proba_diff_vs_raw": float(np.abs(
                                   np.asarray(json.loads(b1)["probabilities"]) - model.predict_proba(batch)).max())}
            for _ in range(3):  # warm up every side
                mw.post("/predict", single_bodies_mw[0])
                ml.post("/invocations", single_bodies_ml[0])
                model.predict(singles[0])
            loaded = mp.load(pkg)
            res = {side: {"single": [], "batch": []} for side in ("raw", "validated", "modelworks", "mlflow")}
            for rep in range(args.repeats):
                for side in (["raw", "modelworks", "mlflow"] if rep % 2 == 0 else ["mlflow", "modelworks", "raw"]):
                    it = iter(range(10**9))
                    if side == "raw":
                        res[side]["single"].append(timed(lambda: model.predict(singles[next(it) % 50]), args.single))
                        res[side]["batch"].append(timed(lambda: model.predict(batch), args.batches))
                        res["validated"]["single"].append(
                            timed(lambda: loaded.predict_proba(singles[next(it) % 50]), args.single))
                        res["validated"]["batch"].append(timed(lambda: loaded.predict_proba(batch), args.batches))
                    elif side == "modelworks":
                        mw.reconnect()
                        mw.post("/predict", single_bodies_mw[0])
                        res[side]["single"].append(timed(lambda: mw.post("/predict", single_bodies_mw[next(it) % 50]),
                                                         args.single))
                        res[side]["batch"].append(timed(lambda: mw.post("/predict", batch_mw), args.batches))
                    else:
                        ml.reconnect()
                        ml.post("/invocations", single_bodies_ml[0])
                        res[side]["single"].append(timed(lambda: ml.post("/invocations",
                                                                         single_bodies_ml[next(it) % 50]), args.single))
                        res[side]["batch"].append(timed(lambda: ml.post("/invocations", batch_ml), args.batches))
        finally:
            mw.close()
            ml.close()
            stop(mw_proc)
            stop(ml_proc)
        for case, rows_per in (("single", 1), ("batch", 1000)):
            stats = {}
            for side in ("raw", "validated", "modelworks", "mlflow"):
                reps = res[side][case]
                p50 = statistics.median(pct(r, 50) for r in reps)
                p99 = statistics.median(pct(r, 99) for r in reps)
                rps = statistics.median(rows_per * len(r) / sum(r) for r in reps)
                stats[side] = {"p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3, "rows_per_s": rps}
            row = {"model": name, "case": "1 row" if case == "single" else "1,000 rows", **{
                f"{side}_{k}": v for side, d in stats.items() for k, v in d.items()}}
            row["p50_vs_raw"] = stats["modelworks"]["p50_ms"] / stats["raw"]["p50_ms"]
            row["p50_goal_ms"] = 1.2 * stats["raw"]["p50_ms"] + 1.0
            row["p50_goal_met"] = stats["modelworks"]["p50_ms"] <= row["p50_goal_ms"]
            row["throughput_vs_mlflow"] = stats["modelworks"]["rows_per_s"] / stats["mlflow"]["rows_per_s"]
            row["p50_vs_mlflow"] = stats["modelworks"]["p50_ms"] / stats["mlflow"]["p50_ms"]
            row["startup_s"] = {"modelworks": round(mw_start, 2), "mlflow": round(ml_start, 2)}
            rows_out.append(row)

    table = pd.DataFrame([{k: v for k, v in r.items() if k != "startup_s"} for r in rows_out])
    cols = ["model", "case", "raw_p50_ms", "validated_p50_ms", "modelworks_p50_ms", "modelworks_p99_ms", "mlflow_p50_ms", "mlflow_p99_ms",
            "modelworks_rows_per_s", "mlflow_rows_per_s", "p50_vs_raw", "p50_goal_ms", "p50_goal_met",
            "throughput_vs_mlflow"]
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3g}".format):
        print(table[cols].to_string(index=False))
    print("agreement on the 1,000-row batch:", json.dumps(agreement))
    print("server start-up (s):", {r["model"]: r["startup_s"] for r in rows_out[::2]})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    from modelworks._io import write_json

    write_json(OUT, {"benchmark": "serve", "data": "sklearn breast_cancer 569x30", "seed": 0,
                     "repeats": args.repeats, "single_requests": args.single, "batch_requests": args.batches,
                     "machine_note": "shared 2-core machine; timings noisy, read the ratios",
                     "rows": rows_out, "agreement": agreement})
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
