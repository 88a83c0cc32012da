"""Task metrics, bootstrap intervals and evaluation plots."""

from modelworks.metrics._metrics import (
    HIGHER_IS_BETTER,
    PRIMARY,
    PRIMARY_KEY,
    PROBA_METRICS,
    MetricError,
    bootstrap_ci,
    metric_functions,
    predict_outputs,
    score_predictions,
)
from modelworks.metrics._plots import classification_plots, leaderboard_plot, regression_plots

__all__ = [
    "HIGHER_IS_BETTER",
    "PRIMARY",
    "PRIMARY_KEY",
    "PROBA_METRICS",
    "MetricError",
    "bootstrap_ci",
    "classification_plots",
    "leaderboard_plot",
    "metric_functions",
    "predict_outputs",
    "regression_plots",
    "score_predictions",
]
