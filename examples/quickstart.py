"""Quickstart: the main job on a shipped dataset, then apply the model to new data.

Run: python examples/quickstart.py [OUT_DIR]
"""

import sys
import tempfile
from pathlib import Path

import modelworks
from modelworks.workflow import demo_data

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "quickstart"

# a table with a target column (breast cancer: malignant vs benign, ships with scikit-learn)
frame, target = demo_data("breast_cancer")

# 1. a cross-validated leaderboard
comparison = modelworks.rank_models(frame, target, models=["logreg", "rf", "hgb"], cv=5)
print(comparison.leaderboard[["model", "roc_auc_mean", "roc_auc_std", "accuracy_mean"]].to_string(index=False))

# 2. the main job within a time budget: search (portfolio, then model-based), ensemble, evaluate,
#    explain, package, monitor, report; result.leaderboard has the tie groups ("rank_group")
result = modelworks.run(frame, target, out_dir=out, models=["logreg", "rf", "hgb"], time_budget=30)
print(f"final model: {result.model_name}; held-out ROC AUC {result.test_scores['roc_auc']:.3f}")
print(f"report: {result.report_path}")

# 3. predictions and an evaluation with confidence intervals
new_rows = frame.drop(columns=target).sample(5, random_state=0)
print(modelworks.predict(result.model, new_rows, proba=True).predictions)
evaluation = modelworks.evaluate(result.model, frame.sample(200, random_state=1), target)
low, high = evaluation.intervals["accuracy"]
print(f"accuracy {evaluation.metrics['accuracy']:.3f} (95% CI {low:.3f}-{high:.3f})")
