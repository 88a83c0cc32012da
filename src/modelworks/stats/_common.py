"""Validation helpers and warning classes shared by the mixed-effects and GAM estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from modelworks.exceptions import ColumnError, NotFittedError, StatsError


class UnfittedError(NotFittedError, _SklearnNotFittedError):
    """Used before fit: a modelworks error that scikit-learn also recognises as its own."""


class StatsWarning(UserWarning):
    """Something about a statistical fit the user should look at (it still returned a model)."""


class FitConvergenceWarning(StatsWarning):
    """The optimiser did not converge, needed a retry, or stopped on the boundary (singular fit)."""


def formula_columns(formula: str, *, what: str = "formula") -> list[str]:
    """Column names a patsy formula refers to, in order, after checking it is data, not code.

    See :func:`modelworks.stats._formula.check_formula`; raises StatsError for anything outside
    the formula grammar's allow-list.
    """
    from modelworks.stats._formula import check_formula

    return check_formula(formula, what=what)


def check_columns(data: pd.DataFrame, names: list[str], *, what: str, hint: str, param: str | None = None) -> None:
    """Raise ColumnError listing every name that is not a column of ``data``.

    With ``param`` (the parameter that named the columns), ``hint`` is the error's structured
    fix, ``{}`` standing for the parameter (the CLI renders it as the flag).
    """
    missing = [n for n in names if n not in data.columns]
    if missing:
        cols = ", ".join(map(str, data.columns[:30])) + (" ..." if data.shape[1] > 30 else "")
        listed = f"{what} names columns that are not in the data: {', '.join(missing)} (columns are: {cols}"
        if param is not None:
            raise ColumnError(listed + ")", param=param, fix=hint)
        raise ColumnError(f"{listed}; {hint})")


def check_no_nan(data: pd.DataFrame, columns: list[str], *, role: str = "predictor") -> None:
    """Raise StatsError naming the column(s) and the first rows holding NaN."""
    for col in columns:
        isna = data[col].isna().to_numpy()
        if isna.any():
            rows = list(data.index[isna][:5])
            more = f" and {int(isna.sum()) - 5} more" if isna.sum() > 5 else ""
            raise StatsError(
                f"{role} column {col!r} has {int(isna.sum())} missing value(s) (NaN) at rows "
                f"{', '.join(map(str, rows))}{more}; drop those rows "
                f"(df.dropna(subset=[{col!r}])) or impute them before fitting"
            )


def check_numeric_response(values: pd.Series, name: str) -> np.ndarray:
    """The response as float, or StatsError if it is not numeric."""
    if values.dtype == bool:
        return values.to_numpy(dtype=float)
    if values.dtype == object:  # numbers stored as objects are fine; words are not
        converted = pd.to_numeric(values, errors="coerce")
        if converted.notna().sum() == values.notna().sum():
            return converted.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(values):
        example = values.dropna().iloc[0] if values.notna().any() else None
        raise StatsError(
            f"response {name!r} must be numeric, got dtype {values.dtype} (e.g. {example!r}); "
            "encode it as numbers, or use GAMClassifier for a binary target"
        )
    return values.to_numpy(dtype=float)


def to_frame(X, *, feature_names: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a 2-D array (columns x0, x1, ... unless named)."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise StatsError(f"expected a 2-D table of predictors, got an array of shape {arr.shape}")
    cols = feature_names if feature_names is not None else [f"x{i}" for i in range(arr.shape[1])]
    if len(cols) != arr.shape[1]:
        raise StatsError(f"expected {len(cols)} columns ({', '.join(cols)}), got {arr.shape[1]}")
    return pd.DataFrame(arr, columns=cols)


def python_scalar(value):
    """numpy scalars -> plain Python (for skops-safe persisted state)."""
    return value.item() if isinstance(value, np.generic) else value
