"""modelworks: from a table, a time series or images to a tuned, ensembled, explained,
versioned, served and monitored model.

The public API is imported lazily so that ``import modelworks`` stays fast and light:
heavy libraries load only when the function that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import Any

from modelworks import _areas, _deprecation

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    # the main job
    "run": "modelworks.workflow",
    "RunResult": "modelworks.workflow",
    "rank_models": "modelworks.workflow",
    "demo": "modelworks.workflow",
    "doctor": "modelworks._doctor",
    "predict": "modelworks.batch",
    "evaluate": "modelworks.batch",
    # data and models
    "load_table": "modelworks.data",
    "prepare": "modelworks.data",
    "Schema": "modelworks.data",
    "get_model": "modelworks.models",
    "list_models": "modelworks.models",
    # capabilities
    "tune": "modelworks.tuning",
    "TuneResult": "modelworks.tuning",
    "explain_model": "modelworks.explain",
    "partial_dependence": "modelworks.explain",
    "drift": "modelworks.monitor",
    "compare_predictions": "modelworks.monitor",
    "self_test": "modelworks.monitor",
    "drift_over_time": "modelworks.monitor",
    "compare_estimators": "modelworks.monitor",
}

# every area's subpackages (modelworks._areas), imported on first use
_SUBPACKAGES = _areas.subpackages()

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if f"modelworks.{name}" in _deprecation.RENAMED:  # compare, compare_models, compare_cv
        return _deprecation.forward("modelworks", name)
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"modelworks.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'modelworks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBPACKAGES)

