# ruff: noqa: B023  (the timed lambdas run immediately inside the loop that defines them)
"""Prediction server latency and throughput: modelworks serve vs `mlflow models serve` vs raw predict_proba.

One command: ``python benchmarks/bench_serve.py [--repeats 2] [--single 300] [--batches 20] [--seconds 4]``.

Data: scikit-learn's breast cancer table (569 rows x 30 numeric features), the same modelworks
preprocessing pipeline for every side, seed 0. Models: logistic regression and a 100-tree random
forest. Sides:

* ``raw``: ``model.predict_proba(frame)`` in this process (the floor: no HTTP, no JSON, no validation);
* ``modelworks``: ``modelworks serve PACKAGE`` with 1 worker, and with ``--workers 2`` (schema
  validation, predictions and exact class probabilities);
* ``mlflow``: ``mlflow models serve -m MODEL --env-manager local -w 1`` (its default) on the same
  fitted pipeline saved with ``mlflow.sklearn.save_model`` (predictions only).

Two clients, over loopback, keep-alive HTTP/1.1, both with ``TCP_NODELAY`` as curl, urllib3 and
httpx set it (``http.client`` does not, and sends headers and body in two writes: without it, a
client measures its own Nagle delay):

* ``http.client``, one request at a time: p50 / p99 latency (what one caller waits);
* a load generator (asyncio streams, pre-encoded requests) with 8 concurrent connections for
  ``--seconds``: requests/s, rows/s, p50 / p99 under load.

Cases: single-row requests and 1,000-row batches, measured in alternating rounds (the order of
the sides flips every round; the median over rounds is reported). Start-up time is from process
start to the first 200 on the health endpoint. The JSON records the kernel, the Python and library
versions, the CPU count and the load average before and after (the machine may be shared: read the
ratios measured side by side). Predictions are checked against raw ``predict`` (identical labels)
and ``predict_proba`` (max abs difference printed).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

for _k, _v in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": "1",
               "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "MPLBACKEND": "Agg",
               "KERAS_BACKEND": "torch"}.items():
    os.environ.setdefault(_k, _v)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "serve.json"
CONCURRENCY = 8
SERVERS = ("modelworks", "modelworks_2w", "mlflow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """``http.client`` on one keep-alive connection, with TCP_NODELAY."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.reconnect()

    def reconnect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        return r.status, r.read()

    def close(self):
        self.conn.close()


# ----------------------------------------------------------------------------- load generator


