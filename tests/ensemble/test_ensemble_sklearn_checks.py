"""scikit-learn's own estimator checks on every modelworks ensemble (small, fast members)."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from modelworks.ensemble import (
    BlendClassifier,
    BlendRegressor,
    EnsembleSelectionClassifier,
    EnsembleSelectionRegressor,
    StackingClassifier,
    StackingRegressor,
)

CLF = [("lr", LogisticRegression(max_iter=200)), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]
REG = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))]

ESTIMATORS = [
    BlendClassifier(CLF, cv=3),
    BlendClassifier(CLF, weights=[0.3, 0.7]),
    BlendRegressor(REG, cv=3),
    EnsembleSelectionClassifier(CLF, n_iter=5, cv=3),
    EnsembleSelectionRegressor(REG, n_iter=5, cv=3),
    StackingClassifier(CLF, cv=3),
    StackingRegressor(REG, cv=3),
]


# Every check passes: no ``expected_failed_checks`` are needed. (The few checks pytest reports as
# skipped are skipped by scikit-learn itself, e.g. sample-weight checks for estimators whose
# ``fit`` takes no sample_weight.)
@parametrize_with_checks(ESTIMATORS)
def test_ensemble_follows_sklearn_contract(estimator, check):
    check(estimator)
