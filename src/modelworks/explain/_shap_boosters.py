"""Boosters' outputs that need more than one TreeSHAP call: CatBoost, and probabilities of margins.

* **CatBoost** is read by CatBoost alone (symmetric trees, target statistics on categoricals): its
  own TreeSHAP (``get_feature_importance(type="ShapValues")``) gives path-dependent values, or,
  against a background (``reference_data``), Independent Tree SHAP: exact interventional values
  of its raw margin. The zoo's conversion of categorical codes (``models._catboost._input``)
  builds its input.
* **Probabilities** of boosted classifiers (a sigmoid or softmax of a sum of trees) have no exact
  fast algorithm: their exact log-odds values are rescaled, per background row for a binary
  model, through the softmax's Jacobian for a multiclass one, and labelled approximate.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from modelworks.explain._model import is_margin_tree, quiet

FLOAT32_TOL = 1e-5  # boosters predict in float32: parity of probabilities to this
TREE_CHUNK = 20_000  # rows per path-dependent TreeSHAP call
EXACT_TREE_CHUNK = 500  # rows per interventional (background) TreeSHAP call


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
    chunk = EXACT_TREE_CHUNK if interventional else TREE_CHUNK
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
    for lo, hi in chunk_progress(len(Z), EXACT_TREE_CHUNK):
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
    for lo, hi in chunk_progress(len(Z), EXACT_TREE_CHUNK):
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
