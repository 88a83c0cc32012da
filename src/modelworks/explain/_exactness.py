"""Which parts of a model have an exact explainer: what ``modelworks run`` may explain inside a budget."""

from __future__ import annotations

from modelworks.explain._explanation import _fast_path
from modelworks.explain._model import ensemble_kind, family_of, unit_of


def agnostic_parts(model, X) -> list[str]:
    """The parts of ``model`` that only a model-agnostic explainer can explain (empty: all exact).

    A single tree or linear model, and a blend or a linear stack whose members are all tree or
    linear models that TreeSHAP / linear SHAP explain on the output the ensemble combines, have
    exact explainers whose cost the preview of :func:`estimate_cost` predicts well. Anything
    else (a kernel or neighbour model, a multiclass booster's probabilities, a non-linear
    meta-learner) needs a sampled, model-agnostic explainer.
    """
    from modelworks.explain._shap import natural_method

    columns = list(X.columns)
    kind = ensemble_kind(model)
    classes = getattr(model, "classes_", None)
    n_classes = 0 if classes is None else len(classes)
    if kind is None:
        if _fast_path(model, X, None, "auto"):
            return []
        final = unit_of(model, columns).final
        return [] if _exact_part(final, natural_method(final)[0], n_classes) else [type(final).__name__]
    if kind == "stack":
        meta = model.final_estimator_
        if family_of(meta) != "linear" or not hasattr(meta, "coef_"):
            return [f"meta-learner {type(meta).__name__}"]
        methods = list(model.stack_method_)
    else:
        methods = ["predict_proba" if n_classes else "predict"] * len(model.estimators_)
    names = list(getattr(model, "names_", None) or getattr(model, "named_estimators_", {}).keys()
                 or [f"member{i}" for i in range(len(model.estimators_))])
    out = []
    for name, est, method in zip(names, model.estimators_, methods):
        if isinstance(est, str):  # "drop"
            continue
        final = unit_of(est, columns).final
        if not _exact_part(final, method, n_classes):
            out.append(f"{name} ({type(final).__name__})")
    return out


def _exact_part(final, method: str, n_classes: int) -> bool:
    """Whether ``method`` of one model has a tree or linear explainer against a background."""
    from modelworks.explain._model import is_catboost, is_margin_tree
    from modelworks.explain._shap import _tree_supports
    from modelworks.explain._trees import parse

    fam = family_of(final)
    if fam == "linear":
        return True
    if fam != "tree":
        return False
    if _tree_supports(final, method, True, n_classes) is None:
        return True
    # a multiclass booster's probabilities: exact per-class log-odds, rescaled (and labelled so);
    # CatBoost's trees are read by CatBoost alone, and _tree_supports has answered for them
    return (method == "predict_proba" and n_classes > 2 and is_margin_tree(final) and not is_catboost(final)
            and parse(final) is not None)
