"""Renamed names (docs/renames.md): the new ones work, the old ones still work for one release
and warn with a FutureWarning that names the new one."""

from __future__ import annotations

import pickle
import subprocess
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

import modelworks
from modelworks import _deprecation
from modelworks.exceptions import ConfigError


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:200, :6], y.iloc[:200]


def _old(match):
    return pytest.warns(_deprecation.ModelworksDeprecationWarning, match=match)


@pytest.mark.parametrize("old, new", [
    ("compare", "rank_models"),
    ("compare_models", "compare_predictions"),
    ("compare_cv", "compare_estimators"),
])
def test_the_old_top_level_names_warn_and_are_the_new_functions(old, new):
    with _old(rf"modelworks\.{old} is deprecated .*modelworks\.{new}"):
        func = getattr(modelworks, old)
    assert func is getattr(modelworks, new)
    assert old not in modelworks.__all__ and new in modelworks.__all__


def test_the_three_compares_do_their_three_jobs_under_the_new_names(cancer):
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = cancer
    frame = X.assign(target=y.map({0: "malignant", 1: "benign"}))
    board = modelworks.rank_models(frame, "target", models=["logreg"], cv=3).leaderboard
    assert list(board["model"]) == ["logreg"]
    pa = np.where(X.iloc[:, 0] > X.iloc[:, 0].median(), 0, 1)
    res = modelworks.compare_predictions(y.to_numpy(), pa, y.to_numpy(), names=("rule", "oracle"))
    assert res.difference > 0 and "oracle" in res.verdict
    cv = modelworks.compare_estimators(DummyClassifier(), LogisticRegression(max_iter=500), X, y,
                                       cv=3, repeats=1, names=("dummy", "logreg"))
    assert cv.difference > 0


def test_the_old_monitor_names_warn_and_still_compute(cancer):
    import modelworks.monitor as mon

    X, y = cancer
    with _old(r"modelworks\.monitor\.compare_models is deprecated .*compare_predictions"):
        old = mon.compare_models
    a = np.zeros(len(y), dtype=int)
    assert old(y.to_numpy(), a, y.to_numpy()).p_value == mon.compare_predictions(y.to_numpy(), a, y.to_numpy()).p_value
    with _old(r"modelworks\.monitor\.compare_cv is deprecated .*compare_estimators"):
        from modelworks.monitor import compare_cv
    assert compare_cv is mon.compare_estimators
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        mon.nope  # noqa: B018


def test_scoring_is_now_batch_and_the_old_import_warns():
    import modelworks.batch

    assert modelworks.batch.predict.__module__ == "modelworks.batch._predict"
    with _old(r"modelworks\.scoring\.predict is deprecated .*modelworks\.batch\.predict"):
        from modelworks.scoring import predict
    assert predict is modelworks.batch.predict
    # before anything imports modelworks.scoring, the top-level attribute is the new package
    code = ("import warnings, modelworks\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    assert modelworks.scoring is modelworks.batch\n"
            "print(w[0].category.__name__, w[0].message)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("ModelworksDeprecationWarning modelworks.scoring is deprecated"), out


def test_package_read_manifest_and_the_old_inspect(tmp_path, cancer):
    from sklearn.linear_model import LogisticRegression

    import modelworks.package as mp

    X, y = cancer
    path = mp.save(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "pkg", X_sample=X, y_sample=y)
    manifest = mp.read_manifest(path)
    assert manifest["verified"] is True and manifest["features"] == list(X.columns)
    assert "inspect" not in mp.__all__
    with _old(r"modelworks\.package\.inspect is deprecated .*read_manifest"):
        inspect = mp.inspect
    assert inspect(path)["features"] == manifest["features"]
    import inspect as stdlib_inspect  # no longer shadowed by `from modelworks.package import *`

    namespace: dict = {}
    exec("from modelworks.package import *", namespace)
    assert "inspect" not in namespace and namespace["read_manifest"] is mp.read_manifest
    assert stdlib_inspect.isfunction(mp.read_manifest)


def test_explain_is_a_plain_package():
    import modelworks.explain

    assert type(modelworks.explain) is types.ModuleType and not callable(modelworks.explain)
    assert modelworks.explain_model is modelworks.explain.explain_model
    with pytest.raises(TypeError, match="not callable"):
        modelworks.explain(None, None)


def test_workflow_compare_is_rank_models():
    import modelworks.workflow as wf

    with _old(r"modelworks\.workflow\.compare is deprecated .*rank_models"):
        assert wf.compare is wf.rank_models


@pytest.mark.parametrize("cls_name", ["BlendClassifier", "EnsembleSelectionClassifier"])
def test_ensembles_take_random_state_and_seed_still_works_with_a_warning(cls_name, cancer):
    import modelworks.ensemble as ens

    cls = getattr(ens, cls_name)
    X, y = cancer
    members = [("logreg", "logreg"), ("knn", "knn")]
    new = cls(members, cv=3, random_state=5).fit(X, y)
    assert new.get_params()["random_state"] == 5
    with _old(rf"{cls_name}\(seed=\.\.\.\) is deprecated .*random_state"):
        old = cls(members, cv=3, seed=5).fit(X, y)
    np.testing.assert_allclose(old.weights_, new.weights_)
    np.testing.assert_allclose(old.predict_proba(X), new.predict_proba(X))
    with pytest.raises(ConfigError, match="pass random_state only"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls(members, cv=3, random_state=1, seed=2).fit(X, y)
    with warnings.catch_warnings():  # the new name alone: no warning
        warnings.simplefilter("error")
        cls(members, cv=3, random_state=5).fit(X, y)


def test_an_ensemble_saved_with_seed_loads_with_random_state(cancer):
    from modelworks.ensemble import BlendClassifier

    X, y = cancer
    blend = BlendClassifier([("logreg", "logreg"), ("knn", "knn")], cv=3, random_state=4).fit(X, y)
    state = blend.__getstate__()
    state["seed"] = state.pop("random_state")  # what a model saved before the rename holds
    old = BlendClassifier.__new__(BlendClassifier)
    old.__setstate__(state)
    assert old.get_params()["random_state"] == 4 and old.get_params()["seed"] == "deprecated"
    np.testing.assert_allclose(old.predict_proba(X), blend.predict_proba(X))
    again = pickle.loads(pickle.dumps(old))  # an in-memory round trip of our own object
    assert again.random_state == 4


def test_text_features_take_random_state():
    from modelworks.data._preprocess import TextFeatures

    words = ["red apple pie", "green apple tart", "blue berry pie", "red berry jam", "green pear tart",
             "blue plum jam"] * 5
    frame = pd.DataFrame({"text": words})
    a = TextFeatures(n_components=2, random_state=3).fit_transform(frame)
    with _old(r"TextFeatures\(seed=\.\.\.\)"):
        b = TextFeatures(n_components=2, seed=3).fit_transform(frame)
    np.testing.assert_allclose(a, b)
