"""Test-wide settings: quiet, single-threaded, offline, headless."""

import os

for _k, _v in {
    "KERAS_BACKEND": "torch",
    "MPLBACKEND": "Agg",
    "OMP_WAIT_POLICY": "passive",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "MODELWORKS_PROGRESS": "0",
    "TQDM_DISABLE": "1",
}.items():
    os.environ.setdefault(_k, _v)

import pytest  # noqa: E402


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
