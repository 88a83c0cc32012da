"""CatBoost as a learner family of the search: zoo entry, native categoricals, cost model, portfolio,
a real search on small data, and packages that round-trip without pickle and refuse tampering."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("catboost")

import modelworks.package as mp  # noqa: E402
from modelworks.exceptions import IntegrityError, PackageError, UnsafePackageError  # noqa: E402
from modelworks.models import get_model  # noqa: E402
from modelworks.models._portfolio import portfolio  # noqa: E402
from modelworks.search import CostModel, plan_validation, run_search  # noqa: E402
from modelworks.search._prep import build_pipeline  # noqa: E402
from package_testkit import rehash, rewrite_skops  # noqa: E402


def table(n=300, seed=0, task="binary"):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice([f"l{i}" for i in range(12)] + [None], n)})
    signal = X["a"] + 0.5 * X["b"] ** 2 + X["c"].isin(["l1", "l2", "l3"]) * 1.5
    if task == "regression":
        return X, pd.Series(np.exp(1 + 0.6 * signal + rng.normal(0, 0.2, n)), name="y")
    if task == "multiclass":
        return X, pd.Series(np.array(["lo", "mid", "hi"])[np.digitize(signal, [0.3, 1.2])], name="y")
    return X, pd.Series(np.where(signal + rng.normal(0, 0.5, n) > 0.6, "yes", "no"), name="y")


def test_zoo_builds_a_single_threaded_quiet_catboost_that_predicts_one_label_per_row():
    X, y = table(200, task="multiclass")
    model = get_model("cb", "multiclass", seed=3)
    assert model.get_param("thread_count") == 1 and model.get_param("random_seed") == 3
    model.set_params(iterations=30).fit(X[["a", "b"]].to_numpy(), y)
    pred = model.predict(X[["a", "b"]].to_numpy())
    assert pred.shape == (200,) and set(pred) <= {"lo", "mid", "hi"}  # CatBoost itself returns (n, 1)
    proba = model.predict_proba(X[["a", "b"]].to_numpy())
    assert proba.shape == (200, 3) and np.allclose(proba.sum(axis=1), 1)
    assert list(model.classes_) == sorted(set(y))


def test_search_pipeline_hands_categorical_codes_to_catboost_natively():
    X, y = table(300)
    pipe = build_pipeline(X, "catboost", "tree", {"iterations": 40}, "binary", 0)
    assert pipe.named_steps["model"].get_param("cat_features") == (2,)  # after the two numeric columns
    pipe.fit(X, y)
    importance = pipe.named_steps["model"].get_feature_importance()
    assert importance[2] > 5  # the categorical column carries signal and CatBoost uses it
    # unseen and missing levels at predict time are fine (code -1)
    new = X.head(4).assign(c=["never seen", None, "l1", "l2"])
    assert pipe.predict_proba(new).shape == (4, 2)
    # without categoricals nothing is passed
    assert build_pipeline(X[["a", "b"]], "catboost", "tree", {}, "binary", 0).named_steps["model"].get_param(
        "cat_features") is None


def test_cost_model_counts_catboosts_border_search_and_its_rounds():
    cm = CostModel(n_features=30)
    small = cm.fit_seconds("catboost", {}, 500)
    assert small > 3 * cm.fit_seconds("lightgbm", {}, 500)  # per-border work dominates small tables
    assert cm.fit_seconds("catboost", {"border_count": 32}, 500) < small / 3
    assert cm.fit_seconds("catboost", {"iterations": 1000}, 500) > 2.5 * small
    assert cm.fit_seconds("catboost", {"depth": 8}, 500) > cm.fit_seconds("catboost", {"depth": 4}, 500)


def test_portfolio_puts_catboost_after_the_first_boosters_and_its_costly_row_in_tier_2():
    rows = portfolio("binary")
    names = [c.name for c in rows]
    assert names.index("catboost") > names.index("hgb") and names.index("catboost") > names.index("lightgbm")
    assert {c.name: c.tier for c in rows if c.learner == "catboost"} == {"catboost": 1, "catboost:slow": 2}
    assert "catboost:slow" not in {c.name for c in portfolio("binary", n_rows=200_000)}
    assert "catboost" not in {c.learner for c in portfolio("binary", n_rows=1_000_000)}
    assert [c.name for c in portfolio("regression", ["catboost"])][:1] == ["catboost"]


def test_portfolio_leaves_catboost_out_when_its_extra_is_missing(monkeypatch):
    from modelworks import _areas

    real = _areas.missing
    monkeypatch.setattr(_areas, "missing", lambda area: ["catboost"] if area == "catboost" else real(area))
    assert "catboost" not in {c.learner for c in portfolio("binary")}
    assert "lightgbm" in {c.learner for c in portfolio("binary")}


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_search_evaluates_catboost_on_the_shared_splits(task):
    X, y = table(300, task=task)
    plan = plan_validation(y, task, cv=3)
    configs = [c for c in portfolio(task) if c.name in {"hgb", "catboost"}]
    configs = [type(c)(c.learner, c.label, {**c.params, "iterations": 60} if c.learner == "catboost" else c.params,
                       tier=1) for c in configs]
    res = run_search(X, y, task, configs=configs, plan=plan, deadline=None, tune=False)
    cb = next(e for e in res.entries if e.learner == "catboost")
    assert cb.oof.shape == (300, len(set(y))) and np.allclose(cb.oof[plan.rows].sum(axis=1), 1)
    assert len(cb.group_scores) == 3
    assert cb.scores["roc_auc"] > 0.8 and cb.scores["accuracy"] > 0.6  # chance: 0.5, and 0.37 (three classes)


def test_catboost_is_not_started_when_its_estimate_would_overrun():
    X, y = table(300)
    plan = plan_validation(y, "binary", cv=3)
    configs = [c for c in portfolio("binary") if c.name in {"hgb", "catboost:slow"}]
    res = run_search(X, y, "binary", configs=configs, plan=plan, deadline=time.monotonic() + 1.0, tune=False)
    assert [e.learner for e in res.entries] == ["hgb"]
    assert res.skipped["catboost:slow"].startswith(("time budget", "stopped"))


def test_tpe_searches_catboosts_space_without_repeating_a_point():
    X, y = table(200, task="regression")
    plan = plan_validation(y, "regression", cv=3)
    configs = [type(c)(c.learner, c.label, {**c.params, "iterations": 30}, tier=1)
               for c in portfolio("regression") if c.name == "catboost"]
    res = run_search(X, y, "regression", configs=configs, plan=plan, deadline=time.monotonic() + 60,
                     tune=True, max_trials=2)
    tpe = [e for e in res.entries if e.stage == "search"]
    assert res.trials == 2 and len(tpe) >= 1 and all(e.learner == "catboost" for e in tpe)
    keys = {(e.log_target, tuple(sorted(e.params.items()))) for e in res.entries}
    assert len(keys) == len(res.entries)


# ----------------------------------------------------------------------------------- packages


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_catboost_pipelines_round_trip_through_packages_with_identical_predictions(tmp_path, task):
    X, y = table(250, task=task)
    pipe = build_pipeline(X, "catboost", "tree", {"iterations": 30}, task, 0,
                          log_target=task == "regression").fit(X, y)
    pkg = mp.load(mp.save(pipe, tmp_path / "pkg", X_sample=X, y_sample=y, task=task, target="y"))
    np.testing.assert_array_equal(pkg.predict(X), pipe.predict(X))
    if task != "regression":
        np.testing.assert_array_equal(pkg.predict_proba(X), pipe.predict_proba(X))
    with zipfile.ZipFile(tmp_path / "pkg" / "model.skops") as zf:
        schema = zf.read("schema.json").decode()
    # CatBoost's __getstate__: its parameters and the model as cbm bytes, nothing pickled
    assert '"__loader__": "BytesNode"' in schema and "CatBoost" in schema
    assert "PickleNode" not in schema and "ReduceNode" not in schema.replace("TreeNode", "")


def _saved(tmp_path):
    X, y = table(200)
    pipe = build_pipeline(X, "catboost", "tree", {"iterations": 20}, "binary", 0).fit(X, y)
    return mp.save(pipe, tmp_path / "pkg", X_sample=X, y_sample=y, task="binary", target="y")


def _corrupt_model_bytes(members):
    name = next(n for n in members if n.endswith(".bin"))
    data = bytearray(members[name])
    for i in range(64, len(data), 97):
        data[i] ^= 0xFF
    members[name] = bytes(data)


def test_a_package_with_altered_catboost_bytes_is_refused(tmp_path):
    path = _saved(tmp_path)
    rewrite_skops(path / "model.skops", _corrupt_model_bytes)
    with pytest.raises(IntegrityError):  # the manifest's hashes
        mp.load(path)
    rehash(path)
    with pytest.raises(PackageError, match="CatBoost"):  # CatBoost's own parser verifies its buffer
        mp.load(path)


def test_a_catboost_package_retyped_or_carrying_a_foreign_node_is_refused_before_import(tmp_path):
    base = _saved(tmp_path)
    cases = {
        # the plain library class is not on the allow-list (only modelworks' zoo subclass)
        "plain": lambda s: s.replace('"__module__": "modelworks.models._catboost"', '"__module__": "catboost.core"'),
        # a parameter value swapped for an object of a module nobody trusts
        "foreign": lambda s: s.replace('"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", '
                                       '"content": "20"',
                                       '"__class__": "Payload", "__module__": "evil_mw_catboost", '
                                       '"__loader__": "ObjectNode", "content": {"__class__": "dict", '
                                       '"__module__": "builtins", "__loader__": "DictNode", "content": {}}', 1),
    }
    for label, edit in cases.items():
        pkg = tmp_path / label
        shutil.copytree(base, pkg)

        def apply(members, edit=edit, label=label):
            text = json.dumps(json.loads(members["schema.json"]))
            changed = edit(text)
            assert changed != text, label
            members["schema.json"] = changed.encode()

        rewrite_skops(pkg / "model.skops", apply)
        rehash(pkg)
        with pytest.raises(UnsafePackageError, match="catboost" if label == "plain" else "evil_mw_catboost"):
            mp.load(pkg)
    assert "evil_mw_catboost" not in sys.modules


def test_import_modelworks_and_help_do_not_import_catboost():
    code = ("import sys, modelworks, modelworks.models, modelworks.search; "
            "from modelworks.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('catboost' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_catboost_fit_stops_at_its_deadline_and_keeps_no_callback(tmp_path):
    from modelworks.models._catboost import stop_at

    X, y = table(200)
    pipe = build_pipeline(X, "catboost", "tree", {"iterations": 500}, "binary", 0)
    with stop_at(time.monotonic() - 1) as fits:  # already past: stops after the first round
        pipe.fit(X, y)
    model = pipe.named_steps["model"]
    assert len(fits) == 1 and fits[0].stopped and model.tree_count_ < 5
    assert "callbacks" not in model.get_params()
    with stop_at(time.monotonic() + 600) as fits:
        pipe.fit(X, y)
    assert not fits[0].stopped and pipe.named_steps["model"].tree_count_ == 500
    pkg = mp.load(mp.save(pipe, tmp_path / "pkg", X_sample=X, y_sample=y, task="binary", target="y"))
    np.testing.assert_array_equal(pkg.predict_proba(X), pipe.predict_proba(X))


def test_cost_model_reads_the_tables_distinct_values_and_classes():
    few = CostModel(n_features=30, distinct=5).fit_seconds("catboost", {}, 2_000)
    many = CostModel(n_features=30, distinct=254).fit_seconds("catboost", {}, 2_000)
    assert many > 3 * few
    assert CostModel(n_features=30, n_classes=10, distinct=5).fit_seconds("catboost", {}, 2_000) > 5 * few
    X, _ = table(300)
    from modelworks.search._plan import distinct_values

    assert distinct_values(X) == pytest.approx((254 + 254 + 12) / 3)  # a, b continuous; c: 12 levels


def test_catboost_has_an_exact_explainer_so_run_explains_it_like_the_other_boosters():
    """CatBoost's own TreeSHAP explains it (tests/explain/test_explain_catboost.py): `run` does not
    give it the model-agnostic time rule, alone or in a blend."""
    pytest.importorskip("shap")
    from modelworks.ensemble import BlendClassifier
    from modelworks.explain._exactness import agnostic_parts

    X, y = table(150)
    pipe = build_pipeline(X, "catboost", "tree", {"iterations": 10}, "binary", 0).fit(X, y)
    assert agnostic_parts(pipe, X) == []
    lgbm = build_pipeline(X, "lightgbm", "tree", {"n_estimators": 10}, "binary", 0).fit(X, y)
    assert agnostic_parts(BlendClassifier.from_fitted(["lgbm", "cb"], [lgbm, pipe], [0.5, 0.5]), X) == []


def test_a_package_records_the_libraries_inside_a_blend_of_pipelines(tmp_path):
    """The manifest's library versions follow the members: a blend of a LightGBM and a CatBoost
    pipeline records both (the CatBoost type is modelworks' subclass: its base class counts)."""
    from importlib import metadata

    from modelworks.ensemble import BlendClassifier

    X, y = table(200)
    members = [build_pipeline(X, "lightgbm", "tree", {"n_estimators": 10}, "binary", 0).fit(X, y),
               build_pipeline(X, "catboost", "tree", {"iterations": 10}, "binary", 0).fit(X, y)]
    model = BlendClassifier.from_fitted(["lightgbm", "catboost"], members, [0.5, 0.5])
    path = mp.save(model, tmp_path / "pkg", X_sample=X, y_sample=y, task="binary", target="y")
    libraries = mp.read_manifest(path)["libraries"]
    assert libraries["catboost"] == metadata.version("catboost")
    assert libraries["lightgbm"] == metadata.version("lightgbm")
    assert "xgboost" not in libraries


def test_catboost_regressors_blend_and_select_with_other_regressors():
    """catboost's base class gives regressors a classes_ attribute; ours has none, so regression
    ensembles (the run's fold-model average, its refit) accept CatBoost members."""
    from modelworks.ensemble import BlendRegressor
    from modelworks.ensemble._selection import EnsembleSelectionRegressor

    X, y = table(200, task="regression")
    members = [build_pipeline(X, "catboost", "tree", {"iterations": 10}, "regression", 0).fit(X, y),
               build_pipeline(X, "lightgbm", "tree", {"n_estimators": 10}, "regression", 0).fit(X, y)]
    assert not hasattr(members[0], "classes_")
    for cls in (BlendRegressor, EnsembleSelectionRegressor):
        model = cls.from_fitted(["catboost", "lightgbm"], members, [0.5, 0.5])
        expected = 0.5 * members[0].predict(X.head(3)) + 0.5 * members[1].predict(X.head(3))
        assert np.allclose(model.predict(X.head(3)), expected)
