"""Streaming drift for files larger than memory: Parquet record batches, binned sketches.

Categorical counts and missing-value counts are exact. Numeric columns are accumulated into
fine bins at the reference's quantiles, so the KS statistic is the largest CDF gap at the bin
edges (a lower bound of the exact one, equal to it when the gap peaks at an edge) and the
Wasserstein distance is integrated between edges; the report says it is approximate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pandas as pd

from modelworks.data import iter_table
from modelworks.exceptions import DataFileError, MonitorError
from modelworks.monitor._reference import (
    PreparedReference,
    _as_float,
    _check_kinds,
    _reference_frame,
    _select,
)
from modelworks.monitor._results import DriftReport
from modelworks.monitor._rows import _assemble, _categorical_from_counts, _finish_row
from modelworks.monitor._rule import DriftRule


def iter_parquet(
    path: str | os.PathLike, *, batch_rows: int = 100_000, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield a Parquet file as DataFrames of at most ``batch_rows`` rows (bounded memory).

    The spine's chunked reader, :func:`modelworks.data.iter_table`, under its monitoring name.
    """
    return iter_table(path, chunk_rows=batch_rows, columns=columns, name="Parquet")


class _NumericSketch:
    def __init__(self, ref_sorted: np.ndarray, bins: int) -> None:
        n = ref_sorted.size
        idx = np.minimum((np.arange(1, bins) * n) // bins, n - 1)
        self.edges = np.unique(ref_sorted[idx]) if n else np.empty(0)
        self.counts = np.zeros(self.edges.size + 1, dtype=np.int64)
        self.n_total = 0
        self.n_missing = 0
        self.lo, self.hi = np.inf, -np.inf

    def add(self, values: np.ndarray) -> None:
        finite = np.isfinite(values)
        v = values[finite]
        self.n_total += values.size
        self.n_missing += int(values.size - v.size)
        if v.size:
            self.counts += np.bincount(
                np.searchsorted(self.edges, v, side="left"), minlength=self.counts.size
            )
            self.lo, self.hi = min(self.lo, v.min()), max(self.hi, v.max())


def _binned_numeric(ref, sketch: _NumericSketch) -> dict:
    """KS, Wasserstein/SD and PSI from bin counts (bins closed on the right at each edge)."""
    from modelworks.monitor import _stats

    edges = sketch.edges
    n1, n2 = ref.sorted.size, int(sketch.counts.sum())
    c_ref = np.diff(np.concatenate([[0], np.searchsorted(ref.sorted, edges, side="right"), [n1]]))
    f1 = np.cumsum(c_ref)[:-1] / n1
    f2 = np.cumsum(sketch.counts)[:-1] / n2
    gap = np.abs(f1 - f2)
    d = float(gap.max()) if gap.size else 0.0
    lo = min(ref.sorted[0], sketch.lo)
    hi = max(ref.sorted[-1], sketch.hi)
    # the CDF gap is held constant over [edge_k, edge_k+1); 0 outside [lo, hi]
    pts = np.concatenate([[lo], edges, [hi]])
    widths = np.diff(pts)
    gaps = np.concatenate([[0.0], gap])
    w = float(np.dot(gaps, widths[: gaps.size]))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    from scipy import stats

    en = np.round(m * n / (m + n))
    tail = float(stats.kstwobign.sf(np.sqrt(en) * d))
    p = tail if tail < _stats.FAR_TAIL else float(np.clip(stats.kstwo.sf(d, en), 0, 1))
    effect = w / ref.spread if ref.spread > 0 else (0.0 if w == 0 else float("inf"))
    # PSI on the reference deciles, merged from the fine bins
    dec = np.searchsorted(edges, ref.edges, side="left")
    cum_cur = np.concatenate([[0], np.cumsum(sketch.counts)])
    cur_dec = np.diff(np.concatenate([[0], cum_cur[dec + 1], [n2]]))
    ref_dec = np.diff(
        np.concatenate([[0], np.searchsorted(ref.sorted, ref.edges, side="right"), [n1]])
    )
    return {
        "test": "ks (binned)",
        "statistic": d,
        "p_value": p,
        "effect": float(effect),
        "effect_name": "wasserstein/sd",
        "wasserstein": float(effect),
        "psi": _stats.psi(ref_dec / n1, cur_dec / n2),
        "js": np.nan,
        "note": "approximate (binned)",
    }


def drift_stream(
    reference,
    path: str | os.PathLike,
    *,
    columns: list[str] | None = None,
    batch_rows: int = 200_000,
    bins: int = 2000,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect=None,
):
    """Drift of a Parquet file too large for memory against an in-memory reference.

    The file is read in record batches of ``batch_rows`` rows; memory stays at one batch plus
    the bins. Categorical and missing-value tests are exact; numeric ones use ``bins`` bins at
    the reference quantiles (see the module notes).

    Returns
    -------
    DriftReport
        With ``approximate=True``.
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    ref = PreparedReference(_reference_frame(reference))
    cols = _select(ref.frame, columns, "reference")
    import pyarrow.parquet as pq

    try:
        schema_names = pq.ParquetFile(path).schema_arrow.names
    except FileNotFoundError as e:
        raise DataFileError(f"Parquet file not found: {path}") from e
    except Exception as e:
        raise DataFileError(f"{path} is not a readable Parquet file: {e}") from e
    target = ref.frame.attrs.get("target_column")  # a model package's sample carries its target
    if target and target in cols and target not in schema_names:
        ref = PreparedReference(ref.frame.drop(columns=[target]))
        cols = [c for c in cols if c != target]
    common = [c for c in cols if c in schema_names]
    only_ref = [c for c in cols if c not in schema_names] if columns is None else []
    only_cur = [c for c in schema_names if c not in set(ref.columns)] if columns is None else []
    if columns is not None and len(common) < len(cols):
        missing = [c for c in cols if c not in schema_names]
        raise MonitorError(f"column(s) {', '.join(missing)} not in {path}")
    if not common:
        raise MonitorError(f"the reference and {path} have no columns in common")
    kinds, sketches, cat_counts, cat_missing, n_rows = None, {}, {}, {}, 0
    for batch in iter_table(path, chunk_rows=batch_rows, columns=common, name="Parquet"):
        if kinds is None:
            kinds = _check_kinds(ref.frame, batch, common, ref.is_dates)
        n_rows += len(batch)
        for col in common:
            if kinds[col] == "categorical":
                vc = batch[col].value_counts(dropna=True, sort=False)
                cat_counts[col] = (
                    vc if col not in cat_counts else cat_counts[col].add(vc, fill_value=0)
                )
                cat_missing[col] = cat_missing.get(col, 0) + int(batch[col].isna().sum())
            else:
                if col not in sketches:
                    sketches[col] = _NumericSketch(ref.get(col, kinds[col]).sorted, bins)
                sketches[col].add(_as_float(batch[col], kinds[col]))
    if kinds is None:
        raise MonitorError(f"{path} has no rows")
    rows = []
    for col in common:
        prepared = ref.get(col, kinds[col])
        if kinds[col] == "categorical":
            aligned = pd.concat(
                [prepared.counts, cat_counts[col]], axis=1, keys=["ref", "cur"]
            ).fillna(0)
            parts = _categorical_from_counts(
                aligned, prepared.n_total, prepared.n_missing, n_rows, cat_missing[col]
            )
        else:
            sk = sketches[col]
            row = {"note": ""}
            if prepared.sorted.size and sk.counts.sum():
                row = _binned_numeric(prepared, sk)
            parts = (row, prepared.n_total, prepared.n_missing, sk.n_total, sk.n_missing)
        rows.append(_finish_row(col, kinds[col], parts))
    table = _assemble(rows, rule, only_ref=only_ref, only_cur=only_cur)
    return DriftReport(
        table=table, rule=rule, n_reference=ref.n_rows, n_current=n_rows, approximate=True
    )
