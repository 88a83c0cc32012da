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
        top = module.split(".")[0]
        extra = EXTRAS.get(top)
        how = _areas.install_command(extra) if extra else f"pip install {top}"
        what = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"{top} is needed{what} but cannot be imported ({e}); install it with: {how}"
        ) from e


def is_available(module: str) -> bool:
    """Whether ``module`` can be found without importing it."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def skops_io() -> ModuleType:
    """``skops.io``, imported without importing torch.

    skops lists its trusted types with ``sklearn.utils.all_estimators()``, which walks every
    scikit-learn package; one of them (``sklearn.externals.array_api_compat.torch``) imports
    torch when it is installed: 3-4 s and 200 MB in every process that only loads a
    scikit-learn model (``predict``, ``serve`` workers). While skops is imported, torch is made
    unimportable so the walk skips that package (``pkgutil.walk_packages`` ignores its
    ImportError); afterwards torch imports normally and the skipped package can be imported again.
    """
    import sys

    if "skops.io" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("skops.io")
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        return importlib.import_module("skops.io")
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
        for name in [n for n in sys.modules if n.startswith("sklearn.externals.array_api_compat.torch")]:
            del sys.modules[name]


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
