"""Every tuning example runs and prints what it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_chapter_example_runs_and_resumes(tmp_path):
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    cmd = [sys.executable, str(EXAMPLES / "tuning_chapter.py"), str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "grid search: 36 configurations x 3 folds" in out
    assert "best CV accuracy: 0.9" in out
    assert (
        "Bayesian optimisation (GP): " in out
        and "held-out roc_auc of the bayes xgboost: 0.9" in out
    )
    assert "tuning_history.png" in out
    again = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=300
    )  # resumes: nothing left
    assert again.returncode == 0, again.stderr
    first_best = [line for line in out.splitlines() if "best CV accuracy" in line]
    assert first_best == [line for line in again.stdout.splitlines() if "best CV accuracy" in line]
