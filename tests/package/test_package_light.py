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
