"""Weights from out-of-fold predictions: constrained blend optimisation and greedy selection."""

from __future__ import annotations

import numpy as np
import pytest

from modelworks.ensemble import (
    cross_fitted_predictions,
    ensemble_selection_weights,
    learn_blend_weights,
)
from modelworks.exceptions import EnsembleError, UnknownNameError


def _log_loss(y, P):
    return -np.mean(np.log(np.clip(P[np.arange(len(y)), y], 1e-15, 1)))


@pytest.fixture
def regression_oof(rng):
    """Two members whose errors are independent: the best blend mixes them ~ by inverse variance."""
    y = rng.normal(size=2000)
    a = y + rng.normal(scale=1.0, size=y.size)  # variance 1
    b = y + rng.normal(scale=2.0, size=y.size)  # variance 4: optimal weights 0.8 / 0.2
    junk = a + rng.normal(size=y.size)  # a's errors plus more: adds nothing, weight 0
    return y, [a, b, junk]


def test_learned_regression_weights_are_the_inverse_variance_mix(regression_oof):
    y, oof = regression_oof
    w = learn_blend_weights(oof, y, "regression")
    assert w.shape == (3,)
    assert w.sum() == pytest.approx(1.0)
    assert np.all(w >= 0)
    assert w[0] == pytest.approx(0.8, abs=0.05)
    assert w[1] == pytest.approx(0.2, abs=0.05)
    assert w[2] < 0.02


def test_learned_regression_weights_do_not_depend_on_target_units(regression_oof):
    y, oof = regression_oof
    w = learn_blend_weights(oof, y, "regression")
    w_big = learn_blend_weights([p * 1e4 + 3e5 for p in oof], y * 1e4 + 3e5, "regression")
    np.testing.assert_allclose(w, w_big, atol=0.02)


def test_learned_classifier_weights_minimise_log_loss_over_the_simplex(rng):
    n, k = 600, 3
    y = rng.integers(0, k, n)
    good = np.full((n, k), 0.1)
    good[np.arange(n), y] = 0.8
    flipped = np.roll(good, 1, axis=1)  # confidently wrong
    noisy = rng.dirichlet(np.ones(k), size=n)
    oof = [noisy, good, flipped]
    w = learn_blend_weights(oof, y, "multiclass")
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    assert w[2] == 0.0
    blended = sum(wi * p for wi, p in zip(w, oof))
    best_single = min(_log_loss(y, p) for p in oof)
    assert _log_loss(y, blended) <= best_single + 1e-9
    # no point on a grid of the simplex does better
    for a in np.linspace(0, 1, 11):
        for b in np.linspace(0, 1 - a, 11):
            assert _log_loss(y, blended) <= _log_loss(y, a * noisy + b * good + (1 - a - b) * flipped) + 1e-6


def test_string_labels_are_matched_to_given_classes(rng):
    y = np.array(["no", "yes"] * 50)
    right = np.where((y == "yes")[:, None], [0.2, 0.8], [0.8, 0.2])
    wrong = right[:, ::-1]
    w = learn_blend_weights([wrong, right], y, "binary", classes=["no", "yes"])
    assert w[1] == pytest.approx(1.0)


def test_selection_starts_with_the_best_member_and_weights_are_pick_shares(regression_oof):
    y, oof = regression_oof
    w, history = ensemble_selection_weights(oof, y, "regression", n_iter=20, return_history=True)
    assert len(history) == 20
    size = int(np.argmin(history)) + 1
    np.testing.assert_allclose(w * size, np.round(w * size))  # multiples of 1/size
    assert w.sum() == pytest.approx(1.0)
    assert w[0] > w[1] > 0 and w[2] == 0
    single = [np.sqrt(np.mean((p - y) ** 2)) for p in oof]
    assert history[0] == pytest.approx(min(single))
    assert min(history) <= min(single)


def test_selection_is_reproducible_for_a_seed(regression_oof):
    y, oof = regression_oof
    oof = oof + [oof[0].copy()]  # exact ties between member 0 and 3
    a = ensemble_selection_weights(oof, y, "regression", seed=1)
    b = ensemble_selection_weights(oof, y, "regression", seed=1)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("metric", ["log_loss", "brier", "accuracy", "roc_auc"])
def test_selection_accepts_every_classification_metric(rng, metric):
    y = rng.integers(0, 2, 200)
    p1 = np.clip(y + rng.normal(0, 0.4, 200), 0.01, 0.99)
    p2 = np.clip(y + rng.normal(0, 0.6, 200), 0.01, 0.99)
    oof = [np.c_[1 - p1, p1], np.c_[1 - p2, p2]]
    w = ensemble_selection_weights(oof, y, "binary", metric=metric, n_iter=10)
    assert w.sum() == pytest.approx(1.0)


def test_cross_fitted_predictions_cover_every_row(regression_oof):
    y, oof = regression_oof
    pred = cross_fitted_predictions(oof, y, "regression", method="blend", cv=4)
    assert pred.shape == y.shape
    in_sample = sum(w * p for w, p in zip(learn_blend_weights(oof, y, "regression"), oof))
    # weights learned without the scored fold are close to, but not exactly, the in-sample blend
    assert 0 < np.abs(pred - in_sample).max() < 0.5


def test_fewer_than_two_members_is_refused(rng):
    with pytest.raises(EnsembleError, match="at least 2 members, got 1"):
        learn_blend_weights([rng.normal(size=10)], rng.normal(size=10), "regression")


def test_regression_predictions_for_a_classification_task_are_refused(rng):
    y = rng.integers(0, 2, 50)
    with pytest.raises(EnsembleError, match="member 'ridge'.*different task"):
        learn_blend_weights([rng.random((50, 2)), rng.random(50)], y, "binary", names=["rf", "ridge"])


def test_probabilities_for_a_regression_task_are_refused(rng):
    with pytest.raises(EnsembleError, match="member 'rf'.*one value per row.*different task"):
        learn_blend_weights([rng.random((50, 3)), rng.random(50)], rng.random(50), "regression", names=["rf", "b"])


def test_wrong_number_of_rows_or_classes_is_refused(rng):
    y = rng.integers(0, 3, 50)
    with pytest.raises(EnsembleError, match="predicts 2 classes but the target has 3"):
        learn_blend_weights([rng.random((50, 3)), rng.random((50, 2))], y, "multiclass")
    with pytest.raises(EnsembleError, match="40 out-of-fold predictions but the target has 50"):
        learn_blend_weights([rng.random((50, 3)), rng.random((40, 3))], y, "multiclass")


def test_nan_predictions_are_refused(rng):
    bad = rng.random(20)
    bad[3] = np.nan
    with pytest.raises(EnsembleError, match="NaN or infinite"):
        learn_blend_weights([rng.random(20), bad], rng.random(20), "regression")


def test_unknown_metric_and_task_are_refused(rng):
    y = rng.random(20)
    with pytest.raises(UnknownNameError, match="unknown ensemble metric 'auc'.*rmse"):
        ensemble_selection_weights([y, y], y, "regression", metric="auc")
    with pytest.raises(EnsembleError, match="'log_loss' does not apply to regression"):
        ensemble_selection_weights([y, y], y, "regression", metric="log_loss")
    with pytest.raises(EnsembleError, match="task must be one of"):
        learn_blend_weights([y, y], y, "ranking")
    with pytest.raises(EnsembleError, match="n_iter must be a whole number"):
        ensemble_selection_weights([y, y], y, "regression", n_iter=0)
