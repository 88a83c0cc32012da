"""The ensemble step of ``modelworks run``: blend or select the best candidates when it pays.

From the out-of-fold predictions ``compare`` already made (``ctx.oof``) of the top leaderboard
candidates, it learns a blend (constrained optimisation) and a greedy selection. Each
ensemble's cross-validated score is *cross-fitted*: for every fold the weights are learned on
the other folds' out-of-fold rows, so choosing weights does not flatter the score. Scores are
averaged over the folds, like the leaderboard. A model an earlier step chose (the tuned one) is
cross-validated on the same folds and joins the pool. If the better ensemble beats the best single
model, its members are fitted on the training split and it becomes ``ctx.final_model``. The test
split is never used.
"""

from __future__ import annotations

import time

import numpy as np

from modelworks.ensemble._from_oof import (
    ensemble_label,
    fit_weighted,
    score_folds,
    weights_from_oof,
)
from modelworks.ensemble._losses import CLASSIFICATION

MAX_MEMBERS = 5
MIN_GAIN = 1e-4  # an ensemble must beat the best single model by this share of its score (at least 1e-4)
METHODS = {"blend": "learned blend (non-negative weights summing to 1, optimised on OOF)",
           "select": "greedy ensemble selection with replacement (Caruana et al. 2004)"}


def _fit_time(ctx, names) -> float:
    """Seconds to fit ``names`` once, from the comparison's mean fold fit times."""
    board = ctx.leaderboard
    if board is None or "fit_time_s" not in getattr(board, "columns", []):
        return 0.0
    times = dict(zip(board["model"], board["fit_time_s"]))
    return float(sum(times.get(n, 0.0) for n in names))


def _classes(ctx):
    from modelworks._compare import class_labels

    return class_labels(ctx.y_train)


def _oof_of(estimator, ctx, folds, classes):
    """Out-of-fold predictions of an unfitted estimator on ``ctx.folds`` (as compare makes them)."""
    import warnings

    from sklearn.base import clone

    from modelworks._compare import _aligned_proba

    X, y = ctx.X_train, ctx.y_train
    out = np.zeros((len(y), len(classes))) if ctx.task in CLASSIFICATION else np.zeros(len(y))
    for train_idx, valid_idx in folds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = clone(estimator).fit(X.iloc[train_idx], y.iloc[train_idx])
        Xv = X.iloc[valid_idx]
        out[valid_idx] = _aligned_proba(model, Xv, classes) if ctx.task in CLASSIFICATION else model.predict(Xv)
    return out


def _tuned_pool(ctx, folds, classes, oof, candidates, notes) -> dict:
    """Bring a model an earlier step chose (e.g. the tuned one) into the pool, with its OOF.

    Returns ``{name: fitted model}`` for members that need no refit.
    """
    name, model = ctx.final_name, ctx.final_model
    if model is None or not name or name in oof:
        return {}
    from sklearn.base import clone

    base = name.removesuffix(" (tuned)")
    need = _fit_time(ctx, [base]) * max(len(folds), 1) * 1.5
    left = ctx.remaining()
    if left is not None and need > 0.3 * left:
        notes.append(f"'{name}' (chosen by an earlier step) has no out-of-fold predictions and there is no "
                     f"time to compute them (~{need:.0f} s); it is not a member, and no ensemble replaces it.")
        return {"__blocked__": model}
    try:
        oof[name] = _oof_of(model, ctx, folds, classes)
    except Exception as e:  # an odd model must not cost the step
        notes.append(f"could not cross-validate '{name}' ({type(e).__name__}: {e}); no ensemble replaces it.")
        return {"__blocked__": model}
    candidates[name] = clone(model)
    return {name: model}


