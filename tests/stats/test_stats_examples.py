"""Every examples/stats_*.py runs and prints what it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_EXPECTED = {
    "stats_mixed.py": ["Mixed Linear Model Regression Results", "fixed only (new group)", "LRT random slope", "report:"],
    "stats_gam.py": ["s(age)", "held-out R^2", "classifier accuracy", "report:"],
}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(_EXAMPLES / name), str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for text in _EXPECTED[name]:
        assert text in proc.stdout
    assert (tmp_path / "report.html").exists()
