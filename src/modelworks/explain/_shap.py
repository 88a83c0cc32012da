"""SHAP values for one model, a pipeline, a blend or a stack, on one output scale.

The algorithms are shap's (TreeSHAP, linear SHAP, exact and permutation Shapley values); this
module only decides which applies and combines results:

* a **single model** is explained on its natural output: trees by path-dependent TreeSHAP (the
  boosters' own ``pred_contribs`` for xgboost/lightgbm), linear models by linear SHAP, anything
  else model-agnostically with a sampled background;
* a **blend** ``sum_i w_i f_i(x)`` by linearity: *interventional* Shapley values with one common
  background are linear in the model, so the blend's values are exactly ``sum_i w_i phi_i`` when
  every member is explained on the same (probability) scale against the same background rows;
* a **stack** whose meta-learner is linear, ``g(x) = b + sum_f c_f z_f(x)`` in the meta-learner's
  link space, the same way: ``phi_g = sum_f c_f phi_{z_f}``.

Interventional values of tree models (blends, stacks, or a single model given a background) come
from :mod:`modelworks.explain._trees`: exact, where shap's C++ interventional path drifts on deep
trees (random forests, lightgbm). The one case without an exact fast algorithm is a boosted
classifier's *probability* (a sigmoid of a sum of trees): shap's rescaled TreeSHAP is used and the
explanation says these members are approximate.

Every model is explained on its own encoded features (the output of its preprocessing) and the
one-hot parts are then summed back to the user's columns.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ExplainError
from modelworks.explain._model import (
    Unit,
    aggregation_matrix,
    class_labels,
    ensemble_kind,
    family_of,
    is_classifier,
    is_margin_tree,
    quiet,
    unit_of,
)

EXPLAINERS = ("auto", "tree", "linear", "exact", "permutation")
DEFAULT_BACKGROUND = 100
AGNOSTIC_BACKGROUND = 50  # model-agnostic cost is linear in it: keep it small for single models
PERMUTATIONS = 5  # antithetic permutations per row (shap's default budget is ~10x more)
FLOAT32_TOL = 1e-5  # boosters predict in float32: parity of probabilities to this
EXACT_MAX_FEATURES = 10  # 2**10 coalitions x background rows per explained row: the exact limit
_CHUNK = {"tree": 20_000, "exact-tree": 500, "linear": 50_000, "exact": 50, "permutation": 50}


@dataclass
class Part:
    """SHAP values of one model on one output scale, before any combination."""

    enc: np.ndarray  # (n, n_encoded, n_outputs)
    base: np.ndarray  # (n_outputs,)
    orig: np.ndarray  # (n, n_columns, n_outputs)
    enc_names: list[str]
    explainer: str
    evaluations: float = 0.0  # model row-evaluations spent (for the cost estimate)
    method: str = ""  # the output explained: predict_proba, predict, decision_function
    enc_data: np.ndarray | None = None  # the encoded rows that were explained


def _as3d(values, n: int) -> np.ndarray:
    if isinstance(values, list):
        values = np.stack([np.asarray(v) for v in values], axis=-1)
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    if values.shape[0] != n:
        raise ExplainError(f"internal: SHAP values for {values.shape[0]} rows, expected {n}")
    return values


def _base(expected, k: int) -> np.ndarray:
    b = np.asarray(expected, dtype=float).reshape(-1)
    if b.size == 1 and k > 1:
        b = np.repeat(b, k)
    return b[:k] if b.size >= k else b


def _method_fn(final, method: str):
    fn = getattr(final, method, None)
    if fn is None:
        raise ExplainError(f"{type(final).__name__} has no {method}(); cannot explain that output")
    return fn


def _agnostic(final, Z, bg, method: str, *, algorithm: str, seed: int, chunk_progress) -> tuple:
    import shap

    fn = _method_fn(final, method)

    def f(A):
        with quiet():
            return np.asarray(fn(A), dtype=float)

    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    M = Z.shape[1]
    if algorithm == "exact":
        explainer = shap.explainers.ExactExplainer(f, masker)
        kwargs: dict[str, Any] = {}
        evals_per_row = (2 ** M) * len(bg)
    else:
        explainer = shap.explainers.PermutationExplainer(f, masker, seed=seed)
        max_evals = PERMUTATIONS * (2 * M + 1)
        kwargs = {"max_evals": max_evals, "silent": True}
        evals_per_row = max_evals * len(bg)
    vals, bases = [], []
    for lo, hi in chunk_progress(len(Z), _CHUNK[algorithm]):
        exp = explainer(Z[lo:hi], **kwargs)
        vals.append(_as3d(exp.values, hi - lo))
        bases.append(np.asarray(exp.base_values, dtype=float).reshape(hi - lo, -1))
    values = np.concatenate(vals)
    base = np.concatenate(bases).mean(axis=0)  # constant per row with an independent masker
    return values, base, evals_per_row * len(Z)


def _chunks(total: int, size: int, progress_desc: str | None):
    from modelworks._progress import progress

    starts = list(range(0, total, size))
    it = progress(starts, total=len(starts), desc=progress_desc or "", unit="chunk") if len(starts) > 1 else starts
    for lo in it:
        yield lo, min(total, lo + size)


def _exact_trees(final, Z, method: str):
    """Parsed trees when our exact kernel explains ``method`` (the output is linear in the leaves)."""
    from modelworks.explain._trees import checked

    clf = is_classifier(final)
    trees = checked(final, Z, "predict_proba" if clf else "predict")
    if trees is None:
        return None
    if method == "predict_proba" and trees.tree_output != "probability":
        return None  # a link between leaves and probability: not linear, not this kernel
    if method == "decision_function" and trees.tree_output != "log_odds":
        return None
    return trees


def _native_contribs(final, Z: np.ndarray):
    """The boosters' own path-dependent TreeSHAP (what shap calls for them, minus its model parse)."""
    mro = {c.__name__ for c in type(final).__mro__}
    if {"XGBClassifier", "XGBRegressor"} & mro:
        import xgboost

        booster = final.get_booster()
        dm = xgboost.DMatrix(Z, missing=getattr(final, "missing", np.nan), feature_names=booster.feature_names)
        out = np.asarray(booster.predict(dm, pred_contribs=True, validate_features=False), dtype=float)
    elif {"LGBMClassifier", "LGBMRegressor"} & mro:
        out = np.asarray(final.booster_.predict(Z, pred_contrib=True), dtype=float)
        k = out.shape[1] // (Z.shape[1] + 1)
        if k > 1:
            out = out.reshape(len(Z), k, Z.shape[1] + 1)
    else:
        return None
    if out.ndim == 2:  # (n, M + 1): one output, bias last
        return out[:, :-1, None], out[:, -1, None]
    return out[:, :, :-1].transpose(0, 2, 1), out[:, :, -1]  # (n, K, M + 1)


