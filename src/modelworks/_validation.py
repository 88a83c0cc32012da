"""Parameter checks for public entry points, in the style of scikit-learn's ``Interval`` /
``StrOptions``: one call per argument, one message shape everywhere.

    n_iter = check_scalar(n_iter, "n_iter", kind=int, low=1)
    # EnsembleError: n_iter must be a whole number >= 1, got 0
    rate = check_scalar(rate, "learning_rate", kind=float, low=0, closed="neither")
    # learning_rate must be a number > 0, got -1.0
    method = check_option(method, "method", ("blend", "stacking"))
    # method must be one of blend, stacking, got 'blnd' (did you mean 'blend'?)

Messages name the argument and quote what was received, so the caller knows what to fix.
Booleans are never numbers here (``True`` is an ``int`` to Python, not a fold count).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Any

from modelworks.exceptions import ConfigError

# kind -> (the abstract type a value must be, how the message names it)
_KINDS: dict[type, tuple[type, str]] = {
    int: (numbers.Integral, "a whole number"),
    float: (numbers.Real, "a number"),
}
_CLOSED = ("both", "left", "right", "neither")


def _bounds_text(low: Any, high: Any, closed: str) -> str:
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    if low is not None and high is not None:
        if left and right:
            return f" between {low} and {high}"
        return f" in {'[' if left else '('}{low}, {high}{']' if right else ')'}"
    if low is not None:
        return f" {'>=' if left else '>'} {low}"
    if high is not None:
        return f" {'<=' if right else '<'} {high}"
    return ""


def check_scalar(
    value: Any,
    name: str,
    *,
    kind: type = int,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
    allow_none: bool = False,
    error: type[Exception] = ConfigError,
) -> Any:
    """Check that ``value`` is a number of ``kind`` within bounds; return it as a Python number.

    Parameters
    ----------
    value : object
        What the caller passed.
    name : str
        The argument's name, as the message shows it (``"cv"``, ``"Blend: n_iter"``).
    kind : {int, float}
        ``int``: a whole number (Python or NumPy integer); ``float``: any real number (ints
        too), finite. Booleans are refused for both.
    low, high : number, optional
        Bounds; ``None`` leaves that side open.
    closed : {"both", "left", "right", "neither"}
        Which bounds are included.
    allow_none : bool
        Accept ``None`` (returned as is).
    error : type
        The exception raised, a :class:`modelworks.exceptions.ModelworksError` subclass of the
        caller's area (:class:`~modelworks.exceptions.ConfigError` by default).

    Returns
    -------
    int or float or None
        ``value`` converted to ``kind``.

    Raises
    ------
    error
        ``value`` has the wrong type, is not finite, or lies outside the bounds.
    """
    if kind not in _KINDS:
        raise TypeError(f"check_scalar: kind must be int or float, got {kind!r}")
    if closed not in _CLOSED:
        raise TypeError(f"check_scalar: closed must be one of {', '.join(_CLOSED)}, got {closed!r}")
    if value is None and allow_none:
        return None
    abstract, noun = _KINDS[kind]
    expected = noun + _bounds_text(low, high, closed) + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, abstract) or not math.isfinite(value):
        raise error(f"{name} must be {expected}, got {value!r}")
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    if low is not None and (value < low if left else value <= low):
        raise error(f"{name} must be {expected}, got {value!r}")
    if high is not None and (value > high if right else value >= high):
        raise error(f"{name} must be {expected}, got {value!r}")
    return kind(value)


def check_option(
    value: Any,
    name: str,
    options: Iterable[Any],
    *,
    error: type[Exception] = ConfigError,
) -> Any:
    """Check that ``value`` is one of ``options``; return it.

    Parameters
    ----------
    value, name, error
        As for :func:`check_scalar`.
    options : iterable
        The accepted values, in the order the message lists them.

    Raises
    ------
    error
        ``value`` is not one of ``options``; the message lists them and suggests the closest
        one for a misspelt string.
    """
    options = list(options)
    for option in options:
        if isinstance(value, bool) or isinstance(option, bool):
            matched = value is option  # True is not the option 1
        else:
            try:
                matched = bool(value == option)
            except (TypeError, ValueError):  # arrays and other values that are no option
                matched = False
        if matched:
            return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(o) for o in options], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(str(o) for o in options)
    raise error(f"{name} must be one of {listed}, got {value!r}{hint}")
