"""The tuning step of ``modelworks run``: tune the best model of the comparison within budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

# share of the remaining run budget tuning may use, and a cap so later steps keep their time
BUDGET_SHARE = 0.3
MAX_SECONDS = 25.0
NO_BUDGET_SECONDS = 60.0
MIN_SECONDS = 3.0
TRIALS = 25


def _strategy() -> str:
    from modelworks._imports import is_available

    return "bayes" if is_available("torch") else "tpe"


def _leaderboard_score(ctx) -> float | None:
    """The comparison's CV score of the model, in scorer units (higher is better)."""
    from modelworks.metrics import PRIMARY_KEY

    board = ctx.leaderboard
    if board is None or ctx.task not in PRIMARY_KEY:
        return None
    key, higher = PRIMARY_KEY[ctx.task]
    col = f"{key}_mean"
    rows = board[board["model"] == ctx.best_name]
    if col not in board.columns or rows.empty:
        return None
    value = float(rows[col].iloc[0])
    return value if higher else -value


def _skip(ctx, why: str) -> None:
    ctx.results["tuning"] = {"skipped": why}
    ctx.report.section("Tuning", order=30).text(f"Tuning skipped: {why}.")


def step(ctx) -> None:
    """Tune ``ctx.best_name`` on the training split; keep the tuned model if its CV score is better.

    Reads ``best_name``, ``candidates``, ``X_train``, ``y_train``, ``task``, ``scoring``,
    ``folds`` (or ``cv``), ``leaderboard``, ``seed``, ``out_dir``, ``remaining()`` and
    ``report``. Writes ``results["tuning"]``, a "Tuning" report section and, when tuning
    helped, ``final_model`` (refitted on the training split) and ``final_name``.
    """
    import joblib

    from modelworks.models import default_space
    from modelworks.tuning._engine import tune

    name = ctx.best_name
    if not name or name not in ctx.candidates:
        return _skip(ctx, "no model to tune")
    space = default_space(name, ctx.task)
    if not space:
        return _skip(ctx, f"'{name}' has no hyperparameters to tune")
    remaining = ctx.remaining()
    seconds = NO_BUDGET_SECONDS if remaining is None else min(BUDGET_SHARE * remaining, MAX_SECONDS)
    if seconds < MIN_SECONDS:
        return _skip(ctx, f"too little of the time budget left ({remaining:.0f} s)")
    strategy = _strategy()
    folds = list(ctx.folds) if ctx.folds else ctx.cv
    key = joblib.hash((ctx.X_train, ctx.y_train, folds, ctx.seed, ctx.scoring))[:8]
    t0 = time.monotonic()
    # 0.8: the trial running at the timeout and the refit still need their time
    result = tune(
        ctx.candidates[name],
        ctx.X_train,
        ctx.y_train,
        strategy=strategy,
        space=space,
        trials=TRIALS,
        timeout=0.8 * seconds,
        cv=folds,
        scoring=ctx.scoring or None,
        seed=ctx.seed,
        task=ctx.task,
        out_dir=Path(ctx.out_dir) / "tuning",
        study_name=f"{name}-{strategy}-{key}",
    )
    result.model_name = name
    before = result.baseline_score if result.baseline_score is not None else _leaderboard_score(ctx)
    improved = before is None or result.best_score > before
    if improved:
        ctx.final_model = result.best_estimator
        ctx.final_name = f"{name} (tuned)"
    ctx.results["tuning"] = _summary(result, name, before, improved, time.monotonic() - t0)
    _section(ctx, result, name, before, improved)


def _summary(
    result, name: str, before: float | None, improved: bool, seconds: float
) -> dict[str, Any]:
    return {
        "model": name,
        "strategy": result.strategy,
        "scoring": result.scoring,
        "score_before": before,
        "score_after": result.best_score,
        "score_after_std": result.best_score_std,
        "improved": improved,
        "best_params": result.best_params,
        "n_trials_completed": result.n_trials_completed,
        "n_trials_pruned": result.n_trials_pruned,
        "n_trials_failed": result.n_trials_failed,
        "study_name": result.study_name,
        "storage": result.storage,
        "seconds": round(seconds, 2),
    }


def _section(ctx, result, name: str, before: float | None, improved: bool) -> None:
    import pandas as pd

    from modelworks.tuning._result import _importances, history_figure, importance_figure

    label = {"bayes": "Bayesian optimisation (Gaussian process)", "tpe": "TPE"}.get(
        result.strategy, result.strategy
    )
    sec = ctx.report.section("Tuning", order=30)
    verdict = (
        f"The tuned model is kept as the final candidate ('{name} (tuned)')."
        if improved
        else "Tuning did not beat the starting parameters on cross-validation; the untuned model is kept."
    )
    sec.text(
        f"'{name}' was tuned with {label} over {len(result.space)} hyperparameter(s) on the training split, "
        f"with the same {ctx.cv}-fold cross-validation as the comparison and {result.scoring} as the score "
        f"(higher is better); trials whose running CV mean was hopeless were pruned. {verdict}"
    )
    sec.metrics(
        {
            f"CV {result.scoring} before": before,
            f"CV {result.scoring} after": result.best_score,
            "trials completed": result.n_trials_completed,
            "trials pruned": result.n_trials_pruned,
            "seconds": round(result.elapsed_s, 1),
        }
    )
    sec.table(
        pd.DataFrame(
            [
                {"parameter": k, "best value": v, "searched": result.space.get(k, "")}
                for k, v in result.best_params.items()
            ]
        )
    )
    sec.figure(
        history_figure(result),
        "tuning_history",
        "CV score of every trial and the best so far",
        report=ctx.report,
    )
    imp = _importances(result.study) if len(result.best_params) >= 2 else {}
    if len(imp) >= 2:
        sec.figure(
            importance_figure(result, imp),
            "tuning_importance",
            "Which hyperparameters mattered (fANOVA importance)",
            report=ctx.report,
        )
    for w in result.warnings:
        sec.warning(w)
    sec.text(
        f"Study '{result.study_name}' is stored in {result.storage}; open it with "
        "modelworks.tuning.load_study or optuna.load_study."
    )
