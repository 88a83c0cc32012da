"""The model zoo: a table of named models, each an estimator factory plus a default search space.

Every entry builds a plain scikit-learn estimator (boosters through their scikit-learn APIs),
so it composes with pipelines, cross-validation, stacking, partial dependence and SHAP.
Spaces are scikit-learn style grids (lists) or ``(low, high, "log"|"linear"|"int")`` ranges
that ``modelworks.tuning`` turns into Optuna distributions. Keys address the estimator's own
parameters; inside a ``modelworks`` pipeline they become ``model__<key>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelworks.exceptions import ConfigError, UnknownNameError

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class ZooEntry:
    """A named model: how to build it for a task, and where to search its hyperparameters."""

    name: str
    description: str
    classifier: Callable[[int], Any] | None
    regressor: Callable[[int], Any] | None
    space: dict[str, Any] = field(default_factory=dict)
    regression_space: dict[str, Any] | None = None
    family: str = "other"  # "linear" | "tree" | "kernel" | "neighbors" | "neural" (explainer choice)
    needs_extra: str | None = None

    def supports(self, task: str) -> bool:
        return (self.regressor if task == "regression" else self.classifier) is not None

    def available(self) -> bool:
        """Whether the extra this model needs (if any) is installed here."""
        if self.needs_extra is None:
            return True
        from modelworks import _areas

        return not _areas.missing(self.needs_extra)

    def default_space(self, task: str) -> dict[str, Any]:
        if task == "regression" and self.regression_space is not None:
            return dict(self.regression_space)
        return dict(self.space)


def _logreg(seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed)


def _linear(seed):
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def _ridge_c(seed):
    from sklearn.linear_model import RidgeClassifier

    return RidgeClassifier(random_state=seed)


def _ridge_r(seed):
    from sklearn.linear_model import Ridge

    return Ridge(random_state=seed)


def _lasso_c(seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(l1_ratio=1.0, solver="saga", C=1.0, max_iter=5000, random_state=seed)


def _lasso_r(seed):
    from sklearn.linear_model import Lasso

    return Lasso(alpha=0.01, max_iter=10000, random_state=seed)


def _rf_c(seed):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)


def _rf_r(seed):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)


def _et_c(seed):
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(n_estimators=100, random_state=seed, n_jobs=1)


def _et_r(seed):
    from sklearn.ensemble import ExtraTreesRegressor

    return ExtraTreesRegressor(n_estimators=100, random_state=seed, n_jobs=1)


def _gb_c(seed):
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(random_state=seed)


def _gb_r(seed):
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(random_state=seed)


def _hgb_c(seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed)


def _hgb_r(seed):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(random_state=seed)


def _xgb_c(seed):
    from modelworks.models._boosters import XGBClassifier

    return XGBClassifier(n_estimators=200, learning_rate=0.1, max_depth=6, random_state=seed,
                         n_jobs=1, tree_method="hist", verbosity=0)


def _xgb_r(seed):
    from xgboost import XGBRegressor

    return XGBRegressor(n_estimators=200, learning_rate=0.1, max_depth=6, random_state=seed,
                        n_jobs=1, tree_method="hist", verbosity=0)


def _lgbm_c(seed):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=200, learning_rate=0.1, random_state=seed, n_jobs=1, verbose=-1)


def _lgbm_r(seed):
    from lightgbm import LGBMRegressor

    return LGBMRegressor(n_estimators=200, learning_rate=0.1, random_state=seed, n_jobs=1, verbose=-1)


def _cb_c(seed):
    from modelworks._imports import require

    require("catboost", purpose="the catboost model")
    from modelworks.models._catboost import CatBoostClassifier

    return CatBoostClassifier(iterations=300, learning_rate=0.1, depth=6, l2_leaf_reg=3.0, random_seed=seed,
                              thread_count=1, verbose=0, allow_writing_files=False)


def _cb_r(seed):
    from modelworks._imports import require

    require("catboost", purpose="the catboost model")
    from modelworks.models._catboost import CatBoostRegressor

    return CatBoostRegressor(iterations=300, learning_rate=0.1, depth=6, l2_leaf_reg=3.0, random_seed=seed,
                             thread_count=1, verbose=0, allow_writing_files=False)


def _svm_c(seed):
    from sklearn.svm import SVC

    return SVC(probability=True, random_state=seed)


def _svm_r(seed):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    # SVR's C and epsilon are in the target's units: on a target with a spread of 10 or 1,000 the
    # defaults fit little more than the median. Standardising the target makes them unit-free.
    return TransformedTargetRegressor(regressor=SVR(), transformer=StandardScaler())


def _knn_c(seed):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier()


def _knn_r(seed):
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor()


def _mlp_c(seed):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, early_stopping=True, random_state=seed)


def _mlp_r(seed):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=(64,), max_iter=500, early_stopping=True, random_state=seed)


def _keras_c(seed):
    from modelworks.deep import KerasMLPClassifier

    return KerasMLPClassifier(hidden_units=(64,), epochs=50, random_state=seed)


def _keras_r(seed):
    from modelworks.deep import KerasMLPRegressor

    return KerasMLPRegressor(hidden_units=(64,), epochs=50, random_state=seed)


_BOOST_SPACE = {
    "n_estimators": (50, 400, "int"),
    "learning_rate": (0.01, 0.3, "log"),
    "max_depth": (3, 10, "int"),
}

ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in [
        ZooEntry("logreg", "logistic regression (L2)", _logreg, None,
                 {"C": (1e-3, 1e3, "log")}, family="linear"),
        ZooEntry("linear", "ordinary least squares", None, _linear, {}, family="linear"),
        ZooEntry("ridge", "ridge (L2) regression / classifier", _ridge_c, _ridge_r,
                 {"alpha": (1e-3, 1e3, "log")}, family="linear"),
        ZooEntry("lasso", "lasso (L1) regression / L1 logistic regression", _lasso_c, _lasso_r,
                 {"C": (1e-3, 1e3, "log")}, regression_space={"alpha": (1e-4, 10.0, "log")},
                 family="linear"),
        ZooEntry("rf", "random forest", _rf_c, _rf_r,
                 {"n_estimators": [50, 100, 200], "max_depth": [3, 5, 7, None],
                  "min_samples_split": [2, 5, 10]}, family="tree"),
        ZooEntry("extratrees", "extremely randomized trees", _et_c, _et_r,
                 {"n_estimators": [50, 100, 200], "max_depth": [3, 5, 7, None],
                  "min_samples_split": [2, 5, 10]}, family="tree"),
        ZooEntry("gb", "gradient boosting (scikit-learn)", _gb_c, _gb_r,
                 {"n_estimators": (50, 300, "int"), "learning_rate": (0.01, 0.3, "log"),
                  "max_depth": (2, 6, "int")}, family="tree"),
        ZooEntry("hgb", "histogram gradient boosting", _hgb_c, _hgb_r,
                 {"learning_rate": (0.01, 0.3, "log"), "max_leaf_nodes": (8, 64, "int"),
                  "l2_regularization": (1e-6, 10.0, "log"), "max_iter": (50, 400, "int")},
                 family="tree"),
        ZooEntry("xgboost", "XGBoost gradient boosting", _xgb_c, _xgb_r, dict(_BOOST_SPACE),
                 family="tree"),
        ZooEntry("lightgbm", "LightGBM gradient boosting", _lgbm_c, _lgbm_r,
                 {"n_estimators": (50, 400, "int"), "learning_rate": (0.01, 0.3, "log"),
                  "num_leaves": (8, 128, "int")}, family="tree"),
        ZooEntry("catboost", "CatBoost gradient boosting (symmetric trees, native categoricals)",
                 _cb_c, _cb_r,
                 {"iterations": (100, 1000, "int"), "learning_rate": (0.01, 0.3, "log"),
                  "depth": (4, 10, "int"), "l2_leaf_reg": (1.0, 10.0, "log")},
                 family="tree", needs_extra="catboost"),
        ZooEntry("svm", "support vector machine (RBF)", _svm_c, _svm_r,
                 {"C": (1e-2, 1e3, "log"), "gamma": (1e-4, 1.0, "log")},
                 regression_space={"regressor__C": (1e-2, 1e3, "log"), "regressor__gamma": (1e-4, 1.0, "log"),
                                   "regressor__epsilon": (1e-3, 1.0, "log")}, family="kernel"),
        ZooEntry("knn", "k nearest neighbours", _knn_c, _knn_r,
                 {"n_neighbors": (1, 50, "int"), "weights": ["uniform", "distance"]},
                 family="neighbors"),
        ZooEntry("mlp", "multi-layer perceptron (scikit-learn)", _mlp_c, _mlp_r,
                 {"alpha": (1e-6, 1e-1, "log"), "learning_rate_init": (1e-4, 1e-1, "log")},
                 family="neural"),
        ZooEntry("keras_mlp", "Keras multi-layer perceptron (PyTorch backend)", _keras_c, _keras_r,
                 {"hidden_units": [32, 64, 128], "dropout": (0.0, 0.5, "linear"),
                  "learning_rate": (1e-4, 1e-2, "log")}, family="neural", needs_extra="deep"),
    ]
}

# names users type that mean a zoo entry
ALIASES = {
    "logistic": "logreg", "lr": "logreg", "linreg": "linear", "random_forest": "rf",
    "randomforest": "rf", "et": "extratrees", "xgb": "xgboost", "lgbm": "lightgbm",
    "histgb": "hgb", "cb": "catboost", "svc": "svm", "svr": "svm",
}


def _resolve(name: str) -> ZooEntry:
    if not isinstance(name, str):
        raise UnknownNameError(f"model name must be a string, got {type(name).__name__}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ZOO:
        import difflib

        close = difflib.get_close_matches(key, list(ZOO) + list(ALIASES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UnknownNameError(
            f"unknown model '{name}'{hint}; known models: {', '.join(ZOO)}"
        )
    return ZOO[key]


def get_entry(name: str) -> ZooEntry:
    """The zoo entry for ``name`` (aliases accepted)."""
    return _resolve(name)


def get_model(name: str, task: str, *, seed: int = 0):
    """Build an unfitted estimator for a zoo ``name`` and a ``task``.

    Parameters
    ----------
    name : str
        A zoo name (``list_models()``) or alias, e.g. ``"rf"``, ``"xgboost"``, ``"logreg"``.
    task : {"binary", "multiclass", "regression"}
    seed : int
        ``random_state`` for estimators that take one.

    Raises
    ------
    UnknownNameError
        ``name`` is not in the zoo (the message lists the known names).
    ConfigError
        The model does not support ``task`` (e.g. ``linear`` for classification).
    """
    entry = _resolve(name)
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    factory = entry.regressor if task == "regression" else entry.classifier
    if factory is None:
        other = "regression" if task != "regression" else "classification"
        alt = "logreg" if task != "regression" else "ridge"
        raise ConfigError(
            f"model '{entry.name}' is for {other} only; for {task} use e.g. '{alt}'"
        )
    return factory(seed)


def default_space(name: str, task: str) -> dict[str, Any]:
    """The default search space of a zoo model for ``task`` (estimator parameter names)."""
    return _resolve(name).default_space(task)


def list_models(task: str | None = None) -> list[str]:
    """Zoo names, optionally only those that support ``task``."""
    return [n for n, e in ZOO.items() if task is None or e.supports(task)]


# what `compare`/`run` try by default: fast, diverse, strong
DEFAULT_CANDIDATES = {
    "binary": ["logreg", "rf", "extratrees", "hgb", "xgboost", "lightgbm", "knn"],
    "multiclass": ["logreg", "rf", "extratrees", "hgb", "xgboost", "lightgbm", "knn"],
    "regression": ["ridge", "lasso", "rf", "extratrees", "hgb", "xgboost", "lightgbm", "knn"],
}
