"""The chapter's SHAP and partial-dependence steps, with modelworks.

Chapter: ``shap.TreeExplainer(model).shap_values(X)``, ``shap.summary_plot``, ``shap.plots.bar``,
``PartialDependenceDisplay.from_estimator(model, X, [0, 1, (0, 1)])``. Here the model is a
pipeline (preprocessing + XGBoost) and the values come back in the table's own column names.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes

from modelworks.data import make_pipeline, train_test_split
from modelworks.explain import (
    estimate_cost,
    explain_model,
    partial_dependence,
    plot_partial_dependence,
)
from modelworks.models import get_model

out = Path("explain-chapter")

# --- SHAP values of an XGBoost classifier (the chapter's first example) ---------------------
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X = X.iloc[:, :10].copy()
X["size"] = np.where(X["mean radius"] > 15, "large", "small")  # a categorical column: one-hot inside
X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", seed=0)
model = make_pipeline(X_train, get_model("xgboost", "binary")).fit(X_train, y_train)

print("before running:", estimate_cost(model, X_test))
ex = explain_model(model, X_test)
print(f"explainer: {ex.explainer_name} - {ex.reason}")
print(f"values add up to the {ex.output}; shape {ex.values.shape} (columns: {len(ex.feature_names)}, "
      f"encoded features: {len(ex.shap_encoded.feature_names)})")
print("top features:")
print(ex.top_features(5).to_string(index=False))
for name, path in ex.plots(out).items():  # summary (beeswarm), bar, dependence, waterfall
    print(f"  {name:<10} -> {path}")

# --- partial dependence of a random forest regressor (the chapter's second example) -------
Xd, yd = load_diabetes(return_X_y=True, as_frame=True)
forest = make_pipeline(Xd, get_model("rf", "regression")).fit(Xd, yd)
pd_result = partial_dependence(forest, Xd, ["bmi", "bp", ("bmi", "bp")], kind="average", grid_resolution=20)
for item in pd_result.items:
    avg = item.average[0]
    print(f"PD of {item.name:<7} ({item.method}): from {avg.min():.1f} to {avg.max():.1f}")
ice = partial_dependence(forest, Xd, ["bmi"], kind="both", method="brute")
print(f"ICE of bmi: {ice['bmi'].individual.shape[1]} lines of {ice['bmi'].individual.shape[2]} points")
for name, path in {**plot_partial_dependence(pd_result, out), **plot_partial_dependence(ice, out, prefix="ice")}.items():
    print(f"  {name:<7} -> {path}")
