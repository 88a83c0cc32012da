"""CatBoost explained exactly by its own TreeSHAP: alone, in the search's pipeline with native
categoricals, in blends with lightgbm, in a budgeted run and from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from explain_testkit import pipe, small

pytest.importorskip("catboost")

from modelworks.explain import estimate_cost, explain_model  # noqa: E402
from modelworks.explain._exactness import agnostic_parts  # noqa: E402
from modelworks.search._prep import build_pipeline  # noqa: E402

ROUNDS = {"iterations": 40}


def table(n=240, seed=0, task="binary"):
    """Two numbers, a categorical with missing values that carries signal, one more number."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice([f"l{i}" for i in range(6)] + [None], n), "d": rng.normal(size=n)})
    signal = X["a"] + 0.5 * X["b"] * X["d"] + X["c"].isin(["l1", "l2"]) * 1.5
    if task == "regression":
        return X, pd.Series(signal + rng.normal(0, 0.2, n), name="y")
    if task == "multiclass":
        return X, pd.Series(np.array(["lo", "mid", "hi"])[np.digitize(signal, [0.0, 1.0])], name="y")
    return X, pd.Series(np.where(signal + rng.normal(0, 0.5, n) > 0.5, "yes", "no"), name="y")


def search_pipe(X, y, task, learner="catboost", **params):
    """The search's ``tree`` pipeline: ordinal codes, CatBoost (and LightGBM) told which columns
    are categorical."""
    rounds = ROUNDS if learner == "catboost" else {"n_estimators": 40}
    return build_pipeline(X, learner, "tree", {**rounds, **params}, task, 0).fit(X, y)


def cb(X, y, task, **params):
    """The zoo's CatBoost with few rounds behind modelworks' default preprocessing (numbers only)."""
    from modelworks.data import make_pipeline

    return make_pipeline(X, small("catboost", task, **{**ROUNDS, **params})).fit(X, y)


def shapley(f, rows: pd.DataFrame, background: pd.DataFrame) -> np.ndarray:
    """Interventional Shapley values by their definition, (rows, columns, outputs).

    ``v(S) = mean over background rows of f(row on S, background elsewhere)``, every coalition
    evaluated in one call of ``f`` per row (the columns may hold strings).
    """
    from itertools import combinations
    from math import factorial

    cols = list(rows.columns)
    M = len(cols)
    subsets = [S for r in range(M + 1) for S in combinations(range(M), r)]
    out = []
    for i in range(len(rows)):
        frames = []
        for S in subsets:
            frame = background.copy()
            for j in S:
                frame[cols[j]] = rows.iloc[i, j]
            frames.append(frame)
        pred = np.asarray(f(pd.concat(frames, ignore_index=True)), dtype=float).reshape(len(subsets), len(background), -1)
        v = dict(zip(subsets, pred.mean(axis=1)))
        phi = np.zeros((M, pred.shape[2]))
        for S in subsets:
            for j in set(range(M)) - set(S):
                w = factorial(len(S)) * factorial(M - len(S) - 1) / factorial(M)
                phi[j] += w * (v[tuple(sorted((*S, j)))] - v[S])
        out.append(phi)
    return np.stack(out)


def margin(model, X) -> np.ndarray:
    """The CatBoost model's own raw output (log-odds per class, or the prediction), (n, K)."""
    import catboost

    from modelworks.models._catboost import _input

    Z = model[:-1].transform(X)
    raw = catboost.CatBoost.predict(model[-1], _input(model[-1], Z), prediction_type="RawFormulaVal")
    return np.asarray(raw, dtype=float).reshape(len(X), -1)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_catboost_with_native_categoricals_is_explained_exactly_on_its_margin(task):
    X, y = table(task=task)
    model = search_pipe(X, y, task)
    assert model[-1].get_param("cat_features") == (3,)  # after the three numeric columns
    assert agnostic_parts(model, X) == []
    est = estimate_cost(model, X)
    assert est.explainer == "tree-path" and est.seconds is None  # cheap: no preview
    rows = X.iloc[:40]
    target = margin(model, rows)
    for background in (None, X.iloc[100:160]):  # path-dependent, then interventional
        ex = explain_model(model, rows, background=background)
        assert ex.explainer_name == "tree" and ex.feature_names == list(X.columns)
        assert ex.output.startswith("log-odds" if task != "regression" else "predicted value")
        total = ex.values.sum(axis=1) + np.asarray(ex.shap.base_values)
        np.testing.assert_allclose(total.reshape(len(rows), -1), target, atol=1e-6)
        # the categorical column is used by the model and gets its share of the output
        assert np.abs(ex.values[:, list(X.columns).index("c")]).mean() > 0.01
    if task == "multiclass":
        assert ex.values.shape == (40, 4, 3) and ex.outputs == sorted(set(y))
    if task == "regression":
        np.testing.assert_allclose(target[:, 0], model.predict(rows), atol=1e-9)


