"""Reading a request: the JSON body, its rows, and the cells a model may be given.

Bad input raises :class:`RequestError`, which the app turns into a 4xx JSON answer naming what
is wrong (400 unreadable JSON, 413 too many rows, 422 wrong columns or values).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SCAN_CELLS = 2_000


class RequestError(Exception):
    """A client error: becomes a 4xx JSON answer."""

    def __init__(self, status: int, message: str, *, fields: list[str] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.headers = status, message, fields or [], headers or {}


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 20


def _parse_body(raw: bytes):
    """The JSON body: orjson (3-5x faster), or the standard parser where orjson falls short.

    orjson reads integers beyond 64 bits as floats (json keeps them exact, so the server can
    refuse them by name), so a body with a run of 20 digits takes the standard parser; so does a
    body orjson rejects, for json's message (NaN, nesting depth, the position of the error).
    """
    import orjson

    if _LONG_DIGITS not in raw.translate(_DIGITS_TO_ZERO):  # C-speed scan, no regex backtracking
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw, parse_constant=_reject_constant)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON; send null for a missing value")


def _fields_from(message: str) -> list[str]:
    m = re.match(r"(?:missing|unexpected) columns?: (.*?) \(", message)
    if m:
        return [c.strip() for c in m.group(1).split(",")]
    m = re.search(r"column '([^']*)'", message)
    return [m.group(1)] if m else []


def _bad_cell(i: int, key: str, value: Any) -> RequestError:
    if isinstance(value, float) and not math.isfinite(value):
        return RequestError(422, f"row {i}, column '{key}': {value} is not a finite number", fields=[str(key)])
    if isinstance(value, int) and not isinstance(value, bool):
        return RequestError(422, f"row {i}, column '{key}': the number is too large", fields=[str(key)])
    kind = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else type(value).__name__
    return RequestError(422, f"row {i}, column '{key}': expected a number, text, true/false or null, "
                             f"got a JSON {kind}", fields=[str(key)])


def to_frame(rows: list[dict]):
    """Build the input frame, refusing cells that are not finite JSON scalars (checked per column)."""
    import numpy as np
    import pandas as pd

    if len(rows) * len(rows[0]) <= _SCAN_CELLS:  # small requests: one pass over the cells is cheapest
        all_floats = True
        for i, row in enumerate(rows):
            for key, v in row.items():
                if type(v) is not float:
                    all_floats = False
                if v is None or isinstance(v, str | bool):
                    continue
                if isinstance(v, float):
                    if math.isfinite(v) or v != v:
                        continue
                elif isinstance(v, int) and abs(v) <= 2**63:
                    continue
                raise _bad_cell(i, key, v)
        columns = list(rows[0])
        if all_floats:  # numbers only: one float array, 5x faster than from_records for a row
            return pd.DataFrame(np.array([[r[c] for c in columns] for r in rows], dtype=float), columns=columns)
        try:
            return pd.DataFrame.from_records(rows, columns=columns)
        except (OverflowError, ValueError, TypeError) as e:
            raise RequestError(422, f"the rows cannot be read as a table: {e}") from None
    try:
        frame = pd.DataFrame.from_records(rows, columns=list(rows[0]))
    except (OverflowError, ValueError, TypeError) as e:  # find the cell that pandas could not take
        for i, row in enumerate(rows):
            for key, v in row.items():
                if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**63 \
                        or not isinstance(v, str | int | float | bool | type(None)):
                    raise _bad_cell(i, key, v) from None
        raise RequestError(422, f"the rows cannot be read as a table: {e}") from None
    for j, key in enumerate(frame.columns):
        values = frame.iloc[:, j].to_numpy()
        kind = values.dtype.kind
        if kind == "f":
            bad = np.flatnonzero(np.isinf(values))
            if len(bad):
                raise _bad_cell(int(bad[0]), key, float(values[bad[0]]))
        elif kind == "O":
            for i, v in enumerate(values):
                if v is None or isinstance(v, str | bool):
                    continue
                if isinstance(v, float):
                    if math.isfinite(v) or v != v:  # NaN stands for a missing value
                        continue
                elif isinstance(v, int) and abs(v) <= 2**63:
                    continue
                raise _bad_cell(i, key, v)
    return frame


def parse_rows(body: Any, max_rows: int, *, same_columns: bool = True) -> list[dict]:
    """Turn a request body into a list of row dicts.

    Accepted shapes: ``[{...}, ...]`` (records), ``{"records": [{...}, ...]}`` or
    ``{"records": {...}}`` (one row), ``{"columns": {"a": [...], "b": [...]}}``. With
    ``same_columns`` (the default), every row must have the columns of the first (else 422);
    without, the caller checks that with :func:`check_same_columns`.
    """
    if isinstance(body, dict) and set(body) - {"records", "columns"} == set() and len(body) == 1:
        key, value = next(iter(body.items()))
    elif isinstance(body, list):
        key, value = "records", body
    else:
        raise RequestError(422, 'the body must be {"records": [{column: value, ...}, ...]}, '
                                '{"columns": {column: [values]}} or a JSON list of row objects')
    if key == "records":
        rows = [value] if isinstance(value, dict) else value
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RequestError(422, '"records" must be a row object or a list of row objects')
    else:
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            raise RequestError(422, '"columns" must map each column name to a list of values')
        lengths = {len(v) for v in value.values()}
        if len(lengths) > 1:
            raise RequestError(422, f'"columns" lists have different lengths: {sorted(lengths)}')
        n = lengths.pop() if lengths else 0
        if n > max_rows:
            raise RequestError(413, f"{n} rows is over the limit of {max_rows} per request; split the batch")
        rows = [{k: v[i] for k, v in value.items()} for i in range(n)]
    if not rows:
        raise RequestError(422, "no rows to predict; send at least one row")
    if len(rows) > max_rows:
        raise RequestError(413, f"{len(rows)} rows is over the limit of {max_rows} per request; split the batch")
    if same_columns:
        check_same_columns(rows)
    return rows


def check_same_columns(rows: list[dict]) -> None:
    """Refuse (422) rows whose columns differ from the first row's, naming the row and the columns."""
    keys = rows[0].keys()
    for i, row in enumerate(rows):
        if row.keys() != keys:
            diff = sorted(set(row) ^ set(keys), key=str)
            raise RequestError(422, f"row {i} does not have the same columns as row 0 (differs in: {', '.join(map(str, diff[:10]))})",
                               fields=[str(d) for d in diff[:10]])


