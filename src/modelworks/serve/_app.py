"""The prediction server as a Starlette application.

Every answer is JSON. Bad input gets a 4xx naming what is wrong (400 unreadable JSON, 413 body
too large, 415 not JSON, 422 wrong columns or values), a full server a 503 with ``Retry-After``,
and an unexpected failure a 500 with a request id — never a stack trace.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelworks.exceptions import ConfigError, SchemaError

# requests this small, for models this fast (seconds for one row), are scored on the event
# loop: a thread hop costs about as much as scoring a few rows of a fast model, and scoring holds
# the GIL for most of its time anyway (a 100-tree forest takes ~5 ms for a row)
INLINE_MAX_ROWS = 16
INLINE_MAX_SECONDS = 0.02
_SCAN_CELLS = 2_000
# the status a request gets in /metrics when its client disconnects before the body is read
# (nginx's 499 "client closed request"); the client never sees it
CLIENT_CLOSED = 499
_NUMBER_TYPES = frozenset({float, int, type(None)})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestError(Exception):
    """A client error: becomes a 4xx JSON answer."""

    def __init__(self, status: int, message: str, *, fields: list[str] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.headers = status, message, fields or [], headers or {}


@dataclass
class ServeOptions:
    """How the server treats requests."""

    ignore_extra: bool = False
    max_body_bytes: int = 16 * 1024**2
    max_rows: int = 100_000
    max_in_flight: int = 32
    retry_after_s: int = 1
    log_requests: str | None = None
    model_ref: str | None = None

    def check(self) -> ServeOptions:
        for name in ("max_body_bytes", "max_rows", "max_in_flight", "retry_after_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {v!r}")
        return self


class _Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.rows = 0
        self.rejected: dict[str, int] = {}
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.started = time.time()

    def observe(self, path: str, status: int, seconds: float, rows: int = 0) -> None:
        with self.lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1
            self.rows += rows
            if path == "/predict":
                self.latency_sum += seconds
                self.latency_count += 1
                i = next((i for i, b in enumerate(_LATENCY_BUCKETS) if seconds <= b), len(_LATENCY_BUCKETS))
                self.buckets[i] += 1

    def reject(self, reason: str) -> None:
        with self.lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def prometheus(self, in_flight: int) -> str:
        lines = ["# HELP modelworks_requests_total Requests answered, by path and status "
                 f"({CLIENT_CLOSED}: the client closed the connection first).",
                 "# TYPE modelworks_requests_total counter"]
        with self.lock:
            for (path, status), n in sorted(self.requests.items()):
                lines.append(f'modelworks_requests_total{{path="{path}",status="{status}"}} {n}')
            lines += ["# TYPE modelworks_rows_predicted_total counter", f"modelworks_rows_predicted_total {self.rows}",
                      "# TYPE modelworks_rejected_total counter"]
            for reason, n in sorted(self.rejected.items()):
                lines.append(f'modelworks_rejected_total{{reason="{reason}"}} {n}')
            lines += ["# TYPE modelworks_in_flight gauge", f"modelworks_in_flight {in_flight}",
                      "# TYPE modelworks_predict_seconds histogram"]
            cum = 0
            for b, n in zip(_LATENCY_BUCKETS, self.buckets):
                cum += n
                lines.append(f'modelworks_predict_seconds_bucket{{le="{b}"}} {cum}')
            lines.append(f'modelworks_predict_seconds_bucket{{le="+Inf"}} {cum + self.buckets[-1]}')
            lines += [f"modelworks_predict_seconds_sum {self.latency_sum:.6f}",
                      f"modelworks_predict_seconds_count {self.latency_count}",
                      "# TYPE modelworks_uptime_seconds gauge",
                      f"modelworks_uptime_seconds {time.time() - self.started:.1f}"]
        return "\n".join(lines) + "\n"

    def as_dict(self, in_flight: int) -> dict:
        with self.lock:
            return {"requests": {f"{p} {s}": n for (p, s), n in sorted(self.requests.items())},
                    "rows_predicted": self.rows, "rejected": dict(self.rejected), "in_flight": in_flight,
                    "predict_latency_mean_s": self.latency_sum / self.latency_count if self.latency_count else None,
                    "uptime_s": round(time.time() - self.started, 1)}


def _plain(values) -> list:
    """Predictions as plain JSON values (numpy's tolist is fast; non-finite floats become null)."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        return [v if math.isfinite(v) else None for v in arr.tolist()]
    if arr.dtype.kind in "fiub":
        return arr.tolist()
    from modelworks._io import to_jsonable

    return to_jsonable(arr.tolist())


def _orjson_array(arr) -> bool:
    """Whether orjson can write ``arr`` as it is (a C-contiguous float64 array of finite values)."""
    import numpy as np

    return (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.flags.c_contiguous
            and bool(np.isfinite(arr).all()))


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


class _Predictor:
    """Validates rows and predicts; decides once whether class = argmax of probabilities."""

    def __init__(self, package, options: ServeOptions):
        import numpy as np

        self.package, self.options = package, options
        self.model = package.model
        self.has_proba = hasattr(self.model, "predict_proba") and package.task in ("binary", "multiclass")
        self.classes = None
        self.argmax_ok = False
        self._log_lock = threading.Lock()
        self.classes_json = None
        if self.has_proba:
            classes = getattr(self.model, "classes_", None)
            self.classes = list(classes) if classes is not None else package.classes
            sample = package.reference_sample()
            if sample is not None and classes is not None:
                X = sample[[c for c in package.features if c in sample.columns]]
                try:
                    X = package.validate(X)
                    proba = self.model.predict_proba(X)
                    self.argmax_ok = bool(np.array_equal(np.asarray(classes)[proba.argmax(axis=1)],
                                                         np.asarray(self.model.predict(X))))
                except Exception:
                    self.argmax_ok = False
            from modelworks._io import to_jsonable

            self.classes_json = to_jsonable(self.classes)
        # every column numeric: rows go straight to one float array in schema order (no pandas parsing)
        self.names = list(package.schema.names)
        self.numeric = bool(self.names) and all(c.kind in ("numeric", "integer") for c in package.schema.columns)
        self._getter = operator.itemgetter(*self.names) if self.numeric else None
        self._names_set = set(self.names)
        self.small_request_s = self._time_one_row()

    def _time_one_row(self) -> float:
        """Seconds to validate and score one row of the reference sample (inf if unknown).

        The least of 5 runs: what the model costs, less how busy the machine happens to be
        while the server starts. Wall time, not CPU time: a model that waits (on a lock, on
        threads of its own) would block the event loop as surely as one that computes.
        """
        sample = self.package.reference_sample()
        if sample is None or not all(c in sample.columns for c in self.package.features):
            return float("inf")
        rows = sample[self.package.features].head(1).to_dict(orient="records")
        times = []
        try:
            for _ in range(5):
                t0 = time.perf_counter()
                self(rows, False, log=False)
                times.append(time.perf_counter() - t0)
        except Exception:
            return float("inf")
        return min(times)

    def numeric_frame(self, rows: list[dict], ignore_extra: bool, *, numbers: bool = False):
        """The validated model input for an all-numeric schema, or None where the general path must decide.

        Numbers (and null for a missing value) go into one float array in schema order, which is
        what :meth:`Schema.validate` would return for them; anything else (text, booleans, nested
        values, missing, extra or differing columns, integers beyond 64 bits) takes the general
        path, which names the problem. ``numbers`` says the caller knows that no value is text or
        a boolean (see :func:`numbers_only`); otherwise the types of the cells are looked at here.
        """
        import numpy as np
        import pandas as pd

        k = len(self.names)
        if ignore_extra:
            check_same_columns(rows)
            if not self._names_set.issubset(rows[0].keys()):
                return None
        elif set(map(len, rows)) != {k}:  # with every name found below: exactly the schema's columns
            return None
        cells = map(self._getter, rows) if k == 1 else itertools.chain.from_iterable(map(self._getter, rows))
        try:
            if not numbers:
                cells = list(cells)
                if not set(map(type, cells)) <= _NUMBER_TYPES:
                    return None
            arr = np.fromiter(cells, dtype=float, count=len(rows) * k).reshape(len(rows), k)  # null -> NaN
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        if bool((np.abs(arr) >= 2.0**63).any()):  # perhaps an integer beyond 64 bits: the general path refuses it
            return None
        bad = np.isinf(arr)
        if bad.any():
            i, j = (int(x) for x in np.argwhere(bad)[0])
            raise _bad_cell(i, self.names[j], float(arr[i, j]))
        return pd.DataFrame(arr, columns=self.names, copy=False)

    def __call__(self, rows: list[dict], ignore_extra: bool, *, log: bool = True, numbers: bool = False) -> dict:
        """Validate and score rows (from :func:`parse_rows`; ``numbers`` as in :meth:`numeric_frame`)."""
        import numpy as np

        X = self.numeric_frame(rows, ignore_extra, numbers=numbers) if self.numeric else None
        if X is None:
            check_same_columns(rows)
            frame = to_frame(rows)
            try:
                X = self.package.validate(frame, ignore_extra=ignore_extra)
            except SchemaError as e:
                raise RequestError(422, str(e), fields=_fields_from(str(e))) from None
        try:
            proba = None
            if self.has_proba:
                proba = self.model.predict_proba(X)
                pred = (self._classes_array()[proba.argmax(axis=1)] if self.argmax_ok else self.model.predict(X))
            else:
                pred = self.model.predict(X)
        except (ValueError, TypeError, OverflowError) as e:
            raise RequestError(422, f"the model cannot score these values: {e}") from None
        out = {"predictions": _plain(pred), "rows": len(rows)}
        if proba is not None:
            out["classes"] = self.classes_json
            # exact float64 values, written by orjson straight from the array (no list, no rounding copy)
            out["probabilities"] = proba if _orjson_array(proba) else np.asarray(proba, dtype=float).tolist()
        if log and self.options.log_requests:
            self._log(X, out["predictions"])
        return out

    def _classes_array(self):
        import numpy as np

        if not hasattr(self, "_carr"):
            self._carr = np.asarray(self.model.classes_)
        return self._carr

    def _log(self, X, predictions) -> None:
        import fcntl

        from modelworks._io import to_jsonable

        now = time.time()
        records = X.assign(_prediction=predictions, _ts=now).to_dict(orient="records")
        text = "".join(json.dumps(to_jsonable(r), default=str) + "\n" for r in records)
        with self._log_lock, open(self.options.log_requests, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(text)
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)


def openapi(package, options: ServeOptions) -> dict:
    """An OpenAPI 3 document with the package's columns as the request schema."""
    kinds = {"numeric": {"type": "number"}, "integer": {"type": "number"}, "boolean": {"type": "boolean"},
             "categorical": {"type": "string"}, "datetime": {"type": "string", "format": "date-time"}}
    props = {}
    for c in package.schema.columns:
        prop = dict(kinds.get(c.kind, {}))
        if c.categories:
            prop["examples"] = c.categories[:5]
        if c.min is not None:
            prop["description"] = f"seen in training: {c.min:g} .. {c.max:g}"
        prop["nullable"] = True
        props[c.name] = prop
    row = {"type": "object", "properties": props, "required": package.schema.names,
           "additionalProperties": options.ignore_extra}
    # at least one row (an empty batch is refused with 422), at most --max-rows (more is a 413)
    rows = {"type": "array", "items": {"$ref": "#/components/schemas/Row"}, "minItems": 1,
            "maxItems": options.max_rows}
    columns = {"type": "object", "minProperties": 1, "additionalProperties": {
        "type": "array", "minItems": 1, "maxItems": options.max_rows}}
    error = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                              "fields": {"type": "array", "items": {"type": "string"}}}}
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"modelworks: {package.manifest['model'].get('estimator')}", "version":
                 str(package.manifest.get("modelworks_version")),
                 "description": f"task {package.task}, target {package.target}"},
        "paths": {
            "/predict": {"post": {
                "summary": "Predict for one row or a batch",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"type": "object", "properties": {"records": {"oneOf": [{"$ref": "#/components/schemas/Row"}, rows]}},
                     "required": ["records"], "additionalProperties": False},
                    {"type": "object", "properties": {"columns": columns}, "required": ["columns"],
                     "additionalProperties": False},
                    rows,
                ]}}}},
                "responses": {"200": {"description": "predictions (and class probabilities for classifiers)"},
                              "400": err, "413": err, "415": err, "422": err, "503": err},
            }},
            "/health": {"get": {"summary": "Liveness and model identity", "responses": {"200": {"description": "ok"}}}},
            "/schema": {"get": {"summary": "The input schema", "responses": {"200": {"description": "schema"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}},
        },
        "components": {"schemas": {"Row": row, "Error": error}},
    }


