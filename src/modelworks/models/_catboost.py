"""CatBoost's scikit-learn estimators, shaped like every other model in the zoo.

Three differences from ``catboost.CatBoostClassifier`` / ``CatBoostRegressor``, nothing else:

* ``predict`` of the classifier returns one label per row (CatBoost returns a column, ``(n, 1)``,
  for multiclass);
* prediction uses the model's own ``thread_count`` (CatBoost predicts on every core unless told),
  so ``n_jobs``/``thread_count=1`` holds at predict time too;
* native categorical handling on modelworks' booster preprocessing: that step hands over a float
  array with categoricals as ordinal codes (missing: NaN), which CatBoost refuses as categorical
  input. With ``cat_features`` set, those columns are passed as integer codes (missing: -1) in a
  DataFrame, so CatBoost's ordered target statistics apply to them.

A fit can be given a deadline (:func:`stop_at`, used by the search): a CatBoost callback ends
training at the first round past it, and the search discards the candidate as stopped. The
callback is passed to ``fit`` only, never stored in the model's parameters or its package.

A fitted model is saved by skops through CatBoost's own ``__getstate__`` (its parameters and the
model as CatBoost's binary ``cbm`` bytes), and loaded by CatBoost's model parser: no pickle.

This module is imported only when the zoo builds a CatBoost model, never by ``import modelworks``.
"""

from __future__ import annotations

import contextlib
import contextvars
import time

import catboost  # noqa: TID253 - imported lazily by the zoo; subclassing needs the class itself
import numpy as np

_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("modelworks_catboost_deadline", default=None)


class _Deadline:
    """CatBoost callback: stop training at the first round past ``deadline`` (``time.monotonic()``)."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.stopped = False

    def after_iteration(self, info) -> bool:
        if time.monotonic() < self.deadline:
            return True
        self.stopped = True
        return False


@contextlib.contextmanager
def stop_at(deadline: float | None):
    """Within this block, CatBoost fits stop at ``deadline``; the yielded list holds their callbacks."""
    fits: list[_Deadline] = []
    token = _DEADLINE.set((deadline, fits) if deadline is not None else None)
    try:
        yield fits
    finally:
        _DEADLINE.reset(token)


def _fit_kwargs(kwargs: dict) -> dict:
    current = _DEADLINE.get()
    if current is None or kwargs.get("callbacks"):
        return kwargs
    deadline, fits = current
    fits.append(_Deadline(deadline))
    return {**kwargs, "callbacks": [fits[-1]]}


def _input(model, X):
    """``X`` as CatBoost reads it: categorical codes as integer columns when ``cat_features`` is set."""
    cats = model.get_param("cat_features")
    if not cats:
        return X
    import pandas as pd

    frame = pd.DataFrame(X, copy=True) if not isinstance(X, pd.DataFrame) else X.copy()
    for i in cats:
        col = frame.columns[i] if isinstance(i, (int, np.integer)) else i
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        frame[col] = np.where(np.isfinite(values), values, -1).astype(np.int64)
    return frame


def _threads(model, kwargs: dict) -> dict:
    threads = model.get_param("thread_count")
    if threads is not None and "thread_count" not in kwargs:
        kwargs = {**kwargs, "thread_count": threads}
    return kwargs


class CatBoostClassifier(catboost.CatBoostClassifier):
    """``catboost.CatBoostClassifier`` with one label per row, own threads, ordinal-coded categoricals."""

    def fit(self, X, y=None, **kwargs):
        return super().fit(_input(self, X), y, **_fit_kwargs(kwargs))

    def predict(self, X, prediction_type="Class", **kwargs):
        out = super().predict(_input(self, X), prediction_type=prediction_type, **_threads(self, kwargs))
        out = np.asarray(out)
        return out.ravel() if prediction_type == "Class" and out.ndim == 2 and out.shape[1] == 1 else out

    def predict_proba(self, X, **kwargs):
        return super().predict_proba(_input(self, X), **_threads(self, kwargs))


class CatBoostRegressor(catboost.CatBoostRegressor):
    """``catboost.CatBoostRegressor`` with its own threads at predict time and ordinal-coded categoricals."""

    def fit(self, X, y=None, **kwargs):
        return super().fit(_input(self, X), y, **_fit_kwargs(kwargs))

    def predict(self, X, **kwargs):
        return super().predict(_input(self, X), **_threads(self, kwargs))

    @property
    def classes_(self):
        """A regressor has no classes (catboost's base class answers for both kinds): an ensemble
        tells regressors from classifiers by this attribute."""
        raise AttributeError("a regressor has no classes_")
