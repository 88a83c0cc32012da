"""Data drift: per-column tests, corrected across columns, flagged only above an effect floor.

The drivers live here (:func:`drift`, :func:`self_test`, :func:`drift_over_time`); the rule is
in ``_rule``, the reference side in ``_reference``, the rows and the table in ``_rows``, the
result classes in ``_results`` and streaming (:func:`drift_stream`) in ``_stream``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from modelworks._validation import check_scalar
from modelworks.data import iter_table
from modelworks.exceptions import ColumnError, MonitorError
from modelworks.monitor import _stats
from modelworks.monitor._reference import (
    PreparedReference,
    _as_float,
    _CatRef,
    _check_kinds,
    _drop_absent_target,
    _frame,
    _kind,
    _reference_frame,
    _select,
)
from modelworks.monitor._results import DriftReport, DriftTimeline, SelfTestResult
from modelworks.monitor._rows import (
    _assemble,
    _categorical_from_counts,
    _categorical_row,
    _finish_row,
    _numeric_row,
)
from modelworks.monitor._rule import DriftRule, MonitorWarning


def _compare(ref: PreparedReference, cur: pd.DataFrame, columns: list[str] | None, rule: DriftRule):
    if columns is None:
        ref_cols = ref.columns
        common = [c for c in ref_cols if c in cur.columns]
        only_ref = [c for c in ref_cols if c not in cur.columns]
        only_cur = [c for c in cur.columns if c not in set(ref_cols)]
    else:
        common = _select(ref.frame, columns, "reference")
        _select(cur, columns, "current")
        only_ref, only_cur = [], []
    if not common:
        raise MonitorError(
            "the reference and current data have no columns in common (reference: "
            f"{', '.join(ref.columns[:10])}; current: {', '.join(map(str, cur.columns[:10]))}); "
            "check that both files describe the same features"
        )
    kinds = _check_kinds(ref.frame, cur, common, ref.is_dates)
    rows = []
    for col in common:
        kind = kinds[col]
        prepared = ref.get(col, kind)
        if kind == "categorical":
            if isinstance(prepared, _stats.NumericRef):  # reference all missing, read as numeric
                prepared = _CatRef(pd.Series(dtype=float), prepared.n_total, prepared.n_missing)
            parts = _categorical_row(prepared, cur[col])
        else:
            if isinstance(prepared, _CatRef):
                prepared = _stats.NumericRef.from_values(np.full(prepared.n_total, np.nan))
            parts = _numeric_row(prepared, _as_float(cur[col], kind))
        rows.append(_finish_row(col, kind, parts))
    return _assemble(rows, rule, only_ref=only_ref, only_cur=only_cur)


def drift(
    reference,
    current,
    *,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect: float | Mapping[str, float] | None = None,
) -> DriftReport:
    """Compare the current data with a reference, column by column, with false-alarm control.

    Numeric (and datetime) columns get a two-sample Kolmogorov-Smirnov test (scipy's p-values)
    and, as effect sizes, the Wasserstein distance divided by the reference standard deviation
    and the PSI over reference deciles. Categorical columns get a chi-squared test of
    homogeneity (levels unseen in the reference included) with the Jensen-Shannon distance and
    PSI. A change in the missing-value rate is tested on its own. All p-values are corrected
    together across columns, and a column is flagged only when its corrected p-value is at most
    ``alpha`` *and* its effect size reaches the floor, so that huge samples do not flag trivial
    shifts.

    A test needs :data:`MIN_ROWS` non-missing values on each side (20 for KS and chi-squared,
    100 for PSI); a column with fewer is reported ``untestable`` with the minimum in its note,
    the verdict says it could not be tested, and a :class:`MonitorWarning` is issued: too few
    rows never read as "no drift".

    Parameters
    ----------
    reference, current : pandas.DataFrame, path or model package
        The tables (CSV / Parquet path or DataFrame). ``reference`` may also be a model package
        path or ``models:/NAME@ALIAS``: its stored reference sample is used.
    columns : list of str, optional
        Columns to compare (default: the reference's columns; columns missing from the current
        data are reported as drift, extra columns as new).
    correction : {"bh", "holm", "bonferroni", "none"}
        Multiple-testing correction across all the tests.
    alpha : float
        Level for the corrected p-values.
    min_effect : float or dict, optional
        Effect-size floors. A dict with keys ``numeric`` (Wasserstein / SD, default 0.1),
        ``categorical`` (Jensen-Shannon distance, default 0.05) and ``missing`` (absolute change
        of the missing rate, default 0.02); a number sets all three.

    Returns
    -------
    DriftReport

    Raises
    ------
    MonitorError
        No columns in common, a column numeric on one side and text on the other, an empty table.
    ColumnError
        ``columns`` names a column that does not exist.
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    # one comparison: prepare each reference column when it is compared and let it go after
    ref = (
        reference
        if isinstance(reference, PreparedReference)
        else PreparedReference(_reference_frame(reference), cache=False)
    )
    cur = _frame(current, "current")
    dropped = [c for c in (ref.frame.attrs.get("dropped_columns") or {}) if c in cur.columns]
    if dropped and columns is None:  # columns the model dropped in training: not "new" columns
        cur = cur.drop(columns=dropped)
    ref = _drop_absent_target(ref, cur)
    table = _compare(ref, cur, columns, rule)
    _warn_too_few(table)
    return DriftReport(
        table=table,
        rule=rule,
        n_reference=ref.n_rows,
        n_current=len(cur),
        _reference=ref.frame,
        _current=cur,
    )


def _warn_too_few(table: pd.DataFrame) -> None:
    import warnings

    few = table[table["note"].astype(str).str.startswith("too few rows")]
    if len(few):
        names = ", ".join(map(str, few["column"][:8])) + (" ..." if len(few) > 8 else "")
        warnings.warn(
            f"{len(few)} of {len(table)} column(s) not tested for drift ({names}): "
            f"{few['note'].iloc[0]}; compare a larger batch",
            MonitorWarning,
            stacklevel=3,
        )


def self_test(
    reference,
    *,
    repeats: int = 200,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect=None,
    seed: int = 0,
) -> SelfTestResult:
    """Estimate how often the drift rule fires when nothing changed.

    The reference is split at random into two halves ``repeats`` times and each pair goes
    through the same rule as :func:`drift`. For independent rows the rate should stay at or
    below ``alpha``; a higher rate warns that rows are not exchangeable (time order,
    duplicates) and that alarms on real data will be too frequent.

    Returns
    -------
    SelfTestResult
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    repeats = check_scalar(repeats, "repeats", kind=int, low=1)
    frame = _reference_frame(reference)
    cols = _select(frame, columns, "reference")
    if len(frame) < 4:
        raise MonitorError(f"the reference has {len(frame)} rows; the self-test needs at least 4")
    # encode every column once; each repeat only permutes and splits
    encoded = []
    for col in cols:
        kind = _kind(frame[col])
        if kind == "categorical":
            codes, levels = pd.factorize(frame[col], use_na_sentinel=True)
            encoded.append((col, kind, codes, pd.Index(levels)))
        else:
            encoded.append((col, kind, _as_float(frame[col], kind), None))
    rng = np.random.default_rng(seed)
    n = len(frame)
    half = n // 2
    alarms = 0
    column_alarms = dict.fromkeys(cols, 0)
    for _ in range(repeats):
        perm = rng.permutation(n)
        a, b = perm[:half], perm[half:]
        rows = []
        for col, kind, values, levels in encoded:
            if kind == "categorical":
                ca, cb = values[a], values[b]
                k = len(levels)
                aligned = pd.DataFrame(
                    {
                        "ref": np.bincount(ca[ca >= 0], minlength=k),
                        "cur": np.bincount(cb[cb >= 0], minlength=k),
                    },
                    index=levels,
                )
                parts = _categorical_from_counts(
                    aligned, a.size, int((ca < 0).sum()), b.size, int((cb < 0).sum())
                )
            else:
                ref = _stats.NumericRef.from_values(values[a])
                parts = _numeric_row(ref, values[b])
            rows.append(_finish_row(col, kind, parts))
        table = _assemble(rows, rule)
        flagged = table.loc[table["drifted"].astype(bool), "column"].tolist()
        alarms += bool(flagged)
        for c in flagged:
            column_alarms[c] += 1
    return SelfTestResult(
        repeats=repeats, alarms=alarms, column_alarms=column_alarms, rule=rule, n_rows=n
    )


def _iter_batches(batches, by: str | None, batch_rows: int):
    if isinstance(batches, pd.DataFrame) and by is None:
        yield from enumerate(iter_table(batches, chunk_rows=batch_rows, name="batches"))
        return
    if isinstance(batches, pd.DataFrame):
        if by not in batches.columns:
            raise ColumnError(
                f"by column '{by}' not in the batches; columns are: "
                f"{', '.join(map(str, batches.columns[:30]))}"
            )
        for key, part in batches.groupby(by, sort=True, observed=True):
            yield key, part.drop(columns=[by])
        return
    if isinstance(batches, str | os.PathLike):
        yield from enumerate(iter_table(batches, chunk_rows=batch_rows, name="batches"))
        return
    if isinstance(batches, Mapping):
        yield from batches.items()
        return
    if isinstance(batches, Iterable):
        yield from enumerate(batches)
        return
    raise MonitorError(
        "batches must be a DataFrame (with by=COLUMN or batch_rows), a dict label -> DataFrame, "
        f"a list of DataFrames or a Parquet/CSV path; got {type(batches).__name__}"
    )


def drift_over_time(
    reference,
    batches,
    *,
    by: str | None = None,
    batch_rows: int = 100_000,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect=None,
) -> DriftTimeline:
    """Run :func:`drift` for each batch against one reference (prepared once).

    Parameters
    ----------
    reference : DataFrame, path or model package
    batches : DataFrame, dict, iterable of DataFrames, or Parquet / CSV path
        A DataFrame is split by the values of column ``by`` (e.g. a month) or, without ``by``,
        into chunks of ``batch_rows``; a file is streamed in chunks of ``batch_rows`` rows
        (:func:`modelworks.data.iter_table`), so files larger than memory work.
    by : str, optional
        Column of ``batches`` holding the batch label (not compared itself).
    batch_rows : int
        Rows per batch when splitting by position or streaming a file.

    Returns
    -------
    DriftTimeline
        Each batch is its own family of tests (one decision per batch).
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    ref = PreparedReference(_reference_frame(reference))
    if by is not None and by in ref.columns:
        ref = PreparedReference(ref.frame.drop(columns=[by]))
    summary, tables, reports = [], [], []
    from modelworks._progress import progress

    for label, part in progress(_iter_batches(batches, by, batch_rows), desc="drift batches"):
        if len(part) == 0:
            summary.append(
                {
                    "batch": label,
                    "rows": 0,
                    "dataset_drift": False,
                    "n_drifted": 0,
                    "drifted": "",
                    "verdict": "empty batch: nothing to compare",
                }
            )
            continue
        part = _frame(part, "current")
        if not tables:  # batches share their columns: settle the package target column once
            ref = _drop_absent_target(ref, part)
        rep = DriftReport(
            table=_compare(ref, part, columns, rule),
            rule=rule,
            n_reference=ref.n_rows,
            n_current=len(part),
        )
        reports.append(rep)
        summary.append(
            {
                "batch": label,
                "rows": len(part),
                "dataset_drift": rep.dataset_drift,
                "n_drifted": len(rep.drifted),
                "drifted": ", ".join(rep.drifted),
                "verdict": rep.verdict,
            }
        )
        t = rep.table[
            ["column", "status", "drifted", "p_adjusted", "effect", "min_effect", "psi"]
        ].copy()
        t.insert(0, "batch", label)
        tables.append(t)
    if not summary:
        raise MonitorError("no batches to compare: the batches are empty")
    table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(
            columns=[
                "batch",
                "column",
                "status",
                "drifted",
                "p_adjusted",
                "effect",
                "min_effect",
                "psi",
            ]
        )
    )
    return DriftTimeline(summary=pd.DataFrame(summary), table=table, rule=rule, reports=reports)