def create_app(package, *, ignore_extra: bool = False, max_body_bytes: int = 16 * 1024**2,
               max_rows: int = 100_000, max_in_flight: int = 32, log_requests: str | Path | None = None,
               model_ref: str | None = None):
    """Build the Starlette application serving ``package``.

    Parameters
    ----------
    package : Package or path or str
        A loaded :class:`modelworks.package.Package`, a package path or ``models:/NAME@ALIAS``.
    ignore_extra : bool, default=False
        Drop columns the model was not trained on instead of answering 422.
    max_body_bytes : int
        Larger bodies get 413.
    max_rows : int
        More rows in one request get 413.
    max_in_flight : int
        Concurrent ``/predict`` requests; beyond this the server answers 503 with ``Retry-After``.
    log_requests : path, optional
        Append every validated input row and its prediction to this JSON-lines file (for drift checks).

    Returns
    -------
    starlette.applications.Starlette
    """
    import anyio
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    from modelworks._io import to_jsonable

    if isinstance(package, str | Path):
        from modelworks.package import load_ref

        model_ref = model_ref or str(package)
        package = load_ref(str(package))
    options = ServeOptions(ignore_extra=bool(ignore_extra), max_body_bytes=max_body_bytes, max_rows=max_rows,
                           max_in_flight=max_in_flight,
                           log_requests=str(log_requests) if log_requests else None,
                           model_ref=model_ref or str(package.path)).check()
    predictor = _Predictor(package, options)
    metrics = _Metrics()
    state = {"in_flight": 0}
    limiter = anyio.CapacityLimiter(max(4, min(max_in_flight, 40)))
    identity = {"ref": options.model_ref, "estimator": package.manifest["model"].get("estimator"),
                "task": package.task, "target": package.target,
                "format_version": package.manifest.get("format_version"),
                "created": package.manifest.get("created")}

    def error(status: int, message: str, fields=None, headers=None) -> JSONResponse:
        return JSONResponse({"error": message, "status": status, "fields": fields or []}, status_code=status,
                            headers=headers)

    async def read_body(request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise RequestError(400, "invalid Content-Length header")
            if int(length) > options.max_body_bytes:
                raise RequestError(413, f"request body of {int(length):,} bytes is over the limit of "
                                        f"{options.max_body_bytes:,} (--max-body-bytes); split the batch")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > options.max_body_bytes:
                raise RequestError(413, f"request body is over the limit of {options.max_body_bytes:,} bytes "
                                        "(--max-body-bytes); split the batch")
            chunks.append(chunk)
        return b"".join(chunks)

    async def predict(request):
        started = time.perf_counter()
        if state["in_flight"] >= options.max_in_flight:
            metrics.reject("capacity")
            metrics.observe("/predict", 503, 0.0)
            return error(503, f"the server is at capacity ({options.max_in_flight} requests in flight); retry "
                              f"after {options.retry_after_s} s", headers={"Retry-After": str(options.retry_after_s)})
        state["in_flight"] += 1
        rows = 0
        try:
            ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
            # curl -d sends form-urlencoded by default: the body is still parsed strictly as JSON
            if ctype not in ("application/json", "text/json", "", "application/x-www-form-urlencoded"):
                raise RequestError(415, f"send JSON (Content-Type: application/json), got {ctype!r}")
            raw = await read_body(request)
            if not raw.strip():
                raise RequestError(400, 'empty body; send JSON like {"records": [{column: value, ...}]}')
            try:
                body = _parse_body(raw)
            except RecursionError:
                raise RequestError(400, "the JSON body is nested too deeply") from None
            except (ValueError, UnicodeDecodeError) as e:
                raise RequestError(400, f"the body is not valid JSON: {e}") from None
            ignore = options.ignore_extra or request.query_params.get("ignore_extra", "").lower() in ("1", "true")
            parsed = parse_rows(body, options.max_rows, same_columns=False)  # the predictor checks the columns
            rows = len(parsed)
            score = functools.partial(predictor, parsed, ignore, numbers=predictor.numeric and numbers_only(raw, body))
            if len(parsed) <= INLINE_MAX_ROWS and predictor.small_request_s < INLINE_MAX_SECONDS:
                # a thread hop costs about as much as scoring a few rows of a fast model
                result = score()
            else:
                result = await anyio.to_thread.run_sync(score, limiter=limiter)
            result["model"] = identity["ref"]
            import orjson

            response = Response(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")
            status = 200
        except RequestError as e:
            metrics.reject(str(e.status))
            response, status, rows = error(e.status, e.message, e.fields, e.headers), e.status, 0
        except ClientDisconnect:  # the client hung up before its body was in: nothing failed here
            metrics.reject("client_disconnect")
            response, status, rows = error(CLIENT_CLOSED, "the client closed the connection"), CLIENT_CLOSED, 0
        except Exception:  # a bug or a model failure: no details leak to the client
            rid = uuid.uuid4().hex[:12]
            import logging
            import sys

            logging.getLogger("modelworks.serve").exception("request %s failed", rid)
            print(f"modelworks serve: request {rid} failed", file=sys.stderr)
            response, status, rows = error(500, f"internal error while predicting (request id {rid}); "
                                                "see the server log"), 500, 0
        finally:
            state["in_flight"] -= 1
        metrics.observe("/predict", status, time.perf_counter() - started, rows)
        return response

    async def health(request):
        metrics.observe("/health", 200, 0.0)
        return JSONResponse({"status": "ok", "model": identity, "in_flight": state["in_flight"],
                             "max_in_flight": options.max_in_flight})

    async def schema(request):
        metrics.observe("/schema", 200, 0.0)
        return JSONResponse({"features": package.features, "schema": package.schema.to_dict(),
                             "task": package.task, "target": package.target, "classes": to_jsonable(predictor.classes),
                             "ignore_extra": options.ignore_extra})

    async def metrics_view(request):
        metrics.observe("/metrics", 200, 0.0)
        if request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", ""):
            return JSONResponse(metrics.as_dict(state["in_flight"]))
        return PlainTextResponse(metrics.prometheus(state["in_flight"]), media_type="text/plain; version=0.0.4")

    doc = openapi(package, options)

    async def openapi_view(request):
        return JSONResponse(doc)

    async def http_error(request, exc: HTTPException) -> Response:
        messages = {404: f"no such endpoint {request.url.path}; try POST /predict, GET /health, /schema, "
                         "/metrics, /openapi.json", 405: f"{request.method} is not allowed on {request.url.path}"}
        metrics.observe(request.url.path if exc.status_code != 404 else "other", exc.status_code, 0.0)
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), headers=exc.headers)

    async def server_error(request, exc: Exception) -> Response:
        return error(500, "internal server error; see the server log")

    routes = [Route("/predict", predict, methods=["POST"]), Route("/health", health, methods=["GET"]),
              Route("/schema", schema, methods=["GET"]), Route("/metrics", metrics_view, methods=["GET"]),
              Route("/openapi.json", openapi_view, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})
    app.router.redirect_slashes = False  # /predict/ is a 404 with a message, not a redirect
    app.state.package = package
    app.state.options = options
    app.state.runtime = state
    return app
