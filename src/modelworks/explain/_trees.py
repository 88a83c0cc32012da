# Long module: the numba kernels and the two readers of the dense tree arrays they run on (shap's TreeEnsemble, scikit-learn's HistGradientBoosting predictors) share one array layout.
"""Exact interventional TreeSHAP and exact brute-force partial dependence for tree ensembles.

Two small kernels (numba) over the dense tree arrays that shap's ``TreeEnsemble`` builds for
every tree library it reads (scikit-learn, xgboost, lightgbm):

* :func:`interventional_shap` - interventional (background) SHAP values. shap's own C++ path
  returns wrong values for deep trees (shap issue #3267: from depth ~8 the values no longer
  match the exact Shapley values, additivity still holds), which matters for random forests.
  Per (row, background row, tree) we walk only the paths where the two rows disagree and give
  each leaf's value to the features that decide it with the closed-form Shapley weights of a
  unanimity game: ``(a-1)! b! / (a+b)!`` to each of the ``a`` features taken from the row,
  ``-a! (b-1)! / (a+b)!`` to each of the ``b`` taken from the background row.
* :func:`tree_ice` - the model's raw output at every grid point for every row, in one pass per
  tree: splits on the grid features send the row down both sides with the grid points that
  go there, so a row visits a few leaves instead of being predicted once per grid point.
  The result is exactly what predicting every modified row would give (brute force).

Every use is guarded by a parity check against the model's own predictions; when the parsed
trees do not reproduce the model (an unsupported split type, a library change), callers fall
back to the generic path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

PARITY_TOL = 1e-6


@dataclass
class Trees:
    """Dense arrays of a tree ensemble: output = transform(base + sum_t leaf_t(x))."""

    left: np.ndarray
    right: np.ndarray
    default: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray  # (trees, nodes, outputs)
    base: np.ndarray  # (outputs,)
    tree_output: str  # "raw_value" | "log_odds" | "probability"
    input_dtype: type
    max_depth: int
    categorical: bool = False  # LightGBM categorical splits rewritten (shap's own paths ignore them)


def parse(final) -> Trees | None:
    """The model's trees as dense arrays, or ``None`` when shap cannot read them simply."""
    try:
        from modelworks._compat.shap import tree_ensemble

        te = tree_ensemble(final)
    except Exception:  # noqa: BLE001 - any model shap cannot read: the caller falls back
        return _parse_hgb(final)
    if te.trees is None or getattr(te, "threshold_types", None) is None:
        return None
    limit = te.tree_limit if te.tree_limit is not None else te.values.shape[0]
    limit = min(int(limit), te.values.shape[0])
    if np.any(te.threshold_types[:limit] == 1):  # categorical splits (lightgbm native categoricals)
        return _lgbm_categorical(final, te, limit)
    return Trees(
        left=np.ascontiguousarray(te.children_left[:limit], dtype=np.int32),
        right=np.ascontiguousarray(te.children_right[:limit], dtype=np.int32),
        default=np.ascontiguousarray(te.children_default[:limit], dtype=np.int32),
        feature=np.ascontiguousarray(te.features[:limit], dtype=np.int32),
        threshold=np.ascontiguousarray(te.thresholds[:limit], dtype=np.float64),
        value=np.ascontiguousarray(te.values[:limit], dtype=np.float64),
        base=np.asarray(te.base_offset, dtype=np.float64).reshape(-1),
        tree_output=str(te.tree_output),
        input_dtype=te.input_dtype,
        max_depth=int(te.max_depth),
    )


