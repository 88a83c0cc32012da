"""Validate a training table, infer the task, and split it."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modelworks.data._task import TASK_NAMES, infer_task  # noqa: F401 - infer_task: the public name lives here too
from modelworks.exceptions import ColumnError, ConfigError, DataError, TargetError

TASKS = TASK_NAMES
MIN_ROWS = 10
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|index|row|rownum|row_?names?)$|^id_|^unnamed: ?0$", re.I)


class DataWarning(UserWarning):
    """Something in the data was changed or looks suspicious (dropped rows, ID-like columns...)."""


@dataclass
class Prepared:
    """A validated training table: features, target, task and what was changed on the way."""

    X: pd.DataFrame
    y: pd.Series
    task: str
    target: str
    classes: list | None = None
    dropped_columns: dict[str, str] = field(default_factory=dict)  # column -> why
    notes: list[str] = field(default_factory=list)


_MISSING_TARGET = ("warn", "drop", "refuse", "keep")


def _check_target_name(frame: pd.DataFrame, target, *, name: str | None = None, hint: str | None = None) -> None:
    why = f" ({hint})" if hint else ""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"a target column name is required{why}", param="target", fix="name it with {}")
    if target not in frame.columns:
        cols = [str(c) for c in frame.columns]
        listed = ", ".join(cols[:30]) + (", ..." if len(cols) > 30 else "")
        where = f" in the {name}" if name else ""
        raise TargetError(f"target column '{target}' not found{where}; columns are: {listed}{why}",
                          param="target", fix="pass one of them as {}")


def check_target(frame: pd.DataFrame, target: str, *, missing: str = "warn", name: str | None = None,
                 hint: str | None = None, notes: list[str] | None = None,
                 stacklevel: int = 2) -> pd.DataFrame:
    """Check the target column of a table: the one target check of every area.

    The target must be named (a non-empty string), be a column of ``frame``, have at least one
    value, and hold no infinite numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        Name of the target column.
    missing : {"warn", "drop", "refuse", "keep"}
        Rows whose target is missing: dropped with a :class:`DataWarning` saying how many
        (``prepare``), dropped quietly (``abtest`` compares models on the labelled rows),
        refused with :class:`~modelworks.exceptions.TargetError` (``stats gam``), or kept.
    name : str, optional
        What to call the table in messages ("target column 'y' not found in the *data*").
    hint : str, optional
        Why the target is needed, in parentheses after a missing target's message (which ends
        with the structured hint ``param="target"``: the CLI names the flag).
    notes : list of str, optional
        The message about dropped rows is appended here (with ``"warn"`` and ``"drop"``).
    stacklevel : int
        As for :func:`warnings.warn`: 2 points the warning at the caller; a wrapper such as
        ``prepare`` passes 3 to point at its own caller.

    Returns
    -------
    pandas.DataFrame
        ``frame``, without the rows whose target is missing when they are dropped (index reset).

    Raises
    ------
    ConfigError
        No target name.
    TargetError
        The column is absent, entirely missing or has infinite values; missing values with
        ``missing="refuse"``.
    """
    from modelworks._validation import check_option

    check_option(missing, "missing", _MISSING_TARGET)
    _check_target_name(frame, target, name=name, hint=hint)
    y = frame[target]
    if y.isna().all():
        raise TargetError(f"target column '{target}' is entirely missing (all {len(y)} values are NaN)")
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        n_inf = int(np.isinf(y.to_numpy(dtype=float)).sum())
        if n_inf:
            raise TargetError(f"target column '{target}' has {n_inf} infinite values; remove or fix those rows")
    n_missing = int(y.isna().sum())
    if not n_missing or missing == "keep":
        return frame
    if missing == "refuse":
        raise TargetError(f"target column '{target}' has {n_missing} missing values; fill or drop those rows")
    msg = f"dropped {n_missing} of {len(frame)} rows whose target '{target}' is missing"
    if missing == "warn":
        warnings.warn(msg, DataWarning, stacklevel=stacklevel)
    if notes is not None:  # "drop" is quiet, but a caller that asks is told
        notes.append(msg)
    return frame.loc[y.notna()].reset_index(drop=True)


def _mixed_type_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Object columns holding both numbers and text: {column: example of the odd value}."""
    bad = {}
    for col in frame.columns:
        s = frame[col]
        if not pd.api.types.is_object_dtype(s):
            continue
        s = s.dropna()
        if s.empty:
            continue
        kinds = s.map(lambda v: "num" if isinstance(v, int | float | np.number) and not isinstance(v, bool) else "other")
        as_num = pd.to_numeric(s.astype(str), errors="coerce")
        numeric_share = max((kinds == "num").mean(), as_num.notna().mean())
        if 0.5 <= numeric_share < 1.0:
            odd = s[as_num.isna() & (kinds != "num")]
            bad[str(col)] = str(odd.iloc[0]) if len(odd) else "?"
    return bad


