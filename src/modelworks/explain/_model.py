"""What kind of model we were handed: checks, preprocessing split, explainer family, output.

Everything the explainers and partial dependence need to know about a model is decided here,
once, by looking at types (no model is ever refitted):

* :func:`check_input` - fitted? do the columns of ``X`` match what the model saw?
* :func:`split_pipeline` - ``(prep, final_estimator)`` of a scikit-learn pipeline;
* :func:`encoded_sources` - the encoded feature -> original column map (one-hot parts);
* :func:`family_of` - ``"tree"``, ``"linear"`` or ``"other"`` (which SHAP algorithm applies);
* :func:`ensemble_kind` - ``"blend"`` (weighted sum of members), ``"stack"`` or ``None``.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ColumnError, ExplainError, NotFittedError

# class name (anywhere in the MRO) -> family; sklearn, xgboost, lightgbm, catboost
_TREE_CLASSES = {
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor",
    "ExtraTreeClassifier", "ExtraTreeRegressor", "IsolationForest",
    "XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor", "Booster",
    "LGBMClassifier", "LGBMRegressor", "CatBoostClassifier", "CatBoostRegressor",
}
_TREE_MODULES = ("xgboost.", "lightgbm.")
# boosters whose raw (TreeSHAP) output is a margin (log-odds for classifiers), not a probability
_MARGIN_TREES = {
    "GradientBoostingClassifier", "HistGradientBoostingClassifier", "XGBClassifier", "LGBMClassifier",
    "CatBoostClassifier",
}
# CatBoost's symmetric trees (and its target statistics on categoricals) are read by CatBoost alone:
# its own TreeSHAP explains them (modelworks.explain._shap_boosters._catboost_values)
_CATBOOST_CLASSES = {"CatBoostClassifier", "CatBoostRegressor"}


def _mro_names(est) -> set[str]:
    return {c.__name__ for c in type(est).__mro__}


def family_of(est) -> str:
    """``"tree"``, ``"linear"`` or ``"other"``, by type (zoo entries agree with this)."""
    names = _mro_names(est)
    module = type(est).__module__
    if names & _TREE_CLASSES or (module.startswith(_TREE_MODULES) and "Booster" in names):
        return "tree"
    if not hasattr(est, "coef_"):
        return "other"
    if module.startswith("sklearn.linear_model") or type(est).__name__ in ("LinearSVC", "LinearSVR"):
        return "linear"
    return "other"


def is_margin_tree(est) -> bool:
    """A boosted classifier whose tree output is log-odds (probability needs a link)."""
    return bool(_mro_names(est) & _MARGIN_TREES)


def is_catboost(est) -> bool:
    """A CatBoost model (modelworks' zoo subclass or catboost's own scikit-learn estimator)."""
    return bool(_mro_names(est) & _CATBOOST_CLASSES) and any(
        c.__module__.startswith("catboost") for c in type(est).__mro__)


def is_classifier(est) -> bool:
    return class_labels(est) is not None


def ensemble_kind(model) -> str | None:
    """``"blend"`` for a weighted sum of members, ``"stack"`` for stacking, else ``None``."""
    if all(hasattr(model, a) for a in ("estimators_", "weights_")) and not hasattr(model, "final_estimator_"):
        w = np.asarray(model.weights_, dtype=float)
        if w.ndim == 1 and len(w) == len(model.estimators_) and getattr(model, "voting", "soft") == "soft":
            return "blend"
    if hasattr(model, "final_estimator_") and hasattr(model, "stack_method_"):
        return "stack"
    return None


def check_fitted(model) -> None:
    """Raise :class:`NotFittedError` (naming the model) when ``model`` was never fitted."""
    from sklearn.exceptions import NotFittedError as SkNotFitted
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    if not hasattr(model, "fit") or not (hasattr(model, "predict") or hasattr(model, "predict_proba")):
        raise ExplainError(
            f"cannot explain a {name}: expected a fitted scikit-learn-style model with predict or "
            "predict_proba (a modelworks model, a pipeline, an xgboost/lightgbm/sklearn estimator)"
        )
    try:
        check_is_fitted(model)
    except SkNotFitted as e:
        raise NotFittedError(
            f"the {name} model is not fitted; fit it first (model.fit(X, y)) or load a fitted "
            "model package"
        ) from e
    except TypeError as e:  # not an estimator at all
        raise ExplainError(f"cannot explain a {name}: {e}") from e


def expected_columns(model) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is None and hasattr(model, "steps"):
        names = getattr(model.steps[0][1], "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def check_input(model, X, *, what: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame in the model's column order; errors name unknown/missing columns."""
    check_fitted(model)
    cols = expected_columns(model)
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ExplainError(f"{what} must be a 2-D table (rows x features), got shape {arr.shape}")
        frame = pd.DataFrame(arr, columns=cols if cols and len(cols) == arr.shape[1]
                             else [f"x{i}" for i in range(arr.shape[1])])
    if len(frame) == 0:
        raise ExplainError(f"{what} has no rows; give at least one row to explain")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if cols is None:
        n = getattr(model, "n_features_in_", None)
        if n is not None and frame.shape[1] != n:
            raise ColumnError(f"{what} has {frame.shape[1]} columns but the model was fitted on {n}")
        return frame
    extra = [c for c in frame.columns if c not in cols]
    missing = [c for c in cols if c not in frame.columns]
    if extra:
        raise ColumnError(
            f"{what} has columns the model did not see: {', '.join(extra)}; the model knows: "
            f"{', '.join(cols)} (drop the others, e.g. X.drop(columns={extra!r}))"
        )
    if missing:
        raise ColumnError(f"{what} is missing columns the model needs: {', '.join(missing)}")
    return frame[cols]


