"""The monitoring step of ``modelworks run`` on a real context, report and models."""

import json

import numpy as np
import pandas as pd
import pytest

from modelworks._context import RunContext
from modelworks.monitor._workflow import shifted_copy, step
from modelworks.report import Report


def _context(tmp_path, frame, target, task, models, seed=0):
    from modelworks.data import make_pipeline, train_test_split
    from modelworks.models import get_model

    X, y = frame.drop(columns=[target]), frame[target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, task=task, test_size=0.3, seed=seed)
    ctx = RunContext(
        data=frame,
        target=target,
        task=task,
        out_dir=tmp_path,
        seed=seed,
        report=Report(tmp_path, "test run"),
    )
    ctx.X_train, ctx.X_test, ctx.y_train, ctx.y_test = X_train, X_test, y_train, y_test
    ctx.leaderboard = pd.DataFrame({"model": models, "score": [0.9, 0.8][: len(models)]})
    ctx.candidates = {m: make_pipeline(X_train, get_model(m, task, seed=0)) for m in models}
    return ctx


@pytest.fixture
def cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def test_step_shows_no_drift_between_splits_finds_the_planted_shift_and_compares_two_models(
    tmp_path, cancer
):
    ctx = _context(tmp_path, cancer, "target", "binary", ["logreg", "rf"])
    ctx.final_model = ctx.candidates["logreg"].fit(ctx.X_train, ctx.y_train)  # reused, not refitted
    ctx.final_name = "logreg"
    step(ctx)
    res = ctx.results["monitor"]
    json.dumps(res)  # JSON-able for result.json
    assert res["drift_train_vs_test"]["dataset_drift"] is False
    assert res["shift_detected"] == sorted(res["shifted_columns"]) and res["false_alarms"] == []
    assert len(res["shifted_columns"]) == 3
    assert res["abtest"]["test"].startswith("mcnemar")
    assert {res["abtest"]["model_a"], res["abtest"]["model_b"]} == {"logreg", "rf"}
    assert res["self_test"]["repeats"] > 0
    titles = [s.title for s in ctx.report.sections]
    assert titles == ["Monitoring"]
    html = ctx.report.write().read_text()
    assert "Training split vs held-out split (expect no drift)" in html
    assert "A/B test of the two best models" in html
    assert (tmp_path / "plots" / "drift-shifted-distributions.png").exists()


def test_step_on_regression_with_a_categorical_column_uses_the_bootstrap(tmp_path):
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame["sex"] = np.where(frame["sex"] > 0, "m", "f")
    ctx = _context(tmp_path, frame, "target", "regression", ["ridge", "lasso"])
    ctx.time_budget = 1e6
    step(ctx)
    res = ctx.results["monitor"]
    assert res["abtest"]["test"] == "paired bootstrap" and res["abtest"]["metric"] == "rmse"
    assert "sex" in res["shifted_columns"]


def test_step_skips_the_ab_test_with_one_model_and_no_time(tmp_path, cancer):
    ctx = _context(tmp_path, cancer.iloc[:200], "target", "binary", ["logreg"])
    ctx.time_budget = 0.0
    step(ctx)
    res = ctx.results["monitor"]
    assert res["abtest"] == {"skipped": "fewer than two models on the leaderboard"}
    assert "self_test" not in res  # no time left for it


def test_shifted_copy_moves_two_numeric_columns_by_half_an_sd(cancer):
    X = cancer.drop(columns=["target"])
    out, changes = shifted_copy(X, X)
    cols = list(changes)[:2]
    for c in cols:
        assert (out[c] - X[c]).mean() == pytest.approx(0.5 * X[c].std())
    assert out[list(changes)[2]].isna().mean() == pytest.approx(0.3, abs=0.06)
