"""Preprocessing per learner family, always inside the pipeline (so every fold refits it).

Boosters (HistGradientBoosting, LightGBM, XGBoost, CatBoost) get the columns nearly raw: numbers
as they are (missing values kept: the boosters route them), categoricals as ordinal codes that
LightGBM and CatBoost treat natively as categories (``categorical_feature``; ``cat_features``:
CatBoost's ordered target statistics; HistGradientBoosting and XGBoost split on the codes), dates
as calendar parts. Rare levels of
very high-cardinality columns are grouped inside the encoder, fitted within each fold, so
nothing leaks from validation rows. Other learners get the zoo's one-hot/scaled pipeline.

Only scikit-learn classes and modelworks' data-spine helpers are used, so packages stay loadable
under the skops allow-list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# levels kept per categorical column for native handling (HistGradientBoosting allows < 255 bins)
MAX_LEVELS = 250


def tree_preprocessor(X: pd.DataFrame):
    """ColumnTransformer for boosters; returns it and the output indices of categorical columns."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    from modelworks.data import column_kinds
    from modelworks.data._preprocess import DatetimeFeatures, _to_str

    kinds = column_kinds(X)
    parts = []
    if kinds["numeric"]:
        parts.append(("num", "passthrough", kinds["numeric"]))
    if kinds["categorical"]:
        parts.append(("codes", Pipeline([
            ("as_text", FunctionTransformer(_to_str, feature_names_out="one-to-one")),
            ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                       encoded_missing_value=np.nan, max_categories=MAX_LEVELS,
                                       dtype=np.float64)),
        ]), kinds["categorical"]))
    if kinds["datetime"]:
        parts.append(("date", DatetimeFeatures(), kinds["datetime"]))
    # any other column kind the data spine knows (e.g. free text) keeps the spine's own encoding
    from modelworks.data import build_preprocessor

    known = {"num", "cat", "date"}
    parts += [(name, trans, cols) for name, trans, cols in build_preprocessor(X, scale=False).transformers
              if name not in known]
    start = len(kinds["numeric"])
    cat_idx = list(range(start, start + len(kinds["categorical"])))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False), cat_idx


# learner -> how the booster is told which inputs are categorical
_NATIVE_CATEGORICAL = {
    # HistGradientBoosting's native categorical mode stores functools.partial(check_array), which the
    # package allow-list refuses: it splits on the ordinal codes until the allow-list trusts that
    "hgb": lambda idx: {"categorical_features": None},
    "lightgbm": lambda idx: {"categorical_feature": idx} if idx else {},
    "xgboost": lambda idx: {},
    # CatBoost's ordered target statistics on the codes (modelworks.models._catboost passes them as integers)
    "catboost": lambda idx: {"cat_features": tuple(idx)} if idx else {},  # a tuple survives clone()
}


def build_pipeline(X: pd.DataFrame, learner: str, prep: str, params: dict, task: str, seed: int,
                   log_target: bool = False):
    """An unfitted ``Pipeline([("prep", ...), ("model", ...)])`` for one candidate configuration."""
    from sklearn.pipeline import Pipeline

    from modelworks.data import build_preprocessor
    from modelworks.models import get_model

    estimator = get_model(learner, task, seed=seed)
    if prep == "tree":
        transformer, cat_idx = tree_preprocessor(X)
        extra = _NATIVE_CATEGORICAL.get(learner, lambda idx: {})(cat_idx)
        params = {**extra, **params}
    else:
        transformer = build_preprocessor(X, scale=learner not in {"rf", "extratrees"})
    if params:
        estimator.set_params(**params)
    if log_target:
        from modelworks.models._log_target import LogTargetRegressor

        estimator = LogTargetRegressor(estimator)
    return Pipeline([("prep", transformer), ("model", estimator)])


def wants_log_target(y, task: str) -> bool:
    """A non-negative regression target with a long right tail (skewness > 1) is worth a log try."""
    if task != "regression":
        return False
    values = np.asarray(y, dtype=float)
    if values.size < 20 or np.nanmin(values) < 0:
        return False
    from scipy.stats import skew

    return float(skew(values, nan_policy="omit")) > 1.0
