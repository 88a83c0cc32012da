"""SHAP values for single models, pipelines, blends and stacks: right scale, right names, exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from explain_testkit import exact_reference, pipe, small

from modelworks.exceptions import ColumnError, ExplainError, NotFittedError
from modelworks.explain import estimate_cost, explain_model


def _margin(model, Z):
    """The raw output TreeSHAP/linear SHAP explain for a classifier's final estimator."""
    name = type(model).__name__
    if name == "XGBClassifier":
        import xgboost

        return model.get_booster().predict(xgboost.DMatrix(Z), output_margin=True)
    if name == "LGBMClassifier":
        return model.predict(Z, raw_score=True)
    if hasattr(model, "decision_function"):
        return model.decision_function(Z)
    return model.predict_proba(Z)[:, 1]


@pytest.mark.parametrize("name,explainer", [("rf", "tree"), ("xgboost", "tree"), ("lightgbm", "tree"),
                                            ("hgb", "tree"), ("logreg", "linear")])
def test_values_add_up_to_the_stated_output_in_original_column_names(cancer, name, explainer):
    X, y = cancer
    model = pipe(X, y, name, "binary")
    ex = explain_model(model, X.iloc[:40])
    assert ex.explainer_name == explainer
    assert ex.feature_names == list(X.columns)  # "size" is one column, not three one-hot parts
    assert ex.values.shape == (40, 7)
    assert len(ex.shap_encoded.feature_names) == 9  # 6 numeric + 3 one-hot levels
    Z = model[:-1].transform(X.iloc[:40])
    target = model[-1].predict_proba(Z)[:, 1] if "probability" in ex.output else _margin(model[-1], Z)
    total = ex.values.sum(axis=1) + ex.shap.base_values
    np.testing.assert_allclose(total, target, atol=1e-5)
    # one-hot parts summed back: the encoded view carries the same total per row
    np.testing.assert_allclose(ex.shap_encoded.values.sum(axis=1), ex.values.sum(axis=1), atol=1e-9)
    assert "class '1'" in ex.output


def test_tree_path_matches_the_boosters_own_pred_contribs(cancer):
    import xgboost

    X, y = cancer
    model = pipe(X, y, "xgboost", "binary")
    ex = explain_model(model, X)
    contribs = model[-1].get_booster().predict(xgboost.DMatrix(model[:-1].transform(X)), pred_contribs=True)
    np.testing.assert_allclose(ex.shap_encoded.values, contribs[:, :-1], atol=1e-5)
    np.testing.assert_allclose(ex.shap.base_values, contribs[:, -1], atol=1e-5)


def test_regression_and_multiclass_shapes(diabetes, wine):
    X, y = diabetes
    ex = explain_model(pipe(X, y, "lightgbm", "regression"), X.iloc[:30])
    assert ex.values.shape == (30, 5) and ex.output == "predicted value"
    Xw, yw = wine
    ex = explain_model(pipe(Xw, yw, "rf", "multiclass"), Xw.iloc[:20])
    assert ex.values.shape == (20, 5, 3) and ex.outputs == ["a", "b", "c"]
    top = ex.top_features(2)
    assert list(top.columns) == ["feature", "mean_abs_shap", "mean_abs_shap[a]", "mean_abs_shap[b]",
                                 "mean_abs_shap[c]"]


def test_regression_blend_equals_exact_shapley_values_of_the_whole_blend(diabetes):
    from modelworks.ensemble import BlendRegressor

    X, y = diabetes
    members = [small(n, "regression").fit(X, y) for n in ("xgboost", "lightgbm", "rf")]
    blend = BlendRegressor.from_fitted(["xgb", "lgbm", "rf"], members, [0.5, 0.3, 0.2])
    bg, rows = X.iloc[:12], X.iloc[100:106]
    ex = explain_model(blend, rows, background=bg)
    assert ex.explainer_name == "ensemble-linear"
    assert "exact, no sampling" in ex.reason
    ref = exact_reference(blend.predict, rows, bg)
    # xgboost predicts in float32: 1e-4 on a target of ~150 is float32 rounding
    np.testing.assert_allclose(ex.values, ref.values, atol=1e-4)
    np.testing.assert_allclose(ex.shap.base_values, ref.base_values, atol=1e-4)


def test_deep_forest_blend_is_exact_where_shaps_interventional_path_is_not(diabetes):
    """shap's C++ interventional TreeSHAP drifts on deep trees (shap#3267); ours does not."""
    import shap

    from modelworks.ensemble import BlendRegressor

    X, y = diabetes
    members = [small("rf", "regression").fit(X, y), small("extratrees", "regression").fit(X, y)]
    blend = BlendRegressor.from_fitted(["rf", "et"], members, [0.5, 0.5])
    bg, rows = X.iloc[:20], X.iloc[200:210]
    ex = explain_model(blend, rows, background=bg)
    ref = exact_reference(blend.predict, rows, bg)
    np.testing.assert_allclose(ex.values, ref.values, atol=1e-8)
    theirs = shap.TreeExplainer(members[0], data=bg.to_numpy(), feature_perturbation="interventional")
    drift = np.abs(theirs.shap_values(rows.to_numpy(), check_additivity=False) - exact_reference(members[0].predict, rows, bg).values).max()
    assert drift > 1e-3  # documents why we do not use shap's interventional path for trees


