"""Statistical models: linear mixed-effects models and generalized additive models.

:class:`MixedModel` wraps statsmodels' MixedLM; :class:`GAMRegressor` / :class:`GAMClassifier`
(``GAM`` is the regressor) wrap pygam with a faster automatic smoothing search. All are
scikit-learn estimators that can be saved with skops (``trusted=SKOPS_TRUSTED``).
"""

from modelworks.stats._common import FitConvergenceWarning, StatsWarning
from modelworks.stats._gam import GAM, GAMClassifier, GAMRegressor
from modelworks.stats._mixed import LRTResult, MixedModel

__all__ = [
    "FitConvergenceWarning",
    "GAM",
    "GAMClassifier",
    "GAMRegressor",
    "LRTResult",
    "MixedModel",
    "StatsWarning",
]