def _tree_values(final, Z, bg, method, *, interventional: bool, chunk_progress):
    import shap

    if not interventional:
        vals, bias = [], None
        for lo, hi in chunk_progress(len(Z), _CHUNK["tree"]):
            got = _native_contribs(final, Z[lo:hi])
            if got is None:
                break
            vals.append(got[0])
            bias = got[1]
        else:
            return np.concatenate(vals), np.asarray(bias[0], dtype=float).reshape(-1), len(Z)

    if interventional:
        model_output = "probability" if method == "predict_proba" else "raw"
        explainer = shap.TreeExplainer(final, data=bg, feature_perturbation="interventional",
                                       model_output=model_output)
    else:
        explainer = shap.TreeExplainer(final, feature_perturbation="tree_path_dependent")
    vals = []
    for lo, hi in chunk_progress(len(Z), _CHUNK["tree"]):
        with warnings.catch_warnings():  # lightgbm's "output has changed to a list" notice
            warnings.simplefilter("ignore", UserWarning)
            with quiet():
                vals.append(_as3d(explainer.shap_values(Z[lo:hi], check_additivity=False), hi - lo))
    values = np.concatenate(vals)
    base = _base(explainer.expected_value, values.shape[2])
    evals = len(Z) * (len(bg) if interventional else 1)
    return values, base, evals


def _linear_values(final, Z, bg):
    import shap

    explainer = shap.LinearExplainer(final, shap.maskers.Independent(bg, max_samples=len(bg)))
    values = _as3d(explainer.shap_values(Z), len(Z))
    return values, _base(explainer.expected_value, values.shape[2]), len(Z)


