"""The default strategy works on a core install (no torch): ``bayes`` falls back to TPE."""

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest
from sklearn.tree import DecisionTreeClassifier

from modelworks.tuning import tune
from modelworks.tuning._samplers import SAMPLERS

SPACE = {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5, 20]}


def test_bayes_is_the_gaussian_process_when_torch_is_installed():
    pytest.importorskip("torch")
    assert isinstance(SAMPLERS["bayes"]({}, 0), optuna.samplers.GPSampler)


def test_bayes_without_torch_runs_tpe_and_says_so(clf_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails, as on a core install
    with pytest.warns(UserWarning, match=r"runs TPE here.*modelworks\[deep\]"):
        assert isinstance(SAMPLERS["bayes"]({}, 0), optuna.samplers.TPESampler)
    X, y = clf_data
    with pytest.warns(UserWarning, match="runs TPE here"):
        r = tune(DecisionTreeClassifier(random_state=0), X, y, space=SPACE, trials=4, cv=3)
    assert r.strategy == "bayes" and r.n_trials_completed + r.n_trials_pruned == 4
    assert 0.5 < r.best_score <= 1.0


def test_default_tune_in_a_process_where_torch_cannot_be_imported(tmp_path):
    # a fresh interpreter with torch blocked before anything imports it: the real core install
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import warnings; warnings.simplefilter('always')\n"
        "from sklearn.datasets import load_breast_cancer\n"
        "from modelworks.tuning import tune\n"
        "X, y = load_breast_cancer(return_X_y=True, as_frame=True)\n"
        "r = tune('logreg', X.iloc[:150, :5], y.iloc[:150], trials=3, cv=2)\n"
        "print('OK', r.strategy, r.n_trials_completed + r.n_trials_pruned, 'torch' in sys.modules "
        "and sys.modules['torch'] is not None)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "OK bayes 3 False"
    assert "runs TPE here" in proc.stderr and "modelworks[deep]" in proc.stderr
