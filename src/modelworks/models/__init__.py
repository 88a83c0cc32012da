"""The model zoo: named scikit-learn estimators with default search spaces."""

from modelworks.models._job import ModelList, models_job
from modelworks.models._zoo import (
    DEFAULT_CANDIDATES,
    ZOO,
    ZooEntry,
    default_space,
    get_entry,
    get_model,
    list_models,
)

# modelworks types of this area that a saved package may contain (modelworks.package's allow-list)
SKOPS_TRUSTED = [
    "modelworks.models._log_target.LogTargetRegressor",
    "modelworks.models._catboost.CatBoostClassifier",
    "modelworks.models._catboost.CatBoostRegressor",
]

__all__ = [
    "DEFAULT_CANDIDATES",
    "ModelList",
    "SKOPS_TRUSTED",
    "ZOO",
    "ZooEntry",
    "default_space",
    "get_entry",
    "get_model",
    "list_models",
    "models_job",
]
