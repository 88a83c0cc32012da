"""The final model: greedy ensemble selection over the search's out-of-fold predictions, or the best single.

The weights come from :func:`modelworks.ensemble._weights.ensemble_selection_weights` (Caruana et
al. 2004) on the rows every candidate predicted out of fold. The ensemble's own score is
cross-fitted on the same score groups as the candidates (the weights used on a group are learned
on the other groups) and compared, paired per group, with picking the best single model the same
way (a plain best CV score is the maximum over many candidates and flatters the single model).
It is adopted only when its mean gain is larger than ``MIN_GAIN`` and than its own standard error
(more than noise).
The model ``run`` scores on its held-out split needs no fit: on k-fold, the members' fold models
averaged (:func:`fold_bag`, each fitted on (k-1)/k of the training split); on a holdout, the members
as fitted on the holdout's training rows (as AutoGluon does). The package then gets the same
recipe refit on all rows when the time left pays for it (``search._workflow.refit_step``).
"""

from __future__ import annotations

import warnings

import numpy as np

from modelworks.search._plan import CostModel
from modelworks.search._search import SAFETY, SearchResult, _score_groups

POOL = 10  # best candidates offered to the selection
N_ITER = 25
MIN_GAIN = 1e-4


def _positions(rows: np.ndarray, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    """Score groups as (train, valid) positions inside ``rows`` (for cross-fitting the weights)."""
    all_pos = np.arange(len(rows))
    out = []
    for g in groups:
        valid = np.searchsorted(rows, g)
        out.append((np.setdiff1d(all_pos, valid), valid))
    return out


def select_ensemble(res: SearchResult, y, *, seed: int = 0) -> dict:
    """Weights, cross-fitted group scores and the verdict against the best single candidate."""
    from modelworks.ensemble._weights import cross_fitted_predictions, ensemble_selection_weights

    ranked = [e for e in res.ranked() if np.isfinite(e.scores[res.metric])]
    if res.task != "regression":
        ranked = [e for e in ranked if hasattr(e.pipeline, "predict_proba")]
    pool = ranked[:POOL]
    if len(pool) < 2:
        return {"adopted": False, "reason": f"an ensemble needs 2 candidates with out-of-fold predictions, "
                                            f"found {len(pool)}"}
    rows = res.plan.rows
    y_rows = np.asarray(y)[rows]
    P = [e.oof[rows] for e in pool]
    names = [e.name for e in pool]
    kwargs = {"classes": res.classes} if res.classes is not None else {}
    # the selection minimises the log-loss (classification) or RMSE: smooth, and 100x cheaper than a
    # greedy ROC AUC; the verdict below is in the ranking metric
    w = ensemble_selection_weights(P, y_rows, res.task, n_iter=N_ITER, seed=seed, names=names, **kwargs)
    folds = _positions(rows, res.plan.groups)
    groups = [v for _, v in folds]
    pred = cross_fitted_predictions(P, y_rows, res.task, method="select", folds=folds, seed=seed,
                                    n_iter=N_ITER, **kwargs)
    frame = _score_groups(res.task, y_rows, pred, res.classes, groups)
    ens = frame[res.metric].to_numpy(dtype=float)
    # the best single model, chosen the same honest way (on the other groups): one greedy pick.
    # Its plain CV score is the maximum over many candidates and flatters it (winner's curse).
    single = cross_fitted_predictions(P, y_rows, res.task, method="select", folds=folds, seed=seed,
                                      n_iter=1, **kwargs)
    single_scores = _score_groups(res.task, y_rows, single, res.classes, groups)[res.metric].to_numpy(float)
    best = pool[0]
    sign = 1.0 if res.higher_is_better else -1.0
    diffs = sign * (ens - single_scores)
    gain = float(np.nanmean(diffs))
    se = float(np.nanstd(diffs, ddof=1) / np.sqrt(max(len(diffs), 1))) if len(diffs) > 1 else 0.0
    threshold = max(MIN_GAIN * max(1.0, abs(best.scores[res.metric])), se)
    weights = {n: float(x) for n, x in zip(names, w) if x > 0}
    out = {"members": names, "weights": weights, "score": float(np.nanmean(ens)), "group_scores": ens,
           "best_single": best.name, "best_single_score": best.scores[res.metric],
           "best_single_cross_fitted": float(np.nanmean(single_scores)), "gain": gain,
           "gain_se": se, "adopted": bool(gain > threshold and len(weights) >= 2),
           "scores": {c: float(np.nanmean(frame[c])) for c in frame.columns},
           "stds": {c: float(np.nanstd(frame[c], ddof=1)) for c in frame.columns}}
    if out["adopted"]:
        out["reason"] = (f"greedy ensemble selection beats picking the best single model by {gain:+.4g} "
                         f"{res.metric} (both chosen without the rows they are scored on; standard error {se:.2g})")
    elif len(weights) < 2:
        out["reason"] = f"greedy ensemble selection kept only {best.name}"
    else:
        out["reason"] = (f"greedy ensemble selection ({res.metric} {out['score']:.4f}) does not beat picking "
                         f"the best single model ({out['best_single_cross_fitted']:.4f}; both chosen without the "
                         f"rows they are scored on) by more than noise (gain {gain:+.2g}, needs > {threshold:.2g})")
    return out


def refit_seconds(res: SearchResult, cost: CostModel, names: list[str], n_rows: int, *,
                  reuse_holdout: bool = True) -> float:
    """Estimated seconds to refit ``names`` on ``n_rows`` rows (0 on a holdout when its models are reused)."""
    if res.plan.kind == "holdout" and reuse_holdout:
        return 0.0
    by_name = {e.name: e for e in res.entries}
    total = 0.0
    for n in names:
        total += by_name[n].seconds_for(n_rows) * SAFETY
    return total


def fold_bag(res: SearchResult, names: list[str], weights, *, seed: int = 0):
    """The members' cross-validation fold models, averaged (weights split evenly over each member's
    folds): a fitted final model without any fit. None unless every member kept its k fold models."""
    from modelworks.ensemble import BlendClassifier, BlendRegressor
    from modelworks.ensemble._selection import (
        EnsembleSelectionClassifier,
        EnsembleSelectionRegressor,
    )

    if res.plan.kind != "kfold":
        return None
    k = len(res.plan.folds)
    by_name = {e.name: e for e in res.entries}
    if any(len(by_name[n].fold_models) != k for n in names):
        return None
    labels = [f"{n}#fold{i + 1}" for n in names for i in range(k)]
    fitted = [m for n in names for m in by_name[n].fold_models]
    w = np.repeat(np.asarray(weights, dtype=float) / k, k)
    if len(names) > 1:
        cls = EnsembleSelectionRegressor if res.task == "regression" else EnsembleSelectionClassifier
    else:
        cls = BlendRegressor if res.task == "regression" else BlendClassifier
    extra = {"classes": res.classes} if res.classes is not None else {}
    return cls.from_fitted(labels, fitted, w, random_state=seed, **extra)


def fit_final(res: SearchResult, X, y, *, ensemble: dict | None, seed: int = 0, left: float | None = None,
              reuse_holdout: bool = True, bag: bool = False):
    """Fit the final model; returns (model, name, note). Falls back to the best single when time is short.

    On a holdout plan the members fitted on the holdout's training rows are reused unless
    ``reuse_holdout=False`` (the refit on all rows). With ``bag=True`` on a k-fold plan the
    members' fold models, averaged, are the model (:func:`fold_bag`: no fit); the name stays the
    recipe's.
    """
    from sklearn.base import clone

    from modelworks.ensemble._from_oof import ensemble_label
    from modelworks.ensemble._selection import (
        EnsembleSelectionClassifier,
        EnsembleSelectionRegressor,
    )

    by_name = {e.name: e for e in res.entries}
    best = res.ranked()[0]
    note = None
    adopted = bool(ensemble and ensemble.get("adopted"))
    if bag:
        names = list(ensemble["weights"]) if adopted else [best.name]
        weights = [ensemble["weights"][n] for n in names] if adopted else [1.0]
        model = fold_bag(res, names, weights, seed=seed)
        if model is not None:
            return model, ensemble_label("select", names) if adopted else best.name, None
    if adopted:
        names = list(ensemble["weights"])
        need = refit_seconds(res, None, names, len(X))
        if left is None or need <= left:
            weights = np.asarray([ensemble["weights"][n] for n in names])
            if res.plan.kind == "holdout" and reuse_holdout:
                fitted = [by_name[n].fold_models[0] for n in names]
            else:
                fitted = []
                for n in names:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fitted.append(clone(by_name[n].pipeline).fit(X, y))
            cls = EnsembleSelectionRegressor if res.task == "regression" else EnsembleSelectionClassifier
            extra = {"classes": res.classes} if res.classes is not None else {}
            model = cls.from_fitted(names, fitted, weights, random_state=seed, **extra)
            return model, ensemble_label("select", names), note
        note = (f"the ensemble would win but refitting its {len(names)} members needs ~{need:.0f} s and "
                f"{left:.0f} s remain; kept the best single model")
    if res.plan.kind == "holdout" and reuse_holdout:
        return best.fold_models[0], best.name, note
    need = refit_seconds(res, None, [best.name], len(X))
    averaged = fold_bag(res, [best.name], [1.0], seed=seed) if left is not None and need > left else None
    if averaged is not None:  # no time to refit: the k fold models, averaged, are the final model
        k = len(res.plan.folds)
        return averaged, f"{best.name} ({k} fold models averaged)", (
            f"refitting {best.name} on all rows needs ~{need:.0f} s and {left:.0f} s remain: its {k} "
            "cross-validation fold models, averaged, are the final model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = clone(best.pipeline).fit(X, y)
    return model, best.name, note
