"""What a column holds: the one column-kind rule and the one "is this text a date" rule.

Every area asks these two questions here (preprocessing, the input schema, drift, the GAM's
factor terms, polynomial features, feature synthesis' time index, forecasting's time column),
so a column is read the same way everywhere. Where an area needs a different policy, it is a
parameter of the one function, named and explained in its docstring, never a second rule.
"""

from __future__ import annotations

import datetime
import re
import warnings

import pandas as pd

# the kinds column_kind returns (``text``, ``integer`` and ``boolean`` only when asked for)
KINDS: tuple[str, ...] = ("numeric", "categorical", "datetime", "text", "integer", "boolean")

# a date written with numbers: 2024-01-31, 31/01/2024, 1/2/24 (the "numeric_form" policy)
_NUMERIC_DATE = re.compile(r"\d{1,4}[-/]\d{1,2}[-/]\d{1,4}")
# values looked at before the whole column is parsed (a cheap early exit for ordinary text)
DATE_SAMPLE = 200
# free text: a text column whose values have at least this many words (median) and that is
# mostly unique; a word is a run of letters
TEXT_MIN_WORDS = 3
TEXT_MIN_UNIQUE = 0.3
_TEXT_SAMPLE = 500


def _is_dates_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.PeriodDtype)


def is_text_column(s: pd.Series) -> bool:
    """Whether ``s`` holds free text (sentences, reviews), not categories or identifiers.

    Text columns hold strings whose median value has at least ``TEXT_MIN_WORDS`` words
    separated by whitespace, mostly letters, and at least ``TEXT_MIN_UNIQUE`` of the values
    are distinct. Identifiers (one token) and categories (few levels) are not text.
    """
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        return False
    values = s.dropna()
    if len(values) < 2 or not values.map(lambda v: isinstance(v, str)).all():
        return False
    sample = values.sample(n=min(_TEXT_SAMPLE, len(values)), random_state=0).astype(str)
    words = sample.str.count(r"[^\W\d_]{2,}")
    tokens = sample.str.split().str.len()
    if words.median() < TEXT_MIN_WORDS or (words / tokens.clip(lower=1)).median() < 0.5:
        return False
    return values.nunique() >= TEXT_MIN_UNIQUE * len(values)


def column_kind(s: pd.Series, *, text: bool = False, detail: bool = False,
                max_levels: int | None = None) -> str:
    """The kind of one column, by the one rule every area uses.

    The rule: datetime (or period) values are ``"datetime"``; booleans are ``"categorical"``;
    numbers are ``"numeric"``; anything else (text, categories, mixed objects) is
    ``"categorical"``. Dates written as text stay ``"categorical"`` here: whether text holds
    dates is :func:`is_date_text`'s question.

    Parameters
    ----------
    s : pandas.Series
        The column.
    text : bool, default=False
        Policy of preprocessing: first ask :func:`~modelworks.data.is_text_column` and return
        ``"text"`` for free text (encoded with TF-IDF rather than one-hot).
    detail : bool, default=False
        Policy of the input schema, which checks values at predict time: booleans are
        ``"boolean"`` and whole-number dtypes ``"integer"`` instead of ``"categorical"`` and
        ``"numeric"``.
    max_levels : int, optional
        Policy of the GAM's factor terms: a numeric column with at most this many distinct
        values is ``"categorical"`` (a code, not a quantity to smooth).

    Returns
    -------
    str
        One of ``"numeric"``, ``"categorical"``, ``"datetime"``, and with the options above
        ``"text"``, ``"boolean"``, ``"integer"``.
    """
    if text:
        if is_text_column(s):
            return "text"
    if pd.api.types.is_bool_dtype(s):
        return "boolean" if detail else "categorical"
    if _is_dates_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s):
        if max_levels is not None and s.nunique() <= max_levels:
            return "categorical"
        if detail and pd.api.types.is_integer_dtype(s):
            return "integer"
        return "numeric"
    return "categorical"


def parse_dates(values) -> pd.Series:
    """The one date parser: values as ``datetime64``, with ``NaT`` where a value is no date.

    Datetime values are returned as they are, periods as their start time, and anything else
    goes through pandas' mixed-format parser (``pd.to_datetime(format="mixed")``, so every
    value may have its own format); values it cannot read (and missing ones) become ``NaT``.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.dt.to_timestamp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(s, errors="coerce", format="mixed")
        except (TypeError, ValueError):  # values mixing time zones or types the mixed parser refuses
            return pd.to_datetime(s, errors="coerce")


def parse_date_text(s: pd.Series, *, min_share: float = 1.0, numeric_form: bool = False) -> pd.Series | None:
    """``s`` parsed as dates if it is text that holds dates (the one rule), else ``None``.

    The rule: ``s`` is not numeric, boolean or already dates; its non-missing values are
    strings (or ``datetime.date`` objects); and at least ``min_share`` of them parse with :func:`parse_dates`. The first
    :data:`DATE_SAMPLE` values are tried first, so ordinary text columns are rejected cheaply.

    Parameters
    ----------
    s : pandas.Series
        The column.
    min_share : float, default=1.0
        Share of the non-missing values that must parse. Drift compares text as dates only
        when every value parses (1.0); ``prepare`` converts a column when 95% do (0.95) and
        the few values that do not become missing.
    numeric_form : bool, default=False
        Policy of ``prepare``, which converts training columns without being asked: also
        require every sampled value to be written with numbers (``2024-01-31``,
        ``31/01/2024``), so that words pandas happens to read as dates (a plan called "May")
        stay categories.

    Returns
    -------
    pandas.Series or None
        The parsed column (``datetime64``; values that do not parse are ``NaT``), or ``None``
        when ``s`` is not date text.
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or _is_dates_dtype(s):
        return None
    present = s.dropna()
    if present.empty:
        return None
    sample = present.iloc[:DATE_SAMPLE]
    if not all(isinstance(v, str | datetime.date) for v in sample):
        return None
    if numeric_form and not sample.astype(str).str.contains(_NUMERIC_DATE, regex=True).all():
        return None
    if parse_dates(sample).notna().mean() < min_share:
        return None  # cheap early exit for ordinary text columns
    parsed = parse_dates(s)
    if parsed.notna().sum() < min_share * len(present):
        return None
    return parsed


def is_date_text(s: pd.Series, *, min_share: float = 1.0, numeric_form: bool = False) -> bool:
    """Whether ``s`` holds dates written as text (see :func:`parse_date_text` for the rule)."""
    return parse_date_text(s, min_share=min_share, numeric_form=numeric_form) is not None
