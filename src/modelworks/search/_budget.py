"""The time budget of ``modelworks run``: what the search may spend, what follows it, what is skipped.

The search gets the budget less what is kept back for the steps after it (evaluation, package,
explanation, monitoring, report): a fifth of the budget plus a few seconds scaled by how busy the
CPU is at the start (:func:`_warm_up`). Optional steps are skipped, with the reason, when the time
left cannot pay for them (:func:`_no_time_for`).
"""

from __future__ import annotations

import time

POST_SHARE = 0.2  # of the budget, for evaluation, explanation, package, monitoring and the report
POST_FIXED = 4.0  # seconds on an idle machine, on top (scaled by the measured slowness)
NOMINAL_PROBE_SECONDS = 0.011  # _cpu_probe's median on an idle core of this project's 2-core machine
MAX_SLOWNESS = 4.0
FIXED_OVERHEAD = 10.0  # seconds outside the budget a run may take (process start, imports, last write)
AGNOSTIC_MIN_SECONDS = 60.0  # a model-agnostic explainer (half of what is left, previewed) only with this much left
EXPLAIN_MIN_SECONDS = 3.0  # explanations are skipped when less than this (or 5 % of the budget) is left
MONITOR_MIN_SECONDS = 3.0
REGISTER_SHARE = 0.3  # the package is registered in MLflow only when this share of the budget is left
REGISTER_SECONDS = 3.0  # ... plus this (idle machine; scaled by the measured slowness)
AFTER_EXPLAIN_SECONDS = 4.0  # held back from the explanation step for the report
REFIT_KEEP_SECONDS = 2.0  # kept for the package and the report when deciding on the refit (x slowness)
# (cells = rows x columns up to, budget in seconds) when the user gives none
AUTO_BUDGETS = [(100_000, 60.0), (1_000_000, 120.0), (10_000_000, 300.0), (float("inf"), 600.0)]


def auto_budget(n_rows: int, n_cols: int) -> float:
    """A time budget picked from the table size (when ``run`` is given none)."""
    cells = n_rows * max(n_cols, 1)
    return next(seconds for limit, seconds in AUTO_BUDGETS if cells <= limit)


def _warm_up() -> float:
    """Import what every run needs and return how slow the CPU is right now against an idle one (>= 1).

    The imports are not the yardstick: they are disk-bound and take seconds more on a cold page
    cache, which says nothing about how fast models will fit. A short, fixed CPU workload does.
    """
    import matplotlib.pyplot  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    import modelworks.data  # noqa: F401
    import modelworks.metrics  # noqa: F401
    from modelworks._imports import skops_io

    skops_io()  # without torch: `import skops.io` walks scikit-learn, which imports torch (3-4 s)
    return min(max(_cpu_probe() / NOMINAL_PROBE_SECONDS, 1.0), MAX_SLOWNESS)


def _cpu_probe(repeats: int = 5) -> float:
    """Median seconds of a fixed ~10 ms mix of numpy and interpreter work (about 60 ms in all)."""
    import numpy as np

    values = np.random.default_rng(0).random(200_000)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.sort(values)
        total = 0
        for i in range(200_000):
            total += i
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _no_time_for(switch: str, ctx, res) -> str | None:
    """Why an optional step is skipped for lack of time (None: it runs)."""
    left = ctx.remaining()
    if left is None:
        return None
    if switch == "explain":
        if left < EXPLAIN_MIN_SECONDS + AFTER_EXPLAIN_SECONDS + 0.05 * ctx.time_budget:
            return f"skipped for lack of time ({left:.1f} s left of {ctx.time_budget:.0f} s)"
        # Exact explainers (TreeSHAP, linear SHAP; blends and linear stacks of such members, by
        # linearity) have a cost the step's preview predicts, and the step shrinks or skips them to
        # fit what is left (explain_within). A sampled model-agnostic explainer on a blend has taken
        # minutes where its preview said seconds: it runs only with a wide margin of time left.
        from modelworks.explain._exactness import agnostic_parts

        try:
            agnostic = agnostic_parts(ctx.final_model, ctx.X_test)
        except Exception as e:  # noqa: BLE001 - an unexplainable model is skipped, with the reason
            agnostic = [f"{type(e).__name__}: {e}"]
        if agnostic and left < AGNOSTIC_MIN_SECONDS:
            return (f"skipped: {', '.join(agnostic)} in {ctx.final_name} has no exact explainer "
                    f"(TreeSHAP/linear), and a model-agnostic one may not fit in the {left:.0f} s left "
                    f"(it runs when {AGNOSTIC_MIN_SECONDS:.0f} s are left)")
        # fewer rows when time is short (the partial dependence plots scale with them)
        ctx.options.setdefault("explain_rows", 100 if left < 20 else 200 if left < 60 else 500)
    if switch == "refit":
        from modelworks.search._final import refit_seconds
        from modelworks.search._workflow import refit_members

        members = refit_members(ctx)
        if isinstance(members, str):
            return None  # not applicable: the step records why
        n_all = len(ctx.X_train) + len(ctx.X_test)
        need = refit_seconds(res, None, members, n_all, reuse_holdout=False)
        slowness = ctx.results.get("budget_plan", {}).get("slowness", 1.0)
        # the package and the report must follow (explanations and monitoring are skipped first)
        keep = REFIT_KEEP_SECONDS * slowness + 0.02 * ctx.time_budget
        if need + keep > left:
            return (f"the final model was not refit on all rows for lack of time (needs ~{need:.0f} s, "
                    f"{left:.1f} s left): the package holds the model scored on the held-out split")
    if switch == "monitor":
        # the A/B test refits the runner-up on the training split: estimate it from the search
        # (a candidate that kept its k fold models is averaged from them: no fit)
        k = len(res.plan.folds)
        fits = {e.name: 0.0 if res.plan.kind == "kfold" and len(e.fold_models) == k
                else e.seconds_for(len(ctx.y_train)) for e in res.entries}
        top = [n for n in list(ctx.leaderboard["model"])[:2] if n != ctx.final_name]
        need = sum(fits.get(n, 0.0) for n in top) * 1.5 + MONITOR_MIN_SECONDS + AFTER_EXPLAIN_SECONDS
        if need > left:
            return f"skipped for lack of time (needs ~{need:.0f} s, {left:.1f} s left)"
    return None


def _budget_section(ctx, budget: float, note: str | None, skipped_steps: dict, res, started) -> None:
    import pandas as pd

    sec = ctx.report.section("Time budget", order=80)
    spent = time.monotonic() - started
    sec.text(f"Budget {budget:.0f} s ({note or 'given'}); the run promises to end within the budget + 10 % "
             f"+ {FIXED_OVERHEAD:.0f} s fixed overhead. Spent so far: {spent:.1f} s (writing the report follows).")
    timings = ctx.results.get("timings_s", {})
    sec.table(pd.DataFrame([{"step": k, "seconds": v} for k, v in timings.items()]))
    n_skip = len([v for v in res.skipped.values() if v.startswith(("time budget", "stopped"))])
    lines = [f"{k}: {v}" for k, v in skipped_steps.items()]
    if n_skip:
        lines.append(f"search: {n_skip} candidate(s) not started or stopped for lack of time (see Model search)")
    if lines:
        sec.heading("Skipped for lack of time")
        for line in lines:
            sec.warning(line)
    ctx.results["budget"] = {"seconds": budget, "picked": note is not None, "fixed_overhead_s": FIXED_OVERHEAD,
                             "skipped_steps": skipped_steps, "search_candidates_skipped": n_skip}
