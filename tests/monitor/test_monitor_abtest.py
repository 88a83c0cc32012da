"""A/B comparison of two models: McNemar, paired bootstrap, corrected resampled t-test."""

import json

import numpy as np
import pytest
from scipy import stats

from modelworks.exceptions import ConfigError, MonitorError, UnknownNameError
from modelworks.monitor import compare_estimators, compare_predictions, corrected_ttest


def _labels(rng, n, acc_a, acc_b):
    y = rng.integers(0, 2, n)
    pa = np.where(rng.random(n) < acc_a, y, 1 - y)
    pb = np.where(rng.random(n) < acc_b, y, 1 - y)
    return y, pa, pb


def test_mcnemar_verdict_names_the_better_model_with_points_ci_and_p(rng):
    y, pa, pb = _labels(rng, 2000, 0.80, 0.86)
    res = compare_predictions(y, pa, pb, names=("baseline", "challenger"))
    assert res.better == "challenger" and res.test == "mcnemar chi2"
    assert res.verdict.startswith("challenger is better than baseline: accuracy +")
    assert " points (challenger minus baseline), 95 % CI [" in res.verdict
    lo, hi = res.ci
    assert 0 < lo < res.difference < hi
    assert res.difference == pytest.approx(res.score_b - res.score_a)
    payload = json.loads(json.dumps(res.to_dict()))
    assert (
        payload["details"]["discordant"]
        == payload["details"]["a_only_right"] + payload["details"]["b_only_right"]
    )


def test_mcnemar_uses_the_exact_test_for_few_discordant_pairs_and_its_ci_agrees(rng):
    y = np.ones(200, dtype=int)
    pa, pb = y.copy(), y.copy()
    pa[:7] = 0  # B right where A is wrong 7 times, never the reverse
    res = compare_predictions(y, pa, pb)
    assert res.test == "mcnemar exact"
    assert res.p_value == pytest.approx(stats.binomtest(0, 7, 0.5).pvalue)
    assert (
        res.significant and res.ci[0] > 0
    )  # the interval excludes 0 exactly when the test rejects
    pa[:3] = 0
    pa[3:7] = 1
    pb[7:10] = 0
    even = compare_predictions(y, pa, pb)
    assert not even.significant and even.ci[0] < 0 < even.ci[1]
    assert even.verdict.startswith("No significant difference between A and B")


def test_identical_predictions_are_no_difference(rng):
    y, pa, _ = _labels(rng, 100, 0.8, 0.8)
    res = compare_predictions(y, pa, pa.copy())
    assert res.p_value == 1.0 and res.better is None and res.difference == 0


@pytest.mark.parametrize("metric", ["accuracy", "log_loss", "roc_auc"])
def test_paired_bootstrap_finds_the_better_probabilistic_model(rng, metric, tmp_path):
    n = 1500
    y = rng.integers(0, 2, n)
    good = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, 0.2, n), 0.01, 0.99)
    weak = np.clip(0.5 + (y - 0.5) * 0.2 + rng.normal(0, 0.25, n), 0.01, 0.99)
    if metric == "accuracy":
        pa, pb = (weak > 0.5).astype(int), (good > 0.5).astype(int)
    else:
        pa, pb = weak, good
    res = compare_predictions(y, pa, pb, test="bootstrap", metric=metric, n_boot=500, seed=1)
    assert res.test == "paired bootstrap" and res.better == "B"
    lo, hi = res.ci
    assert lo <= res.difference <= hi
    assert (res.difference > 0) == (metric != "log_loss")  # log-loss: lower is better
    assert res.plot(tmp_path / "boot.png").stat().st_size > 1000


def test_bootstrap_rmse_on_regression_defaults_and_reports_raw_units(rng):
    y = rng.normal(size=800)
    res = compare_predictions(
        y, y + rng.normal(0, 1.0, 800), y + rng.normal(0, 0.6, 800), test="bootstrap", n_boot=400
    )
    assert res.metric == "rmse" and res.better == "B" and res.difference < 0
    assert "rmse -0." in res.verdict and "points" not in res.verdict