def test_multiclass_blend_of_forest_and_logistic_is_exact(wine):
    from modelworks.ensemble import BlendClassifier

    X, y = wine
    members = [pipe(X, y, "rf", "multiclass"), pipe(X, y, "logreg", "multiclass")]
    blend = BlendClassifier.from_fitted(["rf", "lr"], members, [0.6, 0.4])
    bg, rows = X.iloc[::9], X.iloc[:6]
    ex = explain_model(blend, rows, background=bg)
    assert ex.values.shape == (6, 5, 3)
    assert [c["explainer"] for c in ex.components] == ["tree", "exact"]
    ref = exact_reference(blend.predict_proba, rows, bg)
    np.testing.assert_allclose(ex.values, ref.values, atol=1e-8)


def test_binary_blend_with_boosters_says_which_members_are_approximate(cancer):
    from modelworks.ensemble import BlendClassifier

    X, y = cancer
    members = [pipe(X, y, "rf", "binary"), pipe(X, y, "xgboost", "binary")]
    blend = BlendClassifier.from_fitted(["rf", "xgb"], members, [0.5, 0.5])
    ex = explain_model(blend, X.iloc[:10], background=X.iloc[-30:])
    assert "exact except xgb" in ex.reason
    total = ex.values.sum(axis=1) + ex.shap.base_values
    np.testing.assert_allclose(total, blend.predict_proba(X.iloc[:10])[:, 1], atol=1e-6)


def test_stack_with_linear_meta_learner_is_explained_in_its_link_space(diabetes, cancer):
    from modelworks.ensemble import StackingClassifier, StackingRegressor

    X, y = diabetes
    stack = StackingRegressor([("rf", small("rf", "regression")), ("ridge", small("ridge", "regression"))],
                              cv=3).fit(X, y)
    bg, rows = X.iloc[:20], X.iloc[300:308]
    ex = explain_model(stack, rows, background=bg)
    assert "meta-learner" in ex.reason and "exact, no sampling" in ex.reason
    np.testing.assert_allclose(ex.values, exact_reference(stack.predict, rows, bg).values, atol=1e-8)

    Xc, yc = cancer
    Xc = Xc.drop(columns="size")
    clf = StackingClassifier([("rf", small("rf", "binary")), ("lr", small("logreg", "binary"))], cv=3).fit(Xc, yc)
    ex = explain_model(clf, Xc.iloc[:6], background=Xc.iloc[-20:])
    assert ex.output.startswith("log-odds")
    ref = exact_reference(clf.decision_function, Xc.iloc[:6], Xc.iloc[-20:])
    np.testing.assert_allclose(ex.values, ref.values, atol=1e-8)


def test_model_agnostic_path_for_other_models_and_the_cost_estimate(cancer):
    X, y = cancer
    knn = pipe(X, y, "knn", "binary")
    est = estimate_cost(knn, X, max_rows=30)
    assert est.explainer == "exact" and est.rows == 30 and est.seconds > 0  # 9 encoded features
    assert est.model_evaluations == 30 * 2**9 * est.background_rows
    ex = explain_model(knn, X, max_rows=30, explainer="permutation")
    assert ex.explainer_name == "permutation" and "no model-specific" in ex.reason
    assert len(ex.index) == 30
    np.testing.assert_allclose(ex.values.sum(1) + ex.shap.base_values,
                               knn.predict_proba(X.loc[ex.index])[:, 1], atol=1e-9)
    tree = estimate_cost(pipe(X, y, "rf", "binary"), X)
    assert tree.seconds is None and "cheap" in str(tree)


def test_errors_name_the_problem(cancer):
    from sklearn.ensemble import RandomForestClassifier

    X, y = cancer
    with pytest.raises(NotFittedError, match="RandomForestClassifier model is not fitted"):
        explain_model(RandomForestClassifier(), X)
    model = pipe(X, y, "rf", "binary")
    with pytest.raises(ColumnError, match="columns the model did not see: extra"):
        explain_model(model, X.assign(extra=1))
    with pytest.raises(ColumnError, match="missing columns the model needs: radius"):
        explain_model(model, X.drop(columns="radius"))
    with pytest.raises(ExplainError, match="explainer='linear' cannot handle RandomForestClassifier.*use explainer='tree'"):
        explain_model(model, X, explainer="linear")
    knn = pipe(X, y, "knn", "binary")
    with pytest.raises(ExplainError, match="explainer='tree' cannot handle KNeighborsClassifier.*use explainer='exact'"):
        explain_model(knn, X, explainer="tree")
    with pytest.raises(ExplainError, match="unknown explainer 'deep'"):
        explain_model(model, X, explainer="deep")
    with pytest.raises(ExplainError, match="max_rows must be a whole number"):
        explain_model(model, X, max_rows=0)


