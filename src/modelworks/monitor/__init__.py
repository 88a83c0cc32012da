"""Monitoring: data drift with false-alarm control, and A/B comparison of two models.

``drift`` tests every column (KS for numeric, chi-squared for categorical, a separate test for
the missing-value rate), corrects the p-values across columns and flags a column only when it
is significant *and* its effect size (Wasserstein / SD, Jensen-Shannon, missing-rate change)
reaches a floor. ``self_test`` measures the rule's false-alarm rate on the reference itself,
``drift_over_time`` and ``drift_stream`` handle batches and files larger than memory;
``drift_job`` is the job behind ``modelworks drift`` (picks one of them, adds a self-test).
``compare_predictions`` compares two models' predictions on the same rows (McNemar, a paired
bootstrap); ``compare_estimators`` compares two unfitted estimators by repeated cross-validation
(the Nadeau-Bengio corrected resampled t-test); ``abtest`` is the job behind ``modelworks abtest``
(two saved models on a table). Their names before modelworks 0.2, ``compare_models`` and
``compare_cv``, still work until 0.3 and warn.
"""

from modelworks import _deprecation
from modelworks.monitor._abtest import METRICS, compare_predictions, corrected_ttest
from modelworks.monitor._abtest_cv import compare_estimators
from modelworks.monitor._abtest_job import abtest
from modelworks.monitor._abtest_result import ComparisonResult
from modelworks.monitor._drift import drift, drift_over_time, self_test
from modelworks.monitor._drift_job import DriftCheck, drift_job
from modelworks.monitor._reference import PreparedReference
from modelworks.monitor._results import DriftReport, DriftTimeline, SelfTestResult
from modelworks.monitor._rule import (
    CORRECTIONS,
    DEFAULT_MIN_EFFECT,
    MIN_ROWS,
    DriftRule,
    MonitorWarning,
)
from modelworks.monitor._stream import drift_stream, iter_parquet

__all__ = [
    "CORRECTIONS",
    "DEFAULT_MIN_EFFECT",
    "METRICS",
    "MIN_ROWS",
    "ComparisonResult",
    "DriftCheck",
    "DriftReport",
    "DriftRule",
    "DriftTimeline",
    "MonitorWarning",
    "PreparedReference",
    "SelfTestResult",
    "abtest",
    "compare_estimators",
    "compare_predictions",
    "corrected_ttest",
    "drift",
    "drift_job",
    "drift_over_time",
    "drift_stream",
    "iter_parquet",
    "self_test",
]


# compare_models / compare_cv: the names of compare_predictions / compare_estimators before 0.2
__getattr__ = _deprecation.forwarding(__name__)
