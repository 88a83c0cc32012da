"""The monitoring step of ``modelworks run``: a drift check and an A/B test of the two best models.

Drift is shown twice so that the reader sees the rule work both ways: the training split
against the held-out split (same distribution: expect no drift) and the training split against
a deliberately shifted copy of the held-out split (two numeric columns moved by 0.5 SD and one
categorical column perturbed, or missing values injected when there is none: expect exactly
those columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelworks._context import RunContext

SHIFT_SD = 0.5
SELF_TEST_REPEATS = 40
SELF_TEST_MAX_ROWS = 5_000  # the self-test re-sorts every column per repeat: bound its cost
MIN_SECONDS_FOR_AB = 5.0  # refitting two models is skipped when less time than this is left


def shifted_copy(
    X_ref: pd.DataFrame, X: pd.DataFrame, *, seed: int = 0
) -> tuple[pd.DataFrame, dict]:
    """A copy of ``X`` with a known drift: two numeric columns shifted by 0.5 reference SD and one
    categorical column perturbed (30 % of rows set to its rarest level), or, with no categorical
    column, 30 % missing values in a third numeric column. Returns the copy and what was done."""
    from modelworks.data import column_kind as _kind

    rng = np.random.default_rng(seed)
    out = X.copy()
    numeric = [
        c
        for c in X.columns
        if _kind(X[c]) == "numeric" and X_ref[c].std() > 0 and X[c].nunique() > 10
    ]
    categorical = [c for c in X.columns if _kind(X[c]) == "categorical" and X_ref[c].nunique() > 1]
    changes: dict[str, str] = {}
    for col in numeric[:2]:
        sd = float(X_ref[col].std())
        out[col] = X[col].astype(float) + SHIFT_SD * sd
        changes[col] = f"shifted by {SHIFT_SD} SD ({SHIFT_SD * sd:+.4g})"
    rows = rng.random(len(X)) < 0.3
    if categorical:
        col = categorical[0]
        rare = X_ref[col].value_counts().index[-1]
        values = out[col].astype(object)
        values[rows] = rare
        out[col] = (
            values.astype(X[col].dtype)
            if not isinstance(X[col].dtype, pd.CategoricalDtype)
            else values
        )
        changes[col] = f"30 % of rows set to its rarest level {rare!r}"
    elif len(numeric) > 2:
        col = numeric[2]
        values = out[col].astype(float)
        values[rows] = np.nan
        out[col] = values
        changes[col] = "30 % of values made missing"
    return out, changes


def _fit_predict(ctx: RunContext, name: str):
    from sklearn.base import clone

    scored = ctx.holdout_model if ctx.holdout_model is not None else ctx.final_model
    bag = None
    if ctx.search is not None and ctx.final_name != name:  # its fold models, averaged: no fit
        from modelworks.search._final import fold_bag

        bag = fold_bag(ctx.search, [name], [1.0], seed=ctx.seed)
    if scored is not None and ctx.final_name == name:  # never the refit model: it has seen the held-out rows
        model = scored
    elif bag is not None:
        model = bag
    else:
        model = clone(ctx.candidates[name]).fit(ctx.X_train, ctx.y_train)
    return model, model.predict(ctx.X_test)


def _abtest(ctx: RunContext) -> dict:
    from modelworks.monitor import compare_predictions

    board = ctx.leaderboard
    if board is None or len(board) < 2:
        return {"skipped": "fewer than two models on the leaderboard"}
    names = [str(n) for n in board["model"].tolist() if str(n) in ctx.candidates][:2]
    if len(names) < 2:
        return {"skipped": "the two best leaderboard models have no candidate pipelines"}
    left = ctx.remaining()
    if left is not None and left < MIN_SECONDS_FOR_AB and ctx.final_name not in names:
        return {"skipped": f"only {left:.0f} s of the time budget left"}
    a_name, b_name = names[1], names[0]  # A = runner-up, B = the best by cross-validation
    _, pa = _fit_predict(ctx, a_name)
    _, pb = _fit_predict(ctx, b_name)
    y = np.asarray(ctx.y_test)
    if ctx.task == "regression":
        res = compare_predictions(
            y, pa, pb, test="bootstrap", metric="rmse", names=(a_name, b_name), seed=ctx.seed
        )
    else:
        res = compare_predictions(y, pa, pb, test="mcnemar", names=(a_name, b_name))
    return {"result": res}


def step(ctx: RunContext) -> None:
    """Drift checks (train vs test, train vs a shifted test copy), a self-test of the rule, and an
    A/B test of the two best models; one "Monitoring" report section."""
    from modelworks.monitor import drift, self_test

    sec = ctx.report.section("Monitoring", order=80)
    results: dict = {}

    same = drift(ctx.X_train, ctx.X_test)
    shifted, changes = shifted_copy(ctx.X_train, ctx.X_test, seed=ctx.seed)
    moved = drift(ctx.X_train, shifted)
    found = set(moved.drifted)
    expected = set(changes)
    results["drift_train_vs_test"] = same.to_dict()
    results["drift_shifted"] = moved.to_dict()
    results["shifted_columns"] = changes
    results["shift_detected"] = sorted(found & expected)
    results["shift_missed"] = sorted(expected - found)
    results["false_alarms"] = sorted(found - expected)

    sec.text(
        "Data drift is tested column by column (KS for numeric, chi-squared for categorical, a "
        "separate test for the missing-value rate), corrected across columns, and a column is flagged "
        "only when it is significant and its effect size reaches a floor."
    )
    same.add_to_report(
        ctx.report,
        section=sec,
        heading="Training split vs held-out split (expect no drift)",
        plots=False,
    )
    sec.heading("Training split vs a deliberately shifted copy of the held-out split")
    sec.text(
        "Changes made: " + "; ".join(f"{c}: {what}" for c, what in changes.items()) + ". "
        f"Detected: {', '.join(results['shift_detected']) or 'none'}"
        + (f"; missed: {', '.join(results['shift_missed'])}" if results["shift_missed"] else "")
        + (
            f"; also flagged: {', '.join(results['false_alarms'])}"
            if results["false_alarms"]
            else ""
        )
        + "."
    )
    if results["shift_missed"]:
        sec.text(
            f"The held-out split has only {len(ctx.X_test)} rows: at this size a moderate shift can stay "
            "below significance after the correction; on production batches of thousands of rows the "
            "same shift is found.",
            css="note",
        )
    moved.add_to_report(ctx.report, section=sec, plots=True, plot_prefix="drift-shifted")

    left = ctx.remaining()
    if left is None or left > 20:
        sample = ctx.X_train.sample(
            n=min(len(ctx.X_train), SELF_TEST_MAX_ROWS), random_state=ctx.seed
        )
        check = self_test(sample, repeats=SELF_TEST_REPEATS, seed=ctx.seed)
        results["self_test"] = check.to_dict()
        sec.heading("Self-test of the rule")
        sec.text(check.verdict)

    sec.heading("A/B test of the two best models (held-out split)")
    ab = _abtest(ctx)
    if "result" in ab:
        res = ab["result"]
        results["abtest"] = res.to_dict()
        res.add_to_report(ctx.report, section=sec)
    else:
        results["abtest"] = ab
        sec.text(f"A/B test skipped: {ab['skipped']}.", css="note")
    ctx.results["monitor"] = results