def step(ctx) -> None:
    """Learn a blend and a selection on ``ctx.oof``; adopt the better one if it beats the best model.

    Reads ``task, leaderboard, candidates, oof, folds, X_train, y_train, seed, cv, report,
    remaining()`` and, when an earlier step (tuning) set it, ``final_model``/``final_name``: that
    model is cross-validated on the same folds and joins the pool. Writes
    ``ctx.results["ensemble"]``, one report section, and (when an ensemble wins)
    ``ctx.final_model`` / ``ctx.final_name``. ``ctx.oof`` and ``ctx.candidates`` are not modified.
    """
    from modelworks._compare import make_folds
    from modelworks.metrics import PRIMARY_KEY

    t0 = time.monotonic()
    task = ctx.task
    metric, higher = PRIMARY_KEY[task]
    sign = 1.0 if higher else -1.0
    sec = ctx.report.section("Ensemble", order=35) if ctx.report is not None else None
    result: dict = {"metric": metric, "higher_is_better": higher, "adopted": False}
    ctx.results["ensemble"] = result
    notes: list[str] = []

    def note(msg: str) -> None:
        result["reason"] = msg
        if sec is not None:
            for extra in notes:
                sec.warning(extra)
            sec.text(msg)

    y = np.asarray(ctx.y_train)
    classes = _classes(ctx) if task in CLASSIFICATION else None
    folds = list(ctx.folds) or make_folds(ctx.y_train, task, ctx.cv, ctx.seed)
    oof = {str(k): np.asarray(v, dtype=float) for k, v in ctx.oof.items()}
    candidates = dict(ctx.candidates)
    prefitted = _tuned_pool(ctx, folds, classes, oof, candidates, notes)
    blocked = prefitted.pop("__blocked__", None) is not None

    def primary(pred) -> float:
        """The ranking metric, averaged over the folds like the leaderboard."""
        return score_folds(task, y, pred, classes, folds)[metric]

    pool = [n for n in oof if n in candidates]
    no_proba = []
    if task in CLASSIFICATION:
        no_proba = [n for n in pool if not hasattr(candidates[n], "predict_proba")]
        pool = [n for n in pool if n not in no_proba]
    single_scores = {n: primary(oof[n]) for n in pool}
    ranked = sorted(pool, key=lambda n: -sign * single_scores[n])
    members = ranked[:int(ctx.options.get("ensemble_size", MAX_MEMBERS))]
    result["members"] = members
    if len(members) < 2:
        note(f"No ensemble: it needs at least 2 candidates with out-of-fold predictions, found {len(members)}"
             + (f" ({', '.join(no_proba)} cannot predict probabilities)" if no_proba else "") + ".")
        return
    best_single = ranked[0]
    built = {}
    for method in METHODS:
        out = weights_from_oof(method, members, [oof[n] for n in members], y, task, classes=classes,
                               seed=ctx.seed, folds=folds)
        built[method] = {"weights": out["weights"], "score_in_sample": primary(out["oof"]),
                         "score_cv": primary(out["oof_cv"])}
    best_method = max(built, key=lambda m: sign * built[m]["score_cv"])
    best = built[best_method]
    gain = sign * (best["score_cv"] - single_scores[best_single])
    weights = best["weights"]
    kept = [n for n, w in zip(members, weights) if w > 0]
    member_scores = {n: single_scores[n] for n in members}
    result.update({
        "best_single": best_single,
        "best_single_score": single_scores[best_single],
        "member_scores": member_scores,
        "ensembles": {m: {"weights": dict(zip(members, map(float, b["weights"]))),
                          "score_cv": b["score_cv"], "score_in_sample": b["score_in_sample"]}
                      for m, b in built.items()},
        "best_method": best_method,
        "gain": gain,
    })
    if sec is not None:
        _report(ctx, sec, members, member_scores, built, metric, higher, best_single, single_scores)
    if blocked:
        note(f"Kept '{ctx.final_name}': it could not be compared with the ensembles on the same folds.")
        return
    threshold = MIN_GAIN * max(1.0, abs(single_scores[best_single]))
    if gain <= threshold or len(kept) < 2:
        note(f"Kept the single model: the best ensemble ({best_method}, {metric} {best['score_cv']:.4f} "
             f"cross-fitted) does not beat {best_single} ({single_scores[best_single]:.4f}) "
             f"by more than {threshold:.2g}.")
        return
    need = _fit_time(ctx, [n for n in kept if n not in prefitted]) * 1.5
    left = ctx.remaining()
    if left is not None and need > left:
        note(f"The {best_method} ensemble would win (+{gain:.4f} {metric}) but fitting its members "
             f"needs about {need:.0f} s and {left:.0f} s remain; kept the single model.")
        return
    model = fit_weighted(best_method, members, candidates, weights, ctx.X_train, ctx.y_train, task,
                         classes=classes, seed=ctx.seed, prefitted=prefitted)
    ctx.final_model = model
    ctx.final_name = ensemble_label(best_method, model.names_)
    result.update({"adopted": True, "final_name": ctx.final_name,
                   "final_weights": dict(zip(model.names_, map(float, model.weights_)))})
    note(f"Adopted {ctx.final_name}: cross-fitted {metric} {best['score_cv']:.4f} vs "
         f"{single_scores[best_single]:.4f} for {best_single} ({'+' if higher else '-'}{abs(gain):.4f}). "
         f"Members refitted on the training split; weights: "
         + ", ".join(f"{n} {w:.3f}" for n, w in zip(model.names_, model.weights_)) + ".")
    result["seconds"] = round(time.monotonic() - t0, 3)


def _report(ctx, sec, members, member_scores, built, metric, higher, best_single, single_scores) -> None:
    import pandas as pd

    sec.text(
        f"Ensembles of the top {len(members)} candidates ({', '.join(members)}), built from the "
        f"out-of-fold predictions of the comparison: {METHODS['blend']}, and {METHODS['select']}. "
        f"Ensemble scores are cross-fitted (weights learned without the fold being scored); "
        f"{metric}, {'higher' if higher else 'lower'} is better. The test split is not used."
    )
    rows = [{"model": n, f"OOF {metric}": s, "blend weight": float(built["blend"]["weights"][i]),
             "selection weight": float(built["select"]["weights"][i])}
            for i, (n, s) in enumerate(member_scores.items())]
    for method, label in (("blend", "learned blend"), ("select", "ensemble selection")):
        rows.append({"model": label, f"OOF {metric}": built[method]["score_cv"],
                     "blend weight": np.nan, "selection weight": np.nan})
    table = pd.DataFrame(rows)
    sec.table(table)
    try:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 0.45 * len(table) + 1.2))
        colors = ["#8da0cb"] * len(members) + ["#fc8d62", "#66c2a5"]
        ax.barh(table["model"][::-1], table[f"OOF {metric}"][::-1], color=colors[::-1])
        lo, hi = table[f"OOF {metric}"].min(), table[f"OOF {metric}"].max()
        pad = (hi - lo) * 0.5 or abs(hi) * 0.01 or 0.01
        ax.set_xlim(lo - pad, hi + pad)
        ax.axvline(single_scores[best_single], color="grey", ls="--", lw=1)
        ax.set_xlabel(f"out-of-fold {metric}")
        fig.tight_layout()
        sec.figure(fig, "ensemble_scores", "Out-of-fold score of each member and of the ensembles "
                   "(dashed: best single model)", report=ctx.report)
    except Exception as e:  # a plot must never cost the step
        sec.warning(f"ensemble plot skipped: {type(e).__name__}: {e}")
