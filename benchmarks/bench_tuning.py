"""Tuning benchmark: time to reach the exhaustive grid's best CV score, side by side.

One command, one process, peers and modelworks alternating::

    python benchmarks/bench_tuning.py            # ~5 min on an idle 2-core machine
    python benchmarks/bench_tuning.py --quick    # one seed, smaller caps: a smoke run

Data: scikit-learn's breast cancer table (569 x 30), an 80/20 stratified split (seed 0); all
searches see only the training part, with the same 5 stratified folds and ``accuracy`` as in
the chapter. Two spaces: the chapter's random-forest grid (3 x 4 x 3 = 36 configurations) and
a boosted-tree grid for XGBoost (3 x 3 x 2 = 18). ``GridSearchCV`` scores every configuration;
its best CV score minus 0.002 is the target. Each searcher runs until it reaches the target
(at most as many evaluations as the grid has), over 3 seeds, with the method order rotated per
seed:

* ``RandomizedSearchCV``: the smallest ``n_iter`` whose sample (same ``random_state``) contains
  a configuration at the target, timed for real (an oracle choice of ``n_iter``, in its favour);
* ``HalvingGridSearchCV``: deterministic here (it subsamples rows, not at random), so timed
  ``--grid-repeats`` times like ``GridSearchCV``; "reached" if the configuration it picks has a
  full-CV score at the target;
* skopt ``gp_minimize`` and raw Optuna TPE (library defaults), stopped by a callback;
* modelworks ``tune(strategy="tpe" | "bayes")`` with its default median pruning and
  ``target=``; its time includes the refit of the best model (the others are not refitted).

Time is reported as wall seconds and as CPU seconds of this process (everything runs in one
thread here); the machine is shared, so the ratios use CPU seconds, which other users' load
barely moves. Quality sits next to speed: evaluations used, whether the target was reached,
and the held-out accuracy of the configuration each method picked (refitted on the training
part, untimed).

Two micro benchmarks follow: the optimiser's own overhead per call (GP: skopt vs Optuna's
GPSampler vs modelworks bayes; TPE: Optuna vs modelworks tpe) on a free objective, and the
study storage (journal file vs SQLite) that decided modelworks' default.
"""

from __future__ import annotations

import argparse
import os

for _k, _v in {
    "OMP_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "passive",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MODELWORKS_PROGRESS": "0",
    "MPLBACKEND": "Agg",
}.items():
    os.environ.setdefault(_k, _v)

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

warnings.filterwarnings("ignore")

RESULTS = Path(__file__).resolve().parent / "results" / "tuning.json"
STARTUP = 10  # random start-up calls in the overhead benchmark, for every optimiser
PARTS = ("cases", "overhead", "storage")
TOL = 0.002

CASES = {
    "rf-chapter-grid": {
        "grid": {
            "n_estimators": [50, 100, 200],
            "max_depth": [3, 5, 7, None],
            "min_samples_split": [2, 5, 10],
        },
        "model": lambda: _rf(),
    },
    "xgb-boosted-grid": {
        "grid": {
            "n_estimators": [50, 100, 200],
            "learning_rate": [0.03, 0.1, 0.3],
            "max_depth": [2, 4],
        },
        "model": lambda: _xgb(),
    },
}


def _rf():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=0, n_jobs=1)


def _xgb():
    from xgboost import XGBClassifier

    return XGBClassifier(random_state=0, n_jobs=1, tree_method="hist", verbosity=0)


