"""Small real series for the forecasting tests (shipped with statsmodels: no download)."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def co2_monthly():
    """Mauna Loa CO2, monthly means, the last 8 years (96 points, strong trend + season)."""
    import statsmodels.api as sm

    weekly = sm.datasets.co2.load_pandas().data["co2"]
    y = weekly.resample("MS").mean().interpolate().iloc[-96:]
    y.name = "co2"
    return y


@pytest.fixture(scope="session")
def nile():
    """Annual flow of the Nile, 1871-1970 (100 points, no season)."""
    import statsmodels.api as sm

    d = sm.datasets.nile.load_pandas().data
    return pd.Series(d["volume"].to_numpy(), index=pd.to_datetime(d["year"].astype(int).astype(str)),
                     name="nile")


@pytest.fixture(scope="session")
def random_walk():
    """A long Gaussian random walk (daily), where naive intervals are exactly right."""
    rng = np.random.default_rng(42)
    idx = pd.date_range("2000-01-01", periods=600, freq="D")
    return pd.Series(np.cumsum(rng.normal(size=600)) + 100, index=idx, name="rw")
