"""The jobs behind ``modelworks features poly | dfs``: a feature table written to a file, one result shape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelworks._result import Result

_SUFFIXES = (".csv", ".parquet", ".pq")


class FeatureTableResult(Result):
    """A feature table that was written to ``out`` and what made it.

    Attributes
    ----------
    table : pandas.DataFrame
        The features (for ``dfs``, indexed by the target table's id).
    info : dict
        Rows, columns and what was made, kept or dropped (``to_dict()``).
    """

    title = "modelworks features"
    json_name = "features.json"

    def __init__(self, table, info: dict[str, Any], line: str) -> None:
        self.table, self.info, self._line = table, info, line

    def to_dict(self) -> dict[str, Any]:
        return dict(self.info)

    def summary(self) -> str:
        return self._line

    def report_section(self, report):
        sec = report.section("Features", order=15)
        sec.text(self._line)
        sec.table(self.table.head(20))
        return sec


def _check_out(out: str | os.PathLike) -> Path:
    from modelworks.exceptions import ConfigError

    path = Path(out)
    if path.suffix.lower() not in _SUFFIXES:
        raise ConfigError(f"output file {out} must end in .csv or .parquet", param="out")
    return path


def _write(frame, path: Path, *, index: bool) -> None:
    from modelworks._io import atomic_path

    suffix = path.suffix.lower()
    with atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=index)
        else:
            frame.to_parquet(tmp, index=index)


def poly_job(data, out: str | os.PathLike, *, columns: list[str] | None = None, exclude=(), degree: int = 2,
             interaction_only: bool = False, max_output: int = 1000) -> FeatureTableResult:
    """Polynomial / interaction features of the numeric columns of ``data``, written to ``out``.

    Parameters
    ----------
    data : path or DataFrame
    out : path
        Output ``.csv`` or ``.parquet``, written atomically.
    columns : list of str, optional
        Columns to expand (default: every numeric column not in ``exclude``).
    exclude : list of str
        Numeric columns to leave alone (e.g. the target).
    degree, interaction_only, max_output
        As in :class:`modelworks.features.PolynomialFeatures`.

    Returns
    -------
    FeatureTableResult
    """
    import pandas as pd

    from modelworks.data import load_table
    from modelworks.features._poly import PolynomialFeatures

    path = _check_out(out)
    frame = load_table(data)
    if columns is None and exclude:
        columns = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c not in exclude]
    poly = PolynomialFeatures(columns=columns, degree=degree, interaction_only=interaction_only,
                              max_output=max_output)
    table = poly.fit_transform(frame)
    _write(table, path, index=False)
    info = {"rows": len(table), "input_columns": frame.shape[1], "output_columns": table.shape[1],
            "expanded": poly.columns_, "new": [c for c in table.columns if c not in frame.columns], "out": str(out)}
    line = (f"expanded {len(poly.columns_)} columns into {table.shape[1] - len(poly.passthrough_)} features; "
            f"wrote {table.shape[0]} x {table.shape[1]} to {out}")
    return FeatureTableResult(table, info, line)


def dfs_job(spec, target_table: str, out: str | os.PathLike, *, max_depth: int = 2, cutoff_times=None,
            agg_primitives=None, trans_primitives=None, select: bool = True, log=None) -> FeatureTableResult:
    """Deep feature synthesis (:func:`modelworks.features.dfs`) with the matrix written to ``out``.

    Parameters
    ----------
    spec, target_table, max_depth, cutoff_times, agg_primitives, trans_primitives, select
        As in :func:`modelworks.features.dfs`.
    out : path
        Output ``.csv`` or ``.parquet`` (the target table's id as index), written atomically.
    log : callable, optional
        Called with one line before the synthesis starts.

    Returns
    -------
    FeatureTableResult
        ``to_dict()`` is :meth:`DFSResult.summary` with the feature names and what was dropped.
    """
    from modelworks.features._dfs import dfs

    path = _check_out(out)
    if log is not None:
        log(f"deep feature synthesis for '{target_table}' (max depth {max_depth})...")
    result = dfs(spec, target_table, max_depth=max_depth, cutoff_times=cutoff_times,
                 agg_primitives=agg_primitives, trans_primitives=trans_primitives, select=select)
    _write(result.matrix, path, index=True)
    s = result.summary()
    why = ", ".join(f"{n} {k}" for k, n in s["dropped_by_reason"].items()) or "none"
    line = (f"made {s['made']} features, kept {s['kept']}, dropped {s['dropped']} ({why}); "
            f"wrote {s['rows']} rows to {out}")
    info = {**s, "out": str(out), "features": result.names, "dropped": result.dropped}
    return FeatureTableResult(result.matrix, info, line)
