"""Blend, selection and stacking estimators: learning, linearity, errors, saving, composing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from modelworks.ensemble import (
    SKOPS_TRUSTED,
    BlendClassifier,
    BlendRegressor,
    EnsembleSelectionClassifier,
    EnsembleSelectionRegressor,
    StackingClassifier,
    StackingRegressor,
    learn_blend_weights,
)
from modelworks.exceptions import ConfigError, EnsembleError

CLF = [
    ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ("nb", GaussianNB()),
]
REG = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0))]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]  # string labels
    idx = np.random.default_rng(0).permutation(len(y))
    return X[idx[:110]], names[idx[:110]], X[idx[110:]], names[idx[110:]]


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.mark.parametrize("cls", [BlendClassifier, EnsembleSelectionClassifier])
def test_classifier_output_is_the_weighted_sum_of_members(iris, cls):
    X, y, X_test, _ = iris
    model = cls(CLF, cv=3).fit(X, y)
    assert model.names_ == ["lr", "tree", "nb"]
    assert model.weights_.shape == (3,) and model.weights_.sum() == pytest.approx(1.0)
    assert np.all(model.weights_ >= 0)
    np.testing.assert_array_equal(model.classes_, ["setosa", "versicolor", "virginica"])
    manual = sum(w * est.predict_proba(X_test) for w, est in zip(model.weights_, model.estimators_))
    np.testing.assert_allclose(model.predict_proba(X_test), manual)
    assert set(model.predict(X_test)) <= set(model.classes_)
    assert model.oof_predictions_.shape == (3, len(y), 3)  # learned on training rows only
    assert set(model.named_estimators_) == {"lr", "tree", "nb"}


@pytest.mark.parametrize("cls", [BlendRegressor, EnsembleSelectionRegressor])
def test_regressor_output_is_the_weighted_sum_of_members(diabetes, cls):
    X, y, X_test, _ = diabetes
    model = cls(REG, cv=3).fit(X, y)
    manual = sum(w * est.predict(X_test) for w, est in zip(model.weights_, model.estimators_))
    np.testing.assert_allclose(model.predict(X_test), manual)
    assert model.weights_table().keys() == {"ridge", "tree"}


def test_learned_blend_is_not_worse_out_of_fold_than_its_best_member(iris):
    X, y, _, _ = iris
    model = BlendClassifier(CLF, cv=3).fit(X, y)
    idx = np.searchsorted(model.classes_, y)

    def loss(P):
        return -np.mean(np.log(np.clip(P[np.arange(len(y)), idx], 1e-15, 1)))

    blended = np.tensordot(model.weights_, model.oof_predictions_, axes=1)
    assert loss(blended) <= min(loss(P) for P in model.oof_predictions_) + 1e-9


def test_given_weights_are_normalised_and_no_cv_is_run(iris):
    X, y, X_test, _ = iris
    model = BlendClassifier(CLF, weights=[2, 1, 1]).fit(X, y)
    np.testing.assert_allclose(model.weights_, [0.5, 0.25, 0.25])
    assert model.oof_predictions_ is None


def test_zoo_names_are_built_for_the_task_and_get_preprocessing_for_text_columns(rng):
    n = 120
    X = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["a", "b", "c"], n)})
    y = (X["x"] + (X["city"] == "a") > 0.3).map({True: "yes", False: "no"})
    model = BlendClassifier([("lr", "logreg"), ("knn", "knn")], cv=3).fit(X, y)
    assert type(model.estimators_[0]).__name__ == "Pipeline"  # one-hot for 'city'
    assert model.predict_proba(X.head(5)).shape == (5, 2)
    reg = BlendRegressor([("ridge", "ridge"), ("knn", "knn")], cv=3).fit(X, X["x"] * 2)
    assert reg.predict(X.head(3)).shape == (3,)


def test_zoo_linear_models_are_scaled_on_arrays(iris):
    X, y, _, _ = iris
    model = EnsembleSelectionClassifier([("lr", "logreg"), ("tree", DecisionTreeClassifier())], cv=3).fit(X, y)
    assert type(model.estimators_[0]).__name__ == "Pipeline"
    assert type(model.estimators_[1]).__name__ == "DecisionTreeClassifier"


@pytest.mark.parametrize("cls", [BlendClassifier, EnsembleSelectionClassifier, StackingClassifier])
def test_a_single_member_is_refused(iris, cls):
    X, y, _, _ = iris
    with pytest.raises(EnsembleError, match=f"{cls.__name__} needs at least 2 members, got 1"):
        cls([("lr", LogisticRegression())]).fit(X, y)


def test_a_regressor_in_a_classifier_ensemble_is_refused(iris):
    X, y, _, _ = iris
    with pytest.raises(EnsembleError, match="member 'ridge' \\(Ridge\\) is a regressor.*BlendRegressor"):
        BlendClassifier([("lr", LogisticRegression()), ("ridge", Ridge())]).fit(X, y)
    with pytest.raises(EnsembleError, match="member 'lr' .* is a classifier"):
        StackingRegressor([("lr", LogisticRegression()), ("ridge", Ridge())]).fit(X, np.arange(len(y)))


@pytest.mark.parametrize("member", [RidgeClassifier(), SVC()])
def test_a_member_without_probabilities_is_refused_with_what_to_do(iris, member):
    X, y, _, _ = iris
    name = type(member).__name__
    with pytest.raises(EnsembleError, match=f"member 'm' \\({name}\\) cannot predict probabilities.*CalibratedClassifierCV"):
        BlendClassifier([("lr", LogisticRegression()), ("m", member)]).fit(X, y)


def test_a_zoo_model_for_the_other_task_is_refused(iris):
    X, y, _, _ = iris
    with pytest.raises(ConfigError, match="model 'linear' is for regression only"):
        BlendClassifier([("lr", "logreg"), ("ols", "linear")], cv=3).fit(X, y)


@pytest.mark.parametrize("weights, message", [
    ([0.5, 0.5], "got 2 weights for 3 members"),
    ([0.5, -0.2, 0.7], "non-negative, got tree=-0.2"),
    ([0, 0, 0], "all zero"),
    ([np.nan, 1, 1], "finite"),
])
def test_bad_weights_are_refused(iris, weights, message):
    X, y, _, _ = iris
    with pytest.raises(EnsembleError, match=message):
        BlendClassifier(CLF, weights=weights).fit(X, y)


def test_bad_cv_and_selection_params_are_refused_before_fitting(iris):
    X, y, _, _ = iris
    with pytest.raises(EnsembleError, match="cv must be a whole number >= 2"):
        BlendClassifier(CLF, cv=1).fit(X, y)
    with pytest.raises(EnsembleError, match="n_iter must be a whole number >= 1"):
        EnsembleSelectionClassifier(CLF, n_iter=0).fit(X, y)
    with pytest.raises(EnsembleError, match="'rmse' does not apply to multiclass"):
        EnsembleSelectionClassifier(CLF, metric="rmse").fit(X, y)


def test_from_fitted_builds_a_blend_without_refitting(iris):
    X, y, X_test, _ = iris
    fitted = [clone(est).fit(X, y) for _, est in CLF]
    oof = [est.predict_proba(X) for est in fitted]  # stand-in for real OOF predictions
    w = learn_blend_weights(oof, y, "multiclass")
    model = BlendClassifier.from_fitted(["lr", "tree", "nb"], fitted, w)
    assert model.estimators_[0] is fitted[0]
    manual = sum(wi * est.predict_proba(X_test) for wi, est in zip(w, fitted))
    np.testing.assert_allclose(model.predict_proba(X_test), manual)
    assert model.n_features_in_ == 4


def test_from_fitted_refuses_members_on_other_classes_tasks_or_unfitted(iris, diabetes):
    X, y, _, _ = iris
    a = LogisticRegression(max_iter=500).fit(X, y)
    b = LogisticRegression(max_iter=500).fit(X[y != "setosa"], y[y != "setosa"])
    with pytest.raises(EnsembleError, match="member 'b' was fitted on classes"):
        BlendClassifier.from_fitted(["a", "b"], [a, b], [0.5, 0.5])
    with pytest.raises(EnsembleError, match="member 'b' .* is not fitted"):
        BlendClassifier.from_fitted(["a", "b"], [a, LogisticRegression()], [0.5, 0.5])
    Xd, yd, _, _ = diabetes
    r = Ridge().fit(Xd, yd)
    with pytest.raises(EnsembleError, match="member 'a' \\(DecisionTreeClassifier\\) is a classifier.*BlendClassifier"):
        BlendRegressor.from_fitted(["a", "r"], [DecisionTreeClassifier().fit(Xd, yd > 150), r], [1, 1])


def test_unfitted_ensemble_says_so(iris):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BlendClassifier(CLF).predict(iris[0])


def test_stacking_accepts_zoo_names_and_a_second_level(iris):
    X, y, X_test, y_test = iris
    two_level = StackingClassifier(
        [("lr", "logreg"), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        final_estimator=StackingClassifier([("lr", "logreg"), ("knn", KNeighborsClassifier())], cv=3),
        cv=3,
    ).fit(X, y)
    assert isinstance(two_level.final_estimator_, StackingClassifier)
    assert two_level.stack_method_ == ["predict_proba", "predict_proba"]
    assert list(two_level.named_estimators_) == ["lr", "tree"]
    assert two_level.score(X_test, y_test) > 0.8
    passthrough = StackingRegressor(REG, final_estimator="ridge", passthrough=True, cv=3).fit(
        *load_diabetes(return_X_y=True))
    assert passthrough.final_estimator_.n_features_in_ == 2 + 10


def test_ensembles_compose_with_search_and_cross_validation(iris):
    X, y, _, _ = iris
    search = GridSearchCV(BlendClassifier(CLF[:2], cv=3), {"tree__max_depth": [1, 3]}, cv=3).fit(X, y)
    assert search.best_params_["tree__max_depth"] in (1, 3)
    scores = cross_val_score(EnsembleSelectionRegressor(REG, cv=3, n_iter=5), *load_diabetes(return_X_y=True), cv=3)
    assert scores.shape == (3,) and np.all(scores > 0)


@pytest.mark.parametrize("make", [
    lambda: BlendClassifier(CLF, cv=3),
    lambda: EnsembleSelectionClassifier(CLF, cv=3),
    lambda: StackingClassifier(CLF, cv=3),
])
def test_classifiers_round_trip_through_skops(iris, make):
    X, y, X_test, _ = iris
    model = make().fit(X, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    members_only = {"sklearn.tree._tree.Tree"}
    assert set(untrusted) - members_only <= set(SKOPS_TRUSTED)
    loaded = sio.loads(data, trusted=SKOPS_TRUSTED + sorted(members_only))
    np.testing.assert_allclose(loaded.predict_proba(X_test), model.predict_proba(X_test))


@pytest.mark.parametrize("make", [
    lambda: BlendRegressor([("ols", LinearRegression()), ("ridge", Ridge(alpha=10))], cv=3),
    lambda: EnsembleSelectionRegressor([("ols", LinearRegression()), ("ridge", Ridge(alpha=10))], cv=3),
    lambda: StackingRegressor([("ols", LinearRegression()), ("ridge", Ridge(alpha=10))], cv=3),
])
def test_regressors_round_trip_through_skops(diabetes, make):
    X, y, X_test, _ = diabetes
    model = make().fit(X, y)
    loaded = sio.loads(sio.dumps(model), trusted=SKOPS_TRUSTED)
    np.testing.assert_allclose(loaded.predict(X_test), model.predict(X_test))


def test_from_fitted_blend_round_trips_through_skops(diabetes):
    X, y, X_test, _ = diabetes
    fitted = [LinearRegression().fit(X, y), Ridge().fit(X, y)]
    model = BlendRegressor.from_fitted(["ols", "ridge"], fitted, [0.3, 0.7])
    loaded = sio.loads(sio.dumps(model), trusted=SKOPS_TRUSTED)
    np.testing.assert_allclose(loaded.predict(X_test), model.predict(X_test))
    np.testing.assert_allclose(loaded.weights_, [0.3, 0.7])
