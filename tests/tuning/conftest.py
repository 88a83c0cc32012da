"""Small, fast data for the tuning tests."""

import pytest


@pytest.fixture(scope="session")
def clf_data():
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), pd.Series(y, name="y")


@pytest.fixture(scope="session")
def reg_data():
    import pandas as pd
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=100, n_features=5, noise=5.0, random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]), pd.Series(y, name="y")