class Clock:
    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _key(params: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _held_out(make, params, data) -> float:
    from sklearn.metrics import accuracy_score

    X_tr, X_te, y_tr, y_te = data
    return float(accuracy_score(y_te, make().set_params(**params).fit(X_tr, y_tr).predict(X_te)))


# ----------------------------------------------------------------------------- searchers


def run_grid(case, data, folds, seed):
    from sklearn.model_selection import GridSearchCV

    X_tr, _, y_tr, _ = data
    clock = Clock()
    gs = GridSearchCV(case["model"](), case["grid"], cv=folds, scoring="accuracy", refit=False).fit(
        X_tr, y_tr
    )
    wall, cpu = clock.read()
    scores = {
        _key(p): s for p, s in zip(gs.cv_results_["params"], gs.cv_results_["mean_test_score"])
    }
    return {
        "wall": wall,
        "cpu": cpu,
        "evals": len(scores),
        "best_params": gs.best_params_,
        "best_score": float(gs.best_score_),
        "reached": True,
    }, scores


def run_halving(case, data, folds, seed, target, table):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X_tr, _, y_tr, _ = data
    clock = Clock()
    hs = HalvingGridSearchCV(
        case["model"](),
        case["grid"],
        cv=folds,
        scoring="accuracy",
        refit=False,
        random_state=seed,
        factor=3,
    ).fit(X_tr, y_tr)
    wall, cpu = clock.read()
    full = table[_key(hs.best_params_)]
    return {
        "wall": wall,
        "cpu": cpu,
        "evals": int(sum(hs.n_candidates_)),
        "best_params": hs.best_params_,
        "best_score": float(full),
        "reached": full >= target,
    }


def run_random(case, data, folds, seed, target, table):
    from sklearn.model_selection import ParameterSampler, RandomizedSearchCV

    X_tr, _, y_tr, _ = data
    size = len(table)
    n_iter = next(
        (
            k
            for k in range(1, size + 1)
            if any(
                table[_key(p)] >= target
                for p in ParameterSampler(case["grid"], k, random_state=seed)
            )
        ),
        size,
    )
    clock = Clock()
    rs = RandomizedSearchCV(
        case["model"](),
        case["grid"],
        n_iter=n_iter,
        cv=folds,
        scoring="accuracy",
        refit=False,
        random_state=seed,
    ).fit(X_tr, y_tr)
    wall, cpu = clock.read()
    return {
        "wall": wall,
        "cpu": cpu,
        "evals": n_iter,
        "best_params": rs.best_params_,
        "best_score": float(rs.best_score_),
        "reached": rs.best_score_ >= target,
    }


def _cv_accuracy(case, params, data, folds) -> float:
    from sklearn.model_selection import cross_val_score

    X_tr, _, y_tr, _ = data
    return float(
        cross_val_score(
            case["model"]().set_params(**params), X_tr, y_tr, cv=folds, scoring="accuracy"
        ).mean()
    )


def run_skopt(case, data, folds, seed, target, table):
    from skopt import gp_minimize
    from skopt.space import Categorical

    names = list(case["grid"])
    # skopt's categories cannot hold None: spell it as text and map it back
    dims = [
        Categorical(["None" if v is None else v for v in case["grid"][n]], name=n) for n in names
    ]

    def params_of(x):
        return {n: (None if v == "None" else v) for n, v in zip(names, x)}

    def objective(x):
        return -_cv_accuracy(case, params_of(x), data, folds)

    clock = Clock()
    res = gp_minimize(
        objective,
        dims,
        n_calls=len(table),
        random_state=seed,
        callback=[lambda r: -r.fun >= target],
    )
    wall, cpu = clock.read()
    return {
        "wall": wall,
        "cpu": cpu,
        "evals": len(res.func_vals),
        "best_params": params_of(res.x),
        "best_score": float(-res.fun),
        "reached": -res.fun >= target,
    }


def run_optuna_tpe(case, data, folds, seed, target, table):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        params = {n: trial.suggest_categorical(n, v) for n, v in case["grid"].items()}
        return _cv_accuracy(case, params, data, folds)

    def stop(study, trial):
        if trial.value is not None and trial.value >= target:
            study.stop()

    clock = Clock()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=len(table), callbacks=[stop])
    wall, cpu = clock.read()
    return {
        "wall": wall,
        "cpu": cpu,
        "evals": len(study.trials),
        "best_params": study.best_params,
        "best_score": float(study.best_value),
        "reached": study.best_value >= target,
    }


