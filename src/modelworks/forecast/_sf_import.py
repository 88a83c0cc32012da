"""statsforecast's models, imported without the parts of statsmodels they never touch.

``statsforecast.arima`` and ``statsforecast.mstl`` start with ``import statsmodels.api as sm``
and use four of its names (``sm.OLS``, ``sm.add_constant``, ``sm.tsa.kpss``, ``sm.tsa.STL``);
``statsmodels.api`` itself imports all of statsmodels (formulas, GLMs, GEE, discrete models,
graphics...): about half a second of every ``modelworks forecast`` call on this machine, more
than the whole order search of a short series. While statsforecast is imported,
:class:`_LazyApi` stands in for ``statsmodels.api``: each name is imported from its own module
when first used (any other name from the real ``statsmodels.api``), and afterwards
``import statsmodels.api`` anywhere gets the real module as usual.

Likewise statsforecast's package ``__init__`` imports its ``StatsForecast`` front end (fugue,
triad, its distributed backends) that one model never uses: :func:`_deferred_package` imports
``statsforecast.models`` with the package's ``__init__`` deferred until a name of the package
itself (``from statsforecast import StatsForecast``) is first asked for.
"""

from __future__ import annotations

import importlib
import sys
import types

# name used by statsforecast -> (module, attribute); anything else comes from the real module
_API_NAMES = {
    "OLS": ("statsmodels.regression.linear_model", "OLS"),
    "add_constant": ("statsmodels.tools.tools", "add_constant"),
}
_TSA_NAMES = {
    "kpss": ("statsmodels.tsa.stattools", "kpss"),
    "STL": ("statsmodels.tsa.seasonal", "STL"),
}


class _Lazy(types.ModuleType):
    """A module whose attributes are imported on first use from the modules in ``names``."""

    def __init__(self, name: str, names: dict, fallback: str, children: dict | None = None) -> None:
        super().__init__(name)
        self._names, self._fallback, self._children = names, fallback, children or {}

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr in self._children:
            value = self._children[attr]
        elif attr in self._names:
            module, name = self._names[attr]
            value = getattr(importlib.import_module(module), name)
        else:
            real = importlib.import_module(self._fallback)
            if real is self:  # asked while statsforecast is still being imported
                raise AttributeError(f"{self.__name__}.{attr} is not available yet")
            value = getattr(real, attr)
        setattr(self, attr, value)
        return value


def _lazy_api() -> _Lazy:
    tsa = _Lazy("statsmodels.api.tsa", _TSA_NAMES, "statsmodels.tsa.api")
    return _Lazy("statsmodels.api", _API_NAMES, "statsmodels.api", {"tsa": tsa})


def _deferred_package(name: str) -> types.ModuleType | None:
    """An empty package module for ``name`` that runs its real ``__init__`` on first use of
    one of its own names (PEP 562 ``__getattr__``); None when ``name`` is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return None
    pkg = importlib.util.module_from_spec(spec)

    def complete(attr: str):
        if attr.startswith("__") and attr not in ("__version__", "__all__"):
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        pkg.__dict__.pop("__getattr__", None)
        spec.loader.exec_module(pkg)
        try:
            return pkg.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    pkg.__getattr__ = complete
    return pkg


def statsforecast_models() -> types.ModuleType:
    """``statsforecast.models`` (see :func:`modelworks._imports.statsforecast_models`), with
    ``statsmodels.api`` replaced by a lazy stand-in while statsforecast is imported and the
    package's ``__init__`` deferred to its first use."""
    from modelworks._imports import statsforecast_models as _plain

    if "statsforecast.models" in sys.modules or "statsmodels.api" in sys.modules:
        return _plain()
    stand_in = _lazy_api()
    sys.modules["statsmodels.api"] = stand_in
    if "statsforecast" not in sys.modules:
        pkg = _deferred_package("statsforecast")
        if pkg is not None:
            sys.modules["statsforecast"] = pkg
    try:
        return _plain()
    finally:
        if sys.modules.get("statsmodels.api") is stand_in:
            del sys.modules["statsmodels.api"]
