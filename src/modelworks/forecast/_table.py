"""The series of a table: which columns hold time and target, one frame per id, regressors."""

from __future__ import annotations

from typing import Any

import pandas as pd

from modelworks.exceptions import ColumnError, ForecastError
from modelworks.forecast import _series


def _is_date_like(col: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(col.dtype) or isinstance(col.dtype, pd.PeriodDtype):
        return True
    if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
        return False
    sample = col.dropna().astype(str).head(50)
    if sample.empty or not sample.str.contains(r"\d").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())


def _ambiguous(frame, what: str, found: list[str], none: str, several: str, param: str) -> ForecastError:
    why = none if not found else f"{several}: {', '.join(found)}"
    return ForecastError(f"cannot tell {what} ({why}); columns are: {', '.join(map(str, frame.columns[:20]))}",
                         param=param, fix="name it with {}")


def infer_columns(frame: pd.DataFrame, *, time=None, target=None, exclude=()) -> dict:
    """The time and target columns: given, or the single date-like / numeric column."""
    out = {"time": time, "target": target, "inferred": []}
    rest = [c for c in frame.columns if str(c) not in set(exclude)]
    if time is None:
        dates = [str(c) for c in rest if _is_date_like(frame[c])]
        if len(dates) != 1:
            raise _ambiguous(frame, "which column holds the dates", dates, "none looks like dates",
                             "several look like dates", "time")
        out["time"] = dates[0]
        out["inferred"].append("time")
    if target is None:
        nums = [str(c) for c in rest if str(c) != out["time"]
                and pd.api.types.is_numeric_dtype(frame[c].dtype)
                and not pd.api.types.is_bool_dtype(frame[c].dtype)]
        if len(nums) != 1:
            raise _ambiguous(frame, "which column to forecast", nums, "no numeric column",
                             "several numeric columns", "target")
        out["target"] = nums[0]
        out["inferred"].append("target")
    return out


def _split(data, *, time, target, id, exog=None) -> tuple[list[tuple[str, Any]], dict]:
    """The series to forecast, as (id, frame) pairs (time, target[, exog...]), and the columns."""
    if isinstance(data, pd.Series):
        if id is not None:
            raise ForecastError("id= needs a long table, not a single Series")
        if exog:
            raise ForecastError("exog= needs a table with the regressor columns, not a Series")
        return [(str(data.name or "series"), data)], {"time": None, "target": data.name,
                                                      "inferred": []}
    from modelworks.data import load_table

    frame = load_table(data)
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    for what, col in (("time", time), ("target", target), ("id", id)):
        if col is not None and col not in cols:
            flag = {"time": "--time", "target": "--target", "id": "--id"}[what]
            raise ColumnError(
                f"{what} column '{col}' not found; columns are: {', '.join(cols[:30])} "
                f"(use {flag} NAME)"
            )
    missing = [c for c in exog or () if c not in cols]
    if missing:
        raise ColumnError(f"exogenous column(s) {', '.join(missing)} not found; columns are: "
                          f"{', '.join(cols[:30])}", param="exog", fix="name existing columns in {}")
    columns = infer_columns(frame, time=time, target=target,
                           exclude=[c for c in [id, *(exog or ())] if c])
    time, target = columns["time"], columns["target"]
    keep = [time, target, *(exog or ())]
    if id is None:
        return [(str(target), frame[keep])], columns
    groups = []
    for key, part in frame.groupby(id, sort=True, dropna=False):
        groups.append((str(key), part[keep].rename(columns={target: str(key)})))
    return groups, columns


def _attach_future(groups, future, columns, exog, id) -> list[tuple]:
    """Split each group into (id, y, X) and attach its rows of the future frame."""
    from modelworks.data import load_table

    time = columns["time"]
    fut = None
    if future is not None:
        fut = load_table(future)
        fut.columns = [str(c) for c in fut.columns]
        need = [time, *exog] + ([id] if id else [])
        absent = [c for c in need if c not in fut.columns]
        if absent:
            raise ColumnError(f"the future file lacks column(s) {', '.join(absent)}; it needs "
                              f"{', '.join(need)} (one row per future period"
                              f"{' and series' if id else ''})")
        if id:
            fut[id] = fut[id].astype(str)
    out = []
    for key, part in groups:
        times = _series.parse_times(part[time], column=time)
        y = pd.Series(part.iloc[:, 1].to_numpy(), index=times, name=part.columns[1])
        X = part[exog].set_axis(times)
        Xf = None
        if fut is not None:
            rows = fut[fut[id] == key] if id else fut
            Xf = rows[exog].set_axis(_series.parse_times(rows[time], column=time))
        out.append((key, y, X, Xf))
    return out