def _run_modelworks(strategy):
    def run(case, data, folds, seed, target, table):
        from modelworks.tuning import tune

        X_tr, _, y_tr, _ = data
        with tempfile.TemporaryDirectory() as tmp:
            clock = Clock()
            r = tune(
                case["model"](),
                X_tr,
                y_tr,
                strategy=strategy,
                space=case["grid"],
                cv=folds,
                scoring="accuracy",
                trials=len(table),
                target=target,
                seed=seed,
                out_dir=tmp,
            )
            wall, cpu = clock.read()
        return {
            "wall": wall,
            "cpu": cpu,
            "evals": len(r.trials),
            "pruned": r.n_trials_pruned,
            "best_params": r.best_params,
            "best_score": r.best_score,
            "reached": r.best_score >= target,
        }

    return run


SEARCHERS = {
    "RandomizedSearchCV": run_random,
    "HalvingGridSearchCV": run_halving,
    "skopt gp_minimize": run_skopt,
    "optuna TPE (raw)": run_optuna_tpe,
    "modelworks tpe": _run_modelworks("tpe"),
    "modelworks bayes": _run_modelworks("bayes"),
}


def bench_case(name, case, seeds, data, grid_repeats):
    from sklearn.model_selection import StratifiedKFold

    X_tr, _, y_tr, _ = data
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X_tr, y_tr))
    rows = {m: [] for m in ["GridSearchCV", *SEARCHERS]}
    for i, seed in enumerate(seeds):
        if i < grid_repeats:  # the same work at every seed (fixed folds): timed grid_repeats times
            g, table = run_grid(case, data, folds, seed)
            target = max(table.values()) - TOL
            g["held_out"] = _held_out(case["model"], g["best_params"], data)
            rows["GridSearchCV"].append(g)
            print(
                f"  [{name} seed {seed}] {'GridSearchCV':<20} cpu {g['cpu']:6.1f} s  wall {g['wall']:6.1f} s  "
                f"evals {g['evals']:3d}  cv {g['best_score']:.4f}",
                flush=True,
            )
        order = [m for m in SEARCHERS if m != "HalvingGridSearchCV" or i < grid_repeats]
        order = (
            order[i % len(order) :] + order[: i % len(order)]
        )  # rotate: no method always goes first
        for method in order:
            r = SEARCHERS[method](case, data, folds, seed, target, table)
            r["held_out"] = _held_out(case["model"], r["best_params"], data)
            rows[method].append(r)
            print(
                f"  [{name} seed {seed}] {method:<20} cpu {r['cpu']:6.1f} s  wall {r['wall']:6.1f} s  "
                f"evals {r['evals']:3d}  cv {r['best_score']:.4f}  {'reached' if r['reached'] else 'NOT reached'}",
                flush=True,
            )
    return summarize(rows, len(table), max(table.values()))


def summarize(rows, grid_size, grid_best):
    grid_cpu = statistics.median(r["cpu"] for r in rows["GridSearchCV"])
    grid_wall = statistics.median(r["wall"] for r in rows["GridSearchCV"])
    grid_held = statistics.median(r["held_out"] for r in rows["GridSearchCV"])
    out = {
        "grid_size": grid_size,
        "grid_best_cv": grid_best,
        "target_cv": grid_best - TOL,
        "methods": {},
    }
    for method, runs in rows.items():
        cpu = statistics.median(r["cpu"] for r in runs)
        wall = statistics.median(r["wall"] for r in runs)
        out["methods"][method] = {
            "median_cpu_s": cpu,
            "median_wall_s": wall,
            "cpu_ratio_vs_grid": cpu / grid_cpu,
            "wall_ratio_vs_grid": wall / grid_wall,
            "reached": f"{sum(bool(r['reached']) for r in runs)}/{len(runs)}",
            "median_evals": statistics.median(r["evals"] for r in runs),
            "median_pruned": statistics.median(r.get("pruned", 0) for r in runs),
            "median_best_cv": statistics.median(r["best_score"] for r in runs),
            "median_held_out_acc": statistics.median(r["held_out"] for r in runs),
            "held_out_minus_grid": statistics.median(r["held_out"] for r in runs) - grid_held,
            "runs": [
                {
                    k: (v if k != "best_params" else {p: repr(x) for p, x in v.items()})
                    for k, v in r.items()
                }
                for r in runs
            ],
        }
    m = out["methods"]
    out["modelworks_tpe_vs_raw_optuna_tpe_cpu"] = (
        m["modelworks tpe"]["median_cpu_s"] / m["optuna TPE (raw)"]["median_cpu_s"]
    )
    return out


