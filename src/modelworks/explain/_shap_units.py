"""SHAP values of one unit (a final model and its preprocessing) on one output scale.

Which algorithm applies (tree, linear, exact, permutation), the tree-specific paths (path-dependent
TreeSHAP, the boosters' own contributions, the exact interventional kernels of
:mod:`modelworks.explain._trees`; CatBoost's own TreeSHAP and rescaled TreeSHAP for boosted
probabilities in :mod:`modelworks.explain._shap_boosters`), and the :class:`Computed` result a
whole model's explanation is combined into.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ExplainError
from modelworks.explain._model import (
    Unit,
    aggregation_matrix,
    family_of,
    is_catboost,
    is_classifier,
    is_margin_tree,
    quiet,
)
from modelworks.explain._shap_boosters import (
    EXACT_TREE_CHUNK,
    TREE_CHUNK,
    _binary_categorical_trees,
    _binary_rescaled_tree_values,
    _catboost_problem,
    _catboost_values,
    _multiclass_margin_trees,
    _rescaled_tree_values,
)

EXPLAINERS = ("auto", "tree", "linear", "exact", "permutation")
DEFAULT_BACKGROUND = 100
AGNOSTIC_BACKGROUND = 50  # model-agnostic cost is linear in it: keep it small for single models
PERMUTATIONS = 5  # antithetic permutations per row (shap's default budget is ~10x more)
EXACT_MAX_FEATURES = 10  # 2**10 coalitions x background rows per explained row: the exact limit
_CHUNK = {"tree": TREE_CHUNK, "exact-tree": EXACT_TREE_CHUNK, "linear": 50_000, "exact": 50, "permutation": 50}


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
    if is_catboost(final):  # CatBoost's own TreeSHAP: margins with or without a background
        return _catboost_problem(final, method, interventional)
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

    def tree_part(values, base, evaluations):
        orig = values if unit.sources is None else np.einsum("npk,pc->nck", values,
                                                             aggregation_matrix(unit.sources, columns))
        return Part(enc=values, base=base, orig=orig, enc_names=enc_names, explainer="tree",
                    evaluations=evaluations, method=method, enc_data=Z)

    if explainer in ("auto", "tree") and is_catboost(final):  # CatBoost's own TreeSHAP reads its trees
        own = _catboost_values(final, Z, B, method, interventional=interventional, chunk_progress=chunk_progress)
        if own is not None:
            return tree_part(*own)
    rescaled = _multiclass_margin_trees(final, Z, method, interventional, explainer, n_classes, B)
    if rescaled is not None:
        return tree_part(*_rescaled_tree_values(rescaled, Z, B, chunk_progress), len(Z) * len(B))
    categorical = _binary_categorical_trees(final, Z, method, interventional, explainer, n_classes, B)
    if categorical is not None:
        return tree_part(*_binary_rescaled_tree_values(categorical, Z, B, chunk_progress), len(Z) * len(B))
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
