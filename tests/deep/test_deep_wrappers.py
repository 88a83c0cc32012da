"""KerasMLPClassifier / KerasMLPRegressor: the scikit-learn contract and native persistence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("keras")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from modelworks.deep import KerasMLPClassifier, KerasMLPRegressor  # noqa: E402
from modelworks.exceptions import DeepError  # noqa: E402

FAST = {"hidden_units": (16,), "epochs": 30, "batch_size": 32, "learning_rate": 1e-2}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return train_test_split(X, names, test_size=0.3, random_state=0, stratify=names)


@pytest.fixture(scope="module")
def fitted(iris):
    X_tr, _, y_tr, _ = iris
    return KerasMLPClassifier(**FAST).fit(X_tr, y_tr)


def test_classifier_learns_iris_with_string_labels(iris, fitted):
    _, X_te, _, y_te = iris
    proba = fitted.predict_proba(X_te)
    assert list(fitted.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert fitted.score(X_te, y_te) >= 0.9
    assert fitted.feature_names_in_.tolist() == list(X_te.columns)
    assert fitted.n_iter_ >= 1 and "loss" in fitted.history_


def test_regressor_learns_diabetes():
    X, y = load_diabetes(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    reg = KerasMLPRegressor(**FAST).fit(X_tr, y_tr)
    assert reg.predict(X_te).shape == (len(X_te),)
    assert reg.score(X_te, y_te) > 0.3


def test_same_seed_same_model_and_global_random_state_untouched(iris):
    X_tr, X_te, y_tr, _ = iris
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = KerasMLPClassifier(**FAST, random_state=7).fit(X_tr, y_tr).predict_proba(X_te)
    b = KerasMLPClassifier(**FAST, random_state=7).fit(X_tr, y_tr).predict_proba(X_te)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_clone_get_params_and_cross_validation_in_a_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    est = KerasMLPClassifier(hidden_units=(8,), epochs=10, learning_rate=1e-2, dropout=0.0)
    params = clone(est).get_params()
    assert params["hidden_units"] == (8,) and params["epochs"] == 10
    scores = cross_val_score(make_pipeline(StandardScaler(), est), X, y, cv=3, scoring="accuracy")
    assert scores.mean() > 0.9


def test_predict_before_fit_raises_not_fitted(iris):
    with pytest.raises(NotFittedError):
        KerasMLPClassifier().predict(iris[1])


@pytest.mark.parametrize(("params", "match"), [
    ({"dropout": 1.5}, r"dropout must be a number in \[0, 1\)"),
    ({"hidden_units": (0,)}, "hidden_units must be positive"),
    ({"epochs": 0}, "epochs must be a whole number >= 1"),
    ({"learning_rate": -1}, "learning_rate must be a number > 0"),
])
def test_bad_parameters_are_reported_at_fit(iris, params, match):
    with pytest.raises(DeepError, match=match):
        KerasMLPClassifier(**params).fit(iris[0], iris[2])


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        KerasMLPClassifier(epochs=1).fit(np.ones((6, 2)), np.zeros(6))


def test_wrong_number_of_features_at_predict_is_refused(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.ones((2, 7)))


def test_native_save_and_load_give_identical_predictions(tmp_path, iris, fitted):
    X_te = iris[1]
    path = fitted.save_native(tmp_path / "clf")
    assert sorted(p.name for p in path.iterdir()) == ["model.keras", "params.json"]
    meta = json.loads((path / "params.json").read_text())
    assert meta["class"] == "KerasMLPClassifier" and meta["params"]["hidden_units"] == [16]
    loaded = KerasMLPClassifier.load_native(path)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X_te), fitted.predict_proba(X_te))
    assert list(loaded.predict(X_te)) == list(fitted.predict(X_te))


def test_native_load_in_a_new_process(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    reg = KerasMLPRegressor(**FAST).fit(X, y)
    reg.save_native(tmp_path / "reg")
    np.save(tmp_path / "x.npy", X[:20])
    code = ("import sys, numpy as np; from modelworks.deep import KerasMLPRegressor as R; "
            "m = R.load_native(sys.argv[1] + '/reg'); "
            "np.save(sys.argv[1] + '/p.npy', m.predict(np.load(sys.argv[1] + '/x.npy')))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), reg.predict(X[:20]))


def test_native_load_refuses_the_wrong_class_and_missing_files(tmp_path, fitted):
    path = fitted.save_native(tmp_path / "clf")
    with pytest.raises(DeepError, match="holds a KerasMLPClassifier, not a KerasMLPRegressor"):
        KerasMLPRegressor.load_native(path)
    with pytest.raises(DeepError, match="params.json is missing"):
        KerasMLPClassifier.load_native(tmp_path)


def test_native_load_refuses_unknown_custom_layers(tmp_path, fitted):
    import zipfile

    path = fitted.save_native(tmp_path / "clf")
    model_file = path / "model.keras"
    with zipfile.ZipFile(model_file) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(files["config.json"])
    layer = config["config"]["layers"][-1]  # pretend the output layer is someone's custom class
    layer.update(module="acme.layers", class_name="FancyDense", registered_name="acme>FancyDense")
    files["config.json"] = json.dumps(config).encode()
    shutil.copy(model_file, tmp_path / "backup.keras")
    with zipfile.ZipFile(model_file, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with pytest.raises(DeepError, match=r"FancyDense .*import acme\.layers"):
        KerasMLPClassifier.load_native(path)


@pytest.mark.slow
def test_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    for est in (KerasMLPClassifier(hidden_units=(8,), epochs=3, batch_size=32, learning_rate=1e-2),
                KerasMLPRegressor(hidden_units=(8,), epochs=3, batch_size=32, learning_rate=1e-2)):
        # mini-batch SGD: weighting a row is not the same as repeating it (sklearn's MLP neither)
        expected = {"check_sample_weight_equivalence_on_dense_data": "stochastic mini-batches"}
        failed = check_estimator(est, on_fail=None, expected_failed_checks=expected)
        bad = [r for r in failed if r["status"] == "failed"]
        assert not bad, [(r["check_name"], str(r["exception"])[:200]) for r in bad]
