"""SHAP values for one model, a pipeline, a blend or a stack, on one output scale.

The algorithms are shap's (TreeSHAP, linear SHAP, exact and permutation Shapley values); this
module only decides which applies and combines results:

* a **single model** is explained on its natural output: trees by path-dependent TreeSHAP (the
  boosters' own ``pred_contribs`` for xgboost/lightgbm, CatBoost's own ``ShapValues``), linear
  models by linear SHAP, anything else model-agnostically with a sampled background;
* a **blend** ``sum_i w_i f_i(x)`` by linearity: *interventional* Shapley values with one common
  background are linear in the model, so the blend's values are exactly ``sum_i w_i phi_i`` when
  every member is explained on the same (probability) scale against the same background rows;
* a **stack** whose meta-learner is linear, ``g(x) = b + sum_f c_f z_f(x)`` in the meta-learner's
  link space, the same way: ``phi_g = sum_f c_f phi_{z_f}``.

Interventional values of tree models (blends, stacks, or a single model given a background) come
from :mod:`modelworks.explain._trees`: exact, where shap's C++ interventional path drifts on deep
trees (random forests, lightgbm); CatBoost's from its own Independent Tree SHAP (exact on its
margin; its symmetric trees and categorical target statistics are read by CatBoost alone). The
one case without an exact fast algorithm is a boosted classifier's *probability* (a sigmoid of a
sum of trees): shap's (or CatBoost's) rescaled TreeSHAP is used and the explanation says these
members are approximate.

Every model is explained on its own encoded features (the output of its preprocessing) and the
one-hot parts are then summed back to the user's columns.

The parts: :mod:`~modelworks.explain._shap_units` (one model), :mod:`~modelworks.explain._shap_ensembles`
(blends, stacks, black boxes); :func:`compute` here picks between them.
"""

from __future__ import annotations

import pandas as pd

from modelworks.exceptions import ExplainError
from modelworks.explain._model import class_labels, ensemble_kind, family_of, unit_of
from modelworks.explain._shap_ensembles import _black_box, _blend, _stack
from modelworks.explain._shap_units import (
    AGNOSTIC_BACKGROUND,
    DEFAULT_BACKGROUND,
    EXPLAINERS,
    Computed,
    _positive,
    _sample,
    _tree_supports,
    explain_unit,
    natural_method,
)

__all__ = ["EXPLAINERS", "Computed", "_tree_supports", "compute", "natural_method"]


def compute(model, X: pd.DataFrame, *, background: pd.DataFrame | None, explainer: str, seed: int,
            progress_desc: str | None = "SHAP") -> Computed:
    """SHAP values of ``model`` on ``X`` (already checked), combined for ensembles."""
    if explainer not in EXPLAINERS:
        raise ExplainError(f"unknown explainer {explainer!r}; choose one of: {', '.join(EXPLAINERS)}")
    columns = list(X.columns)
    kind = ensemble_kind(model)
    labels = class_labels(model)
    n_classes = len(labels) if labels is not None else 0
    binary = n_classes == 2
    outputs = [str(c) for c in labels] if labels is not None else ["prediction"]
    if binary:
        outputs = outputs[1:]
    if kind == "blend" and explainer in ("auto", "tree", "linear"):
        return _blend(model, X, background, columns, explainer, seed, n_classes, outputs, progress_desc)
    if kind == "stack" and explainer in ("auto", "tree", "linear"):
        meta = model.final_estimator_
        if family_of(meta) == "linear" and hasattr(meta, "coef_"):
            return _stack(model, X, background, columns, explainer, seed, n_classes, outputs, progress_desc)
        if explainer != "auto":
            raise ExplainError(
                f"the stack's meta-learner {type(meta).__name__} is not linear in its members' outputs, "
                "so its SHAP values cannot be combined from the members'; use explainer='permutation' or 'auto'"
            )
    if kind is not None:  # a non-linear ensemble (or an explicit model-agnostic request): black box
        return _black_box(model, X, background, columns, explainer, seed, n_classes, outputs,
                          progress_desc, kind)
    unit = unit_of(model, columns)
    method, scale = natural_method(unit.final)
    fam = family_of(unit.final)
    interventional = background is not None
    needs_bg = interventional or not (fam == "tree" and explainer in ("auto", "tree"))
    size = DEFAULT_BACKGROUND if fam in ("tree", "linear") else AGNOSTIC_BACKGROUND
    bg = background if background is not None else (_sample(X, size, seed) if needs_bg else None)
    part = explain_unit(unit, X, bg, columns, method=method, interventional=interventional and fam == "tree",
                        explainer=explainer, seed=seed, progress_desc=progress_desc, n_classes=n_classes)
    if part.method != method:
        scale = "probability"
    enc, base = _positive(part.enc, part.base, binary)
    orig, _ = _positive(part.orig, part.base, binary)
    reason = _single_reason(unit.final, part.explainer, fam, interventional, len(bg) if bg is not None else 0)
    out = scale if labels is None else f"{scale} of class {outputs[0]!r}" if binary else f"{scale} per class"
    return Computed(orig=orig, base=base, enc=enc, enc_names=part.enc_names, enc_data=part.enc_data,
                    explainer=part.explainer,
                    reason=reason, output=out, outputs=outputs, evaluations=part.evaluations,
                    components=[{"model": type(unit.final).__name__, "explainer": part.explainer}],
                    background_rows=0 if bg is None else len(bg))


_REASONS = {
    "tree": "{name} is a tree ensemble: TreeSHAP computes exact SHAP values in polynomial time{how}",
    "linear": "{name} is linear: SHAP values are coef * (x - mean of the background), exact",
    "exact": "{name} has no model-specific SHAP algorithm; with {p} features the exact Shapley values "
             "over a background of {b} rows are affordable (2**{p} coalitions per row)",
    "permutation": "{name} has no model-specific SHAP algorithm: model-agnostic permutation SHAP "
                   "with a sampled background of {b} rows",
}


def _single_reason(final, explainer, fam, interventional, nbg) -> str:
    how = (f" (interventional, background of {nbg} rows)" if interventional
           else " (path-dependent: the trees' own cover, no background needed)")
    p = getattr(final, "n_features_in_", "?")
    return _REASONS[explainer].format(name=type(final).__name__, how=how, p=p, b=nbg)
