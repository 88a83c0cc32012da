"""Small data and fitted models shared by the explain tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cancer():
    """Breast cancer, 6 numeric columns + one categorical, 200 rows (binary)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:200, :6].copy()
    X.columns = ["radius", "texture", "perimeter", "area", "smoothness", "compactness"]
    X["size"] = np.where(X["radius"] > 15, "large", np.where(X["texture"] > 20, "rough", "small"))
    return X, y.iloc[:200]


@pytest.fixture(scope="session")
def diabetes():
    """Diabetes, 5 numeric columns (regression)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X[["age", "bmi", "bp", "s1", "s5"]], y


@pytest.fixture(scope="session")
def wine():
    """Wine, 5 numeric columns, 3 classes."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    return X.iloc[:, :5], pd.Series(np.array(["a", "b", "c"])[y], name="kind")