def _tree_supports(final, method: str, interventional: bool, n_classes: int) -> str | None:
    """Why TreeSHAP cannot explain ``method`` of this tree model (None when it can)."""
    name = type(final).__name__
    multiclass = n_classes > 2
    if "HistGradientBoostingClassifier" in {c.__name__ for c in type(final).__mro__} and multiclass:
        from modelworks.explain._trees import parse

        if not interventional or parse(final) is None:  # our exact kernel reads its trees; shap does not
            return f"shap's TreeExplainer does not support multiclass {name} without a background"
    if method == "predict_proba" and is_margin_tree(final):
        if multiclass:
            return (f"TreeSHAP explains {name}'s per-class log-odds; its softmax probabilities "
                    "are not additive over trees")
        if not interventional:
            return "probability output needs interventional TreeSHAP (a background)"
    if method == "predict_proba" and not is_margin_tree(final):
        return None  # forests' leaves hold probabilities already
    return None


def natural_method(final) -> tuple[str, str]:
    """The output a single model is explained on by default, and its description."""
    fam = family_of(final)
    clf = is_classifier(final)
    if not clf:
        return "predict", "predicted value"
    if fam == "tree":
        return ("decision_function", "log-odds (margin)") if is_margin_tree(final) else (
            "predict_proba", "probability")
    if fam == "linear" and hasattr(final, "decision_function"):
        return "decision_function", "log-odds (decision function)" if hasattr(final, "predict_proba") else (
            "decision function")
    return "predict_proba", "probability"


def explain_unit(unit: Unit, X: pd.DataFrame, bg: pd.DataFrame | None, columns: list[str], *,
                 method: str, interventional: bool, explainer: str = "auto", seed: int = 0,
                 progress_desc: str | None = None, n_classes: int = 0) -> Part:
    """SHAP values of ``method`` of one (possibly preprocessed) model, in both feature views."""
    final = unit.final
    if unit.sources is None:  # black box over the original columns (numeric only)
        Z = _numeric(X, "X")
        enc_names = list(columns)
        B = _numeric(bg, "background") if bg is not None else None
    else:
        Z = unit.transform(X)
        enc_names = unit.encoded_names
        B = unit.transform(bg) if bg is not None else None
    fam = family_of(final)

    def chunk_progress(total, size):
        return _chunks(total, size, progress_desc)

    rescaled = _multiclass_margin_trees(final, Z, method, interventional, explainer, n_classes, B)
    if rescaled is not None:
        values, base = _rescaled_tree_values(rescaled, Z, B, chunk_progress)
        orig = values if unit.sources is None else np.einsum("npk,pc->nck", values,
                                                             aggregation_matrix(unit.sources, columns))
        return Part(enc=values, base=base, orig=orig, enc_names=enc_names, explainer="tree",
                    evaluations=len(Z) * len(B), method=method, enc_data=Z)
    name = _choose(final, fam, method, interventional, explainer, n_classes, Z.shape[1])

    exact_trees = None
    if name == "tree" and interventional:
        exact_trees = _exact_trees(final, Z, method)
    if exact_trees is not None:  # our exact interventional TreeSHAP (shap's is wrong for deep trees)
        from modelworks.explain._trees import interventional_shap

        vals = []
        for lo, hi in chunk_progress(len(Z), _CHUNK["exact-tree"]):
            phi, base = interventional_shap(exact_trees, Z[lo:hi], B)
            vals.append(phi)
        values = np.concatenate(vals)
        evals = len(Z) * len(B)
    elif name == "tree":
        tree_method = method if method != "decision_function" else "raw"
        values, base, evals = _tree_values(final, Z, B, tree_method, interventional=interventional,
                                           chunk_progress=chunk_progress)
    elif name == "linear":
        values, base, evals = _linear_values(final, Z, B if B is not None else Z)
    else:
        if B is None:
            raise ExplainError("internal: a model-agnostic explainer needs a background")
        if not hasattr(final, method):  # e.g. xgboost has no decision_function: explain probabilities
            method = "predict_proba"
        values, base, evals = _agnostic(final, Z, B, method, algorithm=name, seed=seed,
                                        chunk_progress=chunk_progress)
    if unit.sources is None:
        orig = values
    else:
        M = aggregation_matrix(unit.sources, columns)
        orig = np.einsum("npk,pc->nck", values, M)
    return Part(enc=values, base=base, orig=orig, enc_names=enc_names, explainer=name, evaluations=evals,
                method=method, enc_data=Z)