def _lgbm_categorical(final, te, limit: int) -> Trees | None:
    """LightGBM's trees with each categorical split rewritten as a chain of numeric splits.

    LightGBM sends an integer code in the split's category set left and any other code (and a
    negative or missing one) right. On integer codes that is a run of threshold splits at
    half-integers around each run of consecutive codes in the set; the chain's first node takes
    the split's place and its exits point at the split's two children (shared, not copied), so
    the kernels walk the same leaves. ``None`` for anything else (another library, missing codes
    sent left); the callers' parity check compares the result with the model's predictions.
    """
    try:
        dump = final.booster_.dump_model()
    except Exception:  # noqa: BLE001 - not a LightGBM model
        return None
    sets: dict[tuple[int, int], list[int]] = {}
    for t, info in enumerate(dump["tree_info"][:limit]):
        stack = [info["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_index" not in node:
                continue
            if node.get("decision_type") == "==":
                sets[(t, node["split_index"])] = sorted({int(c) for c in str(node["threshold"]).split("||")})
            stack += [node["left_child"], node["right_child"]]
    trees = []
    for t in range(limit):
        arrays = [list(a[t]) for a in (te.children_left, te.children_right, te.children_default,
                                       te.features, te.thresholds)]
        values = [np.asarray(v, dtype=np.float64) for v in te.values[t]]
        for node in np.flatnonzero(te.threshold_types[t] == 1):
            cats = sets.get((t, int(node)))
            inside, outside = arrays[0][node], arrays[1][node]
            if cats is None or arrays[2][node] != outside:
                return None
            chain = _category_chain(cats)  # (threshold, exit when x <= threshold: True = inside)
            ids = [int(node)] + [len(arrays[0]) + i for i in range(len(chain) - 1)]
            for i, (thr, goes_in) in enumerate(chain):
                nxt = ids[i + 1] if i + 1 < len(ids) else outside
                row = [inside if goes_in else outside, nxt, nxt, arrays[3][node], thr]
                if i == 0:
                    for a, v in zip(arrays, row):
                        a[node] = v
                else:
                    for a, v in zip(arrays, row):
                        a.append(v)
                    values.append(np.zeros_like(values[0]))
        trees.append((arrays, values))
    width = max(len(a[0]) for a, _ in trees)

    def stacked(i, fill, dtype):
        return np.ascontiguousarray([a[i] + [fill] * (width - len(a[i])) for a, _ in trees], dtype=dtype)

    value = np.zeros((limit, width, te.values.shape[2]))
    for t, (_, vals) in enumerate(trees):
        value[t, : len(vals)] = vals
    left, right = stacked(0, -1, np.int32), stacked(1, -1, np.int32)
    return Trees(left=left, right=right, default=stacked(2, -1, np.int32), feature=stacked(3, 0, np.int32),
                 threshold=stacked(4, 0.0, np.float64), value=value,
                 base=np.asarray(te.base_offset, dtype=np.float64).reshape(-1), tree_output=str(te.tree_output),
                 input_dtype=te.input_dtype, max_depth=max(_depth(lt, rt) for lt, rt in zip(left, right)),
                 categorical=True)


def _category_chain(cats: list[int]) -> list[tuple[float, bool]]:
    """Threshold splits that send the integers in ``cats`` one way and every other value the other.

    Each entry is ``(threshold, inside)``: ``x <= threshold`` exits (into the set when ``inside``),
    else the next entry decides; past the last one, ``x`` is outside the set.
    """
    runs: list[list[int]] = []
    for c in cats:
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    chain = []
    for lo, hi in runs:
        chain += [(lo - 0.5, False), (hi + 0.5, True)]
    return chain


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    """Longest root-to-leaf path of one tree stored as child arrays (shared nodes allowed)."""
    memo: dict[int, int] = {}

    def down(node: int) -> int:
        if left[node] < 0:
            return 0
        if node not in memo:
            memo[node] = 1 + max(down(int(left[node])), down(int(right[node])))
        return memo[node]

    return down(0)


def _parse_hgb(final) -> Trees | None:
    """A HistGradientBoosting model's trees, read from its predictors (shap reads no multiclass one).

    One tree per class and boosting round; tree ``t`` adds its leaf value to output ``t % K`` only.
    Numerical splits send ``x <= threshold`` left and NaN to ``missing_go_to_left``, as scikit-learn
    predicts; a model with categorical splits is not read (``None``). The caller's parity check
    (:func:`checked`) compares the result with the model's own predictions.
    """
    predictors = getattr(final, "_predictors", None)
    baseline = getattr(final, "_baseline_prediction", None)
    if not predictors or baseline is None or "HistGradientBoosting" not in type(final).__name__:
        return None
    if "Regressor" in type(final).__name__ and getattr(final, "loss", "squared_error") not in (
            "squared_error", "absolute_error", "quantile"):
        return None  # a log link (poisson, gamma): the raw sum is not the prediction
    trees = [p.nodes for rnd in predictors for p in rnd]
    if any(np.any(nodes["is_categorical"]) for nodes in trees):
        return None
    K = len(predictors[0])
    T, M = len(trees), max(len(nodes) for nodes in trees)
    left = np.full((T, M), -1, dtype=np.int32)
    right = np.full((T, M), -1, dtype=np.int32)
    default = np.full((T, M), -1, dtype=np.int32)
    feature = np.zeros((T, M), dtype=np.int32)
    threshold = np.zeros((T, M))
    value = np.zeros((T, M, K))
    for t, nodes in enumerate(trees):
        n = len(nodes)
        inner = ~nodes["is_leaf"].astype(bool)
        left[t, :n] = np.where(inner, nodes["left"], -1)
        right[t, :n] = np.where(inner, nodes["right"], -1)
        default[t, :n] = np.where(inner, np.where(nodes["missing_go_to_left"], nodes["left"], nodes["right"]), -1)
        feature[t, :n] = nodes["feature_idx"]
        threshold[t, :n] = nodes["num_threshold"]
        value[t, :n, t % K] = np.where(inner, 0.0, nodes["value"])
    depth = max(int(nodes["depth"].max()) for nodes in trees)
    clf = hasattr(final, "classes_")
    return Trees(left=left, right=right, default=default, feature=feature, threshold=threshold, value=value,
                 base=np.asarray(baseline, dtype=np.float64).reshape(-1),
                 tree_output="log_odds" if clf else "raw_value", input_dtype=np.float64, max_depth=depth)


def prepare_rows(trees: Trees, Z: np.ndarray) -> np.ndarray:
    """Rows as the library compares them (sklearn trees compare float32 values)."""
    return np.ascontiguousarray(np.asarray(Z).astype(trees.input_dtype).astype(np.float64))


@lru_cache(maxsize=1)
def _kernels():
    import numba

    @numba.njit(cache=True)
    def interventional(X, B, left, right, default, feature, threshold, value, n_features, max_depth, weights):
        n = X.shape[0]
        nb = B.shape[0]
        T = left.shape[0]
        K = value.shape[2]
        phi = np.zeros((n, n_features, K))
        size = 6 * (max_depth + 2) + 8
        op = np.empty(size, np.int64)  # 0 visit, 1 assign-from-row, 2 assign-from-background, 3 undo
        arg = np.empty(size, np.int64)
        state = np.zeros(n_features, np.int64)  # 0 free, 1 from the row, 2 from the background
        path = np.empty(max_depth + 2, np.int64)
        for i in range(n):
            for j in range(nb):
                for t in range(T):
                    sp = 0
                    op[sp] = 0
                    arg[sp] = 0
                    sp += 1
                    npath = 0
                    na = 0
                    nz = 0
                    while sp > 0:
                        sp -= 1
                        o = op[sp]
                        a = arg[sp]
                        if o == 1 or o == 2:
                            state[a] = o
                            path[npath] = a
                            npath += 1
                            if o == 1:
                                na += 1
                            else:
                                nz += 1
                            continue
                        if o == 3:
                            npath -= 1
                            if state[a] == 1:
                                na -= 1
                            else:
                                nz -= 1
                            state[a] = 0
                            continue
                        node = a
                        while True:  # descend without the stack while the two rows agree
                            if left[t, node] < 0:  # a leaf: share its value among the deciding features
                                if na + nz > 0:
                                    wpos = weights[na - 1, nz] if na > 0 else 0.0
                                    wneg = weights[na, nz - 1] if nz > 0 else 0.0
                                    for q in range(npath):
                                        f = path[q]
                                        if state[f] == 1:
                                            for k in range(K):
                                                phi[i, f, k] += wpos * value[t, node, k]
                                        else:
                                            for k in range(K):
                                                phi[i, f, k] -= wneg * value[t, node, k]
                                break
                            f = feature[t, node]
                            thr = threshold[t, node]
                            dl = default[t, node] == left[t, node]
                            xv = X[i, f]
                            zv = B[j, f]
                            xl = dl if np.isnan(xv) else xv <= thr
                            zl = dl if np.isnan(zv) else zv <= thr
                            xchild = left[t, node] if xl else right[t, node]
                            zchild = left[t, node] if zl else right[t, node]
                            if xl == zl or state[f] == 1:
                                node = xchild
                            elif state[f] == 2:
                                node = zchild
                            else:  # the rows part here: f decided by the row now, by z later
                                op[sp] = 3
                                arg[sp] = f
                                op[sp + 1] = 0
                                arg[sp + 1] = zchild
                                op[sp + 2] = 2
                                arg[sp + 2] = f
                                op[sp + 3] = 3
                                arg[sp + 3] = f
                                sp += 4
                                state[f] = 1
                                path[npath] = f
                                npath += 1
                                na += 1
                                node = xchild
        for i in range(n):
            for f in range(n_features):
                for k in range(K):
                    phi[i, f, k] /= nb
        return phi

    @numba.njit(cache=True)
    def ice(X, P, cols, left, right, default, feature, threshold, value, base, max_depth):
        """Raw output (n, G, K) with the columns ``cols`` set to each grid point (row of P)."""
        n, nf = X.shape
        G = P.shape[0]
        T = left.shape[0]
        K = value.shape[2]
        out = np.zeros((n, G, K))
        colpos = -np.ones(nf, np.int64)
        for c in range(cols.shape[0]):
            colpos[cols[c]] = c
        size = 2 * (max_depth + 2) + 4
        stack_node = np.empty(size, np.int64)
        masks = np.empty((size, G), np.bool_)
        for i in range(n):
            for g in range(G):
                for k in range(K):
                    out[i, g, k] = base[k]
            for t in range(T):
                sp = 0
                stack_node[0] = 0
                masks[0, :] = True
                sp = 1
                while sp > 0:
                    sp -= 1
                    node = stack_node[sp]
                    if left[t, node] < 0:
                        for g in range(G):
                            if masks[sp, g]:
                                for k in range(K):
                                    out[i, g, k] += value[t, node, k]
                        continue
                    f = feature[t, node]
                    c = colpos[f]
                    if c < 0:
                        v = X[i, f]
                        if np.isnan(v):
                            nxt = default[t, node]
                        elif v <= threshold[t, node]:
                            nxt = left[t, node]
                        else:
                            nxt = right[t, node]
                        stack_node[sp] = nxt  # the mask at this level stays as it is
                        sp += 1
                        continue
                    thr = threshold[t, node]
                    any_l = False
                    any_r = False
                    for g in range(G):
                        if masks[sp, g]:
                            v = P[g, c]
                            gl = (default[t, node] == left[t, node]) if np.isnan(v) else v <= thr
                            masks[sp + 1, g] = not gl
                            if gl:
                                any_l = True
                            else:
                                any_r = True
                        else:
                            masks[sp + 1, g] = False
                    # level sp keeps the left mask, level sp+1 the right one
                    if any_l and any_r:
                        for g in range(G):
                            if masks[sp + 1, g]:
                                masks[sp, g] = False
                        stack_node[sp] = left[t, node]
                        stack_node[sp + 1] = right[t, node]
                        sp += 2
                    elif any_l:
                        stack_node[sp] = left[t, node]
                        sp += 1
                    elif any_r:
                        stack_node[sp] = right[t, node]
                        for g in range(G):
                            masks[sp, g] = masks[sp + 1, g]
                        sp += 1
        return out

    @numba.njit(cache=True)
    def ice_intervals(X, g0, g1, c0, c1, packed, default, value, max_depth):
        """Like ``ice`` for one or two numeric columns with sorted grids, O(1) work per leaf.

        Every leaf a row reaches covers a box of grid indices [lo0, hi0) x [lo1, hi1): its value
        goes into a 2-D difference array (integrated by the caller). Trees are the outer loop
        so each tree stays in cache; the stack is used only where the grid splits.
        """
        n = X.shape[0]
        G0 = g0.shape[0]
        G1 = g1.shape[0]
        T = packed.shape[0]
        K = value.shape[2]
        diff = np.zeros((n, G0 + 1, G1 + 1, K))
        size = 2 * (max_depth + 2) + 4
        st = np.empty((size, 5), np.int64)  # node, then the box: lo0, hi0, lo1, hi1
        box = np.empty(4, np.int64)  # the box of the node being walked
        for t in range(T):
            pt = packed[t]  # per node: threshold, left, right, feature (one cache line)
            dt = default[t]
            vt = value[t]
            for i in range(n):
                st[0, 0] = 0
                st[0, 1] = 0
                st[0, 2] = G0
                st[0, 3] = 0
                st[0, 4] = G1
                sp = 1
                while sp > 0:
                    sp -= 1
                    node = st[sp, 0]
                    box[:] = st[sp, 1:]
                    while True:
                        thr = pt[node, 0]
                        lc = np.int64(pt[node, 1])
                        if lc < 0:
                            lo0, hi0, lo1, hi1 = box[0], box[1], box[2], box[3]
                            for k in range(K):
                                v = vt[node, k]
                                diff[i, lo0, lo1, k] += v
                                diff[i, hi0, lo1, k] -= v
                                diff[i, lo0, hi1, k] -= v
                                diff[i, hi0, hi1, k] += v
                            break
                        rc = np.int64(pt[node, 2])
                        f = np.int64(pt[node, 3])
                        axis = 0 if f == c0 else (1 if f == c1 else -1)
                        if axis >= 0:  # a grid column: the split cuts the box along its axis
                            lo = box[2 * axis]
                            hi = box[2 * axis + 1]
                            cut = min(max(np.searchsorted(g0 if axis == 0 else g1, thr, side="right"), lo), hi)
                            if cut > lo and cut < hi:  # both sides: the right part waits on the stack
                                st[sp, 0] = rc
                                st[sp, 1:] = box
                                st[sp, 1 + 2 * axis] = cut
                                sp += 1
                                box[2 * axis + 1] = cut
                                node = lc
                            elif cut > lo:
                                node = lc
                            else:
                                node = rc
                        else:
                            v = X[i, f]
                            if v <= thr:
                                node = lc
                            elif v > thr:
                                node = rc
                            else:  # NaN
                                node = dt[node]
        return diff

    return interventional, ice, ice_intervals


@lru_cache(maxsize=64)
def _weights(m: int) -> np.ndarray:
    w = np.zeros((m + 1, m + 1))
    for a in range(m + 1):
        for b in range(m + 1 - a):
            w[a, b] = math.factorial(a) * math.factorial(b) / math.factorial(a + b + 1)
    return w


def predict_raw(trees: Trees, Z: np.ndarray) -> np.ndarray:
    """Raw output (n, outputs): :func:`tree_ice` with no column set (one grid point, one path per tree)."""
    return tree_ice(trees, Z, [], np.empty((1, 0)))[:, 0, :]


def interventional_shap(trees: Trees, Z: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact interventional SHAP values of the raw output: (n, features, outputs) and the base."""
    fn = _kernels()[0]
    Zp, Bp = prepare_rows(trees, Z), prepare_rows(trees, B)
    depth = max(trees.max_depth, 1) + 2
    phi = fn(Zp, Bp, trees.left, trees.right, trees.default, trees.feature, trees.threshold, trees.value,
             Zp.shape[1], depth, _weights(depth + 1))
    base = predict_raw(trees, Bp).mean(axis=0)
    return phi, base


def packed(trees: Trees) -> np.ndarray:
    """(trees, nodes, 4) float64: threshold, left, right, feature side by side (cache-friendly)."""
    out = np.empty((*trees.left.shape, 4))
    out[..., 0] = trees.threshold
    out[..., 1] = trees.left
    out[..., 2] = trees.right
    out[..., 3] = trees.feature
    return out


def tree_ice_grid(trees: Trees, Z: np.ndarray, cols: list[int], grids: list[np.ndarray]) -> np.ndarray | None:
    """Raw output (n, G0[*G1], outputs) on the product grid of one or two numeric columns.

    ``None`` when a grid is not strictly increasing after the library's cast (use :func:`tree_ice`).
    """
    gs = [np.asarray(g, dtype=float).astype(trees.input_dtype).astype(np.float64) for g in grids]
    if len(gs) not in (1, 2) or any(np.any(np.diff(g) <= 0) or np.isnan(g).any() for g in gs):
        return None
    fn = _kernels()[2]
    g1 = gs[1] if len(gs) == 2 else np.zeros(1)
    c1 = cols[1] if len(cols) == 2 else -2
    diff = fn(prepare_rows(trees, Z), np.ascontiguousarray(gs[0]), np.ascontiguousarray(g1), int(cols[0]),
              int(c1), packed(trees), trees.default, trees.value, max(trees.max_depth, 1) + 2)
    out = np.cumsum(np.cumsum(diff, axis=1), axis=2)[:, : len(gs[0]), : len(g1)] + trees.base
    return out.reshape(out.shape[0], -1, out.shape[-1])


def tree_ice(trees: Trees, Z: np.ndarray, cols: list[int], points: np.ndarray) -> np.ndarray:
    """Raw output (n, G, outputs) of every row with encoded columns ``cols`` set to each point."""
    fn = _kernels()[1]
    P = np.ascontiguousarray(np.asarray(points, dtype=float).astype(trees.input_dtype).astype(np.float64))
    return fn(prepare_rows(trees, Z), P, np.asarray(cols, dtype=np.int64), trees.left, trees.right,
              trees.default, trees.feature, trees.threshold, trees.value, trees.base, max(trees.max_depth, 1) + 2)


def link(trees: Trees, raw: np.ndarray) -> np.ndarray:
    """Raw tree output -> predict_proba / predict scale (last axis = outputs)."""
    if trees.tree_output == "log_odds":
        if raw.shape[-1] == 1:
            p = 1.0 / (1.0 + np.exp(-raw))
            return np.concatenate([1.0 - p, p], axis=-1)
        e = np.exp(raw - raw.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return raw


def checked(final, Z: np.ndarray, method: str, *, rows: int = 64) -> Trees | None:
    """Parsed trees only if they reproduce ``final.<method>`` on some rows (parity check)."""
    trees = parse(final)
    if trees is None:
        return None
    sample = Z[: min(rows, len(Z))]
    try:
        raw = predict_raw(trees, sample)
        if method == "predict_proba":
            mine = link(trees, raw)
        elif method == "predict" and trees.tree_output == "raw_value":
            mine = raw
        else:
            return None
        from modelworks.explain._model import quiet

        with quiet():
            ref = np.asarray(getattr(final, method)(sample), dtype=float)
        if ref.ndim == 1:
            ref = ref[:, None]
        if mine.shape != ref.shape or not np.allclose(mine, ref, rtol=0, atol=PARITY_TOL * max(1.0, np.abs(ref).max())):
            return None
    except Exception:  # noqa: BLE001 - a model the kernels do not reproduce: fall back
        return None
    return trees
