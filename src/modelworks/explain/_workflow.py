"""The ``explain`` step of ``modelworks run``: SHAP and partial dependence of the final model."""

from __future__ import annotations

DEFAULT_ROWS = 500
BACKGROUND_ROWS = 100
MIN_ROWS = 20
BUDGET_SHARE = 0.5  # of the remaining time budget this step may plan to use


def step(ctx) -> None:
    """Explain ``ctx.final_model`` on a sample of ``ctx.X_test`` against ``ctx.X_train``.

    Needs ``final_model``, ``X_train``, ``X_test``, ``report``, ``seed`` (and ``remaining()``).
    The SHAP part gets ``ctx.options["explain_budget_s"]`` seconds when set, else half of the
    time left; :func:`modelworks.explain.explain_within` shrinks or skips it to fit. Writes the
    SHAP plots and the PD/ICE plots of the top two features and their pair, adds the
    "Explanations" report section and stores a summary in ``ctx.results["explain"]``.
    """
    from modelworks.exceptions import ExplainError
    from modelworks.explain import explain_within, partial_dependence, plot_partial_dependence
    from modelworks.explain._explanation import _fast_path

    sec = ctx.report.section("Explanations", order=60)
    model = ctx.final_model
    if model is None:
        sec.warning("no final model to explain")
        return
    remaining = ctx.remaining()
    if remaining is not None and remaining < 2:
        sec.warning("skipped: the time budget is spent")
        ctx.results["explain"] = {"skipped": "time budget spent"}
        return
    X = ctx.X_test
    rows = int(ctx.options.get("explain_rows", DEFAULT_ROWS))
    budget = ctx.options.get("explain_budget_s")
    if budget is None and remaining is not None:
        budget = BUDGET_SHARE * remaining
    fast = _fast_path(model, X, None, "auto")
    bg = None if fast else ctx.X_train.sample(n=min(BACKGROUND_ROWS, len(ctx.X_train)), random_state=ctx.seed)
    ex, plan = explain_within(model, X, budget_s=budget, background=bg, max_rows=min(rows, len(X)),
                              min_rows=MIN_ROWS, seed=ctx.seed)
    if ex is None:
        sec.warning(f"SHAP values skipped: {plan.skipped}")
        ctx.results["explain"] = {"skipped": plan.skipped, "budget": plan.to_dict()}
        return
    estimate = plan.estimate if plan.estimate is not None else ex.cost_estimate
    plots = ex.plots(ctx.report.plots_dir, prefix="explain-shap")

    top = list(ex.top_features(2)["feature"])
    features: list = list(top) + ([tuple(top)] if len(top) == 2 else [])
    pdp = pdp_plots = None
    notes = [plan.shrunk] if plan.shrunk else []
    remaining = ctx.remaining()
    if remaining is None or remaining > 5:
        try:
            pdp = partial_dependence(model, X, features, kind="both", max_rows=rows, seed=ctx.seed)
        except ExplainError as e:  # e.g. a categorical pair with too many levels: keep the 1-D ones
            notes.append(str(e))
            pdp = partial_dependence(model, X, top, kind="both", max_rows=rows, seed=ctx.seed)
        pdp_plots = plot_partial_dependence(pdp, ctx.report.plots_dir, prefix="explain-pdp")
    else:
        notes.append("partial dependence skipped: the time budget is nearly spent")

    sec.text(f"Why the model predicts what it does: SHAP values of {ctx.final_name or type(model).__name__} "
             f"on {ex.values.shape[0]} held-out rows, in contributions to the {ex.output}.")
    sec.text(f"Explainer: {ex.explainer_name}. {ex.reason}.", css="note")
    sec.metrics({"rows explained": ex.values.shape[0], "explainer": ex.explainer_name,
                 "seconds": round(ex.seconds, 2),
                 "estimated seconds": "cheap" if estimate.seconds is None else round(estimate.seconds, 2)})
    sec.heading("Top features (mean |SHAP value|)")
    sec.table(ex.top_features(10))
    captions = {
        "beeswarm": "SHAP summary (beeswarm): each dot is one row; colour is the feature's value",
        "bar": "mean |SHAP value| per feature",
        "dependence": "dependence of the top feature, coloured by its strongest interaction",
        "waterfall": "how one row's prediction is built from the base value",
    }
    for name, path in plots.items():
        sec.image(path, captions[name])
    if pdp is not None:
        sec.heading("Partial dependence and ICE")
        for item in pdp.items:
            sec.image(pdp_plots[item.name],
                      f"{'2-D partial dependence' if len(item.features) == 2 else 'PD (red) and ICE lines'} "
                      f"of {' and '.join(item.features)} ({item.method})")
        for note in pdp.notes:
            notes.append(note)
    for note in notes:
        sec.text(note, css="note")
    ctx.results["explain"] = {
        **ex.to_dict(),
        "plots": {k: str(v) for k, v in plots.items()},
        "partial_dependence": None if pdp is None else {
            "items": [{"features": list(i.features), "method": i.method} for i in pdp.items],
            "plots": {k: str(v) for k, v in (pdp_plots or {}).items()},
            "seconds": pdp.seconds,
        },
        "notes": notes,
        "budget": plan.to_dict(),
    }
