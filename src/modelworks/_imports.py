"""Optional dependencies: import them late, and say which extra installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from modelworks import _areas
from modelworks.exceptions import MissingDependencyError

# module -> the modelworks extra that installs it, from modelworks._areas
EXTRAS = _areas.module_extras()


def require(module: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise a :class:`MissingDependencyError` naming the extra to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"keras"`` or ``"featuretools"``.
    purpose : str, optional
        What the caller wanted to do, for the message ("deep feature synthesis").
    """
    if module.split(".")[0] == "keras":  # modelworks runs Keras 3 on PyTorch
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(missing_message(module, e, purpose=purpose)) from e


def missing_message(module: str, error: BaseException | None = None, *, purpose: str | None = None) -> str:
    """One line: ``module`` cannot be imported, and the pip command of the extra that brings it."""
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    how = _areas.install_command(extra) if extra else f"pip install {top}"
    what = f" for {purpose}" if purpose else ""
    why = f" ({error})" if error is not None else ""
    return f"{top} is needed{what} but cannot be imported{why}; install it with: {how}"


def as_missing_dependency(error: ImportError) -> MissingDependencyError | None:
    """A :class:`MissingDependencyError` naming the extra for an ImportError of a module that only
    an extra installs (None for any other ImportError: a real bug, left as it is)."""
    name = getattr(error, "name", None) or ""
    if name.split(".")[0] not in EXTRAS:
        return None
    return MissingDependencyError(missing_message(name, error))


def is_available(module: str) -> bool:
    """Whether ``module`` can be found without importing it."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# Set in modelworks' own processes (the CLI and what it starts): skops' list of default-trusted
# types is not built there (see skops_io).
OWN_PROCESS_ENV = "MODELWORKS_OWN_PROCESS"
# packages that scikit-learn's module walk would import only to wrap them for the array API
_WALK_BLOCKED = ("torch", "dask")


def skops_io() -> ModuleType:
    """``skops.io``, imported without importing torch or dask, and fast in modelworks' own processes.

    skops lists its default-trusted types with ``sklearn.utils.all_estimators()``, which imports
    every scikit-learn module (about 1.3 s), and on the way ``sklearn.externals.array_api_compat``'s
    torch and dask wrappers, which import torch and dask when they are installed (3-4 s and
    200 MB more) in every process that only loads a scikit-learn model.

    * Always: while skops is imported, torch and dask (when not imported already) are made
      unimportable so the walk skips those wrappers (``pkgutil.walk_packages`` ignores the
      ImportError); afterwards both import normally.
    * In modelworks' own processes (the CLI sets ``MODELWORKS_OWN_PROCESS=1``, inherited by its
      workers), the walk is not run at all: skops' default list is left empty. modelworks never
      relies on it: every load passes the full list of types that its own audit allowed
      (``package._audit``), so loading is exactly as strict. A library user's process keeps
      skops' defaults, as they may call skops themselves.
    """
    import os
    import sys

    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    blocked = [name for name in _WALK_BLOCKED if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    utils = walk = None
    if os.environ.get(OWN_PROCESS_ENV) == "1":
        import sklearn.utils as utils

        walk = utils.all_estimators
        utils.all_estimators = _no_estimators  # read once, by skops.io._trusted_types at import
    try:
        return importlib.import_module("skops.io")
    finally:
        if utils is not None:
            utils.all_estimators = walk
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
        wrappers = tuple(f"sklearn.externals.array_api_compat.{name}" for name in blocked)
        for name in [n for n in sys.modules if n.startswith(wrappers)]:
            del sys.modules[name]


def _no_estimators(*args, **kwargs) -> list:
    return []


# imported by statsforecast's package __init__ (through utilsforecast.compat) only to name a
# type (dask) or to offer a decorator nothing in statsforecast >= 2 uses (numba): ~1.3 s of a
# one-series forecast run
_STATSFORECAST_UNUSED = ("dask.dataframe", "numba")


def statsforecast_models() -> ModuleType:
    """``statsforecast.models``, imported without dask.dataframe and numba.

    statsforecast's package ``__init__`` imports its distributed front end, whose helper
    module tries ``from dask.dataframe import DataFrame`` (for a type name) and ``from numba
    import njit`` (a decorator that statsforecast 2, compiled C++, no longer uses); both are
    optional there. While statsforecast is imported they are made unimportable, so those
    ``try`` blocks take their fallbacks; afterwards both import normally. Should an installed
    statsforecast need either (an older release using numba), the import is retried plainly.
    """
    import sys

    if "statsforecast.models" in sys.modules:
        return sys.modules["statsforecast.models"]
    blocked = [m for m in _STATSFORECAST_UNUSED if m not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        return require("statsforecast.models", purpose="AutoARIMA (engine='statsforecast')")
    except MissingDependencyError:
        for name in [n for n in sys.modules
                     if n.split(".")[0] in ("statsforecast", "utilsforecast", "fugue")]:
            del sys.modules[name]
        for name in blocked:
            sys.modules.pop(name, None)
        blocked = []
        return require("statsforecast.models", purpose="AutoARIMA (engine='statsforecast')")
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
