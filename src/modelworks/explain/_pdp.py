"""Partial dependence and ICE, 1-D and 2-D, for pipelines, blends and any fitted model.

What this adds to :func:`sklearn.inspection.partial_dependence`:

* features by the user's column names, grids on the original scale, categorical columns by
  level (one-hot parts are set together);
* ``brute`` computed on the model's *encoded* rows: the preprocessing runs once instead of once
  per grid value, and all grid values are predicted in one batched call (same numbers as
  scikit-learn's brute force, which re-runs the whole pipeline for every grid value); for tree
  models (``brute-tree``) each row goes down each tree once, splitting the grid points where the
  tree splits on the feature (exactly the brute-force values, without G predictions per row);
* ``recursion`` (scikit-learn's tree traversal, far faster) where the estimator supports it and
  the output is the one asked for (regressors), ``brute`` otherwise;
* a blend's partial dependence is the weighted sum of its members' (exact: PD is linear in the
  model), each member by its own fastest method.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelworks._validation import check_scalar
from modelworks.exceptions import ColumnError, ExplainError
from modelworks.explain._model import (
    check_input,
    class_labels,
    ensemble_kind,
    unit_of,
)

KINDS = ("average", "individual", "both")
METHODS = ("auto", "recursion", "brute")
MAX_LEVELS_2D = 20
_BATCH_CELLS = 8_000_000  # encoded cells per predict call (rows x features), ~64 MB of float64


@dataclass
class PartialDependenceItem:
    """The partial dependence of one feature or one pair.

    Attributes
    ----------
    features : tuple of str
    grid : list of arrays
        The grid values of each feature, on the original scale (levels for categoricals).
    categorical : list of bool
    average : ndarray or None
        Shape (n_outputs, G) or (n_outputs, G0, G1).
    individual : ndarray or None
        ICE: shape (n_outputs, n_rows, G) or (n_outputs, n_rows, G0, G1).
    method : str
        How it was computed (``recursion``, ``brute`` or ``blend of ...``).
    """

    features: tuple[str, ...]
    grid: list[np.ndarray]
    categorical: list[bool]
    average: np.ndarray | None
    individual: np.ndarray | None
    method: str

    @property
    def name(self) -> str:
        return ":".join(self.features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "grid": [g.tolist() for g in self.grid],
            "categorical": self.categorical,
            "average": None if self.average is None else self.average.tolist(),
            "method": self.method,
        }


@dataclass
class PartialDependence:
    """Partial dependence results for several features/pairs of one model."""

    items: list[PartialDependenceItem]
    output: str
    outputs: list[str]
    kind: str
    rows: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key) -> PartialDependenceItem:
        if isinstance(key, tuple):
            key = ":".join(key)
        for item in self.items:
            if item.name == key:
                return item
        raise KeyError(f"no partial dependence for {key!r}; computed: {', '.join(i.name for i in self.items)}")

    def to_dict(self) -> dict[str, Any]:
        return {"output": self.output, "outputs": self.outputs, "kind": self.kind, "rows": self.rows,
                "seconds": self.seconds, "notes": self.notes, "items": [i.to_dict() for i in self.items]}

    def plot(self, out_dir, **kwargs) -> dict[str, Path]:
        return plot_partial_dependence(self, out_dir, **kwargs)


def _parse_features(features, columns: list[str]) -> list[tuple[str, ...]]:
    if isinstance(features, str | tuple):
        features = [features]
    if not features:
        raise ExplainError("features is empty; name at least one column, e.g. ['age'] or [('age', 'income')]")
    out = []
    for f in features:
        if isinstance(f, str) and ":" in f:
            f = tuple(p.strip() for p in f.split(":"))
        if isinstance(f, int | np.integer) and not isinstance(f, bool):
            if not 0 <= int(f) < len(columns):
                raise ColumnError(f"feature index {f} is out of range (0..{len(columns) - 1})")
            f = columns[int(f)]
        f = (str(f),) if isinstance(f, str) else tuple(str(columns[x]) if isinstance(x, int) else str(x) for x in f)
        if len(f) not in (1, 2):
            raise ExplainError(f"partial dependence takes one feature or a pair, got {f!r}")
        out.append(f)
    unknown = sorted({c for f in out for c in f if c not in columns})
    if unknown:
        raise ColumnError(
            f"unknown feature(s) for partial dependence: {', '.join(unknown)}; columns are: {', '.join(columns)}"
        )
    return out


def _is_categorical(s: pd.Series) -> bool:
    from modelworks.data import column_kind

    return column_kind(s) != "numeric"


def _grid(s: pd.Series, grid_resolution: int, percentiles) -> tuple[np.ndarray, bool]:
    values = s.dropna()
    if len(values) == 0:
        raise ExplainError(f"column {s.name!r} has only missing values; no partial dependence")
    if _is_categorical(s):
        return np.asarray(sorted(values.unique(), key=str), dtype=object), True
    uniq = np.unique(values.to_numpy(dtype=float))
    if len(uniq) < grid_resolution:
        return uniq, False
    from scipy.stats.mstats import mquantiles  # the same quantiles as scikit-learn

    lo, hi = mquantiles(values.to_numpy(dtype=float), prob=percentiles)
    if np.isclose(lo, hi):
        return uniq, False
    grid = np.linspace(lo, hi, num=grid_resolution, endpoint=True)
    if pd.api.types.is_integer_dtype(s):  # whole numbers stay whole: the model only sees those
        grid = np.unique(np.round(grid))
    return grid, False


def _outputs(model):
    labels = class_labels(model)
    if labels is None:
        return "predict", "predicted value", ["prediction"], None
    if len(labels) == 2:
        return "predict_proba", f"probability of class {str(labels[1])!r}", [str(labels[1])], 1
    return "predict_proba", "probability per class", [str(c) for c in labels], None


def _predict(fn, A, column: int | None) -> np.ndarray:
    from modelworks.explain._model import quiet

    with quiet():
        out = np.asarray(fn(A), dtype=float)
    if out.ndim == 1:
        out = out[:, None]
    if column is not None:
        out = out[:, column:column + 1]
    return out  # (rows, n_outputs)


def _points(grids) -> list[tuple]:
    if len(grids) == 1:
        return [(g,) for g in grids[0]]
    return [(a, b) for a in grids[0] for b in grids[1]]


def _encoded_values(unit, X: pd.DataFrame, col: str, grid) -> tuple[list[int], np.ndarray]:
    """Encoded columns of ``col`` and their values at each grid value (transform is column-wise)."""
    idx = [i for i, src in enumerate(unit.sources.values()) if src == col]
    frame = pd.concat([X.iloc[[0]]] * len(grid), ignore_index=True)
    if _is_categorical(X[col]):
        dtype = object
    else:  # an integer column keeps its dtype only for whole grid values
        whole = np.all(np.mod(np.asarray(grid, dtype=float), 1) == 0)
        dtype = X[col].dtype if whole or not pd.api.types.is_integer_dtype(X[col]) else float
    frame[col] = pd.Series(list(grid), dtype=dtype)
    Z = unit.transform(frame)
    return idx, Z[:, idx]


def _brute_unit(unit, X, feats, grids, method, column, need_ice):
    """Brute-force PD/ICE of one model on its encoded rows: transform once, predict in batches."""
    n = len(X)
    points = _points(grids)
    if unit.sources is None:  # black box: set the original column
        fn = getattr(unit.final, method)
        preds = []
        for pt in points:
            Xg = X.copy()
            for c, v in zip(feats, pt):
                Xg[c] = v
            preds.append(_predict(fn, Xg, column))
        P = np.stack(preds)  # (G, n, K)
    else:
        Z = unit.transform(X)
        enc = [_encoded_values(unit, X, c, g) for c, g in zip(feats, grids)]
        cols = [i for idx, _ in enc for i in idx]
        Zu, inverse, counts = _dedupe(Z, cols)
        trees = _trees_for(unit.final, Zu, method)
        if trees is not None:
            out = _tree_brute(trees, Zu, enc, grids, column)
            return (*_finish(out, inverse, counts, grids, need_ice), "brute-tree")
        m = len(Zu)
        fn = getattr(unit.final, method)
        per_batch = max(1, _BATCH_CELLS // max(1, Zu.size))
        P = None
        positions = list(np.ndindex(*[len(g) for g in grids]))
        for lo in range(0, len(positions), per_batch):
            chunk = positions[lo:lo + per_batch]
            big = np.tile(Zu, (len(chunk), 1))
            for b, pos in enumerate(chunk):
                rows = slice(b * m, (b + 1) * m)
                for (idx, vals), p in zip(enc, pos):
                    big[rows, idx] = vals[p]
            out = _predict(fn, big, column).reshape(len(chunk), m, -1)
            P = out if P is None else np.concatenate([P, out])
        return (*_finish(P.transpose(1, 0, 2), inverse, counts, grids, need_ice), "brute")
    K = P.shape[2]
    shape = [len(g) for g in grids]
    avg = P.mean(axis=1).T.reshape([K, *shape])
    ice = P.transpose(2, 1, 0).reshape([K, n, *shape]) if need_ice else None
    return avg, ice, "brute"


def _dedupe(Z: np.ndarray, cols: list[int]):
    """Unique rows ignoring the columns that get overwritten: identical rows give identical curves."""
    rest = np.delete(Z, cols, axis=1)
    if rest.shape[1] == 0:
        return Z[:1], np.zeros(len(Z), dtype=np.intp), np.array([len(Z)])
    _, first, inverse, counts = np.unique(rest, axis=0, return_index=True, return_inverse=True,
                                          return_counts=True)
    return Z[first], np.asarray(inverse).ravel(), counts


def _finish(out: np.ndarray, inverse, counts, grids, need_ice):
    """(unique rows, G, K) -> average (K, *grid) weighted by row counts, ICE (K, n, *grid)."""
    n = int(counts.sum())
    K = out.shape[2]
    shape = [len(g) for g in grids]
    avg = np.tensordot(counts / n, out, axes=(0, 0)).T.reshape([K, *shape])
    ice = out[inverse].transpose(2, 0, 1).reshape([K, n, *shape]) if need_ice else None
    return avg, ice


def _trees_for(final, Z, method):
    from modelworks.explain._model import family_of
    from modelworks.explain._trees import checked

    if family_of(final) != "tree":
        return None
    return checked(final, Z, method)


def _tree_brute(trees, Z, enc, grids, column):
    """Exact brute-force PD/ICE with one tree pass per row (see ``_trees.tree_ice``)."""
    from modelworks.explain._trees import link, tree_ice, tree_ice_grid

    cols = [i for idx, _ in enc for i in idx]
    raw = None
    if all(len(idx) == 1 for idx, _ in enc):  # numeric columns: O(1) per leaf on sorted grids
        raw = tree_ice_grid(trees, Z, cols, [vals[:, 0] for _, vals in enc])
    if raw is None:  # one-hot groups (or an unsorted grid): a mask of grid points per path
        positions = list(np.ndindex(*[len(g) for g in grids]))
        points = np.array([np.concatenate([vals[p] for (_, vals), p in zip(enc, pos)]) for pos in positions])
        raw = tree_ice(trees, Z, cols, points)  # (n, G, K)
    out = link(trees, raw)
    if column is not None:
        out = out[:, :, column:column + 1]
    return out  # (rows, G, K)


def _recursion_ok(unit, feats, X, method) -> str | None:
    """Why scikit-learn's recursion cannot run here (None when it can)."""
    final = unit.final
    if not hasattr(final, "_compute_partial_dependence_recursion"):
        return f"{type(final).__name__} has no recursion method"
    if method != "predict":
        return "recursion gives classifiers' decision function, not probabilities"
    if type(final).__name__ in ("ExtraTreesRegressor",) or unit.sources is None:
        return "not supported for this model"
    if getattr(final, "init", None) not in (None, "zero") and hasattr(final, "init_"):
        return "gradient boosting with an init estimator"
    link = getattr(getattr(final, "_loss", None), "link", None)
    if link is not None and type(link).__name__ != "IdentityLink":
        return f"its loss has a {type(link).__name__} (recursion gives the raw score)"
    for c in feats:
        if _is_categorical(X[c]):
            return f"{c!r} is categorical (several one-hot columns)"
        if sum(1 for s in unit.sources.values() if s == c) != 1:
            return f"{c!r} is not one encoded column"
    return None


