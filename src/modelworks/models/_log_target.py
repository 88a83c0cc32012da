"""A regressor fitted on ``log1p(y)`` that predicts on the original scale (``expm1``).

Used by the search for positive, right-skewed targets when cross-validation says the log scale
is better. ``expm1`` of a prediction of ``log1p(y)`` is a conditional *geometric* mean, below
the conditional mean that squared-error metrics reward; ``smearing`` (Duan's 1983 smearing
estimator: the mean of ``(1 + y) / (1 + prediction)`` over out-of-fold predictions, set by the
search when it cross-validates better) rescales ``1 + prediction`` back to the mean. A small class of our own (rather than
scikit-learn's ``TransformedTargetRegressor``, whose fitted state holds ``functools.partial``
objects) so packages stay on the skops allow-list.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone


def smearing_factor(y, predicted) -> float:
    """Duan's smearing factor: the mean of ``(1 + y) / (1 + predicted)`` (``predicted``: back-transformed)."""
    return float(np.mean((1.0 + np.asarray(y, dtype=float)) / (1.0 + np.asarray(predicted, dtype=float))))


def smear(predicted, factor: float):
    """Back-transformed predictions rescaled by a smearing ``factor``: ``(1 + predicted) * factor - 1``."""
    return (1.0 + predicted) * factor - 1.0


class LogTargetRegressor(RegressorMixin, BaseEstimator):
    """Fit ``regressor`` on ``log1p(y)``; ``predict`` returns ``expm1`` of its prediction.

    Parameters
    ----------
    regressor : estimator
        Any scikit-learn regressor (cloned before fitting).
    smearing : float, default 1.0
        ``predict`` returns ``(1 + expm1(p)) * smearing - 1``; 1.0 is the plain back-transform.
    """

    def __init__(self, regressor, smearing: float = 1.0):
        self.regressor = regressor
        self.smearing = smearing

    def fit(self, X, y, **fit_params):
        from modelworks.exceptions import ConfigError

        values = np.asarray(y, dtype=float)
        if np.nanmin(values) <= -1:
            raise ConfigError("LogTargetRegressor needs a target > -1 (it models log1p(y)); use the plain regressor")
        if not (np.isfinite(self.smearing) and self.smearing > 0):
            raise ConfigError(f"smearing must be a positive number, got {self.smearing!r}", param="smearing",
                              fix="set {} to 1.0 (no correction) or a factor near it")
        self.regressor_ = clone(self.regressor).fit(X, np.log1p(values), **fit_params)
        if hasattr(self.regressor_, "n_features_in_"):
            self.n_features_in_ = self.regressor_.n_features_in_
        return self

    def predict(self, X):
        smearing = getattr(self, "smearing", 1.0)  # packages saved before it existed
        predicted = np.expm1(self.regressor_.predict(X))
        return predicted if smearing == 1.0 else smear(predicted, smearing)