def _looks_like_id(s: pd.Series, name: str) -> bool:
    n = len(s)
    if n < 20 or s.isna().any():
        return False
    unique_ratio = s.nunique() / n
    if pd.api.types.is_float_dtype(s):
        return False
    if pd.api.types.is_integer_dtype(s):
        if unique_ratio < 1.0:
            return False
        if _ID_NAME.search(name):
            return True
        diffs = np.diff(np.sort(s.to_numpy()))
        return bool(np.all(diffs == 1))  # 0..n-1 or 1..n: a row counter
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        from modelworks.data._kinds import is_text_column

        if is_text_column(s):  # free text (reviews, descriptions) is unique per row too: a feature
            return False
        return unique_ratio > 0.95 or (bool(_ID_NAME.search(name)) and unique_ratio > 0.5)
    return False


def _parse_datetimes(frame: pd.DataFrame) -> list[str]:
    """Turn text columns that are clearly dates into datetime columns; return their names.

    "Clearly": the spine's date-text rule with the policy of converting without being asked,
    dates written with numbers, 95% of the values parse (:func:`parse_date_text`).
    """
    from modelworks.data._kinds import parse_date_text

    parsed = []
    for col in frame.columns:
        converted = parse_date_text(frame[col], min_share=0.95, numeric_form=True)
        if converted is not None:
            frame[col] = converted
            parsed.append(str(col))
    return parsed


