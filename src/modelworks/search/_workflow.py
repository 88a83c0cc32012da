"""The search and final-model steps of ``modelworks run`` (they replace compare, tune and ensemble).

``search_step`` runs :func:`~modelworks.search._search.run_search` on the training split and fills
the run context (leaderboard with rank groups, candidates, out-of-fold predictions, folds).
``final_step`` chooses between greedy ensemble selection and the best single model and fits it.
Both add their report sections: what ran, what was skipped and why, the tie groups.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from modelworks.search._plan import plan_validation
from modelworks.search._search import SearchResult, run_search
from modelworks.search._ties import describe, rank_groups


def leaderboard(res: SearchResult) -> pd.DataFrame:
    """One row per evaluated candidate (best first): mean/std of every metric, rank group, stage."""
    ranked = res.ranked()
    rows = []
    for e in ranked:
        row = {"model": e.name}
        for k, v in e.scores.items():
            row[f"{k}_mean"] = v
            row[f"{k}_std"] = e.stds.get(k, np.nan)
        row.update({"fit_time_s": e.fit_seconds, "learner": e.learner, "stage": e.stage,
                    "log_target": e.log_target})
        rows.append(row)
    board = pd.DataFrame(rows)
    k = len(res.plan.folds)
    ratio = 1.0 / (k - 1) if res.plan.kind == "kfold" and k > 1 else 0.25
    groups, tests = rank_groups([e.name for e in ranked], [e.group_scores for e in ranked],
                                higher=res.higher_is_better, test_ratio=ratio)
    board.insert(1, "rank_group", groups)
    board.attrs["tie_tests"] = tests
    return board


def search_step(ctx, learners: list[str] | None, *, tune: bool = True, deadline: float | None = None) -> SearchResult:
    """Search on ``ctx.X_train``; fill ``ctx.leaderboard/candidates/oof/folds/best_name``."""
    from modelworks.models._portfolio import portfolio

    plan = plan_validation(ctx.y_train, ctx.task, cv=ctx.cv, seed=ctx.seed)
    configs = portfolio(ctx.task, learners, n_rows=plan.n_train)
    res = run_search(ctx.X_train, ctx.y_train, ctx.task, configs=configs, plan=plan, deadline=deadline,
                     seed=ctx.seed, tune=tune, min_candidates=2 if learners else 1,
                     refit_rows=len(ctx.X_train) + len(ctx.X_test if ctx.X_test is not None else []))
    if learners is None:
        from modelworks import _areas

        absent = _areas.needs_extra("catboost")
        if absent:
            res.notes.append(f"CatBoost left out of the search: {absent}")
    board = leaderboard(res)
    ctx.leaderboard = board
    ranked = res.ranked()
    ctx.candidates = {e.name: e.pipeline for e in ranked}
    ctx.oof = {e.name: e.oof for e in ranked}
    plan = res.plan  # the search may have switched to a holdout
    ctx.folds = list(plan.folds) if plan.kind == "kfold" else []
    ctx.best_name = ranked[0].name
    ctx.search = res
    from modelworks.metrics import PRIMARY

    ctx.scoring = PRIMARY[ctx.task]
    ctx.results["compare"] = {
        "task": ctx.task, "metric": res.metric, "higher_is_better": res.higher_is_better,
        "leaderboard": board.to_dict(orient="records"), "skipped": res.skipped,
    }
    ctx.results["search"] = {
        "validation": plan.to_dict(), "seconds": round(res.seconds, 3), "evaluated": len(res.entries),
        "screened": [e.name for e in res.entries if e.stage == "screen"],
        "model_based_trials": res.trials, "log_target": res.log_target, "notes": res.notes,
        "skipped": res.skipped, "tie_tests": board.attrs.get("tie_tests", []),
        "rank_groups": dict(zip(board["model"], board["rank_group"].astype(int))),
    }
    _search_section(ctx, res, board)
    return res


def _search_section(ctx, res: SearchResult, board: pd.DataFrame) -> None:
    from modelworks.metrics import leaderboard_plot
    from modelworks.search._views import leaderboard_view

    sec = ctx.report.section("Model search", order=20)
    tuned = f", then {res.trials} model-based (Optuna TPE) trial(s)" if res.trials else ""
    sec.text(
        f"{len(board)} candidate configurations evaluated in {res.seconds:.1f} s with {res.plan.describe()} "
        f"on the training split (the test split is held out): the portfolio of known-good starting "
        f"configurations, cheap strong boosters first{tuned}. Ranked by {res.metric} "
        f"({'higher' if res.higher_is_better else 'lower'} is better). Best: {ctx.best_name}."
    )
    view = leaderboard_view(board)
    view.insert(1, "rank group", board["rank_group"].to_numpy())
    view.insert(2, "stage", board["stage"].to_numpy())
    sec.table(view)
    sec.heading("Which differences are real")
    sec.text("Models in the same rank group cannot be told apart on these splits (paired over the same "
             "splits, Nadeau-Bengio corrected resampled t-test, alpha 0.05).")
    for line in describe(list(board["model"]), list(board["rank_group"]), board.attrs.get("tie_tests", [])):
        sec.text(line)
    for note in res.notes:
        sec.text(note, css="note")
    if res.skipped:
        sec.heading("Not run or stopped")
        sec.table(pd.DataFrame([{"candidate": k, "why": v} for k, v in res.skipped.items()]))
    screened = [e for e in res.entries if e.stage == "screen"]
    if screened:
        sec.text(f"Screened on {res.plan.rung_rows:,} rows first: " + ", ".join(
            f"{e.name.removesuffix(' [screen]')} ({e.scores[res.metric]:.4f})" for e in screened))
    try:
        path = leaderboard_plot(board.head(25), res.metric, ctx.report.plots_dir / "leaderboard.png",
                                res.higher_is_better)
        sec.image(path, "Cross-validated score per candidate")
    except Exception as e:  # a plot must never cost the run
        sec.warning(f"leaderboard plot skipped: {type(e).__name__}: {e}")


def final_step(ctx, res: SearchResult, *, ensemble: bool = True, left: float | None = None) -> None:
    """Ensemble selection or the best single model, as the model the held-out split scores.

    On k-fold validation it is the members' fold models averaged (no fit); ``refit_step`` later
    fits the same recipe on all rows for the package."""
    from modelworks.search._final import fit_final, select_ensemble

    t0 = time.monotonic()
    sec = ctx.report.section("Ensemble", order=35)
    info: dict = {"adopted": False}
    if ensemble:
        try:
            info = select_ensemble(res, ctx.y_train, seed=ctx.seed)
        except Exception as e:  # an odd pool must not cost the run
            info = {"adopted": False, "reason": f"ensemble selection failed: {type(e).__name__}: {e}"}
    else:
        info["reason"] = "switched off"
    model, name, note = fit_final(res, ctx.X_train, ctx.y_train, ensemble=info, seed=ctx.seed, left=left,
                                  bag=True)
    if note:
        info["adopted"] = False
        info["reason"] = note
    ctx.final_model, ctx.final_name = model, name
    info["final_name"] = name
    if any("#fold" in str(n) for n in getattr(model, "names_", None) or []):
        info["scored_as"] = (f"the average of its members' {len(res.plan.folds)} cross-validation fold models, "
                             f"each fitted on {res.plan.n_train:,} rows of the training split")
    elif res.plan.kind == "holdout":
        info["scored_as"] = f"fitted on the holdout's {res.plan.n_train:,} training rows"
    else:
        info["scored_as"] = "fitted on the training split"
    info["seconds"] = round(time.monotonic() - t0, 3)
    ctx.results["ensemble"] = {k: v for k, v in info.items() if k != "group_scores"}
    sec.text(f"Final model: {name}. {info.get('reason', '')}.")
    if info.get("weights"):
        sec.table(pd.DataFrame([{"member": k, "weight": v} for k, v in info["weights"].items()]))
    if res.plan.kind == "holdout":
        sec.text("Holdout validation: the model scored on the held-out split is made of the members "
                 "fitted on the holdout's training rows (no refit).", css="note")
    elif info["scored_as"].startswith("the average"):
        sec.text(f"The model scored on the held-out split is {info['scored_as']} (no fit).", css="note")


def refit_members(ctx) -> list[str] | str:
    """The candidates the final model is made of, or why it cannot be refit on all rows."""
    res = ctx.search
    if res is None or ctx.final_model is None:
        return "no searched final model"
    info = ctx.results.get("ensemble", {})
    if info.get("adopted") and info.get("weights"):
        return list(info["weights"])
    if ctx.final_name not in {e.name for e in res.entries}:
        return f"the final model ({ctx.final_name}) is not one refittable candidate"
    return [ctx.final_name]


def refit_step(ctx) -> None:
    """Refit the final model's recipe on all rows (training + held-out split) for the package.

    The held-out scores were measured on the model the final step built from the training split
    (fold models averaged, or fitted on a holdout's training rows); the package gets
    the same recipe (members, weights, hyperparameters) refit on every row, as PyCaret's
    ``finalize_model`` and AutoGluon's ``refit_full`` do. The model scored on the held-out split
    stays in ``ctx.holdout_model`` (the A/B test of the monitoring step uses it).
    """
    from modelworks.search._final import fit_final

    members = refit_members(ctx)
    if isinstance(members, str):
        ctx.results["refit"] = {"skipped": members}
        return
    t0 = time.monotonic()
    X_all, y_all = ctx.all_rows()
    info = ctx.results.get("ensemble", {})
    ensemble = info if info.get("adopted") else None
    model, name, _ = fit_final(ctx.search, X_all, y_all, ensemble=ensemble, seed=ctx.seed, left=None,
                               reuse_holdout=False)
    ctx.holdout_model = ctx.final_model
    ctx.final_model = model
    seconds = round(time.monotonic() - t0, 3)
    ctx.results["refit"] = {"model": name, "rows": len(X_all), "training_rows": len(ctx.X_train),
                            "members": members, "seconds": seconds}
    sec = ctx.report.section("Refit on all rows", order=46)
    sec.text(f"The package holds {name} refit on all {len(X_all):,} rows (the training split and the "
             f"held-out split) in {seconds:.1f} s: the same members, weights and hyperparameters. The "
             f"held-out scores above were measured before this refit, on {info.get('scored_as', 'the model fitted on the training split')}"
             "; skip the refit with steps={'refit': False} (--skip refit) to package that model instead.",
             css="note")
