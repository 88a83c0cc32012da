"""A real server on 127.0.0.1 (``modelworks serve`` in a subprocess): bad input and SIGTERM."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import modelworks.package as mp
from modelworks.data import make_pipeline

MODELWORKS = [sys.executable, "-m", "modelworks"]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(6)})
    X["plan"] = rng.choice(["basic", "pro", "team"], n)
    y = np.where(X["x0"] + X["x1"] + (X["plan"] == "pro") > 0.5, "churn", "stay")
    model = make_pipeline(X, RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0, n_jobs=1))
    model.fit(X, y)
    return mp.save(model, tmp_path_factory.mktemp("rel") / "pkg", X_sample=X, y_sample=y, task="binary",
                   target="status"), X


class Server:
    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(MODELWORKS + ["serve", *args, "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        deadline = time.monotonic() + 180
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"server exited: {self.proc.wait()} {''.join(self.lines)}")
            self.lines.append(line)
            m = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.url = f"http://127.0.0.1:{m.group(1)}"
                break
            if time.monotonic() > deadline:
                raise AssertionError("server did not start")
        threading.Thread(target=self._drain, daemon=True).start()
        for _ in range(600):
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("server never became healthy")

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ----------------------------------------------------------------------- malformed requests


def _malformed(rng: random.Random, rows: list[dict], limit: int):
    """One malformed request: (method, path, content bytes, headers)."""
    row = dict(rng.choice(rows))
    cols = list(row)
    kind = rng.randrange(24)
    j = "application/json"
    if kind == 0:
        return "POST", "/predict", bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))), {"content-type": j}
    if kind == 1:
        text = json.dumps({"records": [row]})
        return "POST", "/predict", text[: rng.randrange(1, len(text) - 1)].encode(), {}
    if kind == 2:
        return "POST", "/predict", json.dumps(rng.choice([1, "x", None, True, 2.5])).encode(), {}
    if kind == 3:
        return "POST", "/predict", b"   ", {}
    if kind == 4:
        body = rng.choice([{"records": []}, {"records": "x"}, {"records": [1, 2]}, {"records": [[1, 2]]},
                           {"records": None}, {"columns": []}, {"columns": {"x0": 1}}])
        return "POST", "/predict", json.dumps(body).encode(), {}
    if kind == 5:
        return "POST", "/predict", json.dumps({rng.choice(["rows", "data", "instances", "x0"]): [row]}).encode(), {}
    if kind == 6:
        row.pop(rng.choice(cols))
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {}
    if kind == 7:
        row[rng.choice(["extra", "X0", "x0 ", "plan2", "🙂"])] = rng.random()
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {}
    if kind == 8:
        row[rng.choice([c for c in cols if c != "plan"])] = rng.choice(["abc", "1,5", "--", "NaN?", "1e", "0x1g"])
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {}
    if kind == 9:
        row[rng.choice(cols)] = rng.choice([{"a": 1}, [1, 2], [], {}])
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {}
    if kind == 10:
        other = dict(row)
        other.pop(rng.choice(cols))
        return "POST", "/predict", json.dumps({"records": [row, other]}).encode(), {}
    if kind == 11:
        lit = rng.choice(["NaN", "Infinity", "-Infinity"])
        text = json.dumps({"records": [row]}).replace(json.dumps(row["x0"]), lit, 1)
        return "POST", "/predict", text.encode(), {}
    if kind == 12:
        text = json.dumps({"records": [row]}).replace(json.dumps(row["x1"]), rng.choice(["1e999", "-1e400"]), 1)
        return "POST", "/predict", text.encode(), {}
    if kind == 13:
        text = json.dumps({"records": [row]}).replace(json.dumps(row["x2"]), "9" * rng.randint(30, 300), 1)
        return "POST", "/predict", text.encode(), {}
    if kind == 14:
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {
            "content-type": rng.choice(["text/plain", "text/csv", "application/xml", "multipart/form-data"])}
    if kind == 15:
        big = json.dumps({"records": [row] * (limit // 100)}).encode()
        return "POST", "/predict", big, {}
    if kind == 16:
        return "POST", "/predict", b"\xff\xfe\xfd" + json.dumps({"records": [row]}).encode(), {}
    if kind == 17:
        depth = rng.randint(5_000, 50_000)
        return "POST", "/predict", b"[" * depth + b"]" * depth, {}
    if kind == 18:
        return rng.choice(["GET", "PUT", "DELETE", "PATCH"]), "/predict", b"", {}
    if kind == 19:
        return rng.choice(["GET", "POST"]), rng.choice(["/", "/predict/", "/predictions", "/admin", "/../etc"]), b"", {}
    if kind == 20:
        row[rng.choice([c for c in cols if c != "plan"])] = rng.choice([True, False])
        return "POST", "/predict", json.dumps({"records": [row]}).encode(), {}
    if kind == 21:
        cols_body = {c: [row[c]] * 2 for c in cols}
        cols_body[rng.choice(cols)] = [row[cols[0]]]
        return "POST", "/predict", json.dumps({"columns": cols_body}).encode(), {}
    if kind == 22:
        return "POST", "/predict", json.dumps({"records": [row], "columns": {}}).encode(), {}
    return rng.choice(["PUT", "POST", "DELETE"]), rng.choice(["/health", "/schema", "/metrics", "/openapi.json"]), b"", {}


def test_500_malformed_requests_all_get_4xx_with_a_message(package):
    path, X = package
    limit = 100_000
    server = Server(str(path), "--max-body-bytes", str(limit))
    try:
        rng = random.Random(20261124)
        rows = X.head(50).to_dict(orient="records")
        statuses, problems = {}, []
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for i in range(500):
                method, url, content, headers = _malformed(rng, rows, limit)
                r = client.request(method, url, content=content, headers=headers)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                try:
                    message = r.json()["error"]
                except Exception:
                    message = ""
                if not (400 <= r.status_code < 500) or not message or "Traceback" in r.text or 'File "' in r.text:
                    problems.append((i, method, url, content[:120], r.status_code, r.text[:200]))
            good = client.post("/predict", json={"records": rows[:3]})
            metrics = client.get("/metrics", params={"format": "json"}).json()
        assert problems == [], problems[:5]
        assert sum(statuses.values()) == 500 and all(400 <= s < 500 for s in statuses)
        assert {400, 404, 405, 413, 415, 422} <= set(statuses)
        assert good.status_code == 200  # still serving after all that
        assert not any(k.endswith(" 500") for k in metrics["requests"])
        print(f"\n500 malformed requests -> {dict(sorted(statuses.items()))}")
    finally:
        server.stop()
    assert "Traceback" not in "".join(server.lines)


# ----------------------------------------------------------------------- graceful shutdown


def test_sigterm_with_20_requests_in_flight_completes_all_20(package):
    """20 requests upload slowly (so all are in flight at once), SIGTERM arrives, all 20 get answers."""
    path, X = package
    server = Server(str(path), "--max-in-flight", "64")
    batch = pd.concat([X] * 5, ignore_index=True).to_dict(orient="records")  # 2,000 rows each
    pieces = [json.dumps(batch[i:i + 50])[1:-1].encode() for i in range(0, len(batch), 50)]
    release = threading.Event()
    results: list = [None] * 20

    def body():
        yield b'{"records": ['
        for k, piece in enumerate(pieces):
            if k == len(pieces) // 2:
                release.wait(120)  # hold every request open until SIGTERM has been sent
            yield (b"," if k else b"") + piece
        yield b"]}"

    def send(i):
        try:
            r = httpx.post(server.url + "/predict", content=body(), headers={"content-type": "application/json"},
                           timeout=300)
            results[i] = (r.status_code, len(r.json().get("predictions", [])))
        except Exception as e:  # pragma: no cover - what the test guards against
            results[i] = (type(e).__name__, str(e))

    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        in_flight = 0
        while time.monotonic() < deadline:
            in_flight = httpx.get(server.url + "/metrics", params={"format": "json"}, timeout=30).json()["in_flight"]
            if in_flight >= 20:
                break
            time.sleep(0.05)
        assert in_flight == 20, f"only {in_flight} requests in flight"
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the server is shutting down while all 20 are mid-request
        assert server.proc.poll() is None
        release.set()
        for t in threads:
            t.join(timeout=300)
        code = server.proc.wait(timeout=120)
    finally:
        release.set()
        server.stop()
    assert results == [(200, len(batch))] * 20
    assert code == 0
    with pytest.raises(httpx.TransportError):  # and it is really gone
        httpx.get(server.url + "/health", timeout=2)


def test_several_workers_serve_the_same_model(package, tmp_path):
    path, X = package
    log = tmp_path / "rows.jsonl"
    env = dict(os.environ)
    server = Server(str(path), "--workers", "2", "--log-requests", str(log), env=env)
    try:
        rows = X.head(4).to_dict(orient="records")
        expected = list(mp.load(path).predict(X.head(4)))
        with httpx.Client(base_url=server.url, timeout=60) as client:
            answers = [client.post("/predict", json={"records": rows}).json()["predictions"] for _ in range(10)]
        assert answers == [expected] * 10
    finally:
        server.stop()
    assert server.proc.returncode == 0
    assert len(Path(log).read_text().splitlines()) == 40


def test_json_prints_the_started_server_and_stderr_keeps_the_startup_line(package, tmp_path):
    path, X = package
    server = Server(str(path), "--json", "--out", str(tmp_path / "out"))
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.post("/predict", json={"records": X.head(2).to_dict(orient="records")}).status_code == 200
    finally:
        server.stop()
    doc = json.loads(server.proc.stdout.read())  # only the JSON on stdout, printed once the socket listened
    assert server.proc.returncode == 0
    assert doc["url"] == server.url and doc["port"] == int(server.url.rsplit(":", 1)[1]) != 0
    assert doc["ref"] == str(path) and doc["workers"] == 1
    assert doc["log_requests"] == str(tmp_path / "out" / "requests.jsonl")
    assert len((tmp_path / "out" / "requests.jsonl").read_text().splitlines()) == 2
