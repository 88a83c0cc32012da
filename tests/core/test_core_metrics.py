"""Metrics: scikit-learn's conventions, labels of any type, and errors instead of silent NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer

import modelworks
from modelworks.metrics import MetricError, bootstrap_ci, score_predictions


def _cancer01():
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "malignant"})
    assert pd.api.types.is_integer_dtype(frame["malignant"])  # coded 0/1, the common case
    return frame


def test_compare_with_a_target_coded_0_1_scores_every_label_metric():
    frame = _cancer01()
    comparison = modelworks.rank_models(frame, "malignant", models=["logreg"], cv=3)
    row = comparison.leaderboard.iloc[0]
    for metric in ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier"):
        assert np.isfinite(row[f"{metric}_mean"]), metric
    # the fold scores agree with scikit-learn on the out-of-fold predictions
    proba = comparison.oof["logreg"]
    y = frame["malignant"].to_numpy()
    pred = np.asarray(comparison.classes)[proba.argmax(axis=1)]
    assert skm.accuracy_score(y, pred) == pytest.approx(row["accuracy_mean"], abs=0.02)
    assert row["accuracy_mean"] > 0.9


def test_integer_truth_with_object_predictions_is_compared_as_labels():
    y = np.array([0, 1, 1, 0, 1, 0])
    pred = np.array([0, 1, 0, 0, 1, 1], dtype=object)
    proba = np.array([[.8, .2], [.3, .7], [.6, .4], [.9, .1], [.2, .8], [.4, .6]])
    scores = score_predictions("binary", y, pred, proba, [0, 1])
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["f1"] == pytest.approx(skm.f1_score(y, pred.astype(int)))
    # text truth from a CSV against integer classes
    scores_text = score_predictions("binary", y.astype(str), pred, proba, [0, 1])
    assert scores_text == pytest.approx(scores)


def test_brier_follows_scikit_learn_binary_and_multiclass():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p1 = rng.uniform(size=200)
    proba = np.column_stack([1 - p1, p1])
    got = score_predictions("binary", y, (p1 > 0.5).astype(int), proba, [0, 1])["brier"]
    assert got == pytest.approx(skm.brier_score_loss(y, p1))  # not the two-class sum (twice that)

    y3 = np.array(["a", "b", "c"])[rng.integers(0, 3, 200)]
    raw = rng.uniform(size=(200, 3))
    proba3 = raw / raw.sum(axis=1, keepdims=True)
    got3 = score_predictions("multiclass", y3, np.array(["a", "b", "c"])[proba3.argmax(1)], proba3,
                             ["a", "b", "c"])["brier"]
    onehot = (y3[:, None] == np.array(["a", "b", "c"])[None, :]).astype(float)
    assert got3 == pytest.approx(np.mean(np.sum((proba3 - onehot) ** 2, axis=1)))
    assert got3 == pytest.approx(skm.brier_score_loss(y3, proba3, labels=["a", "b", "c"]))


def test_a_metric_that_cannot_be_computed_is_an_error_not_nan():
    y = np.array([1, 1, 1, 1])
    proba = np.array([[.2, .8], [.3, .7], [.6, .4], [.1, .9]])
    with pytest.raises(MetricError, match="roc_auc"):
        score_predictions("binary", y, np.array([1, 1, 0, 1]), proba, [0, 1])
    with pytest.raises(MetricError, match="rmse.*NaN"):
        score_predictions("regression", np.array([1.0, 2.0]), np.array([np.nan, 1.0]))


def test_without_probabilities_the_probability_metrics_are_left_out():
    scores = score_predictions("binary", np.array([0, 1, 1]), np.array([0, 1, 0]), None, [0, 1])
    assert set(scores) == {"accuracy", "balanced_accuracy", "f1"}
    assert all(np.isfinite(v) for v in scores.values())
    ci = bootstrap_ci("binary", np.array([0, 1, 1, 0] * 5), np.array([0, 1, 0, 0] * 5), None, [0, 1], n_boot=50)
    assert set(ci) == {"accuracy", "balanced_accuracy", "f1"}
