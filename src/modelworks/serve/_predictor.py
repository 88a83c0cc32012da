"""Scoring validated rows with the package's model, with a fast path for all-numeric schemas.

Rows of an all-numeric schema go straight into one float array in schema order (no pandas
parsing); a classifier whose ``predict`` is the argmax of ``predict_proba`` is asked once, not
twice; probabilities stay a float64 array that orjson writes directly.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import threading
import time

from modelworks.exceptions import SchemaError
from modelworks.serve._options import ServeOptions
from modelworks.serve._requests import (
    RequestError,
    _bad_cell,
    _fields_from,
    check_same_columns,
    to_frame,
)

_NUMBER_TYPES = frozenset({float, int, type(None)})


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
