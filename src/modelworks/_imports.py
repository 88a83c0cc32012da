"""Optional dependencies: import them late, and say which extra installs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from modelworks.exceptions import MissingDependencyError

# module -> the modelworks extra that installs it
EXTRAS = {
    "torch": "deep",
    "keras": "deep",
    "prophet": "forecast",
    "cmdstanpy": "forecast",
    "statsforecast": "forecast",
    "featuretools": "features",
    "woodwork": "features",
    "dask": "dist",
    "distributed": "dist",
}


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
        how = (
            f"pip install 'modelworks[{extra}]'" if extra else f"pip install {top}"
        )
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
