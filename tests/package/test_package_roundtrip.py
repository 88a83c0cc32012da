"""Saving and loading packages: every kind of model modelworks produces comes back identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelworks.package as mp
from modelworks.data import make_pipeline
from modelworks.exceptions import ConfigError, PackageError, SchemaError
from modelworks.models import get_model

FIXTURE_V1 = Path(__file__).parents[1] / "fixtures" / "packages" / "v1_iris_logreg"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "plan": rng.choice(["a", "b", "c"], n),
                      "visits": rng.poisson(3, n).astype(float)})
    y = pd.Series(np.where(X["age"] + 5 * (X["plan"] == "b") + rng.normal(0, 3, n) > 42, "yes", "no"), name="churn")
    return X, y


def _fit(name, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_model(name, "binary", seed=0)
        if hasattr(model, "n_estimators"):
            model.set_params(n_estimators=10)
        return make_pipeline(X, model).fit(X, y)


@pytest.mark.parametrize("name", ["logreg", "rf", "hgb", "xgboost", "lightgbm", "svm", "knn"])
def test_zoo_models_round_trip_with_identical_predictions(name, data, tmp_path):
    X, y = data
    model = _fit(name, X, y)
    path = mp.save(model, tmp_path / name, X_sample=X, y_sample=y, task="binary", target="churn",
                   metrics={"roc_auc": 0.9}, seed=3)
    pkg = mp.load(path)
    np.testing.assert_array_equal(pkg.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        np.testing.assert_allclose(pkg.predict_proba(X), model.predict_proba(X))
    m = pkg.manifest
    assert m["format_version"] == mp.FORMAT_VERSION and m["model"]["format"] == "skops"
    assert m["task"] == "binary" and m["target"] == "churn" and m["seed"] == 3
    assert m["features"] == ["age", "plan", "visits"] and m["classes"] == ["no", "yes"]
    assert m["metrics"] == {"roc_auc": 0.9}
    assert m["training_data"]["rows"] == len(X) and m["training_data"]["fingerprint"].startswith("sha256:")
    assert {"scikit-learn", "numpy", "pandas", "skops", "modelworks"} <= set(m["libraries"])
    assert set(m["files"]) == {"model.skops", "reference.parquet", "MODEL_CARD.md"}
    assert all(len(e["sha256"]) == 64 for e in m["files"].values())
    ref = pkg.reference_sample()
    assert list(ref.columns) == ["age", "plan", "visits", "churn"] and len(ref) == len(X)


def test_boosters_record_their_library_versions(data, tmp_path):
    X, y = data
    pkg = mp.load(mp.save(_fit("lightgbm", X, y), tmp_path / "p", X_sample=X, y_sample=y))
    assert "lightgbm" in pkg.manifest["libraries"]


def test_stacking_ensemble_round_trips(data, tmp_path):
    from modelworks.ensemble import StackingClassifier

    X, y = data
    est = StackingClassifier([("lr", "logreg"), ("knn", "knn")], cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(X, est).fit(X, y)
    pkg = mp.load(mp.save(model, tmp_path / "stack", X_sample=X, y_sample=y, task="binary"))
    np.testing.assert_allclose(pkg.predict_proba(X), model.predict_proba(X))


def test_gam_from_stats_round_trips_with_its_declared_types(tmp_path):
    stats = pytest.importorskip("modelworks.stats")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.uniform(0, 6, 150), "z": rng.normal(size=150)})
    y = np.sin(X["x"]) + 0.1 * X["z"] + rng.normal(0, 0.1, 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = stats.GAMRegressor().fit(X, y)
    pkg = mp.load(mp.save(model, tmp_path / "gam", X_sample=X, y_sample=y, task="regression"))
    np.testing.assert_allclose(pkg.predict(X), model.predict(X))


def test_archive_round_trips_and_inspects_without_extracting(data, tmp_path):
    X, y = data
    model = _fit("logreg", X, y)
    path = mp.save(model, tmp_path / "model", X_sample=X, y_sample=y, archive=True)
    assert path.name == "model.mwpkg" and path.is_file()
    assert mp.read_manifest(path, verify=False)["features"] == ["age", "plan", "visits"]
    assert mp.read_manifest(path)["verified"] is True
    np.testing.assert_array_equal(mp.load(path).predict(X), model.predict(X))


def test_saving_again_replaces_the_package_atomically(data, tmp_path):
    X, y = data
    mp.save(_fit("logreg", X, y), tmp_path / "p", X_sample=X, metrics={"v": 1})
    mp.save(_fit("logreg", X, y), tmp_path / "p", X_sample=X, metrics={"v": 2})
    assert mp.load(tmp_path / "p").manifest["metrics"] == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no temporary left behind


def test_predict_validates_with_the_schema_first(data, tmp_path):
    X, y = data
    pkg = mp.load(mp.save(_fit("logreg", X, y), tmp_path / "p", X_sample=X))
    with pytest.raises(SchemaError, match="missing column: plan"):
        pkg.predict(X.drop(columns="plan"))
    with pytest.raises(SchemaError, match="unexpected column: extra"):
        pkg.predict(X.assign(extra=1))
    assert len(pkg.predict(X.assign(extra=1), ignore_extra=True)) == len(X)
    with pytest.raises(SchemaError, match="column 'age' expects numbers"):
        pkg.predict(X.assign(age="old"))
    shuffled = X[["visits", "age", "plan"]]
    np.testing.assert_array_equal(pkg.predict(shuffled), pkg.predict(X))  # order does not matter
    assert list(pkg.predict(X.head(2).to_dict(orient="records"))) == list(pkg.predict(X.head(2)))


def test_inspect_reads_the_manifest_without_importing_model_code(data, tmp_path):
    X, y = data
    path = mp.save(_fit("rf", X, y), tmp_path / "p", X_sample=X, y_sample=y, task="binary")
    code = (
        "import sys, json, modelworks.package as mp\n"
        f"m = mp.read_manifest({str(path)!r})\n"
        "print(json.dumps({'task': m['task'], 'verified': m['verified'], "
        "'loaded': sorted(k for k in ('sklearn', 'skops', 'pandas', 'pyarrow') if k in sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout)
    # numpy may read the forest's tree arrays (allow_pickle=False) for the bounds check; no model
    # library, no skops, no pandas
    assert result == {"task": "binary", "verified": True, "loaded": []}


def test_model_card_is_rendered_from_the_manifest(data, tmp_path):
    X, y = data
    path = mp.save(_fit("logreg", X, y), tmp_path / "p", X_sample=X, y_sample=y, task="binary", target="churn",
                   metrics={"roc_auc": 0.91234}, metadata={"owner": "risk team"})
    card = mp.model_card(path)
    assert card.startswith("# Model card: LogisticRegression")
    assert "| roc_auc | 0.9123 |" in card and "| plan | categorical |" in card and "**owner:** risk team" in card
    assert (path / "MODEL_CARD.md").read_text() == card


def test_format_version_1_fixture_still_loads_and_predicts():
    pkg = mp.load(FIXTURE_V1)
    assert pkg.manifest["format_version"] == 1
    assert pkg.task == "multiclass" and pkg.target == "species"
    sample = pkg.reference_sample()
    pred = pkg.predict(sample.drop(columns="species"))
    assert (pred == sample["species"]).mean() > 0.9
    assert mp.read_manifest(FIXTURE_V1)["features"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert "Model card" in mp.model_card(FIXTURE_V1)


def test_a_library_version_change_warns_but_loads(data, tmp_path):
    from test_package_malicious import read_manifest, rehash

    X, y = data
    path = mp.save(_fit("logreg", X, y), tmp_path / "p", X_sample=X)
    m = read_manifest(path)
    m["libraries"]["scikit-learn"] = "0.24.2"
    rehash(path, m)
    with pytest.warns(mp.PackageWarning, match="saved with scikit-learn 0.24.2"):
        mp.load(path)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs X_sample="),
    ({"X_sample": "not a frame"}, "needs X_sample="),
    ({"X_sample": pd.DataFrame({"a": [1.0]}), "task": "ranking"}, "task must be"),
    ({"X_sample": pd.DataFrame({"a": [1.0]}), "metadata": [1]}, "metadata must be a dict"),
])
def test_save_refuses_bad_arguments(kwargs, message, data, tmp_path):
    X, y = data
    with pytest.raises(ConfigError, match=message):
        mp.save(_fit("logreg", X, y), tmp_path / "p", **kwargs)


def test_loading_a_missing_package_says_where_it_looked(tmp_path):
    with pytest.raises(PackageError, match=r"no model package at .*nowhere: looked for a directory with manifest.json"):
        mp.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackageError, match="has no manifest.json"):
        mp.load(tmp_path / "empty")
    (tmp_path / "file.csv").write_text("a,b\n1,2\n")
    with pytest.raises(PackageError, match="neither a package directory nor a .mwpkg archive"):
        mp.load(tmp_path / "file.csv")


def test_keras_wrapper_is_saved_natively_and_reloads(data, tmp_path):
    deep = pytest.importorskip("modelworks.deep")
    pytest.importorskip("keras")
    X, y = data
    Xn = X[["age", "visits"]]
    model = deep.KerasMLPClassifier(hidden_units=(8,), epochs=2, random_state=0).fit(Xn, y)
    path = mp.save(model, tmp_path / "k", X_sample=Xn, y_sample=y, task="binary")
    pkg = mp.load(path)
    assert pkg.manifest["model"]["format"] == "native"
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in pkg.manifest["files"])
    np.testing.assert_allclose(pkg.predict_proba(Xn), model.predict_proba(Xn), rtol=1e-5, atol=1e-6)


def test_environment_is_clean():  # the package code never sets process-wide state
    assert "MODELWORKS_SERVE_CONFIG" not in os.environ


def test_mixed_model_from_stats_round_trips(tmp_path):
    stats = pytest.importorskip("modelworks.stats")
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 10)
    frame = pd.DataFrame({"x": rng.normal(size=120), "g": [f"s{g}" for g in groups]})
    frame["y"] = 2 * frame["x"] + rng.normal(0, 1, 12)[groups] + rng.normal(0, 0.3, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = stats.MixedModel("y ~ x", "g").fit(frame)
    X = frame[["x", "g"]]
    pkg = mp.load(mp.save(model, tmp_path / "mixed", X_sample=X, y_sample=frame["y"], task="regression", target="y"))
    np.testing.assert_allclose(pkg.predict(X), model.predict(X))


@pytest.mark.parametrize("kind", ["BlendClassifier", "EnsembleSelectionClassifier"])
def test_blend_and_selection_ensembles_round_trip(kind, data, tmp_path):
    import modelworks.ensemble as ens

    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(X, getattr(ens, kind)([("lr", "logreg"), ("knn", "knn")], cv=3)).fit(X, y)
    pkg = mp.load(mp.save(model, tmp_path / kind, X_sample=X, y_sample=y, task="binary"))
    np.testing.assert_allclose(pkg.predict_proba(X), model.predict_proba(X))