def _recursion_unit(unit, X, feats, grids):
    from sklearn.inspection import partial_dependence as sk_pd

    Z = unit.transform(X)
    enc = [_encoded_values(unit, X, c, g) for c, g in zip(feats, grids)]
    idx = [e[0][0] for e in enc]
    custom = {i: np.asarray(vals[:, 0], dtype=float) for i, (_, vals) in zip(idx, enc)}
    res = sk_pd(unit.final, Z, features=idx if len(idx) > 1 else idx, custom_values=custom,
                method="recursion", kind="average")
    avg = np.asarray(res["average"], dtype=float) + _recursion_offset(unit.final, Z)
    return avg.reshape([1, *[len(g) for g in grids]])


def _recursion_offset(final, Z) -> float:
    """The constant boosting starts from, which scikit-learn's recursion leaves out."""
    if hasattr(final, "_baseline_prediction"):  # histogram gradient boosting
        return float(np.ravel(final._baseline_prediction)[0])
    if hasattr(final, "_raw_predict_init"):  # gradient boosting with its default constant init
        return float(np.ravel(final._raw_predict_init(Z[:1]))[0])
    return 0.0


def _unit_pd(est, X, feats, grids, method, column, kind, choice):
    from modelworks.explain._model import Unit

    if ensemble_kind(est) is not None:  # a stack (or another ensemble): vary the original columns
        unit = Unit(prep=None, final=est, sources=None)
    else:
        unit = unit_of(est, list(X.columns))
    need_ice = kind in ("individual", "both")
    why = _recursion_ok(unit, feats, X, method)
    if choice == "recursion" and (why or need_ice):
        problem = why or "recursion computes only the average (use kind='average')"
        raise ExplainError(f"method='recursion' cannot be used for {type(unit.final).__name__}: {problem}; "
                           "use method='brute' or 'auto'")
    if choice in ("auto", "recursion") and why is None and not need_ice:
        return _recursion_unit(unit, X, feats, grids), None, "recursion"
    return _brute_unit(unit, X, feats, grids, method, column, need_ice)


