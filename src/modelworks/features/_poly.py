"""Polynomial and interaction features as a pipeline step, with readable names and a size guard."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from modelworks._validation import check_scalar
from modelworks.data._kinds import column_kind
from modelworks.exceptions import FeatureError


def n_output_features(n_inputs: int, degree: int, interaction_only: bool, include_bias: bool = False) -> int:
    """How many columns ``PolynomialFeatures`` makes from ``n_inputs`` columns (without building them)."""
    if interaction_only:
        total = sum(comb(n_inputs, d) for d in range(1, min(degree, n_inputs) + 1))
    else:
        total = comb(n_inputs + degree, degree) - 1
    return total + int(include_bias)


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Polynomial / interaction terms of chosen numeric columns; other columns pass through.

    A DataFrame-aware wrapper of scikit-learn's ``PolynomialFeatures``: names read
    ``age*income`` and ``age^2``, and an expansion beyond ``max_output`` columns is refused
    with the count before anything is built.

    Parameters
    ----------
    columns : list of str, optional
        Columns to expand (default: every numeric column).
    degree : int
        Highest total degree.
    interaction_only : bool
        Only products of distinct columns (no ``age^2``).
    include_bias : bool
        Add a constant column.
    max_output : int
        Refuse expansions that would make more columns than this.
    """

    def __init__(self, columns=None, degree=2, interaction_only=False, include_bias=False, max_output=1000):
        self.columns = columns
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.max_output = max_output

    def _frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X
        from sklearn.utils import check_array

        arr = check_array(X, dtype="numeric", ensure_all_finite=False)  # scikit-learn's own messages
        return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])

    def fit(self, X, y=None):
        from sklearn.preprocessing import PolynomialFeatures as _Poly

        check_scalar(self.degree, "degree", kind=int, low=1, error=FeatureError)
        frame = self._frame(X)
        if self.columns is None:
            cols = [c for c in frame.columns if column_kind(frame[c]) == "numeric"]
        else:
            cols = list(self.columns)
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise FeatureError(f"columns not found: {', '.join(map(str, missing))}; columns are: "
                                   f"{', '.join(map(str, frame.columns))}")
            # named columns may be booleans too (0/1), never text or dates
            text = [c for c in cols if column_kind(frame[c], detail=True) not in ("numeric", "integer", "boolean")]
            if text:
                raise FeatureError(f"polynomial features need numeric columns; not numeric: {', '.join(map(str, text))}")
        if not cols:
            raise FeatureError("no numeric columns to expand", param="columns", fix="name the columns to expand in {}")
        nan_cols = [str(c) for c in cols if frame[c].isna().any()]
        if nan_cols:
            raise FeatureError(
                f"missing values in {', '.join(nan_cols)}; impute before polynomial features "
                "(e.g. SimpleImputer first in the pipeline)"
            )
        n_out = n_output_features(len(cols), int(self.degree), self.interaction_only, self.include_bias)
        if n_out > self.max_output:
            raise FeatureError(
                f"degree {self.degree} on {len(cols)} columns would make {n_out} features, more than "
                f"max_output={self.max_output}; choose fewer columns, interaction_only=True, a lower degree, "
                "or raise max_output"
            )
        self.columns_ = [str(c) for c in cols]
        self.passthrough_ = [str(c) for c in frame.columns if c not in cols]
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.poly_ = _Poly(degree=int(self.degree), interaction_only=self.interaction_only,
                           include_bias=self.include_bias).fit(frame[cols].to_numpy(dtype=float))
        return self

    def _names(self) -> list[str]:
        names = []
        for powers in self.poly_.powers_:
            parts = [c if p == 1 else f"{c}^{p}" for c, p in zip(self.columns_, powers) if p]
            names.append("*".join(parts) if parts else "1")
        return names

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "poly_")
        return np.asarray(self.passthrough_ + self._names(), dtype=object)

    def transform(self, X):
        check_is_fitted(self, "poly_")
        frame = self._frame(X)
        if frame.shape[1] != self.n_features_in_ and not isinstance(X, pd.DataFrame):
            raise FeatureError(
                f"X has {frame.shape[1]} features, but PolynomialFeatures is expecting {self.n_features_in_} "
                "features as input"
            )
        missing = [c for c in self.columns_ + self.passthrough_ if c not in frame.columns]
        if missing:
            raise FeatureError(f"columns seen in fit are missing: {', '.join(missing)}")
        values = self.poly_.transform(frame[self.columns_].to_numpy(dtype=float))
        expanded = pd.DataFrame(values, columns=self._names(), index=frame.index)
        return pd.concat([frame[self.passthrough_], expanded], axis=1)
