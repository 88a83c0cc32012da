"""SHAP values of blends and stacks combined from their members', and of other ensembles as black boxes.

Interventional Shapley values with one common background are linear in the model, so a blend's
values are ``sum_i w_i phi_i`` and a stack with a linear meta-learner's are ``sum_f c_f phi_{z_f}``
(in the meta-learner's link space). Any other ensemble is explained model-agnostically as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelworks.explain._model import unit_of
from modelworks.explain._shap_units import (
    DEFAULT_BACKGROUND,
    EXACT_MAX_FEATURES,
    Computed,
    Part,
    _agnostic,
    _chunks,
    _numeric,
    _positive,
    _sample,
    exactness,
    explain_unit,
)


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
