"""A leakage-safe preprocessing builder that always lives inside the fitted pipeline.

Numeric columns: median impute + standard scale. Categorical columns: constant impute +
one-hot with unknown categories ignored and rare/high-cardinality levels grouped as
"infrequent". Datetime columns: calendar parts, scaled like numbers. Free-text columns (many
words per value, mostly unique): TF-IDF of words and word pairs, reduced to a few dense
components (so every learner, trees included, can use them). Output names stay readable
(``age``, ``plan_basic``, ``signup_month``, ``review_text3``) and :func:`feature_sources` maps
each back to the column it came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from modelworks._deprecation import RandomStateAlias
from modelworks.data._kinds import (  # noqa: F401 - the text rule, re-exported where it lived
    TEXT_MIN_UNIQUE,
    TEXT_MIN_WORDS,
    column_kind,
    is_text_column,
    parse_dates,
)

MAX_CATEGORIES = 20
_DATE_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "hour")
TEXT_MAX_FEATURES = 20_000  # TF-IDF vocabulary cap per column
TEXT_COMPONENTS = 64  # dense components kept per text column (TruncatedSVD)


def _text_values(X) -> np.ndarray:
    """One text column as a 1-D array of strings (missing: empty)."""
    frame = pd.DataFrame(X)
    col = frame.iloc[:, 0]
    return col.where(col.notna(), "").astype(str).to_numpy()


class TextFeatures(RandomStateAlias, TransformerMixin, BaseEstimator):
    """Free-text columns as dense features: per column, TF-IDF then truncated SVD.

    Parameters
    ----------
    max_features : int
        TF-IDF vocabulary cap per column (words and word pairs seen in at least two rows).
    n_components : int
        Dense components kept per column (fewer when the vocabulary is smaller).
    random_state : int
        Seed of the randomized SVD.
    seed : int, optional
        Deprecated name of ``random_state`` (until modelworks 0.3; warns).
    """

    def __init__(self, max_features=TEXT_MAX_FEATURES, n_components=TEXT_COMPONENTS, random_state=0,
                 seed="deprecated"):
        self.max_features = max_features
        self.n_components = n_components
        self.random_state = random_state
        self.seed = seed

    def fit(self, X, y=None):
        self._fit(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        return self._fit(X)

    def _fit(self, X):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        X = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.steps_, blocks = {}, []
        random_state = self._random_state()
        for col in X.columns:
            text = _text_values(X[[col]])
            tfidf = TfidfVectorizer(max_features=self.max_features, min_df=2 if len(text) >= 50 else 1,
                                    ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
            try:
                T = tfidf.fit_transform(text)
            except ValueError:  # no words at all: keep one empty feature
                tfidf = TfidfVectorizer(analyzer="char", dtype=np.float32)
                T = tfidf.fit_transform(np.where(text == "", " ", text))
            k = max(1, min(self.n_components, T.shape[1] - 1, T.shape[0] - 1))
            svd = TruncatedSVD(n_components=k, random_state=random_state) if T.shape[1] > 1 else None
            Z = svd.fit_transform(T) if svd is not None else T.toarray()
            self.steps_[str(col)] = (tfidf, svd)
            blocks.append(np.asarray(Z, dtype=float))
        return np.hstack(blocks) if blocks else np.zeros((len(X), 0))

    def transform(self, X):
        check_is_fitted(self, "steps_")
        X = pd.DataFrame(X)
        blocks = []
        for col in X.columns:
            tfidf, svd = self.steps_[str(col)]
            T = tfidf.transform(_text_values(X[[col]]))
            blocks.append(np.asarray(svd.transform(T) if svd is not None else T.toarray(), dtype=float))
        return np.hstack(blocks) if blocks else np.zeros((len(X), 0))

    def _sizes(self) -> dict[str, int]:
        return {col: (svd.n_components if svd is not None else len(tfidf.vocabulary_))
                for col, (tfidf, svd) in self.steps_.items()}

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "steps_")
        return np.asarray([f"{c}_text{i}" for c, n in self._sizes().items() for i in range(n)], dtype=object)


class DatetimeFeatures(TransformerMixin, BaseEstimator):
    """Turn datetime columns into numeric calendar parts (year, month, day, weekday, ...).

    Parameters
    ----------
    parts : tuple of str
        Which parts to extract; ``hour`` is dropped at fit time for columns without times.
    """

    def __init__(self, parts=_DATE_PARTS):
        self.parts = parts

    def fit(self, X, y=None):
        X = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        parts = {}
        for col in X.columns:
            s = parse_dates(X[col])
            use = [p for p in self.parts if p != "hour" or (s.dt.hour.fillna(0) != 0).any()]
            parts[str(col)] = use
        self.parts_ = parts
        return self

    def transform(self, X):
        check_is_fitted(self, "parts_")
        X = pd.DataFrame(X)
        out = {}
        for col in X.columns:
            s = parse_dates(X[col])
            for part in self.parts_[str(col)]:
                out[f"{col}_{part}"] = getattr(s.dt, part).astype(float)
        return pd.DataFrame(out, index=X.index).to_numpy(dtype=float)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "parts_")
        return np.asarray([f"{c}_{p}" for c, parts in self.parts_.items() for p in parts], dtype=object)


def column_kinds(X: pd.DataFrame) -> dict[str, list[str]]:
    """Split columns into ``numeric``, ``categorical``, ``datetime`` and ``text`` lists.

    Each column's kind is :func:`~modelworks.data.column_kind`'s, with the preprocessing policy
    ``text=True``: ``text`` holds the free-text columns (see :func:`is_text_column`).
    """
    kinds: dict[str, list[str]] = {"numeric": [], "categorical": [], "datetime": [], "text": []}
    for col in X.columns:
        kinds[column_kind(X[col], text=True)].append(col)
    return kinds


def _to_str(X):
    """Categorical values as strings (missing stays missing), so mixed bool/str levels encode alike."""
    frame = pd.DataFrame(X).astype(object)
    return frame.astype(str).where(frame.notna(), np.nan)


def build_preprocessor(X: pd.DataFrame, *, max_categories: int = MAX_CATEGORIES, scale: bool = True):
    """Build (unfitted) preprocessing for the columns of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        Training features (used only to decide each column's kind).
    max_categories : int
        One-hot columns per categorical feature at most; rarer levels become "infrequent"
        (the high-cardinality guard).
    scale : bool
        Standard-scale numeric columns (harmless for trees, needed for linear/kernel models).

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    kinds = column_kinds(X)
    parts = []
    if kinds["numeric"]:
        steps = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        if scale:
            steps.append(("scale", StandardScaler()))
        parts.append(("num", Pipeline(steps), kinds["numeric"]))
    if kinds["categorical"]:
        parts.append((
            "cat",
            Pipeline([
                ("as_text", FunctionTransformer(_to_str, feature_names_out="one-to-one")),
                ("impute", SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True)),
                ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=max_categories,
                                         sparse_output=False)),
            ]),
            kinds["categorical"],
        ))
    if kinds["datetime"]:
        # calendar parts are numbers on very different scales (weekday 0-6, day of year 1-366):
        # scaled like the numeric columns, or they dominate kernel, neighbour and penalised models
        steps = [("parts", DatetimeFeatures()),
                 ("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        if scale:
            steps.append(("scale", StandardScaler()))
        parts.append(("date", Pipeline(steps), kinds["datetime"]))
    if kinds["text"]:
        parts.append(("text", TextFeatures(), kinds["text"]))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def make_pipeline(X: pd.DataFrame, estimator, **kwargs):
    """``Pipeline([("prep", build_preprocessor(X)), ("model", estimator)])``.

    Estimator parameters are addressed as ``model__<param>`` (for tuning).
    """
    from sklearn.pipeline import Pipeline

    return Pipeline([("prep", build_preprocessor(X, **kwargs)), ("model", estimator)])


def _prep_of(obj):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(obj, ColumnTransformer):
        return obj
    if isinstance(obj, Pipeline):
        for _, step in obj.steps:
            if isinstance(step, ColumnTransformer):
                return step
    return None


def feature_sources(obj) -> dict[str, str]:
    """Map every encoded feature name to the source column it came from.

    ``obj`` is a fitted modelworks pipeline or its fitted ``ColumnTransformer``. Estimators
    without a preprocessor map each input feature to itself.
    """
    prep = _prep_of(obj)
    if prep is None:
        names = getattr(obj, "feature_names_in_", None)
        return {str(n): str(n) for n in names} if names is not None else {}
    check_is_fitted(prep)
    mapping: dict[str, str] = {}
    for name, trans, cols in prep.transformers_:
        if name == "remainder" or trans == "drop" or len(cols) == 0:
            continue
        out = list(trans.get_feature_names_out(cols))
        if name == "cat":
            enc = trans.named_steps["onehot"]
            i = 0
            infreq = getattr(enc, "infrequent_categories_", [None] * len(cols))
            for col, cats, rare in zip(cols, enc.categories_, infreq):
                n = len(cats) if rare is None else len(cats) - len(rare) + 1
                for feat in out[i:i + n]:
                    mapping[str(feat)] = str(col)
                i += n
        elif name == "text":
            i = 0
            for col, n in trans._sizes().items():
                for feat in out[i:i + n]:
                    mapping[str(feat)] = str(col)
                i += n
        elif name == "date":
            # the zoo's date pipeline ("parts" step) or the search's bare DatetimeFeatures
            parts = (trans.named_steps["parts"] if hasattr(trans, "named_steps") else trans).parts_
            i = 0
            for col in cols:
                n = len(parts[str(col)])
                for feat in out[i:i + n]:
                    mapping[str(feat)] = str(col)
                i += n
        else:
            for col, feat in zip(cols, out):
                mapping[str(feat)] = str(col)
    return mapping
