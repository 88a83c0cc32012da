"""Turn what the user passed as a model (a package path, a registry reference, a loaded package or
a fitted estimator) into a loaded package-like object with ``model``, ``schema`` and ``manifest``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from modelworks.exceptions import ConfigError, NotFittedError


@dataclass
class _InMemory:
    """A fitted estimator given directly (no package): no schema beyond scikit-learn's own checks."""

    model: Any
    schema: Any = None
    manifest: dict = field(default_factory=dict)
    path: Any = None


def resolve_model(model, *, trust_pickle: bool = False, trust=(), tracking_uri: str | None = None):
    """A package path / ``models:/NAME@ALIAS`` / Package / fitted estimator -> object with ``.model``."""
    if isinstance(model, str | os.PathLike):
        from modelworks.package import load_ref

        return load_ref(str(model), tracking_uri=tracking_uri, trust_pickle=trust_pickle, trust=trust)
    if hasattr(model, "model") and hasattr(model, "manifest"):
        return model
    if hasattr(model, "predict"):
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except Exception as e:
            raise NotFittedError(f"the model {type(model).__name__} is not fitted; fit it or pass a model package") from e
        return _InMemory(model=model)
    raise ConfigError(
        f"model must be a package path, a 'models:/NAME@ALIAS' reference or a fitted estimator, got {type(model).__name__}"
    )

