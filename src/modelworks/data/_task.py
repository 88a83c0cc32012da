"""The learning task as a type: ``Task.BINARY``, ``Task.MULTICLASS``, ``Task.REGRESSION``.

A :class:`Task` is a ``str`` (``Task.BINARY == "binary"``), so it goes wherever a task name
went before, JSON included. The inference rule is :func:`modelworks.data.infer_task`, not a
second copy of it.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ConfigError


class Task(enum.StrEnum):
    """What the model predicts."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        """``True`` for binary and multiclass."""
        return self is not Task.REGRESSION

    @classmethod
    def infer(cls, y: Any) -> Task:
        """The task of target ``y``, by :func:`modelworks.data.infer_task`'s rule."""
        return cls(infer_task(y))

    @classmethod
    def parse(cls, value: Any, *, name: str = "task", error: type[Exception] = ConfigError) -> Task:
        """``value`` (a name or a :class:`Task`) as a :class:`Task`, or ``error`` naming the choices."""
        from modelworks._validation import check_option

        return cls(check_option(value, name, TASK_NAMES, error=error))


# the task names, in the order messages and CLI choices list them
TASK_NAMES: tuple[str, ...] = tuple(t.value for t in Task)


def infer_task(y) -> str:
    """Guess the task from the target: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    Text, boolean and categorical targets are classification; numbers are regression unless
    they are whole numbers with few distinct values (at most 20, and at most 5% of the rows
    or at most 2 values).
    """
    y = pd.Series(y).dropna()
    n_unique = y.nunique()
    if n_unique <= 2:
        return "binary"
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "multiclass"
    values = y.to_numpy(dtype=float)
    whole = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    if whole and n_unique <= 20 and n_unique <= max(2, 0.05 * len(y)):
        return "multiclass"
    return "regression"