def _multiclass_margin_trees(final, Z, method, interventional, explainer, n_classes, B):
    """Parsed trees of a multiclass booster explained on probabilities against a background.

    Softmax probabilities are not additive over trees, so no TreeSHAP algorithm gives their
    exact values; the per-class log-odds have exact interventional values, which
    :func:`_rescaled_tree_values` rescales (``None``: not such a model, or not parseable).
    """
    if not (interventional and B is not None and method == "predict_proba" and n_classes > 2
            and explainer in ("auto", "tree") and is_margin_tree(final)):
        return None
    from modelworks.explain._trees import parse, predict_raw

    trees = parse(final)
    if trees is None:
        return None
    sample = Z[: min(64, len(Z))]
    try:  # the trees' raw sums must be the booster's log-odds: softmax of them is predict_proba
        with quiet():
            ref = np.asarray(final.predict_proba(sample), dtype=float)
            margin = _margin(final, sample)
        raw = predict_raw(trees, sample)
        if margin is not None and margin.shape == raw.shape:
            # xgboost keeps one intercept per class where the parsed trees hold one for all
            offset = (margin - raw).mean(axis=0)
            if np.allclose(margin - raw, offset, rtol=0, atol=1e-4):
                trees = dataclasses.replace(trees, base=np.asarray(trees.base, dtype=float) + offset)
        mine = _softmax(predict_raw(trees, sample))
    except Exception:  # noqa: BLE001 - a model the kernels do not reproduce: fall back
        return None
    if mine.shape != ref.shape or not np.allclose(mine, ref, rtol=0, atol=FLOAT32_TOL):
        return None
    return trees


def _margin(final, Z) -> np.ndarray | None:
    """The booster's per-class log-odds, by whichever name it offers."""
    calls = (("predict", {"output_margin": True}), ("predict", {"raw_score": True}), ("decision_function", {}))
    names = {c.__name__ for c in type(final).__mro__}
    if "XGBClassifier" in names:
        method, kwargs = calls[0]
    elif "LGBMClassifier" in names:
        method, kwargs = calls[1]
    else:
        method, kwargs = calls[2]
    fn = getattr(final, method, None)
    return None if fn is None else np.asarray(fn(Z, **kwargs), dtype=float)


def _softmax(raw: np.ndarray) -> np.ndarray:
    e = np.exp(raw - raw.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _rescaled_tree_values(trees, Z, B, chunk_progress) -> tuple[np.ndarray, np.ndarray]:
    """Probability-scale SHAP values of a multiclass booster from its exact log-odds values.

    The exact interventional values of the per-class log-odds ``m`` (each row's sum to
    ``m(x) - E_b m``) are carried to the probability scale through the softmax's Jacobian at the
    midpoint ``(m(x) + E_b m) / 2`` (a class's probability moves with every class's log-odds),
    and what that first-order step misses of ``p_k(x) - E_b p_k`` is shared out in proportion
    to the features' shares. The values then sum exactly to ``p_k(x) - E_b p_k``, against the
    same background expectation every other member of a blend uses. Approximate, like shap's
    rescaling of binary boosters; the cost is TreeSHAP's, not a model-agnostic explainer's.
    """
    from modelworks.explain._trees import interventional_shap, predict_raw

    link = _softmax
    vals = []
    for lo, hi in chunk_progress(len(Z), _CHUNK["exact-tree"]):
        phi, _ = interventional_shap(trees, Z[lo:hi], B)
        vals.append(phi)
    phi = np.concatenate(vals)  # (n, M, K) on the log-odds scale
    raw_b = predict_raw(trees, B)
    m_base, p_base = raw_b.mean(axis=0), link(raw_b).mean(axis=0)
    raw_x = predict_raw(trees, Z)
    p_mid = link((raw_x + m_base) / 2)  # (n, K)
    jac = p_mid[:, :, None] * (np.eye(p_mid.shape[1])[None] - p_mid[:, None, :])  # (n, K, K): dp_k/dm_l
    values = np.einsum("nkl,njl->njk", jac, phi)
    residual = (link(raw_x) - p_base) - values.sum(axis=1)  # (n, K)
    weight = np.abs(values)
    total = weight.sum(axis=1, keepdims=True)
    share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), 1.0 / values.shape[1])
    return values + share * residual[:, None, :], p_base