def _request_bytes(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _load(port: int, requests: list[bytes], concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter()
    stop_at = start + seconds

    async def connection(k: int) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = k
        try:
            while (t0 := time.perf_counter()) < stop_at:
                writer.write(requests[i % len(requests)])
                i += concurrency
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                failures += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(connection(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - start
    return {"requests": len(latencies), "failures": failures, "seconds": elapsed,
            "requests_per_s": len(latencies) / elapsed, "p50_ms": pct(latencies, 50) * 1e3,
            "p99_ms": pct(latencies, 99) * 1e3}


def load(port: int, path: str, bodies: list[bytes], seconds: float, server_pids: list[int],
         concurrency: int = CONCURRENCY) -> dict:
    """``concurrency`` keep-alive connections, each sending its next request as soon as the last is answered.

    Also the server's CPU time per request (all its processes): what a request costs the
    server, which other programs on a shared machine do not inflate the way they do wall time.
    """
    requests = [_request_bytes(path, b) for b in bodies]
    before = cpu_seconds(server_pids)
    out = asyncio.run(_load(port, requests, concurrency, seconds))
    out["server_cpu_ms_per_request"] = (cpu_seconds(server_pids) - before) / max(out["requests"], 1) * 1e3
    return out


# ----------------------------------------------------------------------------- CPU accounting


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn workers, the server mlflow's CLI starts)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        out.append(todo.pop())
        todo += children.get(out[-1], [])
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (from /proc, in clock ticks)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- servers


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
            time.sleep(0.05)
    raise RuntimeError("server did not become ready")


def start(side: str, pkg: Path, mlflow_dir: Path) -> tuple[subprocess.Popen, int, float]:
    """Start one server; return it, its port and the seconds until its health check answered."""
    port = free_port()
    t0 = time.perf_counter()
    if side == "mlflow":
        mlflow_bin = Path(sys.executable).with_name("mlflow")
        cmd = [str(mlflow_bin), "models", "serve", "-m", str(mlflow_dir), "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
        env = {**os.environ, "PATH": f"{mlflow_bin.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        health = "/ping"
    else:
        workers = "2" if side == "modelworks_2w" else "1"
        cmd = [sys.executable, "-m", "modelworks", "serve", str(pkg), "--port", str(port), "--workers", workers]
        env, health = None, "/health"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)
    wait_ready(port, health, proc)
    return proc, port, time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except Exception:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# ----------------------------------------------------------------------------- helpers


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    return {"kernel": platform.release(), "platform": platform.platform(), "python": platform.python_version(),
            "python_implementation": platform.python_implementation(), "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "versions": {n: _version(n) for n in ("modelworks", "mlflow", "scikit-learn", "numpy", "pandas",
                                                  "uvicorn", "starlette", "httptools", "uvloop", "orjson")}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2, help="alternating rounds per model")
    ap.add_argument("--single", type=int, default=300, help="http.client single-row requests per side per round")
    ap.add_argument("--batches", type=int, default=20, help="http.client 1,000-row requests per side per round")
    ap.add_argument("--seconds", type=float, default=4.0, help="load-generator run per side, case and round")
    ap.add_argument("--models", nargs="+", default=["logistic_regression", "random_forest_100"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    import mlflow.sklearn
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from skops.io import dumps, get_untrusted_types

    import modelworks.package as mp
    from modelworks.data import make_pipeline

    env = environment()
    frame = load_breast_cancer(as_frame=True).frame
    X, y = frame.drop(columns="target"), frame["target"]
    rng = np.random.default_rng(0)
    batch = X.iloc[rng.integers(0, len(X), 1000)].reset_index(drop=True)
    singles = [X.iloc[[i]] for i in rng.integers(0, len(X), 50)]
    models = {
        "logistic_regression": LogisticRegression(max_iter=2000),
        "random_forest_100": RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1),
    }
    models = {k: v for k, v in models.items() if k in args.models}
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    rows_out, agreement, startup = [], {}, {}
    print(f"data: breast_cancer {X.shape[0]}x{X.shape[1]}, seed 0; {args.repeats} rounds of {args.single} "
          f"single-row and {args.batches} x 1,000-row http.client requests and {args.seconds:g} s of "
          f"{CONCURRENCY}-connection load per side and case")
    print(f"kernel {env['kernel']}, Python {env['python']}, {env['cpus']} CPUs, load average {env['loadavg_start']}")
    for name, est in models.items():
        model = make_pipeline(X, est).fit(X, y)
        pkg = mp.save(model, tmp / f"{name}-pkg", X_sample=X, y_sample=y, task="binary", target="target")
        mlflow_dir = tmp / f"{name}-mlflow"
        mlflow.sklearn.save_model(model, str(mlflow_dir), pip_requirements=["scikit-learn"],
                                  skops_trusted_types=get_untrusted_types(data=dumps(model)))
        bodies = {
            "modelworks": {"single": [json.dumps({"records": s.to_dict(orient="records")}).encode() for s in singles],
                           "batch": [json.dumps({"records": batch.to_dict(orient="records")}).encode()]},
            "mlflow": {"single": [json.dumps({"dataframe_records": s.to_dict(orient="records")}).encode()
                                  for s in singles],
                       "batch": [json.dumps({"dataframe_records": batch.to_dict(orient="records")}).encode()]},
        }
        paths = {"modelworks": "/predict", "mlflow": "/invocations"}
        procs, ports, startup[name] = {}, {}, {}
        try:
            for side in SERVERS:
                procs[side], ports[side], startup[name][side] = start(side, pkg, mlflow_dir)
            time.sleep(1)  # let the workers of a multi-process server finish starting
            trees = {side: process_tree(procs[side].pid) for side in SERVERS}
            clients = {side: Client(ports[side]) for side in SERVERS}
            # quality: every side against raw predict / predict_proba on the 1,000-row batch
            raw_pred, raw_proba = model.predict(batch), model.predict_proba(batch)
            agreement[name] = {}
            for side in SERVERS:
                kind = "mlflow" if side == "mlflow" else "modelworks"
                status, answer = clients[side].post(paths[kind], bodies[kind]["batch"][0])
                assert status == 200, (side, status, answer[:300])
                answer = json.loads(answer)
                entry = {"identical_predictions": bool(np.array_equal(np.asarray(answer["predictions"]), raw_pred))}
                if "probabilities" in answer:
                    entry["max_abs_proba_diff"] = float(np.abs(np.asarray(answer["probabilities"]) - raw_proba).max())
                agreement[name][side] = entry
            res = {side: {"single": [], "batch": [], "load_single": [], "load_batch": [], "cpu_single": [],
                          "cpu_batch": []} for side in ("raw", *SERVERS)}
            for _ in range(3):  # warm up every side
                model.predict_proba(singles[0])
                for side in SERVERS:
                    kind = "mlflow" if side == "mlflow" else "modelworks"
                    clients[side].post(paths[kind], bodies[kind]["single"][0])
            for rnd in range(args.repeats):
                order = ("raw", *SERVERS) if rnd % 2 == 0 else (*reversed(SERVERS), "raw")
                for side in order:
                    it = iter(range(10**9))
                    if side == "raw":
                        for case, fn, n in (("single", lambda: model.predict_proba(singles[next(it) % 50]), args.single),
                                            ("batch", lambda: model.predict_proba(batch), args.batches)):
                            cpu0 = time.thread_time()
                            res[side][case].append(timed(fn, n))
                            res[side][f"cpu_{case}"].append((time.thread_time() - cpu0) / n * 1e3)
                        continue
                    kind = "mlflow" if side == "mlflow" else "modelworks"
                    c, path = clients[side], paths[kind]
                    c.reconnect()  # servers close idle keep-alive connections after a few seconds
                    c.post(path, bodies[kind]["single"][0])
                    res[side]["single"].append(
                        timed(lambda: c.post(path, bodies[kind]["single"][next(it) % 50]), args.single))
                    res[side]["batch"].append(timed(lambda: c.post(path, bodies[kind]["batch"][0]), args.batches))
                    for case in ("single", "batch"):
                        out = load(ports[side], path, bodies[kind][case], args.seconds, trees[side])
                        assert out["failures"] == 0, (side, case, out)
                        res[side][f"load_{case}"].append(out)
        finally:
            for c in locals().get("clients", {}).values():
                c.close()
            for p in procs.values():
                stop(p)
        for case, rows_per in (("single", 1), ("batch", 1000)):
            row = {"model": name, "case": "1 row" if case == "single" else "1,000 rows"}
            for side in ("raw", *SERVERS):
                reps = res[side][case]
                row[f"{side}_p50_ms"] = statistics.median(pct(r, 50) for r in reps) * 1e3
                row[f"{side}_p99_ms"] = statistics.median(pct(r, 99) for r in reps) * 1e3
                row[f"{side}_rows_per_s"] = statistics.median(rows_per * len(r) / sum(r) for r in reps)
                if side == "raw":
                    row["raw_cpu_ms"] = statistics.median(res[side][f"cpu_{case}"])
                else:
                    loads = res[side][f"load_{case}"]
                    row[f"{side}_load_rows_per_s"] = statistics.median(rows_per * x["requests_per_s"] for x in loads)
                    row[f"{side}_load_p50_ms"] = statistics.median(x["p50_ms"] for x in loads)
                    row[f"{side}_load_p99_ms"] = statistics.median(x["p99_ms"] for x in loads)
                    row[f"{side}_cpu_ms"] = statistics.median(x["server_cpu_ms_per_request"] for x in loads)
            row["p50_over_raw_ms"] = row["modelworks_p50_ms"] - row["raw_p50_ms"]
            row["p50_goal_met"] = row["p50_over_raw_ms"] <= 1.0
            row["load_vs_mlflow"] = row["modelworks_load_rows_per_s"] / row["mlflow_load_rows_per_s"]
            row["load_2w_vs_mlflow"] = row["modelworks_2w_load_rows_per_s"] / row["mlflow_load_rows_per_s"]
            row["load_goal"] = 3.0 if case == "single" else 2.0
            row["p50_vs_mlflow"] = row["modelworks_p50_ms"] / row["mlflow_p50_ms"]
            row["cpu_over_raw_ms"] = row["modelworks_cpu_ms"] - row["raw_cpu_ms"]
            row["cpu_mlflow_vs_modelworks"] = row["mlflow_cpu_ms"] / row["modelworks_cpu_ms"]
            rows_out.append(row)

    env["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    table = pd.DataFrame(rows_out)
    latency = ["model", "case", "raw_p50_ms", "modelworks_p50_ms", "modelworks_p99_ms", "modelworks_2w_p50_ms",
               "mlflow_p50_ms", "mlflow_p99_ms", "p50_over_raw_ms", "p50_goal_met", "p50_vs_mlflow"]
    loaded = ["model", "case", "modelworks_load_rows_per_s", "modelworks_2w_load_rows_per_s", "mlflow_load_rows_per_s",
              "load_vs_mlflow", "load_2w_vs_mlflow", "load_goal", "modelworks_load_p50_ms", "modelworks_load_p99_ms",
              "mlflow_load_p50_ms", "mlflow_load_p99_ms"]
    cpu = ["model", "case", "raw_cpu_ms", "modelworks_cpu_ms", "modelworks_2w_cpu_ms", "mlflow_cpu_ms",
           "cpu_over_raw_ms", "cpu_mlflow_vs_modelworks"]
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3g}".format):
        print("\none request at a time (http.client):")
        print(table[latency].to_string(index=False))
        print(f"\n{CONCURRENCY} concurrent connections (load generator), rows/s:")
        print(table[loaded].to_string(index=False))
        print("\nCPU ms per request: raw predict_proba (this thread) vs each server (all its processes, under load):")
        print(table[cpu].to_string(index=False))
    print("\nagreement on the 1,000-row batch:", json.dumps(agreement))
    print("server start-up (s):", json.dumps({m: {k: round(v, 2) for k, v in d.items()} for m, d in startup.items()}))
    print(f"load average before / after: {env['loadavg_start']} / {env['loadavg_end']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from modelworks._io import write_json

    write_json(args.out, {
        "benchmark": "serve", "command": "python benchmarks/bench_serve.py " + " ".join(sys.argv[1:]),
        "data": "sklearn breast_cancer 569x30", "seed": 0, "repeats": args.repeats,
        "single_requests": args.single, "batch_requests": args.batches, "load_seconds": args.seconds,
        "load_concurrency": CONCURRENCY, "environment": env,
        "machine_note": "shared 2-core machine: absolute timings depend on what else runs; "
                        "the ratios are measured side by side, in alternating rounds",
        "rows": rows_out, "agreement": agreement,
        "startup_s": {m: {k: round(v, 3) for k, v in d.items()} for m, d in startup.items()}})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
