"""Turn what a user hands us into a clean, regular time series, or say exactly what is wrong.

Every forecaster goes through these checks, so the guardrails are the same everywhere: dates
that parse (or the rows that do not), a numeric non-constant target, one value per timestamp,
a frequency that is inferred or given, gaps that are refused unless a fill policy is named, and
exogenous columns that are present both in the past and in the future.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from modelworks.exceptions import ForecastError

# offset base code -> observations per seasonal cycle (the usual one: a year for months,
# quarters and weeks, a week for days, a day for hours, an hour for minutes)
SEASONAL_PERIODS = {
    "Y": 1, "A": 1, "BY": 1, "BA": 1,
    "Q": 4, "BQ": 4,
    "M": 12, "BM": 12, "CBM": 12,
    "SM": 24,
    "W": 52,
    "D": 7,
    "B": 5, "C": 5,
    "h": 24, "H": 24, "bh": 8, "BH": 8,
    "min": 60, "T": 60,
    "s": 60, "S": 60,
}


def _fill_interpolate(s: pd.Series) -> pd.Series:
    return s.interpolate(method="time").ffill().bfill()


def _fill_ffill(s: pd.Series) -> pd.Series:
    return s.ffill().bfill()


def _fill_zero(s: pd.Series) -> pd.Series:
    return s.fillna(0.0)


# fill policy -> how missing timestamps / values are filled
FILL_POLICIES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "interpolate": _fill_interpolate,
    "ffill": _fill_ffill,
    "zero": _fill_zero,
}


def _preview(items: Sequence, n: int = 5) -> str:
    items = list(items)
    text = ", ".join(str(i) for i in items[:n])
    return text + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _stamp(ts) -> str:
    ts = pd.Timestamp(ts)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else str(ts)


def parse_times(values, *, column: str = "time") -> pd.DatetimeIndex:
    """Parse timestamps; raise :class:`ForecastError` naming the rows that do not parse."""
    raw = pd.Series(values).reset_index(drop=True)
    if isinstance(raw.dtype, pd.PeriodDtype):
        return pd.DatetimeIndex(raw.dt.to_timestamp())
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        parsed = raw
    elif pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        # plain years (1700, 1701, ...) are the one number that reads as a date
        if raw.notna().all() and (raw % 1 == 0).all() and raw.between(1000, 2999).all():
            parsed = pd.to_datetime(raw.astype(int).astype(str), format="%Y")
        else:
            raise ForecastError(
                f"time column '{column}' holds numbers ({raw.iloc[0]!r}, ...), not dates; give "
                "dates such as 2020-01-31 (or whole years), or a Series with a DatetimeIndex"
            )
    else:
        from modelworks.data._kinds import parse_dates

        parsed = parse_dates(raw)
    bad = parsed.isna()
    if bad.any():
        rows = [f"row {i} ({raw.iloc[i]!r})" for i in np.flatnonzero(bad.to_numpy())]
        raise ForecastError(
            f"time column '{column}' has {len(rows)} value(s) that are not dates: {_preview(rows)}; "
            "fix or drop those rows (dates like 2020-01-31 or 2020-01-31 12:00 parse)"
        )
    return pd.DatetimeIndex(parsed)


def _numeric_values(values: pd.Series, *, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        raise ForecastError(f"target '{name}' is boolean; forecasting needs a numeric series")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        rows = [f"row {i} ({values.iloc[i]!r})" for i in pos]
        raise ForecastError(
            f"target '{name}' is not numeric: {_preview(rows)}; forecasting needs numbers "
            "(clean those values)", param="target", fix="or pick another {}"
        )
    return converted.astype(float)


def as_series(y, *, name: str | None = None) -> pd.Series:
    """Return ``y`` as a float Series on a sorted DatetimeIndex (not yet regularised).

    ``y`` is a Series with a DatetimeIndex (or PeriodIndex), a one-column DataFrame with such an
    index, or a two-column ``(time, value)`` DataFrame.
    """
    if isinstance(y, pd.DataFrame):
        if isinstance(y.index, pd.DatetimeIndex | pd.PeriodIndex) and y.shape[1] == 1:
            y = y.iloc[:, 0]
        elif y.shape[1] == 2:
            tcol, vcol = y.columns
            index = parse_times(y[tcol], column=str(tcol))
            y = pd.Series(y[vcol].to_numpy(), index=index, name=vcol)
        else:
            raise ForecastError(
                f"a forecasting frame needs exactly two columns (time, value); got {y.shape[1]}: "
                f"{_preview(map(str, y.columns))} (select them, e.g. df[['date', 'sales']])"
            )
    elif isinstance(y, np.ndarray | list | tuple):
        raise ForecastError(
            "y has no timestamps; pass a pandas Series with a DatetimeIndex or a (time, value) "
            "DataFrame so the frequency can be checked"
        )
    if not isinstance(y, pd.Series):
        raise ForecastError(
            f"y must be a pandas Series or a (time, value) DataFrame, got {type(y).__name__}"
        )
    label = name or (str(y.name) if y.name is not None else "y")
    if _is_regular(y):  # already checked (a series regularize() returned): nothing to redo
        return y if y.name == label else y.rename(label)
    if isinstance(y.index, pd.PeriodIndex):
        index = y.index.to_timestamp()
    elif isinstance(y.index, pd.DatetimeIndex):
        index = y.index
    elif isinstance(y.index, pd.RangeIndex) or pd.api.types.is_integer_dtype(y.index.dtype):
        if len(y) and pd.Series(y.index).between(1000, 2999).all():
            index = parse_times(y.index, column="index")
        else:
            raise ForecastError(
                f"series '{label}' has a plain integer index, not timestamps; give it a "
                "DatetimeIndex (y.index = pd.date_range(start, periods=len(y), freq='MS')) or pass "
                "a (time, value) frame"
            )
    else:
        index = parse_times(y.index, column="index")
    if index.tz is not None:
        index = index.tz_localize(None)
    values = _numeric_values(pd.Series(y.to_numpy(), index=range(len(y))), name=label)
    series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(index), name=label)
    if len(series) == 0:
        raise ForecastError(f"series '{label}' is empty")
    if index.isna().any():
        raise ForecastError(f"series '{label}' has missing timestamps (NaT) in its index; drop them")
    series = series.sort_index(kind="stable")
    dup = series.index[series.index.duplicated(keep=False)]
    if len(dup):
        counts = pd.Series(dup).value_counts(sort=False)
        listed = [f"{_stamp(ts)} ({n} rows)" for ts, n in counts.items()]
        raise ForecastError(
            f"series '{label}' has duplicated timestamps: {_preview(listed)}; keep one value per "
            "timestamp (e.g. df.groupby('date')['value'].sum())"
        )
    return series


def _guess_freq(index: pd.DatetimeIndex) -> str | None:
    """The frequency of a regular grid with holes: the most common one seen in short windows."""
    freq = pd.infer_freq(index) if len(index) >= 3 else None
    if freq:
        return freq
    seen: dict[str, int] = {}
    for start in range(0, max(len(index) - 3, 0) + 1):
        f = pd.infer_freq(index[start : start + 4]) if len(index[start : start + 4]) >= 3 else None
        if f:
            seen[f] = seen.get(f, 0) + 1
    if not seen:
        return None
    return max(seen, key=seen.get)


def seasonal_period_for(freq: str) -> int:
    """The usual seasonal period for a pandas frequency string (1 when none applies)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    code = offset.rule_code.split("-")[0]
    code = "".join(ch for ch in code if not ch.isdigit())
    period = SEASONAL_PERIODS.get(code) or SEASONAL_PERIODS.get(code.rstrip("ES")) or 1
    n = int(getattr(offset, "n", 1) or 1)
    if n > 1:
        period = period // n if period % n == 0 else 1
    return max(int(period), 1)