def test_catboosts_own_estimators_are_explained_too(diabetes):
    import catboost

    X, y = diabetes
    quiet = {"iterations": 20, "verbose": 0, "allow_writing_files": False, "thread_count": 1}
    reg = catboost.CatBoostRegressor(**quiet).fit(X, y)  # its classes_ is [] (not a classifier)
    ex = explain_model(reg, X.iloc[:10])
    assert ex.explainer_name == "tree" and ex.output == "predicted value" and ex.values.shape == (10, 5)
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.shap.base_values, reg.predict(X.iloc[:10]), atol=1e-6)
    clf = catboost.CatBoostClassifier(**quiet).fit(X, y > y.median())
    ex = explain_model(clf, X.iloc[:10], background=X.iloc[100:140])
    assert ex.output == "log-odds (margin) of class 'True'"
    raw = clf.predict(X.iloc[:10], prediction_type="RawFormulaVal")
    np.testing.assert_allclose(ex.values.sum(axis=1) + ex.shap.base_values, raw, atol=1e-6)


def test_interventional_values_of_a_catboost_regressor_are_the_exact_shapley_values(diabetes):
    X, y = diabetes
    model = cb(X, y, "regression")
    rows, bg = X.iloc[:6], X.iloc[::15]
    ex = explain_model(model, rows, background=bg)
    assert ex.explainer_name == "tree" and "interventional" in ex.reason
    np.testing.assert_allclose(ex.values, shapley(model.predict, rows, bg)[..., 0], atol=1e-8)


def test_regression_blend_of_lightgbm_and_catboost_equals_exact_shapley_values():
    from modelworks.ensemble import EnsembleSelectionRegressor

    X, y = table(task="regression")  # CatBoost with native categoricals
    members = [search_pipe(X, y, "regression", "lightgbm"), search_pipe(X, y, "regression")]
    blend = EnsembleSelectionRegressor.from_fitted(["lgbm", "cb"], members, [0.5, 0.5])
    assert agnostic_parts(blend, X) == []
    rows, bg = X.iloc[:6], X.iloc[::8]
    ex = explain_model(blend, rows, background=bg)
    assert [c["explainer"] for c in ex.components] == ["tree", "tree"]
    assert "exact, no sampling" in ex.reason
    np.testing.assert_allclose(ex.values, shapley(blend.predict, rows, bg)[..., 0], atol=1e-8)


