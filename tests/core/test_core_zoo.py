"""Every zoo model is a scikit-learn estimator that passes scikit-learn's own checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from modelworks.models import ZOO, default_space, get_model, list_models

_SMALL = {"n_estimators": 5, "max_iter": 50}

# Checks the wrapped library itself fails with the zoo's settings (modelworks adds no code to
# these estimators except XGBClassifier's label encoding). Reason beside each.
_LIB = "behaviour of the underlying library, not of modelworks"
_KNOWN_FAILURES = {
    "XGBClassifier": dict.fromkeys([
        "check_classifiers_multilabel_output_format_decision_function",
        "check_classifiers_multilabel_output_format_predict",
        "check_classifiers_multilabel_output_format_predict_proba",
        "check_classifiers_multilabel_representation_invariance",
        "check_dont_overwrite_parameters", "check_estimators_overwrite_params",
    ], "xgboost: sets attributes in fit that sklearn counts as overwritten params; no multilabel"),
    "LGBMClassifier": dict.fromkeys(["check_all_zero_sample_weights_error", "check_no_attributes_set_in_init"], _LIB),
    "SVC": {"check_estimators_pickle": "probability=True: Platt scaling's internal CV is not bit-reproducible"},
    "Ridge": {"check_non_transformer_estimators_n_iter": _LIB},
    "RidgeClassifier": {"check_non_transformer_estimators_n_iter": _LIB},
    "LogisticRegression": {"check_class_weight_classifiers": "L1 (saga) at default C: " + _LIB},
    "MLPClassifier": dict.fromkeys([
        "check_classifiers_one_label", "check_estimators_nan_inf", "check_estimators_partial_fit_n_features",
        "check_fit2d_1feature", "check_fit_score_takes_y", "check_n_features_in_after_fitting",
        "check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data",
    ], "early_stopping=True needs a validation split the checks' tiny data cannot give"),
    "MLPRegressor": dict.fromkeys([
        "check_estimators_nan_inf", "check_estimators_partial_fit_n_features", "check_fit2d_1feature",
        "check_fit_score_takes_y", "check_n_features_in_after_fitting", "check_regressors_no_decision_function",
        "check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data",
    ], "early_stopping=True needs a validation split the checks' tiny data cannot give"),
}
for _keras in ("KerasMLPClassifier", "KerasMLPRegressor"):
    _KNOWN_FAILURES[_keras] = dict.fromkeys(
        ["check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data"],
        "mini-batch SGD: weighting a row is not the same as repeating it (batches and steps differ)",
    )


# CatBoost does not follow scikit-learn's input-validation conventions (about 20 of the checks:
# no NotFittedError, no ValueError on 1-D/empty/complex/sparse input or a continuous target, no
# n_features_in_ check): modelworks only feeds it through its own pipelines, which validate the
# input first. Its behaviour in the zoo and the search is tested in test_core_catboost.py.
_NOT_SKLEARN_CHECKED = {"catboost"}


def _zoo_estimators():
    out = []
    for name, entry in ZOO.items():
        for task in ("binary", "regression"):
            if not entry.supports(task) or name in ("lightgbm", "xgboost") and task == "regression":
                continue
            if name in _NOT_SKLEARN_CHECKED or not entry.available():
                continue
            est = get_model(name, task, seed=0)
            small = {k: v for k, v in _SMALL.items() if k in est.get_params()}
            if "max_iter" in small and not type(est).__name__.startswith(("MLP", "HistGradient")):
                del small["max_iter"]  # linear solvers' max_iter only bounds convergence
            est.set_params(**small)
            out.append(est)
    return out


def _expected(est):
    from sklearn.utils._test_common.instance_generator import _get_expected_failed_checks

    expected = dict(_get_expected_failed_checks(est))  # what scikit-learn's own test suite expects
    expected.update(_KNOWN_FAILURES.get(type(est).__name__, {}))
    return expected


@pytest.mark.slow
@parametrize_with_checks(_zoo_estimators(), expected_failed_checks=_expected)
def test_zoo_model_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_every_zoo_model_builds_for_each_task_it_supports():
    for task in ("binary", "multiclass", "regression"):
        for name in list_models(task):
            est = get_model(name, task)
            assert hasattr(est, "fit") and hasattr(est, "get_params")
            for key in default_space(name, task):
                assert key in est.get_params(), f"{name}: space key {key} is not a parameter"


def test_rf_space_is_the_chapter_grid():
    assert default_space("rf", "binary") == {
        "n_estimators": [50, 100, 200], "max_depth": [3, 5, 7, None], "min_samples_split": [2, 5, 10],
    }


def test_xgboost_classifier_accepts_text_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    model = get_model("xgboost", "binary").set_params(n_estimators=10).fit(X, y)
    assert list(model.classes_) == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}
    assert (model.predict(X) == y).mean() > 0.9


def test_xgboost_classifier_decodes_labels_but_not_margins():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = np.where(X["a"] + 0.3 * rng.normal(size=200) > 0, "yes", "no")
    model = get_model("xgboost", "binary", seed=0).set_params(n_estimators=20).fit(X, y)
    assert set(model.predict(X)) <= {"yes", "no"}
    margin = model.predict(X, output_margin=True)
    assert margin.dtype.kind == "f" and len(np.unique(margin)) > 2  # real margins, not class codes
    proba = model.predict_proba(X)[:, 1]
    assert np.allclose(1 / (1 + np.exp(-margin)), proba, atol=1e-5)
