"""Report sections for fitted statistical models."""

from __future__ import annotations

import numpy as np

from modelworks.exceptions import StatsError


def _mixed_section(report, model, data, *, title, order):
    from modelworks.stats._plots import plot_caterpillar, plot_residuals

    sec = report.section(title or "Mixed-effects model", order=order)
    re_part = f", random: {model.re_formula}" if model.re_formula else ", random intercept"
    vc_part = f", variance components: {model.vc_formula}" if model.vc_formula else ""
    sec.text(f"{model.formula} with groups {model.groups!r}{re_part}{vc_part}; fitted by {model.method_} "
             "(statsmodels MixedLM).")
    info = model.summary_dict()
    sec.metrics({k: v for k, v in info.items() if k in ("n_obs", "n_groups", "loglik", "aic", "bic", "converged")})
    if not model.converged_:
        sec.warning("The optimiser did not converge: the estimates may be wrong (see the warnings).")
    if model.singular_:
        sec.warning(model._singular_message())
    if len(model.fit_history_) > 1 or len(model.fit_history_[0]["methods"]) > 1:
        tried = ", ".join(f"{'/'.join(h['methods'])}: {'converged' if h['converged'] else 'not converged'}"
                          for h in model.fit_history_)
        sec.text(f"Optimisers tried: {tried}.", css="note")
    sec.heading("Fixed effects")
    sec.table(model.fixed_effects(), index=True)
    sec.heading("Variance components")
    sec.table(model.variance_components())
    sec.figure(plot_caterpillar(model), f"{sec.title} caterpillar", "Random effects (BLUPs) per group with 95% intervals",
               report=report)
    if data is not None:
        frame = model.predict_frame(data)
        resid = data[model.response_].to_numpy(dtype=float) - frame["prediction"].to_numpy()
        sec.figure(plot_residuals(frame["prediction"], resid, title="Residuals vs fitted (conditional on groups)"),
                   f"{sec.title} residuals", "Residuals vs fitted", report=report)
    return sec


def _gam_section(report, model, data, y, *, title, order):
    from modelworks.stats._plots import plot_partial_effects, plot_residuals

    sec = report.section(title or "Generalized additive model", order=order)
    kind = "logistic" if getattr(model, "_family", "normal") == "binomial" else "linear"
    sec.text(f"{kind} GAM (pygam) with terms {' + '.join(t['name'] for t in model.terms_)}; smoothing "
             f"chosen by {'a fixed lam' if model.lam != 'auto' else model.lam_search + ' search'}.")
    info = model.summary_dict()
    sec.metrics({k: v for k, v in info.items() if k not in ("terms", "lam_search")})
    sec.table(model.summary())
    sec.figure(plot_partial_effects(model), f"{sec.title} partial effects",
               "Centred partial effect of each term with 95% credible bands", report=report)
    if data is not None and y is not None and kind == "linear":
        fitted = model.predict(data)
        sec.figure(plot_residuals(fitted, np.asarray(y, dtype=float) - fitted), f"{sec.title} residuals",
                   "Residuals vs fitted", report=report)
    return sec


def report_section(report, model, data=None, y=None, *, title: str | None = None, order: int = 45):
    """Add a "Mixed-effects model" or "Generalized additive model" section to a report.

    Parameters
    ----------
    report : modelworks.report.Report
    model : MixedModel, GAMRegressor or GAMClassifier
        A fitted model.
    data : pandas.DataFrame, optional
        The data, for the residuals-vs-fitted plot (a mixed model reads its response from it;
        a GAM needs ``y`` as well).
    y : array-like, optional
        The GAM's target.
    title : str, optional
        Section title (default depends on the model).
    order : int, default 45
        Position of the section in the report.

    Returns
    -------
    modelworks.report.Section
    """
    from modelworks.stats._gam_base import _GAMBase
    from modelworks.stats._mixed import MixedModel

    if isinstance(model, MixedModel):
        model._check_fitted()
        return _mixed_section(report, model, data, title=title, order=order)
    if isinstance(model, _GAMBase):
        model._check_fitted()
        return _gam_section(report, model, data, y, title=title, order=order)
    raise StatsError(f"report_section expects a MixedModel or a GAM, got {type(model).__name__}")