def test_linear_stack_over_catboost_equals_exact_shapley_values():
    from modelworks.ensemble import StackingRegressor

    X, y = table(task="regression")
    X = X.drop(columns="c")  # the stack takes numbers
    stack = StackingRegressor([("cb", small("catboost", "regression", **ROUNDS)),
                               ("ridge", small("ridge", "regression"))], cv=3).fit(X, y)
    assert agnostic_parts(stack, X) == []
    rows, bg = X.iloc[:5], X.iloc[::10]
    ex = explain_model(stack, rows, background=bg)
    assert [c["explainer"] for c in ex.components] == ["tree", "linear"]
    np.testing.assert_allclose(ex.values, shapley(stack.predict, rows, bg)[..., 0], atol=1e-8)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classifier_blend_of_lightgbm_and_catboost_pipelines_is_exact_part_by_part(task):
    from modelworks.ensemble import BlendClassifier

    X, y = table(task=task)
    members = [search_pipe(X, y, task, "lightgbm"), search_pipe(X, y, task)]
    blend = BlendClassifier.from_fitted(["lgbm", "cb"], members, [0.4, 0.6])
    assert agnostic_parts(blend, X) == []  # TreeSHAP for both: a budgeted run explains it
    rows, bg = X.iloc[:12], X.iloc[-40:]
    est = estimate_cost(blend, rows, background=bg)
    assert est.explainer == "ensemble-linear" and est.seconds is not None and est.background_rows == 40
    ex = explain_model(blend, rows, background=bg)
    assert [(c["model"], c["explainer"]) for c in ex.components] == [("LGBMClassifier", "tree"),
                                                                       ("CatBoostClassifier", "tree")]
    # probabilities of boosters: their log-odds values rescaled, and the explanation says so
    assert "exact except lgbm" in ex.reason and "cb (log-odds TreeSHAP rescaled" in ex.reason
    total = ex.values.sum(axis=1) + np.asarray(ex.shap.base_values)
    proba = blend.predict_proba(rows)
    np.testing.assert_allclose(total.reshape(len(rows), -1), proba[:, 1:] if task == "binary" else proba,
                               atol=1e-6)
    assert ex.shap_encoded is not None  # both members encode alike (the search's tree prep)
    # and the values are the interventional Shapley values' (within the boosters' rescaling)
    ref = shapley(blend.predict_proba, rows, bg)
    ref = ref[..., 1] if task == "binary" else ref
    assert np.corrcoef(ex.values.ravel(), ref.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_catboost_probabilities_in_a_blend_are_close_to_the_exact_values(cancer, wine, task):
    from modelworks.ensemble import BlendClassifier

    X, y = (cancer[0].drop(columns="size"), cancer[1]) if task == "binary" else wine
    members = [cb(X, y, task, iterations=60), pipe(X, y, "rf", task)]
    blend = BlendClassifier.from_fitted(["cb", "rf"], members, [0.7, 0.3])
    rows, bg = X.iloc[:8], X.iloc[::9]
    ex = explain_model(blend, rows, background=bg)
    ref = shapley(blend.predict_proba, rows, bg)
    ref = ref[..., 1] if task == "binary" else ref
    np.testing.assert_allclose(ex.values.sum(axis=1), ref.sum(axis=1), atol=1e-6)  # same totals
    assert np.corrcoef(ex.values.ravel(), ref.ravel())[0, 1] > 0.95


def test_catboost_outputs_its_treeshap_does_not_explain_fall_back_with_the_reason(diabetes):
    from modelworks.exceptions import ExplainError
    from modelworks.explain._shap import _tree_supports

    X, y = diabetes
    poisson = cb(X, y - y.min() + 1, "regression", iterations=20, loss_function="Poisson")
    assert agnostic_parts(poisson, X) == ["CatBoostRegressor"]  # its predict is exp(margin)
    with pytest.raises(ExplainError, match="Poisson predictions are not its raw margin.*use explainer='exact'"):
        explain_model(poisson, X.iloc[:5], explainer="tree")
    # a classifier's probabilities need a background (blends always have one); its margin does not
    Xc, yc = table()
    final = search_pipe(Xc, yc, "binary")[-1]
    assert "needs interventional TreeSHAP" in _tree_supports(final, "predict_proba", False, 2)
    assert _tree_supports(final, "predict_proba", True, 2) is None
    assert _tree_supports(final, "decision_function", False, 2) is None


def test_budgeted_run_step_explains_a_blend_with_catboost(tmp_path):
    from modelworks._context import RunContext
    from modelworks.data import train_test_split
    from modelworks.ensemble import BlendClassifier
    from modelworks.explain._workflow import step
    from modelworks.report import Report
    from modelworks.workflow import _no_time_for

    X, y = table()
    X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", seed=0)
    members = [search_pipe(X_train, y_train, "binary", "lightgbm"), search_pipe(X_train, y_train, "binary")]
    blend = BlendClassifier.from_fitted(["lightgbm", "catboost"], members, [0.5, 0.5])
    ctx = RunContext(data=X.assign(label=y), target="label", task="binary", out_dir=tmp_path,
                     X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                     final_model=blend, final_name="blend", report=Report(tmp_path), time_budget=40)
    assert _no_time_for("explain", ctx, None) is None  # exact parts: explained even on a short budget
    step(ctx)
    res = ctx.results["explain"]
    assert res["explainer"] == "ensemble-linear" and res["rows"] == len(X_test)
    assert "Top features" in ctx.report.render()


def test_run_with_catboost_explains_its_final_model(tmp_path, monkeypatch):
    import modelworks
    from modelworks.models import _portfolio

    # only the zoo's CatBoost (CatBoost's own 1,000-round defaults would make the test slow)
    monkeypatch.setattr(_portfolio, "PORTFOLIO", [c for c in _portfolio.PORTFOLIO if c.learner != "catboost"])
    X, y = table(160)
    result = modelworks.run(X.assign(target=y), "target", out_dir=tmp_path, models=["catboost"], cv=3,
                            time_budget=120, steps={"tune": False, "package": False, "monitor": False})
    assert result.model_name == "catboost"
    res = result.results["explain"]
    assert res["explainer"] == "tree" and "CatBoostClassifier is a tree ensemble" in res["reason"]
    assert res["output"] == "log-odds (margin) of class 'yes'"
    assert {t["feature"] for t in res["top_features"]} == set(X.columns)


def test_modelworks_explain_command_on_a_catboost_package(tmp_path, capsys):
    from modelworks.cli import main
    from modelworks.package import save

    X, y = table(task="multiclass")
    model = search_pipe(X, y, "multiclass")
    pkg = save(model, tmp_path / "model", X_sample=X, y_sample=y, task="multiclass", target="label")
    data = tmp_path / "data.csv"
    X.assign(label=y).to_csv(data, index=False)
    code = main(["explain", str(pkg), str(data), "--out", str(tmp_path / "out"), "--rows", "50",
                 "--pdp", "a"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "explainer: tree (CatBoostClassifier" in printed and "log-odds (margin) per class" in printed
    result = json.loads((tmp_path / "out" / "explanation.json").read_text())
    assert result["explanation"]["rows"] == 50 and result["explanation"]["explainer"] == "tree"


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_lightgbm_native_categorical_splits_are_read_by_the_exact_kernels(task):
    """The search's LightGBM splits on category sets: rewritten as numeric chains, the exact
    interventional kernel and the partial dependence kernel read them (shap's own paths do not)."""
    from sklearn.inspection import partial_dependence as sk_pd

    from modelworks.ensemble import BlendClassifier
    from modelworks.explain import partial_dependence
    from modelworks.explain._trees import checked

    X, y = table(task=task)
    X["c"] = X["c"].fillna("none")  # scikit-learn's brute force below sorts the levels
    model = build_pipeline(X, "lightgbm", "tree", {"n_estimators": 40}, task, 0).fit(X, y)
    Z = np.asarray(model[:-1].transform(X), dtype=float)
    trees = checked(model[-1], Z, "predict_proba" if task == "binary" else "predict", rows=len(Z))
    assert trees is not None and trees.categorical  # parity with LightGBM on every row
    rows, bg = X.iloc[:6], X.iloc[::8]
    ex = explain_model(model, rows, background=bg)
    if task == "regression":
        np.testing.assert_allclose(ex.values, shapley(model.predict, rows, bg)[..., 0], atol=1e-8)
    else:
        raw = model[-1].predict(model[:-1].transform(rows), raw_score=True)
        np.testing.assert_allclose(ex.values.sum(axis=1) + ex.shap.base_values, raw, atol=1e-6)
        blend = BlendClassifier.from_fitted(["lgbm", "cb"], [model, search_pipe(X, y, task)], [0.5, 0.5])
        ex = explain_model(blend, rows, background=bg)
        total = ex.values.sum(axis=1) + ex.shap.base_values
        np.testing.assert_allclose(total, blend.predict_proba(rows)[:, 1], atol=1e-6)
        ref = shapley(blend.predict_proba, rows, bg)[..., 1]
        assert np.corrcoef(ex.values.ravel(), ref.ravel())[0, 1] > 0.95
    res = partial_dependence(model, X, ["a", "c"], kind="both")
    assert res["a"].method == "brute-tree"
    ref = sk_pd(model, X, ["a"], method="brute", kind="both", custom_values={"a": res["a"].grid[0]})
    np.testing.assert_allclose(res["a"].individual, ref["individual"], atol=1e-9)
    ref = sk_pd(model, X, ["c"], method="brute", categorical_features=["c"])
    np.testing.assert_allclose(res["c"].average, ref["average"], atol=1e-9)
