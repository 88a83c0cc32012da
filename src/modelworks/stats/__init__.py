"""Statistical models: linear mixed-effects models and generalized additive models.

:class:`MixedModel` wraps statsmodels' MixedLM; :class:`GAMRegressor` (alias ``GAM``) and
:class:`GAMClassifier` wrap pygam with a faster automatic smoothing search. All are
scikit-learn estimators and can be saved with skops. :func:`mixed` and :func:`gam` are the jobs
behind ``modelworks stats mixed|gam``: fit on a table and return a :class:`StatsResult` that
writes the report and the model::

    import skops.io as sio
    model = sio.loads(sio.dumps(model), trusted=SKOPS_TRUSTED)
"""

from modelworks.stats._common import FitConvergenceWarning, StatsWarning
from modelworks.stats._gam import GAM, GAMClassifier, GAMRegressor
from modelworks.stats._jobs import StatsResult, gam, mixed
from modelworks.stats._mixed import LRTResult, MixedModel
from modelworks.stats._plots import plot_caterpillar, plot_partial_effects, plot_residuals
from modelworks.stats._report import report_section

#: Type names (beyond numpy/scikit-learn) that skops must trust to load a fitted stats model.
#: The statsmodels result object is never saved (``MixedModel.summary()`` keeps its text).
SKOPS_TRUSTED = [
    "modelworks.stats._mixed.MixedModel",
    "modelworks.stats._gam.GAMRegressor",
    "modelworks.stats._gam.GAMClassifier",
    "pygam.pygam.LinearGAM",
    "pygam.pygam.LogisticGAM",
    "pygam.terms.TermList",
    "pygam.terms.SplineTerm",
    "pygam.terms.FactorTerm",
    "pygam.terms.TensorTerm",
    "pygam.terms.Intercept",
    "pygam.distributions.NormalDist",
    "pygam.distributions.BinomialDist",
    "pygam.links.IdentityLink",
    "pygam.links.LogitLink",
    "pygam.callbacks.Deviance",
    "pygam.callbacks.Diffs",
    "pygam.callbacks.Accuracy",
]

__all__ = [
    "SKOPS_TRUSTED",
    "FitConvergenceWarning",
    "GAM",
    "GAMClassifier",
    "GAMRegressor",
    "LRTResult",
    "MixedModel",
    "StatsResult",
    "StatsWarning",
    "gam",
    "mixed",
    "plot_caterpillar",
    "plot_partial_effects",
    "plot_residuals",
    "report_section",
]
