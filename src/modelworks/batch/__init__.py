"""Apply a saved model: batch prediction on large files and evaluation on labelled data."""

from modelworks.batch._evaluate import EvaluateJobResult, EvaluationResult, evaluate, evaluate_job
from modelworks.batch._predict import PredictResult, predict

__all__ = ["EvaluateJobResult", "EvaluationResult", "PredictResult", "evaluate", "evaluate_job", "predict"]
