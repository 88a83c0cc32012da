"""Helpers for the explain tests (imported by name: tests/explain is on sys.path)."""

from __future__ import annotations

import pandas as pd


def small(name: str, task: str, **params):
    """A zoo model with few trees (tests stay fast)."""
    from modelworks.models import get_model

    model = get_model(name, task)
    trees = {"n_estimators": 30} if "n_estimators" in model.get_params() else {}
    if "max_iter" in model.get_params() and name == "hgb":
        trees = {"max_iter": 30}
    return model.set_params(**{**trees, **params})


def pipe(X, y, name: str, task: str):
    from modelworks.data import make_pipeline

    return make_pipeline(X, small(name, task)).fit(X, y)


def exact_reference(f, rows: pd.DataFrame, background: pd.DataFrame):
    """shap's ExactExplainer on a function of the original columns (numeric data only)."""
    import shap

    masker = shap.maskers.Independent(background.to_numpy(dtype=float), max_samples=len(background))
    cols = list(rows.columns)

    def g(A):
        return f(pd.DataFrame(A, columns=cols))

    return shap.explainers.ExactExplainer(g, masker)(rows.to_numpy(dtype=float), silent=True)
