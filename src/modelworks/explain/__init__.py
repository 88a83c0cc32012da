"""Explanations: SHAP values and partial dependence for every model modelworks makes.

* :func:`explain_model` - SHAP values in the user's column names (one-hot parts summed back), for
  binary, multiclass and regression; the explainer is chosen by model type and ensembles are
  explained exactly by linearity; :func:`estimate_cost` says how long it will take first, and
  :func:`explain_within` shrinks or skips the work to fit a time budget.
* :func:`partial_dependence` - PD and ICE curves, 1-D and 2-D, ``recursion`` where scikit-learn
  supports it, an exact fast brute force otherwise; a blend's is the weighted sum of its members'.
* :func:`explain_job` - the job behind ``modelworks explain``: both for a saved model on a table.
"""

from modelworks import _deprecation
from modelworks.explain._explanation import (
    BudgetPlan,
    CostEstimate,
    Explanation,
    estimate_cost,
    explain_model,
    explain_within,
)
from modelworks.explain._job import ExplainResult, explain_job
from modelworks.explain._pdp import (
    PartialDependence,
    PartialDependenceItem,
    partial_dependence,
    plot_partial_dependence,
)

__all__ = [
    "BudgetPlan",
    "CostEstimate",
    "ExplainResult",
    "Explanation",
    "PartialDependence",
    "PartialDependenceItem",
    "estimate_cost",
    "explain_job",
    "explain_model",
    "explain_within",
    "partial_dependence",
    "plot_partial_dependence",
]


# modelworks.explain.explain: the function's name before it became explain_model (this is a
# plain package: `modelworks.explain(...)` is now `modelworks.explain_model(...)`)
__getattr__ = _deprecation.forwarding(__name__)