def exactness(part: Part, final) -> str:
    """``exact`` or why a member's values are approximate."""
    if part.explainer == "permutation":
        return "approximate (permutation sampling)"
    if part.explainer == "tree" and part.method == "predict_proba" and is_margin_tree(final):
        return "approximate (log-odds TreeSHAP rescaled to probability)"
    return "exact"


def _numeric(frame, what, why: str = "this model's preprocessing cannot be mapped back to columns"):
    try:
        return frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        text = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        raise ExplainError(
            f"{why}, so {what} is explained model-agnostically on its own columns, which must be "
            f"numeric; non-numeric: {', '.join(text)} (encode them, or explain the members one by one)"
        ) from e


def _choose(final, fam, method, interventional, explainer, n_classes, n_features) -> str:
    """Pick the SHAP algorithm for one model; errors say which one would work."""
    name = type(final).__name__
    agnostic = "exact" if n_features <= EXACT_MAX_FEATURES else "permutation"
    tree_problem = _tree_supports(final, method, interventional, n_classes) if fam == "tree" else None
    linear_ok = fam == "linear" and method in ("predict", "decision_function")
    if explainer == "auto":
        if fam == "tree" and tree_problem is None:
            return "tree"
        if linear_ok:
            return "linear"
        return agnostic
    if explainer == "tree":
        if fam != "tree":
            raise ExplainError(
                f"explainer='tree' cannot handle {name} (not a tree model); use "
                f"explainer='{'linear' if fam == 'linear' else agnostic}' or 'auto'"
            )
        if tree_problem:
            raise ExplainError(f"explainer='tree' cannot explain this {name}: {tree_problem}; "
                               f"use explainer='{agnostic}' or 'auto'")
        return "tree"
    if explainer == "linear":
        if fam != "linear":
            raise ExplainError(
                f"explainer='linear' cannot handle {name} (not a linear model); use "
                f"explainer='{'tree' if fam == 'tree' else agnostic}' or 'auto'"
            )
        if not linear_ok:
            raise ExplainError(
                f"explainer='linear' explains {name}'s linear output, not probabilities; use "
                f"explainer='{agnostic}' for probabilities or 'auto'"
            )
        return "linear"
    if explainer == "exact" and n_features > 20:
        raise ExplainError(f"explainer='exact' needs 2**{n_features} model calls per row; "
                           "use explainer='permutation' or 'auto'")
    return explainer


# -- whole models --------------------------------------------------------------------------------
@dataclass
class Computed:
    """The combined result for a whole model."""

    orig: np.ndarray  # (n, n_columns, n_outputs)
    base: np.ndarray
    enc: np.ndarray | None
    enc_names: list[str] | None
    enc_data: np.ndarray | None
    explainer: str
    reason: str
    output: str
    outputs: list[str]  # names of the outputs (class labels or the target)
    evaluations: float
    components: list[dict] = field(default_factory=list)
    background_rows: int = 0


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    return frame.sample(n=n, random_state=seed)


def _positive(values: np.ndarray, base: np.ndarray, binary: bool):
    """Keep the positive class of a two-column probability output."""
    if binary and values.shape[2] == 2:
        return values[:, :, 1:], base[1:]
    return values, base


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


