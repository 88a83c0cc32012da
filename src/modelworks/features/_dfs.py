"""Deep feature synthesis on featuretools' current API, with cutoff times and feature selection."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from modelworks._validation import check_scalar
from modelworks.data._kinds import parse_dates
from modelworks.exceptions import FeatureError
from modelworks.features._spec import EntitySpec, build_entityset, load_spec


@dataclass
class DFSResult:
    """The feature matrix (one row per target-table row), its definitions and what selection dropped."""

    matrix: pd.DataFrame
    features: list
    dropped: dict[str, str] = field(default_factory=dict)
    made: int = 0
    target_table: str = ""

    @property
    def names(self) -> list[str]:
        return [f.get_name() for f in self.features]

    def summary(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for why in self.dropped.values():
            reasons[why] = reasons.get(why, 0) + 1
        return {"target_table": self.target_table, "rows": len(self.matrix), "made": self.made,
                "kept": len(self.features), "dropped": len(self.dropped), "dropped_by_reason": reasons}


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def read_cutoff_times(cutoff_times, spec: EntitySpec, target_table: str) -> pd.DataFrame | None:
    """Cutoff times as featuretools wants them: (instance id, time), validated against the target table."""
    if cutoff_times is None:
        return None
    from modelworks.data import load_table

    frame = load_table(cutoff_times, name="cutoff times") if not isinstance(cutoff_times, pd.DataFrame) \
        else cutoff_times.copy()
    if frame.shape[1] < 2:
        raise FeatureError("cutoff times need two columns: the target table's id and a time")
    index = spec.tables[target_table].index
    id_col = index if index in frame.columns else frame.columns[0]
    time_col = "time" if "time" in frame.columns else [c for c in frame.columns if c != id_col][0]
    times = parse_dates(frame[time_col])
    if times.isna().any():
        rows = list(frame.index[times.isna()][:5])
        raise FeatureError(f"cutoff time column '{time_col}' does not parse as dates in rows {rows}")
    known = spec.tables[target_table].data[index]
    unknown = frame.loc[~frame[id_col].isin(known), id_col].unique()
    if len(unknown):
        raise FeatureError(
            f"cutoff times for {len(unknown)} id(s) not in table '{target_table}' (e.g. "
            f"{', '.join(map(str, unknown[:5]))})"
        )
    out = pd.DataFrame({index: frame[id_col].to_numpy(), "time": times.to_numpy()})
    extra = [c for c in frame.columns if c not in (id_col, time_col)]
    for c in extra:  # e.g. labels ride along (featuretools keeps them in the matrix)
        out[c] = frame[c].to_numpy()
    return out


def select_features(matrix: pd.DataFrame, features: list, *, null_threshold: float = 0.95,
                    corr_threshold: float = 0.95) -> tuple[pd.DataFrame, list, dict[str, str]]:
    """Drop highly null, single-valued and highly correlated features (featuretools.selection)."""
    from featuretools import selection

    dropped: dict[str, str] = {}
    steps = [
        ("mostly missing", lambda m, f: selection.remove_highly_null_features(m, f, pct_null_threshold=null_threshold)),
        ("constant", lambda m, f: selection.remove_single_value_features(m, f)),
        ("highly correlated", lambda m, f: selection.remove_highly_correlated_features(
            m, f, pct_corr_threshold=corr_threshold)),
    ]
    for reason, step in steps:
        before = [f.get_name() for f in features]
        matrix, features = step(matrix, features)
        after = {f.get_name() for f in features}
        dropped.update({name: reason for name in before if name not in after})
    return matrix, features, dropped


def dfs(spec, target_table: str, *, max_depth: int = 2, agg_primitives=None, trans_primitives=None,
        cutoff_times=None, select: bool = True, null_threshold: float = 0.95, corr_threshold: float = 0.95,
        max_features: int = -1, n_jobs: int = 1, chunk_size=None, verbose: bool = False) -> DFSResult:
    """Deep feature synthesis over related tables.

    Parameters
    ----------
    spec : dict, path to TOML/YAML, or EntitySpec
        Tables, keys, time indexes and relationships (see :func:`load_spec`).
    target_table : str
        The table whose rows get features (e.g. ``"customers"``).
    max_depth : int
        How many relationships a feature may stack (``MEAN(sessions.SUM(transactions.amount))`` is 2).
    agg_primitives, trans_primitives : list of str, optional
        featuretools primitive names (default: featuretools' defaults).
    cutoff_times : DataFrame or path, optional
        (id, time) per row: each row's features use only data from before its time.
    select : bool
        Drop features that are mostly missing, constant or highly correlated.

    Returns
    -------
    DFSResult
    """
    from modelworks._imports import require

    ft = require("featuretools", purpose="deep feature synthesis")
    spec = load_spec(spec)
    if target_table not in spec.tables:
        raise FeatureError(f"target table '{target_table}' is not in the spec; tables are: {', '.join(spec.tables)}")
    max_depth = check_scalar(max_depth, "max_depth", kind=int, low=1, error=FeatureError)
    cutoff = read_cutoff_times(cutoff_times, spec, target_table)
    es = build_entityset(spec)
    ctx = _quiet()
    try:
        matrix, features = ft.dfs(entityset=es, target_dataframe_name=target_table, max_depth=max_depth,
                                  agg_primitives=agg_primitives, trans_primitives=trans_primitives,
                                  cutoff_time=cutoff, max_features=max_features, n_jobs=n_jobs,
                                  chunk_size=chunk_size, verbose=verbose)
    except (ValueError, KeyError) as e:
        raise FeatureError(f"featuretools could not build features: {e}") from e
    finally:
        ctx.__exit__(None, None, None)
    made = len(features)
    dropped: dict[str, str] = {}
    if select:
        ctx = _quiet()
        try:
            matrix, features, dropped = select_features(matrix, features, null_threshold=null_threshold,
                                                        corr_threshold=corr_threshold)
        finally:
            ctx.__exit__(None, None, None)
    return DFSResult(matrix=matrix, features=list(features), dropped=dropped, made=made, target_table=target_table)


class DFSTransformer(TransformerMixin, BaseEstimator):
    """Deep feature synthesis as a scikit-learn transformer.

    ``fit`` learns the feature definitions (and the selection) from the training rows of the
    target table; ``transform`` recalculates exactly those features for new rows with
    ``featuretools.calculate_feature_matrix``. ``X`` holds the target table's id column (and,
    with ``time_column``, each row's cutoff time); the related tables come from ``spec``.

    Parameters
    ----------
    spec : dict or path
        The tables and relationships (see :func:`modelworks.features.load_spec`).
    target_table : str
    max_depth, agg_primitives, trans_primitives, select : see :func:`dfs`
    time_column : str, optional
        Column of ``X`` with each row's cutoff time (no data after it is used).
    """

    def __init__(self, spec=None, target_table=None, max_depth=2, agg_primitives=None, trans_primitives=None,
                 time_column=None, select=True):
        self.spec = spec
        self.target_table = target_table
        self.max_depth = max_depth
        self.agg_primitives = agg_primitives
        self.trans_primitives = trans_primitives
        self.time_column = time_column
        self.select = select

    def _ids_and_cutoff(self, X, spec):
        if not isinstance(X, pd.DataFrame):
            raise FeatureError("DFSTransformer needs a DataFrame holding the target table's id column")
        index = spec.tables[self.target_table].index
        if index not in X.columns:
            raise FeatureError(f"X needs the id column '{index}' of table '{self.target_table}'")
        cutoff = None
        if self.time_column is not None:
            if self.time_column not in X.columns:
                raise FeatureError(f"time column '{self.time_column}' not found in X")
            cutoff = pd.DataFrame({index: X[index].to_numpy(), "time": pd.to_datetime(X[self.time_column]).to_numpy()})
        return X[index].to_numpy(), cutoff

    def fit(self, X, y=None):
        spec = load_spec(self.spec)
        if self.target_table not in spec.tables:
            raise FeatureError(f"target table '{self.target_table}' is not in the spec; tables are: "
                               f"{', '.join(spec.tables)}")
        ids, cutoff = self._ids_and_cutoff(X, spec)
        unknown = pd.Index(ids).difference(pd.Index(spec.tables[self.target_table].data[spec.tables[self.target_table].index]))
        if len(unknown):
            raise FeatureError(f"ids not in table '{self.target_table}': {', '.join(map(str, unknown[:5]))}")
        sub = spec.tables[self.target_table].data
        sub = sub[sub[spec.tables[self.target_table].index].isin(ids)]
        train_spec = EntitySpec({**spec.tables, self.target_table: type(spec.tables[self.target_table])(
            **{**spec.tables[self.target_table].__dict__, "data": sub})}, spec.relationships)
        result = dfs(train_spec, self.target_table, max_depth=self.max_depth, agg_primitives=self.agg_primitives,
                     trans_primitives=self.trans_primitives, cutoff_times=cutoff, select=self.select)
        self.features_ = result.features
        self.dropped_ = result.dropped
        self.feature_names_out_ = np.asarray(result.names, dtype=object)
        return self

    def transform(self, X):
        import featuretools as ft

        check_is_fitted(self, "features_")
        spec = load_spec(self.spec)
        ids, cutoff = self._ids_and_cutoff(X, spec)
        es = build_entityset(spec)
        ctx = _quiet()
        try:
            matrix = ft.calculate_feature_matrix(self.features_, entityset=es, instance_ids=None if cutoff is not None
                                                 else list(ids), cutoff_time=cutoff)
        finally:
            ctx.__exit__(None, None, None)
        if cutoff is not None:  # one row per (id, time), index (id, time) collapses to id in order
            matrix = matrix.reset_index(drop=True)
            matrix.index = X.index
            return matrix
        return matrix.reindex(ids).set_axis(X.index)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "features_")
        return self.feature_names_out_


def save_features(features, path: str | os.PathLike) -> None:
    """Save feature definitions as featuretools JSON (no pickle), atomically."""
    import featuretools as ft

    from modelworks._io import write_text

    write_text(path, ft.save_features(features))