def test_to_dict_is_json_ready(cancer):
    import json

    X, y = cancer
    ex = explain_model(pipe(X, y, "hgb", "binary"), X.iloc[:20])
    d = json.loads(json.dumps(ex.to_dict(), default=float))
    assert d["explainer"] == "tree" and d["rows"] == 20
    assert d["top_features"][0]["feature"] in X.columns
    assert isinstance(pd.DataFrame(d["top_features"]), pd.DataFrame)


def test_modelworks_explain_is_a_plain_package_and_explain_model_the_function(cancer):
    import types

    import modelworks
    import modelworks.explain

    X, y = cancer
    assert type(modelworks.explain) is types.ModuleType  # no module-class swap
    assert not callable(modelworks.explain)
    assert modelworks.explain_model is modelworks.explain.explain_model
    ex = modelworks.explain_model(pipe(X, y, "rf", "binary"), X.iloc[:5])
    assert ex.values.shape == (5, 7)
    # the function's old name inside the package still works for one release, and warns
    with pytest.warns(FutureWarning, match=r"modelworks\.explain\.explain is deprecated.*explain_model"):
        from modelworks.explain import explain as old
    assert old(pipe(X, y, "logreg", "binary"), X.iloc[:5]).explainer_name == "linear"


@pytest.mark.parametrize("booster", ["lightgbm", "xgboost"])
def test_multiclass_blend_explains_its_booster_with_treeshap_not_permutation(wine, booster):
    from modelworks.ensemble import BlendClassifier

    X, y = wine
    members = [pipe(X, y, booster, "multiclass"), pipe(X, y, "logreg", "multiclass")]
    blend = BlendClassifier.from_fitted(["gbm", "lr"], members, [0.6, 0.4])
    bg, rows = X.iloc[::9], X.iloc[:8]
    ex = explain_model(blend, rows, background=bg)
    assert [c["explainer"] for c in ex.components] == ["tree", "exact"]
    assert "exact except gbm" in ex.reason and "rescaled" in ex.reason
    total = ex.values.sum(axis=1) + ex.shap.base_values
    np.testing.assert_allclose(total, blend.predict_proba(rows), atol=1e-6)
    ref = exact_reference(blend.predict_proba, rows, bg).values
    assert np.corrcoef(ex.values.ravel(), ref.ravel())[0, 1] > 0.95


def test_explain_within_a_budget_runs_shrinks_or_skips(cancer):
    from modelworks.explain import explain_within

    X, y = cancer
    knn = pipe(X, y, "knn", "binary")  # model-agnostic: the estimate previews it
    ex, plan = explain_within(knn, X, budget_s=None, background=X.iloc[:8], max_rows=10)
    assert ex is not None and plan.rows == 10 and ex.values.shape[0] == 10 and plan.skipped is None
    ex, plan = explain_within(knn, X, budget_s=1e-6, background=X.iloc[:8], max_rows=10)
    assert ex is None and plan.rows == 0 and "would take about" in plan.skipped
    assert plan.estimate is not None and plan.estimate.explainer in ("exact", "permutation")
    ex, plan = explain_within(knn, X, budget_s=0, max_rows=10)
    assert ex is None and plan.skipped == "no time left in the budget"
    ex, plan = explain_within(knn, X, budget_s=3600, background=X.iloc[:8], max_rows=6)
    assert ex is not None and ex.values.shape[0] == 6 and plan.shrunk is None
    with pytest.raises(ExplainError, match="budget_s"):
        explain_within(knn, X, budget_s="soon")


def test_the_cost_preview_is_not_fooled_by_a_first_call_that_compiles(monkeypatch):
    """The first SHAP call compiles kernels: timed as set-up, it used to hide the per-row cost."""
    from types import SimpleNamespace

    from modelworks.explain import _explanation

    clock = {"now": 0.0, "calls": []}
    compile_s, setup_s, per_row_s = 8.0, 0.2, 0.05

    def fake_compute(model, X, **kwargs):
        clock["now"] += (compile_s if not clock["calls"] else 0.0) + setup_s + per_row_s * len(X)
        clock["calls"].append(len(X))
        return SimpleNamespace(evaluations=len(X), background_rows=0, explainer="tree")

    monkeypatch.setattr(_explanation, "compute", fake_compute)
    monkeypatch.setattr(_explanation.time, "perf_counter", lambda: clock["now"])
    X = pd.DataFrame({"a": np.arange(500.0), "b": np.arange(500.0)})
    est = _explanation._preview(object(), X, None, "auto", 0, None)
    k = _explanation.PREVIEW_ROWS
    assert clock["calls"] == [1, k, 2 * k]  # one untimed warm-up row, then the two timed sizes
    assert est.seconds == pytest.approx(setup_s + per_row_s * 500)