def _is_regular(y: pd.Series) -> bool:
    """A float series on a tz-naive DatetimeIndex with a frequency (hence sorted, unique, on
    a grid) and no missing value: what :func:`regularize` returns."""
    index = y.index
    return (isinstance(index, pd.DatetimeIndex) and index.freq is not None and index.tz is None
            and y.dtype == np.float64 and len(y) >= 3 and not np.isnan(y.to_numpy()).any())


def regularize(series: pd.Series, *, freq: str | None = None,
               fill: str | None = None) -> tuple[pd.Series, str, int]:
    """Put ``series`` on a regular grid.

    Returns
    -------
    series : pandas.Series
        On a DatetimeIndex with ``freq`` set.
    freq : str
        The frequency (inferred unless given).
    n_filled : int
        How many values the fill policy supplied (0 when nothing was missing).
    """
    label = str(series.name)
    if fill is not None and fill not in FILL_POLICIES:
        raise ForecastError(
            f"unknown fill policy {fill!r}; choose one of: {', '.join(FILL_POLICIES)} (or none to "
            "refuse gaps)"
        )
    if _is_regular(series) and (freq is None or freq == series.index.freqstr):
        return series, series.index.freqstr, 0  # already on its grid (e.g. a fold of one)
    if len(series) < 3 and freq is None:
        raise ForecastError(
            f"series '{label}' has {len(series)} observation(s); at least 3 are needed to infer "
            "its frequency (and many more to forecast)"
        )
    if freq is None:
        freq = _guess_freq(series.index)
        if freq is None:
            gaps = pd.Series(series.index).diff().dropna().value_counts().head(3)
            listed = ", ".join(f"{d} ({n}x)" for d, n in gaps.items())
            raise ForecastError(
                f"series '{label}' has irregular timestamps (spacings seen: {listed}); cannot infer "
                "a frequency: aggregate to a regular grid (e.g. df.resample('D').sum())",
                param="freq", fix="or give one with {} (e.g. D for days)",
            )
    try:
        grid = pd.date_range(series.index[0], series.index[-1], freq=freq)
    except ValueError as e:
        raise ForecastError(f"invalid frequency {freq!r}: {e} (use a pandas alias: D, W, MS, QS, h)") from e
    freq = grid.freqstr if grid.freq is not None else freq
    off_grid = series.index.difference(grid)
    if len(off_grid):
        raise ForecastError(
            f"series '{label}' has {len(off_grid)} timestamp(s) off its '{freq}' grid: "
            f"{_preview([_stamp(t) for t in off_grid])}; aggregate to the frequency first "
            f"(df.resample('{freq}').mean()) or give the right freq"
        )
    missing = grid.difference(series.index)
    full = series.reindex(grid)
    nan_values = int(series.isna().sum())
    n_missing = len(missing) + nan_values
    if n_missing:
        if fill is None:
            first = [_stamp(t) for t in full.index[full.isna().to_numpy()]]
            raise ForecastError(
                f"series '{label}' has {len(missing)} missing timestamp(s) and {nan_values} missing "
                f"value(s) on its '{freq}' grid (first: {_preview(first, 3)})",
                param="fill", fix="fill them explicitly with {}=interpolate, ffill or zero, or fix the data",
            )
        full = FILL_POLICIES[fill](full)
    full.index.freq = grid.freq
    full.name = series.name
    return full.astype(float), freq, n_missing


