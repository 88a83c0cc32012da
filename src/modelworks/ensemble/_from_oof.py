"""Build ensembles from out-of-fold predictions that were already computed (``run``, the CLI).

``modelworks run`` and ``modelworks compare`` keep each candidate's out-of-fold predictions on
shared folds; here they become blend/selection weights and honest ensemble CV scores without
refitting a single member, and only members with a non-zero weight are fitted at the end.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone

from modelworks.ensemble._blend import BlendClassifier, BlendRegressor
from modelworks.ensemble._losses import CLASSIFICATION
from modelworks.ensemble._selection import EnsembleSelectionClassifier, EnsembleSelectionRegressor
from modelworks.ensemble._weights import (
    blend,
    check_oof,
    cross_fitted_predictions,
    ensemble_selection_weights,
    learn_blend_weights,
)

# (method, is classification) -> estimator class
ESTIMATORS = {
    ("blend", True): BlendClassifier,
    ("blend", False): BlendRegressor,
    ("select", True): EnsembleSelectionClassifier,
    ("select", False): EnsembleSelectionRegressor,
}
LEARN = {"blend": learn_blend_weights, "select": ensemble_selection_weights}


def score_oof(task: str, y, pred, classes=None) -> dict[str, float]:
    """Every metric of :func:`modelworks.metrics.score_predictions` for probabilities or values."""
    from modelworks.metrics import score_predictions

    if task in CLASSIFICATION:
        labels = np.asarray(classes)[np.argmax(pred, axis=1)]
        return score_predictions(task, np.asarray(y), labels, np.asarray(pred), list(classes))
    return score_predictions(task, np.asarray(y), np.asarray(pred))


def score_folds(task: str, y, pred, classes=None, folds=None) -> dict[str, float]:
    """:func:`score_oof` averaged over the validation folds (as the leaderboard averages them)."""
    if not folds:
        return score_oof(task, y, pred, classes)
    y, pred = np.asarray(y), np.asarray(pred)
    per_fold = [score_oof(task, y[v], pred[v], classes) for _, v in folds]
    return {k: float(np.nanmean([s[k] for s in per_fold])) for k in per_fold[0]}


def weights_from_oof(method: str, names, oof, y, task: str, *, classes=None, seed: int = 0,
                     weights=None, folds=None, cv: int = 5) -> dict:
    """Weights on all OOF rows, the in-sample and cross-fitted ensemble OOF predictions.

    Returns ``{"weights", "oof" (in-sample), "oof_cv" (weights learned without the fold scored)}``;
    with given ``weights`` both predictions are the same fixed blend.
    """
    names = list(names)
    P, _, classes = check_oof(oof, y, task, names=names, classes=classes)
    kwargs = {"seed": seed} if method == "select" else {}
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        pred = blend(P, w)
        return {"weights": w, "oof": pred, "oof_cv": pred}
    w = LEARN[method](list(P), y, task, names=names, classes=classes, **kwargs)
    pred_cv = cross_fitted_predictions(list(P), y, task, method=method, folds=folds, cv=cv, seed=seed,
                                       classes=classes)
    return {"weights": w, "oof": blend(P, w), "oof_cv": pred_cv}


def fit_weighted(method: str, names, unfitted, weights, X, y, task: str, *, classes=None, seed: int = 0,
                 prefitted=None):
    """Fit the members with a non-zero weight on ``X, y`` and assemble the fitted ensemble.

    ``unfitted`` maps each name to an unfitted estimator (cloned before fitting); ``prefitted``
    maps names to estimators already fitted on ``X, y`` (used as they are). Returns the ensemble
    (``from_fitted``: its output is the weighted sum of the kept members).
    """
    prefitted = prefitted or {}
    keep = [i for i, w in enumerate(weights) if w > 0]
    if len(keep) < 2:  # an ensemble of one is not an ensemble: keep every member (weight 0 costs nothing)
        keep = list(range(len(weights)))
    kept = [list(names)[i] for i in keep]
    fitted = []
    for name in kept:
        if name in prefitted:
            fitted.append(prefitted[name])
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(clone(unfitted[name]).fit(X, y))
    cls = ESTIMATORS[(method, task in CLASSIFICATION)]
    extra = {"classes": classes} if task in CLASSIFICATION else {}
    return cls.from_fitted(kept, fitted, np.asarray(weights, dtype=float)[keep], random_state=seed, **extra)


def ensemble_label(method: str, names) -> str:
    """``"blend(rf,xgboost,logreg)"``."""
    return f"{method}({','.join(names)})"
