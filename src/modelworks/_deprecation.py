"""Renamed public names: the old name keeps working for one release and warns.

Every rename is one row of :data:`RENAMED` (old dotted name -> new dotted name); the modules
that used to define an old name forward it with a module ``__getattr__`` made by
:func:`forwarding` (no module-class swap), so the warning fires where the user wrote the old name.
:class:`ModelworksDeprecationWarning` is a :class:`FutureWarning`: Python shows it by default.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from typing import Any

REMOVED_IN = "0.3"  # the release that drops the old names

# old name -> new name (both as users write them)
RENAMED = {
    "modelworks.compare": "modelworks.rank_models",
    "modelworks.workflow.compare": "modelworks.workflow.rank_models",
    "modelworks.compare_models": "modelworks.compare_predictions",
    "modelworks.compare_cv": "modelworks.compare_estimators",
    "modelworks.monitor.compare_models": "modelworks.monitor.compare_predictions",
    "modelworks.monitor.compare_cv": "modelworks.monitor.compare_estimators",
    "modelworks.scoring": "modelworks.batch",
    "modelworks.scoring.predict": "modelworks.batch.predict",
    "modelworks.scoring.evaluate": "modelworks.batch.evaluate",
    "modelworks.scoring.PredictResult": "modelworks.batch.PredictResult",
    "modelworks.scoring.EvaluationResult": "modelworks.batch.EvaluationResult",
    "modelworks.package.inspect": "modelworks.package.read_manifest",
    "modelworks.explain.explain": "modelworks.explain.explain_model",
}


class ModelworksDeprecationWarning(FutureWarning):
    """A renamed name or argument was used; the message names the new one."""


def message(old: str, new: str) -> str:
    return f"{old} is deprecated and will be removed in modelworks {REMOVED_IN}; use {new} instead"


def warn(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` was renamed to ``new``."""
    warnings.warn(message(old, new), ModelworksDeprecationWarning, stacklevel=stacklevel)


def _resolve(dotted: str) -> Any:
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def forward(module: str, name: str) -> Any:
    """The object a deprecated ``module.name`` now is, after a warning; AttributeError if
    ``module.name`` was never renamed (for use in a module ``__getattr__``)."""
    old = f"{module}.{name}"
    if old not in RENAMED:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new = RENAMED[old]
    warn(old, new, stacklevel=4)
    return _resolve(new)


def forwarding(module: str):
    """The module ``__getattr__`` of ``module`` that forwards its renamed names (:func:`forward`).

    ``__getattr__ = _deprecation.forwarding(__name__)`` at the module's top level.
    """

    def __getattr__(name: str) -> Any:
        return forward(module, name)

    return __getattr__


def renamed_function(old: str, new: str, func):
    """A wrapper of ``func`` that warns ``old`` is now ``new`` on every call."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        warn(old, new)
        return func(*args, **kwargs)

    wrapper.__doc__ = f"Deprecated alias of :func:`{new}` (removed in modelworks {REMOVED_IN})."
    return wrapper


def seed_argument(owner: str, random_state, seed, *, default=0):
    """``random_state`` for a call or estimator that used to take ``seed``: a given ``seed``
    warns and wins when ``random_state`` was left at its default."""
    if isinstance(seed, str) and seed == "deprecated":
        return random_state
    warn(f"{owner}(seed=...)", f"{owner}(random_state=...)", stacklevel=4)
    if random_state != default and random_state != seed:
        from modelworks.exceptions import ConfigError

        raise ConfigError(f"{owner}: pass random_state only (seed is its deprecated name), "
                          f"got random_state={random_state!r} and seed={seed!r}")
    return seed


class RandomStateAlias:
    """For estimators whose ``random_state`` was called ``seed`` before modelworks 0.2.

    The estimator takes ``random_state`` and a ``seed="deprecated"`` parameter; :meth:`_random_state`
    is the value to use (a given ``seed`` warns). A model saved before the rename (its state has
    ``seed`` and no ``random_state``) loads with ``random_state`` set from it.
    """

    def _random_state(self):
        return seed_argument(type(self).__name__, getattr(self, "random_state", 0),
                             getattr(self, "seed", "deprecated"))

    def __setstate__(self, state):
        if isinstance(state, dict) and "seed" in state and "random_state" not in state:
            state = {**state, "random_state": state["seed"], "seed": "deprecated"}
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:  # pragma: no cover - every estimator here has BaseEstimator.__setstate__
            self.__dict__.update(state)
