"""SHAP values of one unit (a final model and its preprocessing) on one output scale.

Which algorithm applies (tree, linear, exact, permutation), the tree-specific paths (path-dependent
TreeSHAP, the boosters' own contributions, the exact interventional kernels of
:mod:`modelworks.explain._trees`, rescaled TreeSHAP for boosted probabilities), and the
:class:`Computed` result a whole model's explanation is combined into.
"""

from __future__ import annotations

import dataclasses
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


def _catboost_pool(final, Z: np.ndarray, *, labelled: bool):
    """``Z`` as CatBoost reads it: a Pool with the zoo's conversion of categorical codes to integers.

    CatBoost's Independent Tree SHAP insists on labels in both pools although they do not enter
    the values (only its loss-function output reads them): a constant label is given.
    """
    from catboost import Pool

    from modelworks.models._catboost import _input

    label = None
    if labelled:
        classes = getattr(final, "classes_", None) if _catboost_classifier(final) else None
        label = np.full(len(Z), classes[0] if classes is not None and len(classes) else 0.0)
    return Pool(_input(final, Z), cat_features=final.get_param("cat_features"), label=label)


def _catboost_classifier(final) -> bool:
    # catboost's own regressor answers classes_ too (its base class serves both kinds): go by type
    return "CatBoostClassifier" in {c.__name__ for c in type(final).__mro__}


def _catboost_shap(final, Z: np.ndarray, B: np.ndarray | None, output: str = "Raw"):
    """CatBoost's own TreeSHAP: values (n, M, K) and per-row base values (n, K).

    Without ``B``: path-dependent TreeSHAP (``shap_calc_type="Regular"``: the exact Shapley values
    of the trees' cover-weighted game), summing to the raw margin. With ``B``: Independent Tree
    SHAP (interventional, one game per background row, averaged), summing to ``output`` minus
    its background mean: exact Shapley values of the raw margin (``"Raw"``); for a binary
    model's ``"Probability"`` each game's log-odds values are rescaled to the probability change,
    as shap's TreeExplainer does for the other boosters.
    """
    kwargs = {} if B is None else {"reference_data": _catboost_pool(final, B, labelled=True),
                                   "model_output": output}
    out = final.get_feature_importance(_catboost_pool(final, Z, labelled=B is not None), type="ShapValues",
                                       thread_count=final.get_param("thread_count") or -1, **kwargs)
    out = np.asarray(out, dtype=float)
    if out.ndim == 2:  # (n, M + 1): one output, bias last
        return out[:, :-1, None], out[:, -1:]
    return out[:, :, :-1].transpose(0, 2, 1), out[:, :, -1]  # (n, K, M + 1)


def _catboost_raw(final, Z: np.ndarray) -> np.ndarray:
    """CatBoost's raw margin, (n, K): what its TreeSHAP values sum to."""
    import catboost

    from modelworks.models._catboost import _input

    # catboost's own predict (the zoo subclass reshapes labels only); its own thread count
    raw = catboost.CatBoost.predict(final, _input(final, Z), prediction_type="RawFormulaVal",
                                    thread_count=final.get_param("thread_count") or -1)
    return np.asarray(raw, dtype=float).reshape(len(Z), -1)


# CatBoost classifier losses whose probabilities are the sigmoid (one margin) or softmax of the margins
_CATBOOST_SOFTMAX_LOSSES = frozenset({"Logloss", "CrossEntropy", "MultiClass"})
# CatBoost regressor losses whose predict is not the raw margin (an exponent, an uncertainty pair)
_CATBOOST_LINKED_LOSSES = ("Poisson", "Tweedie", "RMSEWithUncertainty")


def _catboost_problem(final, method: str, interventional: bool) -> str | None:
    """Why CatBoost's TreeSHAP cannot explain ``method`` of this model (None when it can)."""
    try:
        loss = str(final.get_all_params().get("loss_function", "")).split(":")[0]
    except Exception:  # noqa: BLE001 - catboost could not report its parameters: take the defaults
        loss = ""
    if not _catboost_classifier(final):
        if method == "predict" and loss.startswith(_CATBOOST_LINKED_LOSSES):
            return f"its {loss} predictions are not its raw margin (TreeSHAP explains the margin)"
        return None
    if method != "predict_proba":
        return None
    if loss and loss not in _CATBOOST_SOFTMAX_LOSSES:
        return f"its {loss} probabilities are not a sigmoid or softmax of its margins"
    if not interventional:
        return "probability output needs interventional TreeSHAP (a background)"
    return None


