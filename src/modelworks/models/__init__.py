"""The model zoo: named scikit-learn estimators with default search spaces."""

from modelworks.models._zoo import (
    DEFAULT_CANDIDATES,
    ZOO,
    ZooEntry,
    default_space,
    get_entry,
    get_model,
    list_models,
)

__all__ = [
    "DEFAULT_CANDIDATES",
    "ZOO",
    "ZooEntry",
    "default_space",
    "get_entry",
    "get_model",
    "list_models",
]
