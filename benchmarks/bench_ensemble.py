"""Ensembles: modelworks stacking / learned blend / ensemble selection vs scikit-learn stacking.

For each dataset and seed, one split (test never used to learn anything), the chapter's members
(random forest, gradient boosting, logistic regression; for regression RF, GB, ridge), and the
same 5 shuffled folds for every method. Compared on the held-out split:

- best single member (the best *held-out* member: an oracle, the strictest baseline),
- CV-best single member (the member with the best out-of-fold loss: what a user would pick),
- the chapter's hand blend (weights 0.4 / 0.4 / 0.2),
- scikit-learn ``StackingClassifier`` / ``StackingRegressor`` (the peer),
- modelworks ``StackingClassifier`` (the same engine, zoo-name aware),
- modelworks ``BlendClassifier`` (weights learned on out-of-fold predictions),
- modelworks ``EnsembleSelectionClassifier`` (Caruana greedy selection, 50 picks).

Methods run alternating (the order rotates with the seed); the table shows medians over seeds
of the held-out loss (log-loss / RMSE), its ratio to scikit-learn stacking, to the best single
member and to the hand blend, and fit time with its ratio to scikit-learn stacking.

Run: python benchmarks/bench_ensemble.py [--seeds 3] [--quick]
Writes benchmarks/results/ensemble.json.
"""

from __future__ import annotations

import os

for _k, _v in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_k, _v)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import ensemble as sk  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from modelworks.ensemble import (  # noqa: E402
    BlendClassifier,
    BlendRegressor,
    EnsembleSelectionClassifier,
    EnsembleSelectionRegressor,
    StackingClassifier,
    StackingRegressor,
)

HAND_WEIGHTS = [0.4, 0.4, 0.2]  # the chapter's rf / gb / lr


def _datasets(quick: bool):
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
    from statsmodels.datasets import fair, randhie

    out = {}
    X, y = load_breast_cancer(return_X_y=True)
    out["breast_cancer"] = ("binary", X, y, "sklearn, 569 x 30")
    X, y = load_wine(return_X_y=True)
    out["wine"] = ("multiclass", X, y, "sklearn, 178 x 13, 3 classes")
    d = fair.load_pandas().data.sample(n=1500 if quick else 3000, random_state=0)
    out["fair"] = ("binary", d.drop(columns="affairs").to_numpy(float), (d["affairs"] > 0).to_numpy(int),
                   f"statsmodels, {len(d)} of 6366 rows x 8, target affairs > 0")
    X, y = load_diabetes(return_X_y=True)
    out["diabetes"] = ("regression", X, y, "sklearn, 442 x 10")
    d = randhie.load_pandas().data.sample(n=1500 if quick else 3000, random_state=0)
    out["randhie"] = ("regression", d.drop(columns="mdvis").to_numpy(float), np.log1p(d["mdvis"].to_numpy(float)),
                      f"statsmodels, {len(d)} of 20190 rows x 9, target log1p(mdvis)")
    return out


def _members(task: str, seed: int, n_trees: int):
    if task == "regression":
        return [
            ("rf", sk.RandomForestRegressor(n_estimators=n_trees, random_state=seed, n_jobs=1)),
            ("gb", sk.GradientBoostingRegressor(n_estimators=n_trees, random_state=seed)),
            ("lr", make_pipeline(StandardScaler(), Ridge())),
        ]
    return [
        ("rf", sk.RandomForestClassifier(n_estimators=n_trees, random_state=seed, n_jobs=1)),
        ("gb", sk.GradientBoostingClassifier(n_estimators=n_trees, random_state=seed)),
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
    ]


def _methods(task: str, members, cv):
    clf = task != "regression"
    return {
        "sklearn stack": lambda: (sk.StackingClassifier if clf else sk.StackingRegressor)(members, cv=cv),
        "mw stack": lambda: (StackingClassifier if clf else StackingRegressor)(members, cv=cv),
        "mw blend": lambda: (BlendClassifier if clf else BlendRegressor)(members, cv=cv),
        "mw select": lambda: (EnsembleSelectionClassifier if clf else EnsembleSelectionRegressor)(members, cv=cv),
        "hand blend": lambda: (BlendClassifier if clf else BlendRegressor)(members, weights=HAND_WEIGHTS),
    }


def _oof_loss(task, P, y):
    if task == "regression":
        return float(np.sqrt(np.mean((P - y) ** 2)))
    return float(-np.mean(np.log(np.clip(P[np.arange(len(y)), y], 1e-15, 1))))


def _loss(task, model, X, y):
    if task == "regression":
        p = model.predict(X)
        return float(np.sqrt(mean_squared_error(y, p))), float(r2_score(y, p))
    proba = model.predict_proba(X)
    return float(log_loss(y, np.clip(proba, 1e-15, 1), labels=model.classes_)), float(
        accuracy_score(y, model.classes_[np.argmax(proba, axis=1)]))