def check_not_constant(series: pd.Series) -> None:
    values = series.to_numpy()
    if np.nanmax(values) == np.nanmin(values):
        raise ForecastError(
            f"series '{series.name}' is constant (every value is {values[0]:g}); there is nothing "
            "to forecast: the forecast is that value", param="target", fix="check you picked the right {}"
        )


def check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise ForecastError(f"horizon must be a whole number of periods > 0, got {horizon!r}")
    if horizon <= 0:
        raise ForecastError(f"horizon must be > 0 periods, got {horizon}", param="horizon", fix="e.g. {}=12")
    return int(horizon)


def check_levels(levels) -> tuple[float, ...]:
    if levels is None:
        return ()
    if isinstance(levels, int | float):
        levels = (levels,)
    out = []
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, int | float | np.number) or not 0 < lv < 100:
            raise ForecastError(
                f"interval levels are percentages strictly between 0 and 100 (e.g. 80, 95); got {lv!r}"
            )
        out.append(int(lv) if float(lv).is_integer() else float(lv))
    return tuple(sorted(set(out)))


def future_index(series: pd.Series, freq: str, horizon: int) -> pd.DatetimeIndex:
    offset = pd.tseries.frequencies.to_offset(freq)
    return pd.date_range(series.index[-1] + offset, periods=horizon, freq=freq)