def _blend(model, X, background, columns, explainer, seed, n_classes, outputs, desc) -> Computed:
    bg = background if background is not None else _sample(X, DEFAULT_BACKGROUND, seed)
    clf = n_classes > 0
    method = "predict_proba" if clf else "predict"
    weights = np.asarray(model.weights_, dtype=float)
    names = list(getattr(model, "names_", [f"member{i}" for i in range(len(weights))]))
    total_orig = total_enc = None
    base = 0.0
    enc_names = enc_data = None
    same_encoding = True
    evals = 0.0
    comps = []
    for name, w, est in zip(names, weights, model.estimators_):
        if w == 0:
            comps.append({"member": name, "weight": 0.0, "explainer": "skipped (weight 0)"})
            continue
        unit = unit_of(est, columns)
        part = explain_unit(unit, X, bg, columns, method=method, interventional=True,
                            explainer="auto" if explainer == "auto" else explainer, seed=seed,
                            progress_desc=f"{desc} {name}" if desc else None, n_classes=n_classes)
        evals += part.evaluations
        comps.append({"member": name, "weight": float(w), "model": type(unit.final).__name__,
                      "explainer": part.explainer, "values": exactness(part, unit.final)})
        total_orig = w * part.orig if total_orig is None else total_orig + w * part.orig
        base = base + w * part.base
        if enc_names is None:
            enc_names, total_enc, enc_data = part.enc_names, w * part.enc, part.enc_data
        elif same_encoding and part.enc_names == enc_names:
            total_enc = total_enc + w * part.enc
        else:
            same_encoding = False
    binary = n_classes == 2
    orig, base_out = _positive(total_orig, np.asarray(base), binary)
    enc = _positive(total_enc, np.asarray(base), binary)[0] if same_encoding else None
    reason = (
        f"{type(model).__name__} outputs sum_i w_i * member_i(x); interventional SHAP values are linear "
        f"in the model, so its values are the weighted sum of its members' "
        f"({_members_text(comps)}), each on the {'probability' if clf else 'prediction'} scale "
        f"against the same {len(bg)} background rows; {_exact_text(comps)}"
    )
    scale = "probability" if clf else "predicted value"
    out = scale if not clf else f"{scale} of class {outputs[0]!r}" if binary else f"{scale} per class"
    return Computed(orig=orig, base=base_out, enc=enc, enc_names=enc_names if same_encoding else None,
                    enc_data=enc_data if same_encoding else None,
                    explainer="ensemble-linear", reason=reason, output=out, outputs=outputs,
                    evaluations=evals, components=comps, background_rows=len(bg))


def _members_text(comps) -> str:
    return ", ".join(f"{c['member']}: {c['explainer']}" for c in comps if "model" in c)


def _exact_text(comps) -> str:
    approx = [f"{c['member']} {c['values'].removeprefix('approximate ')}" for c in comps
              if c.get("values", "exact") != "exact"]
    if not approx:
        return "exact, no sampling of the ensemble"
    return "exact except " + "; ".join(approx)


def meta_columns(model, n_classes: int) -> list[tuple[int, str, int]]:
    """(member index, method, output column) for each meta-feature of a fitted stack."""
    cols = []
    for i, (est, meth) in enumerate(zip(model.estimators_, model.stack_method_)):
        if isinstance(est, str) and est == "drop":
            continue
        if meth == "predict_proba":
            ks = [1] if n_classes == 2 else list(range(n_classes))
        elif meth == "decision_function":
            ks = [0] if n_classes == 2 else list(range(n_classes))
        else:
            ks = [0]
        cols.extend((i, meth, k) for k in ks)
    return cols


