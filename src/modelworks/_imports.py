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