def prepare_exog(X, index: pd.DatetimeIndex, *, what: str = "X") -> pd.DataFrame:
    """Align exogenous columns to ``index``: numeric, complete, one row per timestamp."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        raise ForecastError(f"{what} must be a pandas DataFrame of exogenous columns, got {type(X).__name__}")
    if X.shape[1] == 0:
        raise ForecastError(f"{what} has no columns")
    if isinstance(X.index, pd.DatetimeIndex | pd.PeriodIndex):
        idx = X.index.to_timestamp() if isinstance(X.index, pd.PeriodIndex) else X.index
        X = X.set_axis(idx.tz_localize(None) if idx.tz is not None else idx)
        absent = index.difference(X.index)
        if len(absent):
            raise ForecastError(
                f"{what} has no rows for {len(absent)} timestamp(s) of the series: "
                f"{_preview([_stamp(t) for t in absent])}; give one row per timestamp"
            )
        X = X.loc[~X.index.duplicated()].reindex(index)
    else:
        if len(X) < len(index):
            raise ForecastError(
                f"{what} has {len(X)} rows but {len(index)} are needed (one per period); give a "
                "DataFrame indexed by the timestamps"
            )
        X = X.iloc[: len(index)].set_axis(index)
    bad = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
    if bad:
        raise ForecastError(
            f"exogenous column(s) {', '.join(bad)} in {what} are not numeric; encode them as numbers "
            "(e.g. pd.get_dummies) before forecasting"
        )
    X = X.astype(float)
    holes = [str(c) for c in X.columns if X[c].isna().any()]
    if holes:
        raise ForecastError(
            f"exogenous column(s) {', '.join(holes)} in {what} have missing values; fill them "
            "(an ARIMA or Prophet regressor cannot be NaN)"
        )
    return X


def prepare_future_exog(X_future, columns: list[str] | None, index: pd.DatetimeIndex,
                        *, model: str) -> pd.DataFrame | None:
    """Check the future exogenous frame against the columns the model was fitted with."""
    if not columns:
        if X_future is not None:
            raise ForecastError(
                f"{model} was fitted without exogenous variables but X_future was given; refit "
                "with fit(y, X) to use them, or drop X_future"
            )
        return None
    if X_future is None:
        raise ForecastError(
            f"{model} was fitted with exogenous column(s) {', '.join(columns)}; predict needs "
            f"X_future with their values for the {len(index)} future period(s) "
            f"({_stamp(index[0])} .. {_stamp(index[-1])})"
        )
    if isinstance(X_future, pd.Series):
        X_future = X_future.to_frame()
    if not isinstance(X_future, pd.DataFrame):
        raise ForecastError(f"X_future must be a pandas DataFrame, got {type(X_future).__name__}")
    missing = [c for c in columns if c not in X_future.columns]
    if missing:
        raise ForecastError(
            f"X_future lacks exogenous column(s) {', '.join(map(str, missing))} that {model} was "
            f"fitted with (it has: {_preview(map(str, X_future.columns)) or 'none'}); a forecast "
            "cannot ignore them: supply their future values"
        )
    return prepare_exog(X_future[columns], index, what="X_future")
