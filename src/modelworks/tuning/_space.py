"""Search spaces: three ways to write one, one Optuna form to search it.

A space maps a parameter name (``n_estimators``, or ``model__n_estimators`` for a pipeline
step) to one of:

* a list of values, as in a scikit-learn ``param_grid`` (``[50, 100, 200]``);
* a modelworks dimension: :class:`Integer`, :class:`Real`, :class:`Categorical`;
* a scikit-optimize dimension (``skopt.space.Integer(50, 300)``, ``Real(0.01, 0.3,
  prior="log-uniform")``, ``Categorical([...])``), also as a list of *named* dimensions, as
  in the chapter's ``gp_minimize`` example;
* a zoo range ``(low, high, "int" | "log" | "linear")``;
* an Optuna distribution, passed through.

Everything becomes an ``optuna.distributions`` object; the grid strategy additionally needs
finite value lists (ranges are turned into :data:`GRID_POINTS` values).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelworks._validation import check_scalar
from modelworks.exceptions import SpaceError

# a range searched by the grid strategy is cut into this many values (log-spaced for log ranges)
GRID_POINTS = 5
_PRIORS = {"uniform": False, "linear": False, "log-uniform": True, "log": True}
_GRID_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class _Range:
    """A range of numbers from ``low`` to ``high`` (what :class:`Integer` and :class:`Real` share)."""

    low: float
    high: float
    prior: str = "uniform"
    name: str | None = None


@dataclass(frozen=True)
class Integer(_Range):
    """Whole numbers from ``low`` to ``high`` (both included).

    Parameters
    ----------
    low, high : int
    prior : {"uniform", "log-uniform"}
        ``"log-uniform"`` searches orders of magnitude evenly (``low`` must be > 0).
    name : str, optional
        Only needed when dimensions are given as a list (skopt style).
    """


@dataclass(frozen=True)
class Real(_Range):
    """Real numbers from ``low`` to ``high``; ``prior="log-uniform"`` for scale parameters."""


@dataclass(frozen=True)
class Categorical:
    """One of a fixed set of values (str, int, float, bool or None)."""

    categories: Sequence[Any]
    name: str | None = None


def _is_skopt(obj: Any) -> bool:
    return type(obj).__module__.startswith("skopt.space")


def _log_prior(prior: Any, where: str) -> bool:
    if prior is None:
        return False
    if prior not in _PRIORS:
        raise SpaceError(f"{where}: prior must be 'uniform' or 'log-uniform', got {prior!r}")
    return _PRIORS[prior]


def _numeric_range(low, high, *, log: bool, integer: bool, where: str):
    import optuna

    for label, v in (("low", low), ("high", high)):
        check_scalar(v, f"{where}: {label}", kind=float, error=SpaceError)
        if integer and float(v) != int(v):
            raise SpaceError(
                f"{where}: an integer range needs whole-number bounds, got {label}={v!r}"
            )
    if low > high:
        raise SpaceError(f"{where}: low ({low}) is greater than high ({high}); swap them")
    if log and low <= 0:
        raise SpaceError(f"{where}: a log-uniform range needs low > 0, got low={low}")
    if integer:
        return optuna.distributions.IntDistribution(int(low), int(high), log=log)
    return optuna.distributions.FloatDistribution(float(low), float(high), log=log)


def _categorical(values, where: str):
    import optuna

    values = list(values)
    if not values:
        raise SpaceError(f"{where} is an empty list; give at least one value")
    for v in values:
        if not isinstance(v, _GRID_TYPES):
            raise SpaceError(
                f"{where}: value {v!r} ({type(v).__name__}) cannot be stored in a study; "
                "use str, int, float, bool or None (e.g. a name instead of an object)"
            )
    unique = []
    for v in values:  # dedupe, keeping order (True == 1 must stay distinct)
        if not any(v is u or (type(v) is type(u) and v == u) for u in unique):
            unique.append(v)
    return optuna.distributions.CategoricalDistribution(unique)


def _dimension(value: Any, where: str):
    """One space entry -> an Optuna distribution."""
    import numpy as np
    import optuna

    if isinstance(value, optuna.distributions.BaseDistribution):
        return value
    if isinstance(value, Integer | Real) or (
        _is_skopt(value) and type(value).__name__ in ("Integer", "Real")
    ):
        integer = type(value).__name__ == "Integer"
        return _numeric_range(
            value.low, value.high, log=_log_prior(value.prior, where), integer=integer, where=where
        )
    if isinstance(value, Categorical) or (
        _is_skopt(value) and type(value).__name__ == "Categorical"
    ):
        return _categorical(value.categories, where)
    if (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[2], str)
        and value[2] in ("int", "log", "linear", "int-log")
    ):
        low, high, kind = value
        return _numeric_range(
            low, high, log=kind in ("log", "int-log"), integer=kind.startswith("int"), where=where
        )
    if isinstance(value, list | tuple | np.ndarray | range):
        return _categorical([v.item() if isinstance(v, np.generic) else v for v in value], where)
    raise SpaceError(
        f"{where}: cannot search {value!r}; use a list of values, Integer(low, high), "
        "Real(low, high, 'log-uniform'), Categorical([...]) or (low, high, 'int'|'log'|'linear')"
    )


def _as_mapping(space: Any) -> dict[str, Any]:
    if isinstance(space, Mapping):
        return dict(space)
    if isinstance(space, list | tuple):
        if space and all(isinstance(s, Mapping) for s in space):
            raise SpaceError(
                "a list of param_grid dicts is not supported; tune each grid separately "
                "or merge them into one dict"
            )
        out = {}
        for i, dim in enumerate(space):
            name = getattr(dim, "name", None)
            if not name:
                raise SpaceError(
                    f"space[{i}] ({dim!r}) has no name; give dimensions as a dict "
                    "{'param': dimension} or name them: Integer(50, 300, name='n_estimators')"
                )
            out[name] = dim
        return out
    raise SpaceError(
        f"space must be a dict of parameter -> values/dimension, got {type(space).__name__}"
    )


def to_distributions(space: Any) -> dict[str, Any]:
    """Convert any accepted space form into ``{name: optuna distribution}``.

    Raises
    ------
    SpaceError
        An empty space or list, ``low > high``, a log range starting at 0, a value that cannot
        be stored (objects), or something that is not a space.
    """
    mapping = _as_mapping(space)
    if not mapping:
        raise SpaceError("the search space is empty; give at least one parameter to tune")
    out = {}
    for name, value in mapping.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"parameter names must be non-empty strings, got {name!r}")
        out[name] = _dimension(value, f"space['{name}']")
    return out


def resolve_names(
    distributions: dict[str, Any], estimator, *, prefix: str | None = None
) -> dict[str, Any]:
    """Check every parameter against ``estimator.get_params()``; map bare names to ``prefix__name``.

    ``prefix`` (e.g. ``"model"``) lets a zoo model's space say ``n_estimators`` for a pipeline's
    ``model__n_estimators``.
    """
    valid = set(estimator.get_params(deep=True))
    out = {}
    for name, dist in distributions.items():
        key = name
        if key not in valid and prefix and f"{prefix}__{name}" in valid:
            key = f"{prefix}__{name}"
        if key not in valid:
            close = difflib.get_close_matches(name, sorted(valid), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            tunable = sorted(
                (k for k in valid if "__" in k or not prefix),
                key=lambda k: (not (prefix and k.startswith(f"{prefix}__")), k),
            )
            listed = ", ".join(tunable[:25]) + (", ..." if len(tunable) > 25 else "")
            raise SpaceError(
                f"unknown parameter '{name}' for {type(estimator).__name__}{hint}; "
                f"valid parameters are: {listed}"
            )
        if key in out:
            raise SpaceError(f"parameter '{key}' is given twice in the space")
        out[key] = dist
    return out


def grid_values(distributions: dict[str, Any]) -> dict[str, list]:
    """Finite value lists for the grid strategy (ranges cut into :data:`GRID_POINTS` values)."""
    import numpy as np
    import optuna

    grid = {}
    for name, dist in distributions.items():
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            grid[name] = list(dist.choices)
            continue
        lo, hi = dist.low, dist.high
        pts = np.geomspace(lo, hi, GRID_POINTS) if dist.log else np.linspace(lo, hi, GRID_POINTS)
        if isinstance(dist, optuna.distributions.IntDistribution):
            grid[name] = sorted({int(round(p)) for p in pts})
        else:
            grid[name] = [float(f"{p:.6g}") for p in pts]
    return grid


def grid_size(distributions: dict[str, Any]) -> int:
    return math.prod(len(v) for v in grid_values(distributions).values())


def contains(distributions: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether ``params`` (e.g. an estimator's defaults) lie inside the space."""
    import optuna

    for name, dist in distributions.items():
        if name not in params:
            return False
        v = params[name]
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            if not any(v is c or (type(v) is type(c) and v == c) for c in dist.choices):
                return False
        elif (
            isinstance(v, bool) or not isinstance(v, int | float) or not dist.low <= v <= dist.high
        ):
            return False
        elif isinstance(dist, optuna.distributions.IntDistribution) and v != int(v):
            return False
    return True


def describe(distributions: dict[str, Any]) -> dict[str, str]:
    """A short, JSON-able text per parameter (for reports and to fingerprint a study)."""
    import optuna

    out = {}
    for name, d in sorted(distributions.items()):
        if isinstance(d, optuna.distributions.CategoricalDistribution):
            out[name] = "one of " + repr(list(d.choices))
        else:
            kind = "int" if isinstance(d, optuna.distributions.IntDistribution) else "real"
            out[name] = f"{kind} [{d.low}, {d.high}]" + (" log" if d.log else "")
    return out
