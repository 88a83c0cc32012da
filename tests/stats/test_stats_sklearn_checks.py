"""scikit-learn's own estimator checks on the GAM estimators (usable in tuning and ensembles)."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from modelworks.stats import GAMClassifier, GAMRegressor

_TOO_FEW_ROWS = (
    "by design: fewer rows than spline coefficients is a StatsError (the checks use 10-50 rows "
    "and up to 10 features)"
)
_EXPECTED = {
    name: _TOO_FEW_ROWS
    for name in ("check_n_features_in_after_fitting", "check_estimators_dtypes",
                 "check_regressors_no_decision_function", "check_regressors_int")
}


@pytest.mark.filterwarnings("ignore")
@parametrize_with_checks([GAMRegressor(n_splines=5), GAMClassifier(n_splines=5)],
                         expected_failed_checks=lambda est: _EXPECTED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