def numbers_only(raw: bytes, body: Any) -> bool:
    """Whether the JSON text proves that no value in its rows is text or a boolean.

    (Numbers and null remain, or nested arrays and objects, which the float array refuses.)

    Assumes every row has the columns of the first (the caller checks that). Without escapes,
    every quote, ``t`` and ``f`` in the text belongs to a key, a string value or a ``true`` /
    ``false``; when their counts are exactly those of the keys, no value is text or a boolean.
    Four vectorised counts over the bytes instead of a look at every cell; False only means
    "look closer".
    """
    import numpy as np

    if isinstance(body, list):
        wrapper, rows = "", body
    elif isinstance(body, dict) and len(body) == 1:
        wrapper, rows = next(iter(body.items()))
        if isinstance(rows, dict):
            rows = [rows]  # one row, or the columns (each name once)
    else:
        return False
    if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict):
        return False
    names, n = "".join(map(str, rows[0])), len(rows)  # the row keys, written once per row
    wrapper = str(wrapper)  # "records" / "columns", written once
    keys = len(rows[0]) * n + (1 if wrapper else 0)
    expected = [0, 2 * keys, names.count("t") * n + wrapper.count("t"), names.count("f") * n + wrapper.count("f")]
    text = np.frombuffer(raw, dtype=np.uint8)
    return all(int(np.count_nonzero(text == ord(c))) == n for c, n in zip('\\"tf', expected))
