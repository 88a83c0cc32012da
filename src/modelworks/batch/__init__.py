"""Apply a saved model: batch prediction on large files and evaluation on labelled data."""

from modelworks.batch._evaluate import EvaluationResult, evaluate
from modelworks.batch._predict import PredictResult, predict

__all__ = ["EvaluationResult", "PredictResult", "evaluate", "predict"]
