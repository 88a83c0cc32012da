"""Generalized additive models: :class:`GAMRegressor` and :class:`GAMClassifier` on pygam.

What they share (term planning, the one-pass smoothing search, partial effects with credible
bands, summaries) is :class:`~modelworks.stats._gam_base._GAMBase`; here is only what differs
between a Gaussian and a binomial GAM. The model-file allow-list names these classes by this
module's path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin

from modelworks.exceptions import StatsError
from modelworks.stats._common import check_numeric_response
from modelworks.stats._gam_base import _classifier_tags, _GAMBase, _target


class GAMRegressor(RegressorMixin, _GAMBase):
    """Additive model for a numeric target (pygam LinearGAM) with automatic smoothing.

    Numeric columns get a penalised cubic spline ``s(x)``; categorical columns (non-numeric,
    boolean, listed in ``factors``, or with at most 4 distinct values) a factor term ``f(x)``;
    an optional ``tensor=(a, b)`` pair gets one tensor-product smooth ``te(a, b)`` instead of
    two single smooths.

    Parameters
    ----------
    features : list of str, optional
        Columns to model (default: all).
    factors : list of str, optional
        Columns to treat as categorical even if numeric.
    tensor : pair of str, optional
        Two numeric columns modelled jointly by a tensor-product smooth.
    n_splines : int, default 20
        Basis size per smooth (capped by the column's number of distinct values).
    tensor_splines : int, default 8
        Basis size per axis of the tensor smooth.
    lam : "auto" or float, default "auto"
        Smoothing strength; ``"auto"`` chooses it, a number fixes it for every term.
    lam_search : {"fast", "grid"}, default "fast"
        ``"fast"``: one ``lam`` per term minimising GCV (UBRE for the classifier) on
        sufficient statistics, starting from pygam's grid; ``"grid"``: pygam's
        ``gridsearch`` over one shared ``lam`` in ``logspace(-3, 3, 11)``.
    gamma : float, default 1.4
        Weight of each effective degree of freedom in GCV/UBRE (pygam's default).
    max_iter, tol : PIRLS settings passed to pygam.

    Attributes
    ----------
    gam_ : pygam.LinearGAM
        The fitted pygam model.
    terms_ : list of dict
        The terms (name, kind, columns).
    lam_ : list
        Chosen ``lam`` per term (a pair for a tensor term).
    coef_cov_ : ndarray
        Bayesian covariance of the coefficients (used for the bands).
    """

    def fit(self, X, y):
        """Fit on a DataFrame (or 2-D array) ``X`` and numeric ``y``; returns self."""
        yv = check_numeric_response(pd.Series(_target(y, type(self).__name__)), "y")
        if np.isnan(yv).any():
            raise StatsError(f"the target has {int(np.isnan(yv).sum())} missing value(s); drop those rows first")
        return self._fit(X, yv)

    def predict(self, X) -> np.ndarray:
        """Predicted mean of the target."""
        Xn = self._transform(X)
        return np.asarray(self.gam_.predict(Xn), dtype=float)


class GAMClassifier(ClassifierMixin, _GAMBase):
    """Additive logistic model for a binary target (pygam LogisticGAM).

    Takes the same parameters as :class:`GAMRegressor`; the smoothing search minimises UBRE
    through Gu's performance iteration. Partial effects are on the log-odds scale.
    """

    _family = "binomial"

    def __sklearn_tags__(self):
        return _classifier_tags(super().__sklearn_tags__())

    def fit(self, X, y):
        """Fit on a DataFrame (or 2-D array) ``X`` and a two-class ``y``; returns self."""
        from sklearn.utils.multiclass import check_classification_targets, type_of_target

        ys = pd.Series(_target(y, type(self).__name__))
        if ys.isna().any():
            raise StatsError(f"the target has {int(ys.isna().sum())} missing value(s); drop those rows first")
        check_classification_targets(ys.to_numpy())
        classes = np.unique(ys.to_numpy())
        if len(classes) != 2:
            raise StatsError(
                f"Only binary classification is supported. The type of the target is "
                f"{type_of_target(ys.to_numpy(), raise_unknown=True)}: GAMClassifier needs a binary "
                f"target, got {len(classes)} class(es): {', '.join(map(str, classes[:10]))} "
                "(use GAMRegressor for a numeric target)"
            )
        self.classes_ = classes
        return self._fit(X, (ys.to_numpy() == classes[1]).astype(float))

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of ``classes_[0]`` and ``classes_[1]``."""
        Xn = self._transform(X)
        p = np.asarray(self.gam_.predict_mu(Xn), dtype=float)
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more probable class."""
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] > 0.5).astype(int)]


GAM = GAMRegressor
