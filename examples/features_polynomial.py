"""The chapter's polynomial and interaction features, inside a pipeline, with readable names.

Run: python examples/features_polynomial.py
"""

from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from modelworks.features import PolynomialFeatures

X, y = load_diabetes(return_X_y=True, as_frame=True)

# interaction terms only (bmi*bp, ...), as in the chapter, but named and guarded against explosions
poly = PolynomialFeatures(degree=2, interaction_only=True, max_output=200)
print(f"{X.shape[1]} columns -> {poly.fit_transform(X).shape[1]} columns, e.g. {list(poly.get_feature_names_out()[10:13])}")

plain = cross_val_score(LinearRegression(), X, y, cv=5).mean()
pipeline = Pipeline([("poly", PolynomialFeatures(columns=["bmi", "bp", "s5"], degree=2)), ("model", LinearRegression())])
expanded = cross_val_score(pipeline, X, y, cv=5).mean()
print(f"linear regression R^2: {plain:.3f}; with degree-2 terms of bmi, bp, s5: {expanded:.3f}")