def prepare(frame: pd.DataFrame, target: str, *, task: str | None = None, cv: int | None = None,
            features: list[str] | None = None, drop_missing_target: bool = True,
            drop_id_columns: bool = True) -> Prepared:
    """Validate a training table and separate features from the target.

    Policy (documented in the README): rows whose target is missing are dropped with a
    warning that says how many (``drop_missing_target=False`` refuses instead); constant and
    ID-like columns are dropped with a warning; infinite values and columns mixing numbers and
    text are refused.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        Name of the target column.
    task : {"binary", "multiclass", "regression"}, optional
        Inferred from the target when not given.
    cv : int, optional
        Number of CV folds planned; checked against rows and class sizes.
    features : list of str, optional
        Feature columns to use (default: every column except the target).

    Raises
    ------
    TargetError, ColumnError, DataError, ConfigError
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    cols = list(frame.columns)
    _check_target_name(frame, target)
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if features is not None:
        if target in features:
            raise ConfigError(
                f"the target '{target}' is also listed as a feature; remove it from the features"
            )
        missing = [c for c in features if c not in cols]
        if missing:
            raise ColumnError(f"feature columns not found: {', '.join(missing)}; columns are: {', '.join(cols)}")
    notes: list[str] = []
    frame = check_target(frame, target, missing="warn" if drop_missing_target else "refuse", notes=notes,
                         stacklevel=3)
    y = frame[target]
    use = features if features is not None else [c for c in cols if c != target]
    X = frame[use].copy()
    if X.shape[1] == 0:
        raise DataError(f"no feature columns: the table has only the target '{target}'")
    n_rows = len(frame)
    min_rows = max(MIN_ROWS, 2 * (cv or 0))
    if n_rows < min_rows:
        raise DataError(
            f"only {n_rows} rows with a target; at least {min_rows} are needed to train and validate a model"
        )
    if cv is not None:
        if not isinstance(cv, int | np.integer) or cv < 2:
            raise ConfigError(f"cv must be a whole number >= 2, got {cv!r}")
        if cv > n_rows:
            raise ConfigError(f"cv={cv} is larger than the {n_rows} rows", param="cv",
                              fix=f"use {{}}={max(2, min(5, n_rows // 2))}")
    task = task or infer_task(y)
    classes = None
    if task in ("binary", "multiclass"):
        counts = y.value_counts()
        if len(counts) < 2:
            raise TargetError(
                f"target column '{target}' has a single class ({counts.index[0]!r}); a classifier needs at least two"
            )
        if task == "binary" and len(counts) > 2:
            raise TargetError(f"task 'binary' but target '{target}' has {len(counts)} classes; use task 'multiclass'")
        folds = cv or 5
        rare = counts[counts < folds]
        if len(rare):
            ex = ", ".join(f"{k!r} ({v} rows)" for k, v in rare.head(5).items())
            raise TargetError(
                f"class {ex} of target '{target}' has fewer members than the {folds} CV folds",
                param="cv", fix=f"use {{}}={max(2, int(counts.min()))} or merge/drop rare classes")
        classes = sorted(counts.index.tolist(), key=str)
    else:
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise TargetError(
                f"task 'regression' needs a numeric target, but '{target}' holds {y.dtype} values"
            )
    # columns
    mixed = _mixed_type_columns(X)
    if mixed:
        col, ex = next(iter(mixed.items()))
        raise ColumnError(
            f"column '{col}' mixes numbers and text (e.g. {ex!r}); fix those values or convert the column"
            + (f" (also: {', '.join(list(mixed)[1:])})" if len(mixed) > 1 else "")
        )
    numeric = X.select_dtypes(include=[np.number])
    if not numeric.empty:
        inf_counts = np.isinf(numeric.to_numpy(dtype=float)).sum(axis=0)
        bad = {c: int(n) for c, n in zip(numeric.columns, inf_counts) if n}
        if bad:
            desc = ", ".join(f"'{c}' ({n})" for c, n in bad.items())
            raise DataError(f"infinite values in column {desc}; replace them with NaN or a finite value")
    _parse_datetimes(X)
    dropped: dict[str, str] = {}
    for col in list(X.columns):
        s = X[col]
        if s.isna().all():
            dropped[col] = "all values missing"
        elif s.nunique(dropna=False) <= 1:
            dropped[col] = "constant"
        elif drop_id_columns and _looks_like_id(s, col):
            dropped[col] = "looks like an ID (unique per row)"
    for col, why in dropped.items():
        msg = f"dropped column '{col}': {why}"
        warnings.warn(msg, DataWarning, stacklevel=2)
        notes.append(msg)
    X = X.drop(columns=list(dropped))
    if X.shape[1] == 0:
        raise DataError("no usable feature columns remain after dropping constant, empty and ID-like columns")
    return Prepared(X=X, y=y.reset_index(drop=True), task=task, target=target, classes=classes,
                    dropped_columns=dropped, notes=notes)


def train_test_split(X: pd.DataFrame, y: pd.Series, *, task: str, test_size: float = 0.2,
                     seed: int = 0):
    """Split into train and test, stratified for classification; returns X_train, X_test, y_train, y_test."""
    from sklearn.model_selection import train_test_split as _split

    if not 0 < test_size < 1:
        raise ConfigError(f"test_size must be between 0 and 1, got {test_size}")
    stratify = y if task in ("binary", "multiclass") else None
    try:
        parts = _split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as e:
        raise DataError(f"cannot split the data into train and test: {e}") from e
    return [p.reset_index(drop=True) for p in parts]