def partial_dependence(model, X, features, *, kind: str = "average", grid_resolution: int = 20,
                       method: str = "auto", percentiles=(0.05, 0.95), max_rows: int | None = None,
                       seed: int = 0, max_levels_2d: int = MAX_LEVELS_2D) -> PartialDependence:
    """Partial dependence (PD) and individual conditional expectation (ICE) curves.

    Parameters
    ----------
    model : fitted estimator, pipeline, blend or stack
    X : DataFrame
        Rows to average over (and draw ICE lines for).
    features : list of str or (str, str)
        Columns (1-D) and pairs (2-D), by name; ``"age:income"`` is the pair too.
    kind : {"average", "individual", "both"}
        PD, ICE, or both.
    grid_resolution : int
        Grid points per numeric column (all values when it has fewer distinct ones; levels for
        a categorical column).
    method : {"auto", "recursion", "brute"}
        ``auto``: scikit-learn's fast ``recursion`` for regressors that support it (gradient
        boosting, histogram boosting, decision trees, random forests) when ``kind="average"``;
        brute force on the encoded rows otherwise. Note that ``recursion`` weights the other
        features by the trees' training data rather than by ``X``.
    percentiles : (float, float)
        Grid range of numeric columns.
    max_rows : int, optional
        Use a seeded sample of at most this many rows.
    seed : int
    max_levels_2d : int
        Most levels a categorical column may have in a 2-D pair.

    Returns
    -------
    PartialDependence
        Probabilities for classifiers (the positive class for binary), predictions for
        regressors.

    Raises
    ------
    ColumnError
        A feature is not a column of ``X``.
    ExplainError
        A categorical column with too many levels in a 2-D pair, or a method that cannot run.
    """
    import time

    if kind not in KINDS:
        raise ExplainError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if method not in METHODS:
        raise ExplainError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    grid_resolution = check_scalar(grid_resolution, "grid_resolution", kind=int, low=2, error=ExplainError)
    X = check_input(model, X)
    if max_rows is not None and len(X) > max_rows:
        X = X.sample(n=int(max_rows), random_state=seed)
    requested = _parse_features(features, list(X.columns))
    predict_method, output, outputs, column = _outputs(model)
    t0 = time.perf_counter()
    items = []
    notes: list[str] = []
    blend = ensemble_kind(model) == "blend"
    for feats in requested:
        grids, cats = [], []
        for c in feats:
            g, is_cat = _grid(X[c], grid_resolution, percentiles)
            if len(feats) == 2 and is_cat and len(g) > max_levels_2d:
                raise ExplainError(
                    f"categorical feature {c!r} has {len(g)} levels; a 2-D partial dependence allows at "
                    f"most {max_levels_2d} (group rare levels, pick a column with fewer levels, or raise "
                    "max_levels_2d)"
                )
            grids.append(g)
            cats.append(is_cat)
        if blend:
            avg = ice = None
            used = []
            for name, w, est in zip(getattr(model, "names_", range(len(model.weights_))), model.weights_,
                                    model.estimators_):
                if w == 0:
                    continue
                a, i, how = _unit_pd(est, X, feats, grids, predict_method, column, kind, method)
                avg = w * a if avg is None else avg + w * a
                if i is not None:
                    ice = w * i if ice is None else ice + w * i
                used.append(f"{name}: {how}")
            how = "weighted sum of members (" + ", ".join(used) + ")"
        else:
            avg, ice, how = _unit_pd(model, X, feats, grids, predict_method, column, kind, method)
        if kind == "individual":
            avg = None
        if kind == "average":
            ice = None
        items.append(PartialDependenceItem(features=feats, grid=grids, categorical=cats, average=avg,
                                           individual=ice, method=how))
    if any("recursion" in i.method for i in items):
        notes.append("recursion weights the other features by the trees' training data, not by X")
    return PartialDependence(items=items, output=output, outputs=outputs, kind=kind, rows=len(X),
                             seconds=time.perf_counter() - t0, notes=notes)


def plot_partial_dependence(result: PartialDependence, out_dir: str | os.PathLike, *, prefix: str = "pdp",
                            class_index: int = 0, max_ice: int = 50, seed: int = 0) -> dict[str, Path]:
    """Write one PNG per feature (PD line with ICE lines) or pair (2-D contour).

    Returns
    -------
    dict
        ``{"age": path, "age:income": path, ...}``.
    """
    from modelworks.explain._plots import pdp_plots

    if not isinstance(result, PartialDependence):
        raise ExplainError("plot_partial_dependence needs the result of modelworks.explain.partial_dependence")
    return pdp_plots(result, Path(out_dir), prefix=prefix, max_ice=max_ice, class_index=class_index, seed=seed)
