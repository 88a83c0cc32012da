"""Ensembles: stacking, blending with weights learned on out-of-fold predictions, greedy selection.

Every ensemble is a scikit-learn estimator (classifier and regressor versions) whose members are
estimators, pipelines or model-zoo names. The test split is never used to learn weights: they
come from out-of-fold predictions on the training data. Fitted weights and members are
attributes (``names_``, ``weights_``, ``estimators_``).

:func:`ensemble` is the job behind ``modelworks ensemble``: members cross-validated on the same
folds, combined, and scored next to each member on a held-out split.

:data:`SKOPS_TRUSTED` lists the modelworks types a fitted ensemble needs when loaded with
``skops.io.load(..., trusted=...)``, in addition to the members' own types.
"""

from modelworks.ensemble._base import WeightedEnsemble, oof_predictions
from modelworks.ensemble._blend import BlendClassifier, BlendRegressor
from modelworks.ensemble._job import EnsembleResult, ensemble
from modelworks.ensemble._selection import EnsembleSelectionClassifier, EnsembleSelectionRegressor
from modelworks.ensemble._stacking import StackingClassifier, StackingRegressor
from modelworks.ensemble._weights import (
    blend,
    cross_fitted_predictions,
    ensemble_selection_weights,
    learn_blend_weights,
)

SKOPS_TRUSTED = [
    f"{cls.__module__}.{cls.__qualname__}"
    for cls in (
        BlendClassifier,
        BlendRegressor,
        EnsembleSelectionClassifier,
        EnsembleSelectionRegressor,
        StackingClassifier,
        StackingRegressor,
    )
] + ["sklearn.utils._bunch.Bunch"]  # stacking's named_estimators_

__all__ = [
    "SKOPS_TRUSTED",
    "BlendClassifier",
    "BlendRegressor",
    "EnsembleResult",
    "EnsembleSelectionClassifier",
    "EnsembleSelectionRegressor",
    "StackingClassifier",
    "StackingRegressor",
    "WeightedEnsemble",
    "blend",
    "cross_fitted_predictions",
    "ensemble",
    "ensemble_selection_weights",
    "learn_blend_weights",
    "oof_predictions",
]