def _catboost_values(final, Z, B, method: str, *, interventional: bool, chunk_progress):
    """SHAP values of a CatBoost model's ``method`` by CatBoost's own TreeSHAP, or ``None``.

    Margins (``decision_function``/raw, a regressor's ``predict``) are exact, path-dependent or,
    given a background, interventional. Probabilities need a background: a binary model's log-odds
    values are rescaled to probability per background row (CatBoost's ``model_output="Probability"``),
    a multiclass model's carried through the softmax (:func:`_softmax_rescaled`), like the other
    boosters' probabilities (approximate, and labelled so by :func:`exactness`). ``None``: an
    output CatBoost's TreeSHAP does not explain (:func:`_catboost_problem`).
    """
    if _catboost_problem(final, method, interventional) is not None:
        return None
    proba = method == "predict_proba" and _catboost_classifier(final)
    # a binary model's probability: CatBoost's own rescaling per background row (closer to the exact
    # values than one rescaling of the averaged log-odds values); it mis-rescales a softmax
    output = "Probability" if proba and len(final.classes_) == 2 else "Raw"
    chunk = _CHUNK["exact-tree" if interventional else "tree"]
    vals, bases = [], []
    for lo, hi in chunk_progress(len(Z), chunk):
        phi, base = _catboost_shap(final, Z[lo:hi], B if interventional else None, output)
        vals.append(phi)
        bases.append(base)
    values = np.concatenate(vals)
    base = np.concatenate(bases).mean(axis=0)
    evals = len(Z) * (len(B) if interventional else 1)
    if output == "Probability":  # the positive class's values; the other class's are their negatives
        return np.concatenate([-values, values], axis=2), np.concatenate([1.0 - base, base]), evals
    if proba:
        values, base = _softmax_rescaled(values, _catboost_raw(final, Z), _catboost_raw(final, B))
    return values, base, evals


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

    own = None
    if explainer in ("auto", "tree") and is_catboost(final):  # CatBoost's own TreeSHAP reads its trees
        own = _catboost_values(final, Z, B, method, interventional=interventional, chunk_progress=chunk_progress)
    if own is not None:
        values, base, evals = own
        orig = values if unit.sources is None else np.einsum("npk,pc->nck", values,
                                                             aggregation_matrix(unit.sources, columns))
        return Part(enc=values, base=base, orig=orig, enc_names=enc_names, explainer="tree",
                    evaluations=evals, method=method, enc_data=Z)
    rescaled = _multiclass_margin_trees(final, Z, method, interventional, explainer, n_classes, B)
    if rescaled is not None:
        values, base = _rescaled_tree_values(rescaled, Z, B, chunk_progress)
        orig = values if unit.sources is None else np.einsum("npk,pc->nck", values,
                                                             aggregation_matrix(unit.sources, columns))
        return Part(enc=values, base=base, orig=orig, enc_names=enc_names, explainer="tree",
                    evaluations=len(Z) * len(B), method=method, enc_data=Z)
    categorical = _binary_categorical_trees(final, Z, method, interventional, explainer, n_classes, B)
    if categorical is not None:
        values, base = _binary_rescaled_tree_values(categorical, Z, B, chunk_progress)
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


def _binary_categorical_trees(final, Z, method, interventional, explainer, n_classes, B):
    """Parsed trees of a binary booster with LightGBM categorical splits, explained on probability.

    shap's rescaled TreeSHAP (what other binary boosters' probabilities get) ignores categorical
    splits; :func:`_binary_rescaled_tree_values` does the same rescaling on our exact values.
    """
    if not (interventional and B is not None and method == "predict_proba" and n_classes == 2
            and explainer in ("auto", "tree") and is_margin_tree(final)):
        return None
    from modelworks.explain._trees import checked

    trees = checked(final, Z, "predict_proba")
    return trees if trees is not None and trees.categorical and trees.value.shape[2] == 1 else None


def _binary_rescaled_tree_values(trees, Z, B, chunk_progress) -> tuple[np.ndarray, np.ndarray]:
    """Probability-scale SHAP values of a binary booster, rescaled per background row as shap does.

    Against each background row ``b`` the exact log-odds values (summing to ``m(x) - m(b)``) are
    scaled by ``(p(x) - p(b)) / (m(x) - m(b))`` (the sigmoid's slope where they are equal), then
    averaged: they sum to ``p(x)`` minus the background's mean probability. Approximate, like
    shap's rescaled TreeSHAP, and labelled so.
    """
    from modelworks.explain._trees import interventional_shap, predict_raw

    def sigmoid(m):
        return 1.0 / (1.0 + np.exp(-m))

    raw_b = predict_raw(trees, B)[:, 0]
    vals = []
    for lo, hi in chunk_progress(len(Z), _CHUNK["exact-tree"]):
        raw_x = predict_raw(trees, Z[lo:hi])[:, 0]
        total = np.zeros((hi - lo, Z.shape[1]))
        for j in range(len(B)):
            phi, _ = interventional_shap(trees, Z[lo:hi], B[j:j + 1])
            step = raw_x - raw_b[j]
            flat = np.abs(step) < 1e-12
            ratio = np.where(flat, sigmoid(raw_x) * (1.0 - sigmoid(raw_x)),
                             (sigmoid(raw_x) - sigmoid(raw_b[j])) / np.where(flat, 1.0, step))
            total += phi[:, :, 0] * ratio[:, None]
        vals.append(total / len(B))
    values = np.concatenate(vals)[:, :, None]
    p_base = float(sigmoid(raw_b).mean())
    return np.concatenate([-values, values], axis=2), np.array([1.0 - p_base, p_base])


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

    vals = []
    for lo, hi in chunk_progress(len(Z), _CHUNK["exact-tree"]):
        phi, _ = interventional_shap(trees, Z[lo:hi], B)
        vals.append(phi)
    phi = np.concatenate(vals)  # (n, M, K) on the log-odds scale
    return _softmax_rescaled(phi, predict_raw(trees, Z), predict_raw(trees, B))


def _softmax_rescaled(phi: np.ndarray, raw_x: np.ndarray, raw_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact interventional log-odds values ``phi`` (n, M, K) carried to softmax probabilities.

    ``raw_x`` (n, K) and ``raw_b`` (background rows, K) are the log-odds of the explained and the
    background rows; see :func:`_rescaled_tree_values` for the rescaling.
    """
    link = _softmax
    m_base, p_base = raw_b.mean(axis=0), link(raw_b).mean(axis=0)
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
