"""The reference side of a drift check: the reference table (a frame, a file or a model
package's stored sample), prepared once, and the kind each column is compared as."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelworks.data import column_kind, is_date_text, parse_dates
from modelworks.exceptions import ColumnError, MonitorError
from modelworks.monitor import _stats


def _kind(series: pd.Series) -> str:
    """How drift compares a column: the spine's rule (:func:`modelworks.data.column_kind`)."""
    return column_kind(series)


def _is_dates(series: pd.Series) -> bool:
    """Whether ``series`` holds dates written as text: the spine's rule, every value parses."""
    return is_date_text(series)


def _as_float(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "datetime":
        values = parse_dates(series)  # as is when already dates
        out = values.astype("int64").to_numpy(dtype=float) / 1e9
        out[values.isna().to_numpy()] = np.nan
        return out
    if series.dtype.kind == "f" and isinstance(series.dtype, np.dtype):
        return series.to_numpy()  # no copy; NaN stays NaN
    return series.to_numpy(dtype=float, na_value=np.nan)


def _example(series: pd.Series) -> str:
    s = series.dropna()
    return repr(s.iloc[0]) if len(s) else "all missing"


def _check_kinds(ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], ref_is_dates) -> dict[str, str]:
    """The kind each column is compared as. Dates read from a CSV arrive as text: when every
    reference value parses as a date (``ref_is_dates(col)``, cached by the prepared reference),
    the column is compared as times, not as categories of timestamps."""
    kinds: dict[str, str] = {}
    for col in columns:
        k_ref, k_cur = _kind(ref[col]), _kind(cur[col])
        if k_ref == "categorical" and k_cur in ("categorical", "datetime") and ref_is_dates(col):
            if k_cur == "datetime" or _is_dates(cur[col]):
                k_ref = k_cur = "datetime"
        elif k_ref == "datetime" and k_cur == "categorical" and _is_dates(cur[col]):
            k_cur = "datetime"
        if k_ref == k_cur:
            kinds[col] = k_ref
            continue
        num_ref, num_cur = k_ref != "categorical", k_cur != "categorical"
        if num_ref == num_cur:
            kinds[col] = k_ref
            continue
        # a column entirely missing on one side carries no type information
        if ref[col].notna().any() and cur[col].notna().any():

            def word(k, s):
                what = {"categorical": "text", "datetime": "dates"}.get(k, "numeric")
                return f"{what} ({s.dtype}, e.g. {_example(s)})"

            raise MonitorError(
                f"column '{col}' is {word(k_ref, ref[col])} in the reference but "
                f"{word(k_cur, cur[col])} in the current data; fix its values or leave it out "
                "with columns=[...]"
            )
        kinds[col] = k_ref if ref[col].notna().any() else k_cur
    return kinds


def _counts(series: pd.Series) -> tuple[pd.Series, int]:
    """Level counts and the number of missing values, from one hashing pass."""
    counts = series.value_counts(dropna=False, sort=False)
    na = counts.index.isna()
    return counts[~na], int(counts[na].sum())


@dataclass
class _CatRef:
    counts: pd.Series  # level -> count (non-missing)
    n_total: int
    n_missing: int


class PreparedReference:
    """A reference table prepared once (numeric columns sorted, categorical counts) so that many
    current batches can be compared with it cheaply."""

    def __init__(
        self, frame: pd.DataFrame, *, columns: list[str] | None = None, cache: bool = True
    ) -> None:
        frame = _frame(frame, "reference")
        self.columns = _select(frame, columns, "reference")
        self.frame = frame
        self.n_rows = len(frame)
        self.cache = (
            cache  # keep sorted columns for the next batch (costs one copy of the numeric data)
        )
        self._prepared: dict[str, Any] = {}
        self._dates: dict[str, bool] = {}

    def is_dates(self, col: str) -> bool:
        """Whether a text column of the reference holds dates (parsed once, remembered)."""
        if col not in self._dates:
            self._dates[col] = _is_dates(self.frame[col])
        return self._dates[col]

    def get(self, col: str, kind: str):
        if col in self._prepared:
            return self._prepared[col]
        s = self.frame[col]
        if kind == "categorical":
            counts, missing = _counts(s)
            prepared = _CatRef(counts, len(s), missing)
        else:
            prepared = _stats.NumericRef.from_values(_as_float(s, kind))
        if self.cache:
            self._prepared[col] = prepared
        return prepared


def _frame(data, name: str) -> pd.DataFrame:
    if isinstance(data, PreparedReference):
        return data.frame
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        from modelworks.data import load_table

        frame = load_table(data, name=name)
    if frame.shape[1] == 0:
        raise MonitorError(f"the {name} data has no columns")
    if len(frame) == 0:
        raise MonitorError(
            f"the {name} data has no rows; drift needs at least one row on each side"
        )
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _select(frame: pd.DataFrame, columns, name: str) -> list[str]:
    if columns is None:
        return list(frame.columns)
    if isinstance(columns, str):
        columns = [columns]
    columns = [str(c) for c in columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"column(s) {', '.join(missing)} not in the {name} data; its columns are: "
            f"{', '.join(map(str, frame.columns[:30]))}"
        )
    return columns


def _reference_frame(reference) -> pd.DataFrame:
    """The reference table: a DataFrame, a CSV/Parquet file, or a model package's sample."""
    if isinstance(reference, pd.DataFrame):
        return _frame(reference, "reference")
    from modelworks._resolve import is_package_ref

    if is_package_ref(reference):
        sample = reference_sample(reference)
        frame = _frame(sample, "reference")
        frame.attrs["target_column"] = sample.attrs.get("target_column")
        frame.attrs["dropped_columns"] = sample.attrs.get("dropped_columns") or {}
        return frame
    return _frame(reference, "reference")


def _drop_absent_target(ref: PreparedReference, cur: pd.DataFrame) -> PreparedReference:
    """A package's sample carries the training target: compare it only if the current data has it."""
    target = ref.frame.attrs.get("target_column")
    if target and target in ref.columns and target not in cur.columns:
        return PreparedReference(ref.frame.drop(columns=[target]), cache=ref.cache)
    return ref


# ----------------------------------------------------------------------------- package samples
def target_column(loaded: Any) -> str | None:
    """The column of a package's reference sample that holds the training target, if any."""
    manifest = loaded.manifest or {}
    info = manifest.get("reference_sample") or {}
    return info.get("target_column") or manifest.get("target")


def reference_sample(ref: str | os.PathLike) -> pd.DataFrame:
    """The reference sample of training data stored with a model package.

    The training target is kept in the sample (as ``DataFrame.attrs["target_column"]``) so that
    label drift can be checked when the current data has it too.
    """
    from modelworks._resolve import load_ref

    loaded = load_ref(ref)
    sample = loaded.reference_sample()
    if not isinstance(sample, pd.DataFrame) or sample.empty:
        raise MonitorError(
            f"model package {ref!s} holds no reference sample of its training data; pass the "
            "reference data as a CSV/Parquet file instead"
        )
    sample.attrs["target_column"] = target_column(loaded)
    # columns of the training file that training dropped: current data may still have them
    sample.attrs["dropped_columns"] = dict(getattr(loaded.schema, "dropped", None) or {})
    return sample
