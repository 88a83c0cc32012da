"""The main job end to end: compare, run, report, result.json, and the CLI around them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelworks
from modelworks.cli import main

ROOT = Path(__file__).resolve().parents[2]
MODELWORKS = str(Path(sys.executable).with_name("modelworks"))
CORE_ONLY = {"tune": False, "ensemble": False, "explain": False, "package": False, "monitor": False}


def mixed_frame(n=240, seed=0):
    """Numeric, categorical, datetime and missing values, with a learnable binary target."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n)
    plan = rng.choice(["basic", "pro", "team"], n)
    signup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    logit = 0.08 * (age - 40) + np.where(plan == "pro", 1.5, 0) + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({"age": age.round(1), "plan": plan, "signup": signup.strftime("%Y-%m-%d"),
                          "visits": rng.poisson(3, n), "churn": np.where(logit > 0, "yes", "no")})
    frame.loc[::17, "age"] = np.nan
    frame.loc[::23, "plan"] = None
    return frame


def test_compare_ranks_models_with_mean_and_std():
    comparison = modelworks.rank_models(mixed_frame(), "churn", models=["logreg", "rf", "knn"], cv=3)
    board = comparison.leaderboard
    assert list(board.columns[:1]) == ["model"]
    assert set(board["model"]) == {"logreg", "rf", "knn"}
    assert {"roc_auc_mean", "roc_auc_std", "accuracy_mean", "fit_time_s"} <= set(board.columns)
    assert board["roc_auc_mean"].is_monotonic_decreasing
    assert board["roc_auc_mean"].iloc[0] > 0.8  # the signal is learnable
    assert comparison.oof["rf"].shape == (240, 2)


def test_run_writes_report_and_result(tmp_path):
    result = modelworks.run(mixed_frame(), "churn", out_dir=tmp_path, models=["logreg", "rf"], cv=3,
                            steps=CORE_ONLY)
    assert result.report_path.exists() and result.result_path.exists()
    doc = json.loads(result.result_path.read_text())
    assert doc["task"] == "binary" and doc["model"] in {"logreg", "rf"}
    assert 0.5 < doc["test_scores"]["roc_auc"] <= 1
    html = result.report_path.read_text()
    for title in ("Data", "Model search", "Held-out evaluation", "Time budget"):
        assert f"<h2>{title}</h2>" in html
    for png in ("leaderboard.png", "confusion_matrix.png", "roc.png"):
        assert (tmp_path / "plots" / png).stat().st_size > 1000
    # the fitted pipeline keeps column names to the end and predicts from raw columns
    X = mixed_frame().drop(columns="churn")
    X["signup"] = pd.to_datetime(X["signup"])
    names = result.model[:-1].get_feature_names_out()
    assert "age" in names and any(n.startswith("plan_") for n in names) and "signup_month" in names
    assert set(result.model.predict(X.head(5))) <= {"yes", "no"}


def test_every_input_column_reaches_scale_sensitive_models_on_a_common_scale():
    """Date parts (day of year up to 366) scaled like numbers, or they swamp kernels and neighbours."""
    import numpy as np

    from modelworks.data import build_preprocessor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(40, 12, 500), "visits": rng.poisson(4, 500),
                      "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, 500), "D")})
    Z = build_preprocessor(X).fit_transform(X)
    spread = Z.std(axis=0)
    assert ((spread < 1.0001) & ((spread > 0.9999) | (spread == 0))).all(), spread  # constant parts: 0
    assert Z.shape[1] >= 5  # age, visits and the date's parts
    raw = build_preprocessor(X, scale=False).fit_transform(X)
    assert raw.std(axis=0).max() > 50  # unscaled on request (trees do not care)


def test_svm_and_knn_regressors_fit_a_large_scale_target_with_dates():
    """The zoo's svm standardises the target (SVR's C and epsilon are in its units)."""
    import numpy as np

    rng = np.random.default_rng(1)
    n = 600
    frame = pd.DataFrame({"x": rng.normal(size=n), "plan": rng.choice(["a", "b"], n),
                          "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")})
    frame["spend"] = 1000 + 300 * frame["x"] + 200 * (frame["plan"] == "b") + rng.normal(0, 50, n)
    board = modelworks.rank_models(frame, "spend", models=["svm", "knn", "ridge"], cv=3).leaderboard
    r2 = dict(zip(board["model"], board["r2_mean"]))
    assert r2["ridge"] > 0.9 and r2["svm"] > 0.8 and r2["knn"] > 0.6, r2


