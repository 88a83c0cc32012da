"""A regressor fitted on ``log1p(y)`` that predicts on the original scale (``expm1``).

Used by the search for positive, right-skewed targets when cross-validation says the log scale
is better. A small class of our own (rather than scikit-learn's ``TransformedTargetRegressor``,
whose fitted state holds ``functools.partial`` objects) so packages stay on the skops allow-list.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone


class LogTargetRegressor(RegressorMixin, BaseEstimator):
    """Fit ``regressor`` on ``log1p(y)``; ``predict`` returns ``expm1`` of its prediction.

    Parameters
    ----------
    regressor : estimator
        Any scikit-learn regressor (cloned before fitting).
    """

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y, **fit_params):
        from modelworks.exceptions import ConfigError

        values = np.asarray(y, dtype=float)
        if np.nanmin(values) <= -1:
            raise ConfigError("LogTargetRegressor needs a target > -1 (it models log1p(y)); use the plain regressor")
        self.regressor_ = clone(self.regressor).fit(X, np.log1p(values), **fit_params)
        if hasattr(self.regressor_, "n_features_in_"):
            self.n_features_in_ = self.regressor_.n_features_in_
        return self

    def predict(self, X):
        return np.expm1(self.regressor_.predict(X))
