"""Loading a scikit-learn package does not import torch (skops' trusted-type scan would)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

import modelworks.package as mp
from modelworks.data import make_pipeline
from modelworks.models import get_model


def test_loading_and_predicting_a_sklearn_package_keeps_torch_out(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.choice(["x", "y"], 80)})
    y = (X["a"] > 0).astype(int)
    path = mp.save(make_pipeline(X, get_model("logreg", "binary")).fit(X, y), tmp_path / "pkg",
                   X_sample=X, y_sample=y, task="binary")
    X.to_csv(tmp_path / "x.csv", index=False)
    code = (
        "import sys, pandas as pd, modelworks.package as mp\n"
        f"pkg = mp.load({str(path)!r})\n"
        f"print(len(pkg.predict(pd.read_csv({str(tmp_path / 'x.csv')!r}))))\n"
        "print('torch' in sys.modules)\n"
        "import torch, sklearn.externals.array_api_compat.torch  # both still import afterwards\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["80", "False"]


def _probe(env_extra: dict, code: str) -> list[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "MODELWORKS_OWN_PROCESS"} | env_extra
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()


LIBRARY_CODE = (
    "import sys\n"
    "from modelworks._imports import skops_io\n"
    "sio = skops_io()\n"
    "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names\n"
    "print('torch' in sys.modules, 'dask' in sys.modules, len(names) > 100)\n"
    "import dask, sklearn.externals.array_api_compat.dask.array  # still import afterwards\n"
)


def test_a_library_process_keeps_skops_defaults_without_torch_or_dask():
    assert _probe({}, LIBRARY_CODE) == ["False", "False", "True"]


def test_a_modelworks_process_skips_the_walk_and_loads_as_strictly(tmp_path):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y"], 60)})
    y = (X["a"] > 0).astype(int)
    path = mp.save(make_pipeline(X, get_model("hgb", "binary")).fit(X, y), tmp_path / "pkg",
                   X_sample=X, y_sample=y, task="binary")
    code = (
        "import sys, numpy as np, pandas as pd, modelworks.package as mp\n"
        f"pkg = mp.load({str(path)!r})\n"
        "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names\n"
        "X = pd.DataFrame({'a': [0.5, -0.5], 'b': ['x', 'y']})\n"
        "print(len(names), 'sklearn.datasets.tests' in sys.modules, pkg.predict(X).tolist())\n"
    )
    # the walk imports every scikit-learn module (its tests packages too); here nothing of it runs,
    # and the package still loads: the audit's own list names every type in the file
    assert _probe({"MODELWORKS_OWN_PROCESS": "1"}, code) == ["0", "False", "[1,", "0]"]