def test_run_packages_the_final_model_refit_on_all_rows(tmp_path):
    from modelworks.package import load, read_manifest

    frame = mixed_frame()
    steps = {**CORE_ONLY, "package": True}
    result = modelworks.run(frame, "churn", out_dir=tmp_path / "all", models=["logreg", "rf"], cv=3,
                            steps=steps)
    refit = result.results["refit"]
    assert refit["rows"] == len(frame) and refit["training_rows"] == len(frame) - len(frame) // 5
    path = result.results["package"]["path"]
    assert read_manifest(path)["metadata"]["fitted_rows"] == len(frame)
    X = frame.drop(columns="churn")
    X["signup"] = pd.to_datetime(X["signup"])
    np.testing.assert_allclose(load(path).predict_proba(X), result.model.predict_proba(X))
    assert "Refit on all rows" in result.report_path.read_text()

    off = modelworks.run(frame, "churn", out_dir=tmp_path / "train", models=["logreg", "rf"], cv=3,
                         steps={**steps, "refit": False})
    assert "refit" not in off.results
    assert read_manifest(off.results["package"]["path"])["metadata"]["fitted_rows"] == refit["training_rows"]
    assert off.test_scores == result.test_scores  # the held-out scores come from the same training-split model
    assert not np.allclose(off.model.predict_proba(X), result.model.predict_proba(X))


def test_run_regression_with_residual_plots(tmp_path):
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    result = modelworks.run(frame, "target", out_dir=tmp_path, models=["ridge", "hgb"], cv=3, steps=CORE_ONLY)
    assert result.task == "regression"
    assert result.test_scores["r2"] > 0.2
    assert (tmp_path / "plots" / "residuals.png").exists()


def test_run_multiclass(tmp_path):
    from sklearn.datasets import load_wine

    result = modelworks.run(load_wine(as_frame=True).frame, "target", out_dir=tmp_path,
                            models=["logreg", "xgboost"], cv=3, steps=CORE_ONLY)
    assert result.task == "multiclass"
    assert result.test_scores["accuracy"] > 0.85


def test_time_budget_skips_models_but_keeps_two(tmp_path):
    result = modelworks.run(mixed_frame(), "churn", out_dir=tmp_path, time_budget=0.01, cv=3,
                            models=["logreg", "knn", "rf", "extratrees"], steps=CORE_ONLY)
    skipped = result.results["compare"]["skipped"]
    assert len(result.leaderboard) >= 2
    assert skipped and all(why.startswith("time budget") for why in skipped.values())


def test_cli_compare_json(tmp_path, capsys):
    path = tmp_path / "data.csv"
    mixed_frame().to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "churn", "--models", "logreg,knn", "--cv", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["leaderboard"]] and doc["metric"] == "roc_auc"


def test_cli_run_in_a_subprocess(tmp_path):
    path = tmp_path / "data.parquet"
    mixed_frame().to_parquet(path)
    out = tmp_path / "out"
    proc = subprocess.run([MODELWORKS, "run", str(path), "--target", "churn", "--models", "logreg,rf",
                           "--cv", "3", "--out", str(out), "--skip", "tune,ensemble,explain,package,monitor"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "report:" in proc.stdout and (out / "report.html").exists()


def test_cli_user_error_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([MODELWORKS, "run", str(tmp_path / "missing.csv"), "--target", "y"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_every_command_has_help():
    from modelworks.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"demo", "run", "compare", "doctor"} <= set(sub.choices)
    for name in sub.choices:
        proc = subprocess.run([MODELWORKS, name, "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "usage:" in proc.stdout, name


def test_help_is_fast_and_light():
    code = ("import sys, time; t=time.perf_counter(); from modelworks.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('torch','keras','shap','mlflow','prophet','featuretools','dask','optuna',"
            "'xgboost','lightgbm','statsmodels','pygam','matplotlib','sklearn') if m in sys.modules]\n"
            "print('HEAVY', heavy, time.perf_counter()-t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith("HEAVY [] "), line


def test_import_modelworks_is_light():
    code = ("import sys, modelworks\n"
            "print([m for m in ('torch','keras','shap','mlflow','prophet','featuretools','dask','optuna',"
            "'xgboost','lightgbm','statsmodels','pygam','matplotlib','sklearn','pandas') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_doctor_lists_every_area(capsys):
    assert main(["doctor", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    areas = {r["area"] for r in rows}
    assert {"tuning", "explain", "stats", "forecast", "deep", "registry", "serve", "features", "monitor"} <= areas
    assert all(r["ok"] for r in rows)  # the test environment has every extra


@pytest.mark.slow
def test_demo_runs_every_step_and_writes_the_report(tmp_path):
    proc = subprocess.run([MODELWORKS, "demo", "--out", str(tmp_path / "demo"), "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["task"] == "binary" and doc["test_scores"]["roc_auc"] > 0.95
    assert not doc["steps"].get("errors"), doc["steps"].get("errors")
    assert (tmp_path / "demo" / "report.html").exists()