def run(seeds: int, quick: bool) -> dict:
    n_trees = 50 if quick else 100
    rows, raw = [], {}
    for ds, (task, X, y, desc) in _datasets(quick).items():
        print(f"\n{ds} ({task}; {desc}); seeds 0..{seeds - 1}", flush=True)
        per = {}  # method -> list of (loss, second, fit_s)
        for seed in range(seeds):
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.25, random_state=seed, stratify=None if task == "regression" else y)
            members = _members(task, seed, n_trees)
            cv = (KFold if task == "regression" else StratifiedKFold)(5, shuffle=True, random_state=seed)
            methods = list(_methods(task, members, cv).items())
            k = seed % len(methods)
            for name, make in methods[k:] + methods[:k]:  # alternate the order between seeds
                model = make()
                t0, c0 = time.perf_counter(), time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_tr, y_tr)
                fit_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
                per.setdefault(name, []).append((*_loss(task, model, X_te, y_te), fit_s, cpu_s))
                if name == "mw blend":  # its members are refitted on all training rows: score them singly
                    singles = {n: _loss(task, est, X_te, y_te) for n, est in zip(model.names_, model.estimators_)}
                    best = min(singles, key=lambda n: singles[n][0])
                    per.setdefault("best single", []).append((*singles[best], float("nan"), float("nan")))
                    per.setdefault("_best_name", []).append(best)
                    # what a user would pick without peeking at the test split: the best member out of fold
                    y_idx = np.searchsorted(model.classes_, y_tr) if task != "regression" else y_tr
                    cv_loss = [_oof_loss(task, P, y_idx) for P in model.oof_predictions_]
                    cv_best = model.names_[int(np.argmin(cv_loss))]
                    per.setdefault("cv-best single", []).append((*singles[cv_best], float("nan"), float("nan")))
                    per.setdefault("_cv_best_name", []).append(cv_best)
                    per.setdefault("_weights", []).append([round(float(w), 3) for w in model.weights_])
        med = {m: [statistics.median(v[i] for v in vals) for i in range(4)]
               for m, vals in per.items() if not m.startswith("_")}
        for m in ["best single", "cv-best single", "hand blend", "sklearn stack", "mw stack", "mw blend", "mw select"]:
            loss, second, fit_s, cpu_s = med[m]
            # ratios per seed, then the median (paired comparison on the same split)
            def ratio(other, i=0, m=m, per=per):
                return statistics.median(a[i] / b[i] for a, b in zip(per[m], per[other]))
            rows.append({
                "dataset": ds, "task": task, "method": m,
                "loss": loss, "loss_name": "log_loss" if task != "regression" else "rmse",
                "second": second, "second_name": "accuracy" if task != "regression" else "r2",
                "loss_vs_sklearn_stack": ratio("sklearn stack"),
                "loss_vs_best_single": ratio("best single"),
                "loss_vs_hand_blend": ratio("hand blend"),
                "fit_s": None if "single" in m else fit_s,
                "fit_vs_sklearn_stack": None if "single" in m else ratio("sklearn stack", 2),
                "cpu_s": None if "single" in m else cpu_s,
                "cpu_vs_sklearn_stack": None if "single" in m else ratio("sklearn stack", 3),
            })
        raw[ds] = {"description": desc, "best_single_member_per_seed": per["_best_name"],
                   "cv_best_single_member_per_seed": per["_cv_best_name"],
                   "learned_blend_weights_per_seed (rf, gb, lr)": per["_weights"],
                   "per_seed": {m: v for m, v in per.items() if not m.startswith("_")}}
        _print_rows([r for r in rows if r["dataset"] == ds])
    return {"rows": rows, "raw": raw}


def _print_rows(rows) -> None:
    head = (f"{'method':<14}{'loss':>9}{'2nd':>8}{'/sk stack':>11}{'/best single':>13}{'/hand':>8}"
            f"{'fit s':>8}{'fit/sk':>8}{'cpu s':>8}{'cpu/sk':>8}")
    print(head)
    for r in rows:
        fit = "" if r["fit_s"] is None else (f"{r['fit_s']:8.2f}{r['fit_vs_sklearn_stack']:8.2f}"
                                             f"{r['cpu_s']:8.2f}{r['cpu_vs_sklearn_stack']:8.2f}")
        print(f"{r['method']:<14}{r['loss']:9.4f}{r['second']:8.4f}{r['loss_vs_sklearn_stack']:11.3f}"
              f"{r['loss_vs_best_single']:13.3f}{r['loss_vs_hand_blend']:8.3f}{fit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="repeats (split + member seeds), default 3")
    parser.add_argument("--quick", action="store_true", help="50 trees and 1500-row samples")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = run(args.seeds, args.quick)
    result["meta"] = {
        "command": "python benchmarks/bench_ensemble.py" + (" --quick" if args.quick else "")
        + (f" --seeds {args.seeds}" if args.seeds != 3 else ""),
        "seeds": args.seeds, "quick": args.quick, "sklearn": sklearn.__version__,
        "python": platform.python_version(), "threads": os.environ.get("OMP_NUM_THREADS"),
        "loss": "held-out log-loss (classification) / RMSE (regression), median over seeds; ratios are "
                "medians of per-seed ratios (lower is better for loss, for time)",
        "note": "shared 2-core machine: fit times are noisy",
        "total_s": round(time.perf_counter() - t0, 1),
    }
    out = Path(__file__).parent / "results" / "ensemble.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, out)
    print(f"\ntotal {result['meta']['total_s']} s; wrote {out}")


if __name__ == "__main__":
    main()
