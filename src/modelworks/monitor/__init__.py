"""Monitoring: data drift with false-alarm control, and A/B comparison of two models.

``drift`` tests every column (KS for numeric, chi-squared for categorical, a separate test for
the missing-value rate), corrects the p-values across columns and flags a column only when it
is significant *and* its effect size (Wasserstein / SD, Jensen-Shannon, missing-rate change)
reaches a floor. ``self_test`` measures the rule's false-alarm rate on the reference itself,
``drift_over_time`` and ``drift_stream`` handle batches and files larger than memory.
``compare_models`` and ``compare_cv`` compare two models with McNemar, a paired bootstrap or the
Nadeau-Bengio corrected resampled t-test.
"""

from modelworks.monitor._abtest import (
    METRICS,
    ComparisonResult,
    compare_cv,
    compare_models,
    corrected_ttest,
)
from modelworks.monitor._drift import drift, drift_over_time, self_test
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
    "DriftReport",
    "DriftRule",
    "DriftTimeline",
    "MonitorWarning",
    "PreparedReference",
    "SelfTestResult",
    "compare_cv",
    "compare_models",
    "corrected_ttest",
    "drift",
    "drift_over_time",
    "drift_stream",
    "iter_parquet",
    "self_test",
]
