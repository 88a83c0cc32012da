"""The input schema of a model: which columns, of which kinds, with which values.

The same :meth:`Schema.validate` runs in ``modelworks.predict``, the HTTP server and model
packages, so a frame is accepted or refused identically everywhere: columns are matched by
name (order does not matter), missing ones are named, extra ones are refused unless asked to
ignore them, and values are converted only when that is safe. Columns that training chose to
drop (constant, ID-like, ...) are recorded in :attr:`Schema.dropped`: a frame shaped like the
training file is accepted, those columns are set aside, and :meth:`Schema.ignored` names them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.data._kinds import column_kind, parse_dates
from modelworks.exceptions import SchemaError

_MAX_LEVELS = 200
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


@dataclass
class ColumnSpec:
    """One input column: name, kind, training dtype, and observed values."""

    name: str
    kind: str
    dtype: str
    nullable: bool = True
    categories: list[Any] | None = None
    min: float | None = None
    max: float | None = None


def _kind(s: pd.Series) -> str:
    # the spine's rule with the schema's policy: booleans and whole numbers checked as such
    return column_kind(s, detail=True)


@dataclass
class Schema:
    """Columns a model expects, in training order, and the training columns it dropped.

    ``dropped`` maps each column of the training file that training set aside (constant,
    ID-like, all missing, ...) to why; :meth:`validate` accepts and removes them.
    """

    columns: list[ColumnSpec] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, X: pd.DataFrame, *, dropped: dict[str, str] | None = None) -> Schema:
        """Record the schema of a training frame.

        Parameters
        ----------
        X : pandas.DataFrame
            The features the model is trained on.
        dropped : dict, optional
            ``{column: why}`` for columns of the training file that were dropped before
            training (e.g. ``Prepared.dropped_columns``); files that still have them are
            accepted later and the columns ignored.
        """
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(f"a schema is built from a pandas DataFrame, got {type(X).__name__}")
        dropped = {str(k): str(v) for k, v in (dropped or {}).items()}
        overlap = sorted(set(dropped) & {str(c) for c in X.columns})
        if overlap:
            raise SchemaError(f"column(s) {', '.join(overlap)} are both features and dropped; drop them from X "
                              "or from dropped=")
        specs = []
        for col in X.columns:
            s = X[col]
            kind = _kind(s)
            spec = ColumnSpec(name=str(col), kind=kind, dtype=str(s.dtype), nullable=bool(s.isna().any()))
            if kind in ("numeric", "integer") and s.notna().any():
                spec.min, spec.max = float(s.min()), float(s.max())
            elif kind == "categorical":
                levels = s.dropna().astype(str).unique().tolist()
                spec.categories = sorted(levels)[:_MAX_LEVELS] if len(levels) <= _MAX_LEVELS else None
            specs.append(spec)
        return cls(specs, dropped)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ignored(self, columns) -> list[str]:
        """The names among ``columns`` that training dropped (they are accepted and set aside)."""
        return [str(c) for c in columns if str(c) in self.dropped]

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns], "dropped": dict(self.dropped)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict`'s document, checking every field's type."""
        from modelworks._schema_doc import check_dropped, check_schema_document

        return cls([ColumnSpec(**c) for c in check_schema_document(data)], check_dropped(data))

    def validate(self, frame, *, ignore_extra: bool = False) -> pd.DataFrame:
        """Check ``frame`` against the schema; return it with columns in training order.

        Parameters
        ----------
        frame : pandas.DataFrame, dict of columns, or list of row dicts
        ignore_extra : bool
            Drop columns the model was not trained on instead of refusing them. Columns that
            training dropped (:attr:`dropped`) are always accepted and removed.

        Raises
        ------
        SchemaError
            Missing columns (named), unexpected columns (named), or values that cannot be
            converted safely to the trained kind (column and example value named).
        """
        if isinstance(frame, dict | list):
            try:
                frame = pd.DataFrame(frame)
            except ValueError as e:
                raise SchemaError(f"input cannot be read as a table: {e}") from e
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"expected a table (DataFrame, records or columns), got {type(frame).__name__}")
        present = [str(c) for c in frame.columns]
        if len(set(present)) != len(present):
            dups = sorted({c for c in present if present.count(c) > 1})
            raise SchemaError(f"duplicate input columns: {', '.join(dups)}")
        if any(not isinstance(c, str) for c in frame.columns):
            frame = frame.set_axis(present, axis=1)  # a renamed view, the caller's frame untouched
        missing = [n for n in self.names if n not in present]
        if missing:
            raise SchemaError(
                f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                f"(the model expects: {_listing(self.names)})"
            )
        extra = [c for c in present if c not in self.names and c not in self.dropped]
        if extra and not ignore_extra:
            raise SchemaError(
                f"unexpected column{'s' if len(extra) > 1 else ''}: {', '.join(extra)} "
                "(the model was not trained on them)", param="ignore_extra=True", fix="pass {} to drop them"
            )
        dtypes = dict(zip(frame.columns, frame.dtypes))
        ready = [spec.name for spec in self.columns if _is_plain_number(spec, dtypes[spec.name])]
        if len(ready) == len(self.columns):  # the common serving case: one block cast, no per-column work
            return (frame if present == self.names else frame[self.names]).astype(float, copy=False)
        ready_set = set(ready)
        out = {}
        for spec in self.columns:
            s = frame[spec.name]
            out[spec.name] = s.astype(float, copy=False) if spec.name in ready_set else _coerce(s, spec)
        return pd.DataFrame(out, index=frame.index)


