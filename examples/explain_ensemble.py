"""Explain a blend exactly by linearity, and check it against shap's model-agnostic explainer.

A blend outputs ``sum_i w_i f_i(x)``. Interventional SHAP values are linear in the model, so the
blend's values are the weighted sum of its members' TreeSHAP values against one shared background.
"""

import time

import numpy as np
import pandas as pd
import shap
from sklearn.datasets import load_diabetes

from modelworks.ensemble import BlendRegressor
from modelworks.explain import explain_model, partial_dependence
from modelworks.models import get_model

X, y = load_diabetes(return_X_y=True, as_frame=True)
X = X[["age", "bmi", "bp", "s1", "s5", "s6"]]
members = [get_model(name, "regression").set_params(n_estimators=60).fit(X, y)
           for name in ("xgboost", "lightgbm", "rf")]
blend = BlendRegressor.from_fitted(["xgboost", "lightgbm", "rf"], members, [0.4, 0.4, 0.2])

background = X.sample(30, random_state=0)
rows = X.iloc[:20]
t0 = time.perf_counter()
ex = explain_model(blend, rows, background=background)
ours = time.perf_counter() - t0
print(f"modelworks: {ex.explainer_name} in {ours:.2f} s")
print(f"  {ex.reason}")

# the reference: exact Shapley values of the whole blend over the same background (2**6 coalitions)
def f(A):
    return blend.predict(pd.DataFrame(A, columns=X.columns))

t0 = time.perf_counter()
exact = shap.explainers.ExactExplainer(f, shap.maskers.Independent(background.to_numpy(), max_samples=30))(
    rows.to_numpy(), silent=True)
ref = time.perf_counter() - t0
print(f"shap ExactExplainer on the blend: {ref:.2f} s; max |difference| = "
      f"{np.abs(exact.values - ex.values).max():.2e}")

pd_blend = partial_dependence(blend, X, ["bmi"], method="brute")
parts = [partial_dependence(m, X, ["bmi"], method="brute")["bmi"].average for m in members]
combined = sum(w * p for w, p in zip(blend.weights_, parts))
print(f"PD of the blend = weighted sum of the members' PD: max |difference| = "
      f"{np.abs(pd_blend['bmi'].average - combined).max():.1e}")