def print_case(name, s):
    print(
        f"\n{name}: {s['grid_size']} configs x 5 folds, grid best CV accuracy {s['grid_best_cv']:.4f}, "
        f"target {s['target_cv']:.4f}"
    )
    print(
        f"{'method':<22}{'cpu s':>8}{'wall s':>8}{'cpu/grid':>10}{'wall/grid':>10}{'reached':>9}"
        f"{'evals':>7}{'pruned':>7}{'best cv':>9}{'held-out':>10}{'vs grid':>9}"
    )
    for method, r in s["methods"].items():
        print(
            f"{method:<22}{r['median_cpu_s']:8.1f}{r['median_wall_s']:8.1f}{r['cpu_ratio_vs_grid']:10.2f}"
            f"{r['wall_ratio_vs_grid']:10.2f}{r['reached']:>9}{r['median_evals']:7.0f}{r['median_pruned']:7.0f}"
            f"{r['median_best_cv']:9.4f}{r['median_held_out_acc']:10.4f}{r['held_out_minus_grid']:+9.4f}"
        )
    print(f"modelworks tpe / raw Optuna TPE (cpu): {s['modelworks_tpe_vs_raw_optuna_tpe_cpu']:.2f}")


# ----------------------------------------------------------------------------- optimiser overhead


def _free_score(n_estimators, learning_rate, max_depth) -> float:
    return -(
        ((n_estimators - 200) / 100) ** 2
        + (np.log10(learning_rate) + 1) ** 2
        + ((max_depth - 6) / 3) ** 2
    )


def _free_estimator():
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Free(ClassifierMixin, BaseEstimator):
        """Fits in no time; its score is a smooth function of its parameters."""

        def __init__(self, n_estimators=100, learning_rate=0.1, max_depth=5):
            self.n_estimators = n_estimators
            self.learning_rate = learning_rate
            self.max_depth = max_depth

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    return Free()