def _listing(names: list[str], limit: int = 20) -> str:
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _bad(spec: ColumnSpec, s: pd.Series, mask, expected: str):
    idx = np.flatnonzero(np.asarray(mask))
    example = s.iloc[idx[0]]
    # the row's label when rows are numbered (a chunk of a file keeps its rows' numbers), else its position
    row = s.index[idx[0]] if pd.api.types.is_integer_dtype(s.index.dtype) else idx[0]
    raise SchemaError(
        f"column '{spec.name}' expects {expected} but got {example!r} (row {row}, {len(idx)} such value"
        f"{'s' if len(idx) > 1 else ''}); it cannot be converted safely"
    )


def _is_plain_number(spec: ColumnSpec, dtype) -> bool:
    """A numeric column that already holds numbers (not booleans): converting is a plain cast."""
    return (spec.kind in ("numeric", "integer") and isinstance(dtype, np.dtype) and dtype.kind in "iuf")


def _coerce(s: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.kind in ("numeric", "integer"):
        if pd.api.types.is_bool_dtype(s):
            _bad(spec, s, np.ones(len(s), bool), "numbers")
        if pd.api.types.is_numeric_dtype(s):
            return s.astype(float, copy=False)  # no copy when it is float64 already
        as_text = s.where(s.isna(), s.astype(str).str.strip())
        conv = pd.to_numeric(as_text.replace("", np.nan), errors="coerce")
        bad = conv.isna() & s.notna() & (as_text != "")
        if bad.any():
            _bad(spec, s, bad, "numbers")
        conv = conv.astype(float)
        infinite = np.isinf(conv.to_numpy())  # "inf", "-Infinity", "1e999": refused like "nan" is
        if infinite.any():
            _bad(spec, s, infinite, "finite numbers")
        return conv
    if spec.kind == "boolean":
        if pd.api.types.is_bool_dtype(s):
            return s
        text = s.astype(str).str.strip().str.lower()
        conv = pd.Series(np.where(text.isin(_TRUE), True, np.where(text.isin(_FALSE), False, None)),
                         index=s.index, dtype=object)
        bad = conv.isna() & s.notna()
        if bad.any():
            _bad(spec, s, bad, "true/false")
        return conv.where(s.notna(), None)
    if spec.kind == "datetime":
        conv = parse_dates(s)
        bad = conv.isna() & s.notna()
        if bad.any():
            _bad(spec, s, bad, "dates")
        return conv
    # categorical: text; numbers are written as text
    s = s.astype(object)
    return s.where(s.isna(), s.astype(str))