def _stack(model, X, background, columns, explainer, seed, n_classes, outputs, desc) -> Computed:
    bg = background if background is not None else _sample(X, DEFAULT_BACKGROUND, seed)
    meta = model.final_estimator_
    coef = np.atleast_2d(np.asarray(meta.coef_, dtype=float))  # (n_out, n_meta)
    intercept = np.atleast_1d(np.asarray(meta.intercept_, dtype=float))
    layout = meta_columns(model, n_classes)
    names = list(getattr(model, "named_estimators_", {}).keys()) or [f"member{i}" for i in range(len(model.estimators_))]
    n, p, n_out = len(X), len(columns), coef.shape[0]
    orig = np.zeros((n, p, n_out))
    base = intercept.copy()
    evals = 0.0
    comps = []
    parts: dict[tuple[int, str], Part] = {}
    for i, meth, _ in layout:
        if (i, meth) in parts:
            continue
        est = model.estimators_[i]
        unit = unit_of(est, columns)
        part = explain_unit(unit, X, bg, columns, method=meth, interventional=True,
                            explainer=explainer, seed=seed, n_classes=n_classes,
                            progress_desc=f"{desc} {names[i] if i < len(names) else i}" if desc else None)
        parts[(i, meth)] = part
        evals += part.evaluations
        comps.append({"member": names[i] if i < len(names) else str(i), "method": meth,
                      "model": type(unit.final).__name__, "explainer": part.explainer,
                      "values": exactness(part, unit.final)})
    for f, (i, meth, k) in enumerate(layout):
        part = parts[(i, meth)]
        kk = min(k, part.orig.shape[2] - 1)
        orig += part.orig[:, :, kk][:, :, None] * coef[:, f][None, None, :]
        base = base + coef[:, f] * part.base[kk]
    if getattr(model, "passthrough", False):
        Xn = _numeric(X, "X (passthrough)")
        Bn = _numeric(bg, "background (passthrough)")
        mean = Bn.mean(axis=0)
        c = coef[:, len(layout):len(layout) + p]  # (n_out, p)
        orig += (Xn - mean)[:, :, None] * c.T[None, :, :]
        base = base + c @ mean
    clf = n_classes > 0
    if clf and hasattr(meta, "predict_proba"):
        scale = "log-odds" if n_classes == 2 else "log-odds score"
    else:
        scale = "decision score" if clf else "predicted value"
    out = scale if not clf else f"{scale} of class {outputs[0]!r}" if n_classes == 2 else f"{scale} per class"
    reason = (
        f"the stack's meta-learner {type(meta).__name__} is linear in its members' outputs, so the "
        f"stack's {scale} is b + sum_f c_f z_f(x) and its SHAP values are sum_f c_f phi(z_f): each "
        f"member explained ({_members_text(comps)}) on the output the stack feeds forward, against the "
        f"same {len(bg)} background rows; {_exact_text(comps)}"
    )
    return Computed(orig=orig, base=base, enc=None, enc_names=None, enc_data=None, explainer="ensemble-linear",
                    reason=reason, output=out, outputs=outputs, evaluations=evals, components=comps,
                    background_rows=len(bg))


def _black_box(model, X, background, columns, explainer, seed, n_classes, outputs, desc, kind) -> Computed:
    bg = background if background is not None else _sample(X, DEFAULT_BACKGROUND, seed)
    clf = n_classes > 0
    method = "predict_proba" if clf else "predict"
    p = len(columns)
    algo = explainer if explainer in ("exact", "permutation") else (
        "exact" if p <= EXACT_MAX_FEATURES else "permutation")
    # the ensemble takes the original frame: evaluate it on rebuilt frames (numeric columns only)
    why = f"{type(model).__name__} is not a weighted sum of its members' outputs"
    Xn = _numeric(X, "X", why)
    Bn = _numeric(bg, "background", why)
    dtypes = X.dtypes

    class _Frame:
        def __init__(self, m):
            self.m = m

        def __getattr__(self, attr):
            fn = getattr(self.m, attr)
            return lambda A: fn(pd.DataFrame(A, columns=columns).astype(dtypes))

    values, base, evals = _agnostic(_Frame(model), Xn, Bn, method, algorithm=algo, seed=seed,
                                    chunk_progress=lambda t, s: _chunks(t, s, desc))
    binary = n_classes == 2
    values, base = _positive(values, base, binary)
    scale = "probability" if clf else "predicted value"
    out = scale if not clf else f"{scale} of class {outputs[0]!r}" if binary else f"{scale} per class"
    what = "a stack with a non-linear meta-learner" if kind == "stack" else f"a {type(model).__name__}"
    reason = (f"{what} is not a weighted sum of its members' outputs"
              if explainer == "auto" else f"explainer={explainer!r} was asked for")
    reason += f": model-agnostic {algo} SHAP over the whole model with a background of {len(bg)} rows"
    return Computed(orig=values, base=base, enc=values, enc_names=list(columns), enc_data=Xn, explainer=algo,
                    reason=reason, output=out, outputs=outputs, evaluations=evals,
                    components=[{"model": type(model).__name__, "explainer": algo}], background_rows=len(bg))


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