def overhead(n_calls, repeats):
    import optuna
    from skopt import gp_minimize
    from skopt.space import Integer, Real

    from modelworks.tuning import Integer as MInteger
    from modelworks.tuning import Real as MReal
    from modelworks.tuning import tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dims = [
        Integer(50, 300, name="n_estimators"),
        Real(0.01, 0.3, prior="log-uniform", name="learning_rate"),
        Integer(3, 10, name="max_depth"),
    ]
    X = np.zeros((20, 2))
    y = np.arange(20) % 2

    from modelworks.tuning import _samplers

    # the same number of random start-up calls everywhere (skopt's and Optuna's default, 10), so
    # each optimiser fits its model on the same number of calls
    _samplers.N_STARTUP = STARTUP

    def skopt_gp(seed):
        gp_minimize(
            lambda x: -_free_score(*x),
            dims,
            n_calls=n_calls,
            n_initial_points=STARTUP,
            random_state=seed,
        )

    def optuna_objective(trial):
        return _free_score(
            trial.suggest_int("n_estimators", 50, 300),
            trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            trial.suggest_int("max_depth", 3, 10),
        )

    def optuna_gp(seed):
        optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.GPSampler(seed=seed, n_startup_trials=STARTUP),
        ).optimize(optuna_objective, n_trials=n_calls)

    def optuna_tpe(seed):
        optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP),
        ).optimize(optuna_objective, n_trials=n_calls)

    def modelworks(strategy, stored=True):
        def run(seed):
            with tempfile.TemporaryDirectory() as tmp:
                tune(
                    _free_estimator(),
                    X,
                    y,
                    strategy=strategy,
                    cv=2,
                    trials=n_calls,
                    seed=seed,
                    out_dir=tmp if stored else None,
                    pruning=False,
                    scoring=lambda est, X_, y_: _free_score(
                        est.n_estimators, est.learning_rate, est.max_depth
                    ),
                    space={
                        "n_estimators": MInteger(50, 300),
                        "learning_rate": MReal(0.01, 0.3, "log-uniform"),
                        "max_depth": MInteger(3, 10),
                    },
                )

        return run

    runners = {
        "skopt gp_minimize": skopt_gp,
        "optuna GPSampler (raw)": optuna_gp,
        "modelworks bayes": modelworks("bayes"),
        "optuna TPE (raw)": optuna_tpe,
        "modelworks tpe": modelworks("tpe"),
        "modelworks tpe (in memory)": modelworks("tpe", stored=False),
    }
    times = {k: [] for k in runners}
    for rep in range(repeats):
        order = list(runners)[rep % len(runners) :] + list(runners)[: rep % len(runners)]
        for name in order:
            clock = Clock()
            runners[name](rep)
            wall, cpu = clock.read()
            times[name].append({"wall": wall, "cpu": cpu})
    out = {
        name: {
            "ms_per_call_cpu": 1000 * statistics.median(t["cpu"] for t in ts) / n_calls,
            "ms_per_call_wall": 1000 * statistics.median(t["wall"] for t in ts) / n_calls,
        }
        for name, ts in times.items()
    }
    out["ratios_cpu"] = {
        "modelworks bayes / skopt": out["modelworks bayes"]["ms_per_call_cpu"]
        / out["skopt gp_minimize"]["ms_per_call_cpu"],
        "optuna GP / skopt": out["optuna GPSampler (raw)"]["ms_per_call_cpu"]
        / out["skopt gp_minimize"]["ms_per_call_cpu"],
        "modelworks tpe / optuna TPE": out["modelworks tpe"]["ms_per_call_cpu"]
        / out["optuna TPE (raw)"]["ms_per_call_cpu"],
        "modelworks tpe in memory / optuna TPE": out["modelworks tpe (in memory)"][
            "ms_per_call_cpu"
        ]
        / out["optuna TPE (raw)"]["ms_per_call_cpu"],
    }
    out["n_calls"] = n_calls
    out["startup_calls"] = STARTUP
    out["note"] = (
        "free objective; modelworks includes 2-fold CV bookkeeping and result building, and "
        "(unless 'in memory') the journal file store with its fsync per write; the others are in memory. "
        "Raw Optuna's GP and TPE use Optuna's defaults (10 startup trials, modelworks 5), so the "
        "share of modelled calls differs"
    )
    return out


# ----------------------------------------------------------------------------- storage


def _storage_worker(kind, path, n):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from modelworks.tuning._storage import open_storage

    study = optuna.load_study(
        study_name="s",
        storage=open_storage(path),
        sampler=optuna.samplers.RandomSampler(seed=os.getpid()),
    )
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n, catch=(Exception,))


def storage(n_single=100, workers=4, per_worker=25):
    import multiprocessing as mp

    import optuna

    from modelworks.tuning._storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    for kind in ("journal", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            path = f"sqlite:///{tmp}/s.db" if kind == "sqlite" else f"{tmp}/s.journal"
            study = optuna.create_study(study_name="s", storage=open_storage(path))
            clock = Clock()
            study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n_single)
            single = clock.read()[0] / n_single
            ctx = mp.get_context("spawn")
            procs = [
                ctx.Process(target=_storage_worker, args=(kind, path, per_worker))
                for _ in range(workers)
            ]
            clock = Clock()
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            par = clock.read()[0]
            trials = optuna.load_study(study_name="s", storage=open_storage(path)).trials
            states = {}
            for t in trials[n_single:]:
                states[t.state.name] = states.get(t.state.name, 0) + 1
            out[kind] = {
                "ms_per_trial_single_process": 1000 * single,
                f"{workers}x{per_worker}_wall_s_incl_process_start": par,
                "parallel_trial_states": states,
            }
    return out