def split_pipeline(est) -> tuple[Any, Any]:
    """``(prep, final)``: the transformers in front of the last step, or ``(None, est)``."""
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline) and len(est.steps) > 1:
        final = est.steps[-1][1]
        prep = est[:-1]
        return prep, final
    if isinstance(est, Pipeline):
        return None, est.steps[-1][1]
    return None, est


def encoded_sources(prep, columns: list[str]) -> dict[str, str] | None:
    """{encoded feature: original column}, or ``None`` when the prep mixes columns."""
    if prep is None:
        return {c: c for c in columns}
    from modelworks.data import feature_sources

    try:
        mapping = feature_sources(prep[-1] if len(prep) == 1 else prep)
    except Exception:  # noqa: BLE001 - an unusual pipeline: fall through to the generic mapping
        mapping = {}
    if mapping:
        try:
            names = [str(n) for n in prep.get_feature_names_out()]
        except Exception:  # noqa: BLE001
            names = list(mapping)
        if all(n in mapping for n in names):
            return {n: mapping[n] for n in names}
    try:  # one-to-one transformers (StandardScaler, imputers): names pass through
        names = [str(n) for n in prep.get_feature_names_out(columns)]
    except Exception:  # noqa: BLE001
        return None
    if names == list(columns):
        return {c: c for c in columns}
    return None


@dataclass
class Unit:
    """One model to explain in its own encoded space: ``final(prep(X))``."""

    prep: Any
    final: Any
    sources: dict[str, str] | None  # encoded name -> original column (None: explain as black box)

    @property
    def encoded_names(self) -> list[str]:
        return list(self.sources) if self.sources else []

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        Z = X if self.prep is None else self.prep.transform(X)
        if hasattr(Z, "toarray"):
            Z = Z.toarray()
        return np.asarray(Z, dtype=float)


def unit_of(est, columns: list[str]) -> Unit:
    prep, final = split_pipeline(est)
    sources = encoded_sources(prep, columns)
    if sources is None:  # cannot map the encoded features back: treat the whole pipeline as one model
        return Unit(prep=None, final=est, sources=None)
    return Unit(prep=prep, final=final, sources=sources)


def aggregation_matrix(sources: dict[str, str], columns: list[str]) -> np.ndarray:
    """(n_encoded, n_original) 0/1 matrix that sums encoded parts into their source column."""
    index = {c: j for j, c in enumerate(columns)}
    M = np.zeros((len(sources), len(columns)))
    for i, src in enumerate(sources.values()):
        if src in index:
            M[i, index[src]] = 1.0
    return M


def class_labels(model) -> list | None:
    # catboost's own regressor answers classes_ with an empty list (its base class serves both kinds)
    classes = getattr(model, "classes_", None)
    return None if classes is None or len(classes) == 0 else list(classes)


@contextlib.contextmanager
def quiet():
    """Silence "X does not have valid feature names": we feed encoded arrays on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        warnings.filterwarnings("ignore", message="X has feature names, but")
        yield
