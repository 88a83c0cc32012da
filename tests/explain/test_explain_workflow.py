"""The explain step of ``modelworks run``: section, plots and results from a RunContext."""

from __future__ import annotations

import time
from pathlib import Path

from explain_testkit import pipe

from modelworks._context import RunContext
from modelworks.explain._workflow import step
from modelworks.report import Report


def _ctx(X, y, model, tmp_path, **kw):
    from modelworks.data import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", seed=0)
    return RunContext(data=X.assign(label=y), target="label", task="binary", out_dir=tmp_path,
                      X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                      final_model=model, final_name="blend", report=Report(tmp_path), **kw)


def test_step_explains_the_final_blend_and_adds_a_report_section(cancer, tmp_path):
    from modelworks.ensemble import BlendClassifier

    X, y = cancer
    members = [pipe(X, y, "rf", "binary"), pipe(X, y, "lightgbm", "binary")]
    model = BlendClassifier.from_fitted(["rf", "lightgbm"], members, [0.6, 0.4])
    ctx = _ctx(X, y, model, tmp_path, time_budget=600)
    step(ctx)
    res = ctx.results["explain"]
    assert res["explainer"] == "ensemble-linear"
    assert res["rows"] == len(ctx.X_test)
    assert [i["features"] for i in res["partial_dependence"]["items"]][2] == [
        t["feature"] for t in res["top_features"][:2]]
    for path in [*res["plots"].values(), *res["partial_dependence"]["plots"].values()]:
        assert Path(path).parent == ctx.report.plots_dir and Path(path).stat().st_size > 5000
    html = ctx.report.render()
    assert "Explanations" in html and "Top features" in html and "explain-shap-beeswarm.png" in html
    assert "explain-pdp-" in html


def test_step_skips_when_the_budget_is_spent(cancer, tmp_path):
    X, y = cancer
    ctx = _ctx(X, y, pipe(X, y, "rf", "binary"), tmp_path, time_budget=1.0, started=time.monotonic() - 5)
    step(ctx)
    assert ctx.results["explain"] == {"skipped": "time budget spent"}


def test_exact_parts_decide_whether_a_budgeted_run_explains(cancer, wine, tmp_path):
    from modelworks.ensemble import BlendClassifier
    from modelworks.explain._exactness import agnostic_parts
    from modelworks.workflow import _no_time_for

    X, y = cancer
    trees = BlendClassifier.from_fitted(["rf", "lightgbm"], [pipe(X, y, "rf", "binary"),
                                                             pipe(X, y, "lightgbm", "binary")], [0.6, 0.4])
    with_knn = BlendClassifier.from_fitted(["rf", "knn"], [pipe(X, y, "rf", "binary"),
                                                           pipe(X, y, "knn", "binary")], [0.5, 0.5])
    assert agnostic_parts(trees, X) == []  # TreeSHAP on both members, combined by linearity
    assert agnostic_parts(with_knn, X) == ["knn (KNeighborsClassifier)"]
    assert agnostic_parts(pipe(X, y, "hgb", "binary"), X) == []
    Xw, yw = wine  # 3 classes: shap reads no multiclass HistGradientBoosting; our tree reader does
    assert agnostic_parts(pipe(Xw, yw, "hgb", "multiclass"), Xw) == []
    assert agnostic_parts(pipe(Xw, yw, "knn", "multiclass"), Xw) == ["KNeighborsClassifier"]

    # inside a budget, the run explains the all-tree blend and skips the one with a neighbour model
    ctx = _ctx(X, y, trees, tmp_path, time_budget=600)
    assert _no_time_for("explain", ctx, None) is None
    ctx = _ctx(X, y, with_knn, tmp_path, time_budget=40)
    why = _no_time_for("explain", ctx, None)
    assert why.startswith("skipped: knn (KNeighborsClassifier) in blend has no exact explainer")
    # ... unless a wide margin is left: then the previewed, shrinkable model-agnostic path runs
    assert _no_time_for("explain", _ctx(X, y, with_knn, tmp_path, time_budget=600), None) is None


def test_a_multiclass_hist_gradient_boosting_model_gets_exact_interventional_values(wine):
    import numpy as np

    from modelworks.explain import explain
    from modelworks.explain._trees import checked

    X, y = wine
    X = X.copy()
    X.iloc[::7, 1] = np.nan  # missing values take the learned default branch
    model = pipe(X, y, "hgb", "multiclass")
    final = model[-1]
    Z = model[:-1].transform(X)
    assert checked(final, np.asarray(Z, dtype=float), "predict_proba") is not None  # parity with sklearn
    ex = explain(model, X.iloc[:30], background=X.iloc[30:80])
    assert ex.explainer_name == "tree"
    # exact: per class, base + sum of values = the model's log-odds (decision_function) on every row
    raw = final.decision_function(Z.iloc[:30] if hasattr(Z, "iloc") else Z[:30])
    assert np.allclose(ex.values.sum(axis=1) + np.asarray(ex.shap.base_values), raw, atol=1e-6)


def test_the_search_pipeline_with_a_date_column_has_an_exact_explainer(cancer):
    """The search's tree prep turns a date column into parts with a bare DatetimeFeatures: its parts
    must map back to the date column, or the run would call a plain booster unexplainable."""
    import pandas as pd

    from modelworks.data import feature_sources
    from modelworks.explain._exactness import agnostic_parts
    from modelworks.search._prep import build_pipeline

    X, y = cancer
    X = X.iloc[:, :5].copy()
    X["seen"] = pd.Timestamp("2024-01-01") + pd.to_timedelta((X.iloc[:, 0] * 40).astype(int), unit="h")
    model = build_pipeline(X, "lightgbm", "tree", {"n_estimators": 20}, "binary", 0).fit(X, y)
    sources = feature_sources(model[:-1])
    assert {c for c, src in sources.items() if src == "seen"} >= {"seen_year", "seen_month", "seen_hour"}
    assert agnostic_parts(model, X) == []
