"""Serving a model over HTTP: ``modelworks serve`` on 127.0.0.1, one good and one bad request, then
a graceful stop (SIGTERM)."""

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import modelworks.package as mp
from modelworks.data import make_pipeline

out = Path("deploy-example")
frame = load_iris(as_frame=True).frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
X, y = frame.drop(columns="target"), frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
model = make_pipeline(X, LogisticRegression(max_iter=500)).fit(X, y)
path = mp.save(model, out / "iris", X_sample=X, y_sample=y, task="multiclass", target="species")

server = subprocess.Popen([sys.executable, "-m", "modelworks", "serve", str(path), "--port", "0"],
                          stderr=subprocess.PIPE, text=True)
url = None
for line in server.stderr:
    m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if m:
        url = m.group(1)
        break
assert url, "the server did not start"


def post(body: dict):
    req = urllib.request.Request(url + "/predict", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


for _ in range(100):
    try:
        urllib.request.urlopen(url + "/health", timeout=5)
        break
    except OSError:
        time.sleep(0.1)

status, answer = post({"records": X.iloc[[0, 75, 140]].to_dict(orient="records")})
print(f"POST /predict -> {status}: {answer['predictions']}")
print(f"  probabilities of the first row: {dict(zip(answer['classes'], answer['probabilities'][0]))}")
status, answer = post({"records": [{"sepal_length": 5.1, "sepal_width": "wide"}]})
print(f"bad request -> {status}: {answer['error']}")
with urllib.request.urlopen(url + "/schema", timeout=5) as r:
    print(f"GET /schema -> features {json.loads(r.read())['features']}")
server.send_signal(signal.SIGTERM)
print(f"server stopped with exit code {server.wait(timeout=60)}")