def test_bootstrap_ci_covers_zero_when_models_are_exchangeable():
    rng = np.random.default_rng(123)
    covered = 0
    for _ in range(20):
        y, pa, pb = _labels(rng, 400, 0.8, 0.8)
        res = compare_predictions(y, pa, pb, test="bootstrap", n_boot=300, seed=int(rng.integers(1e6)))
        covered += res.ci[0] <= 0 <= res.ci[1]
    assert covered >= 17


def test_errors_for_lengths_labels_nans_and_bad_options(rng):
    y, pa, pb = _labels(rng, 50, 0.8, 0.8)
    with pytest.raises(
        MonitorError, match="predictions of different lengths: y_true has 50, A has 49, B has 50"
    ):
        compare_predictions(y, pa[:-1], pb)
    with pytest.raises(
        MonitorError, match=r"y_true has labels the models never saw: 2 \(the models know: 0, 1\)"
    ):
        compare_predictions(np.r_[y[:-1], 2], pa, pb, labels=[0, 1])
    with pytest.raises(MonitorError, match="B contains missing values"):
        compare_predictions(y.astype(float), pa.astype(float), np.r_[pb[:-1], np.nan].astype(float))
    with pytest.raises(UnknownNameError, match="unknown test 'ttest'"):
        compare_predictions(y, pa, pb, test="ttest")
    with pytest.raises(UnknownNameError, match="unknown metric 'f1'"):
        compare_predictions(y, pa, pb, test="bootstrap", metric="f1")
    with pytest.raises(
        ConfigError, match="McNemar's test compares accuracy; for 'rmse' use test='bootstrap'"
    ):
        compare_predictions(y, pa, pb, metric="rmse")


def test_corrected_t_test_inflates_the_variance_for_overlapping_training_sets():
    d = np.array([0.02, 0.01, 0.03, 0.015, 0.025, 0.0, 0.02, 0.01, 0.03, 0.02])
    res = corrected_ttest(d, n_train=900, n_test=100)
    naive = stats.ttest_1samp(d, 0.0)
    se = np.sqrt((1 / 10 + 100 / 900) * d.var(ddof=1))
    assert res["t"] == pytest.approx(d.mean() / se)
    assert res["p_value"] == pytest.approx(2 * stats.t.sf(abs(d.mean() / se), 9))
    assert res["p_value"] > naive.pvalue  # the plain paired t-test is too liberal


def test_compare_cv_uses_the_same_folds_and_finds_the_better_model():
    from sklearn.datasets import load_breast_cancer
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    res = compare_estimators(
        DummyClassifier(),
        DecisionTreeClassifier(max_depth=3, random_state=0),
        X,
        y,
        cv=3,
        repeats=2,
        names=("dummy", "tree"),
    )
    assert res.better == "tree" and res.details["splits"] == 6
    assert len(res.details["scores_a"]) == 6
    assert res.verdict.startswith("tree is better than dummy: accuracy +")
    assert "Nadeau-Bengio" in res.verdict
    # comparing a model with itself on the same folds: zero differences
    same = compare_estimators(DummyClassifier(), DummyClassifier(), X, y, cv=3, repeats=1)
    assert same.p_value == 1.0 and same.better is None


def test_mcnemar_interval_covers_the_true_accuracy_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    n, trials, covered = 150, 400, 0
    # per row: A right / B right with a true accuracy difference of +4 points and few discordant pairs
    probs = [0.82, 0.03, 0.07, 0.08]  # both right, only A, only B, both wrong
    true_diff = probs[2] - probs[1]
    for _ in range(trials):
        cell = rng.choice(4, n, p=probs)
        y = np.ones(n, dtype=int)
        pa = np.where((cell == 0) | (cell == 1), 1, 0)
        pb = np.where((cell == 0) | (cell == 2), 1, 0)
        lo, hi = compare_predictions(y, pa, pb).ci
        covered += lo <= true_diff <= hi
    assert 0.92 <= covered / trials <= 0.99