# ----------------------------------------------------------------------------- main


def main() -> None:
    import optuna
    import sklearn
    import skopt
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--grid-repeats",
        type=int,
        default=3,
        help="times GridSearchCV and HalvingGridSearchCV (deterministic here) are timed",
    )
    ap.add_argument(
        "--quick", action="store_true", help="one seed, the boosted case only, fewer calls"
    )
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which parts to run; a subset updates those parts of an existing --out file",
    )
    args = ap.parse_args()
    seeds = [0] if args.quick else list(range(args.seeds))
    cases = ["xgb-boosted-grid"] if args.quick else args.cases.split(",")

    X, y = load_breast_cancer(return_X_y=True)
    data = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        f"breast_cancer {X.shape[0]}x{X.shape[1]}, train {len(data[0])}, test {len(data[1])}; seeds {seeds}; "
        f"load average at start {load}"
    )
    started = time.perf_counter()
    result = {
        "grid_repeats": min(args.grid_repeats, len(seeds)),
        "dataset": "sklearn breast_cancer 569x30, 80/20 stratified split (seed 0), 5-fold stratified CV, accuracy",
        "tolerance": TOL,
        "seeds": seeds,
        "load_average_start": load,
        "versions": {
            "python": platform.python_version(),
            "sklearn": sklearn.__version__,
            "optuna": optuna.__version__,
            "skopt": skopt.__version__,
        },
        "cases": {},
    }
    parts = args.parts.split(",")
    partial = set(parts) != set(PARTS) and Path(args.out).exists()
    if partial:  # keep the other parts (and their run's load figures) from the file
        result = json.loads(Path(args.out).read_text())
        result["updated_parts"] = parts
    for name in cases if "cases" in parts else []:
        result["cases"][name] = bench_case(
            name, CASES[name], seeds, data, min(args.grid_repeats, len(seeds))
        )
        print_case(name, result["cases"][name])
    n_calls, reps = (20, 1) if args.quick else (30, 3)
    if "overhead" in parts:
        result["overhead_per_call"] = overhead(n_calls, reps)
    print(f"\noptimiser overhead per call ({n_calls} calls, free objective, median of {reps}):")
    for name, r in result["overhead_per_call"].items():
        if isinstance(r, dict) and "ms_per_call_cpu" in r:
            print(
                f"  {name:<24} {r['ms_per_call_cpu']:8.1f} ms cpu  {r['ms_per_call_wall']:8.1f} ms wall"
            )
    for name, v in result["overhead_per_call"]["ratios_cpu"].items():
        print(f"  {name:<30} {v:.2f}")
    if "storage" in parts:
        result["storage"] = storage()
    print("\nstudy storage (trivial objective):")
    for kind, r in result["storage"].items():
        print(
            f"  {kind:<8} "
            + "  ".join(
                f"{k}={v if not isinstance(v, float) else round(v, 2)}" for k, v in r.items()
            )
        )
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["update_wall_s" if partial else "total_wall_s"] = time.perf_counter() - started
    if not partial:
        result["load_average_end"] = end_load
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average at end {end_load}")
    from modelworks._io import write_json

    write_json(args.out, result)
    print(f"wrote {args.out}")
    print(
        json.dumps(
            {
                n: {m: round(v["cpu_ratio_vs_grid"], 2) for m, v in c["methods"].items()}
                for n, c in result["cases"].items()
            }
        )
    )


if __name__ == "__main__":
    main()
