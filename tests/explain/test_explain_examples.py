"""The explain examples run and print what they promise (explain_chapter.py, explain_ensemble.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(name: str, cwd: Path) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_chapter_example_explains_xgboost_and_draws_pdp(tmp_path):
    out = _run("explain_chapter.py", tmp_path)
    assert "explainer: tree" in out and "top features:" in out
    assert "PD of bmi:bp" in out and "ICE of bmi: 442 lines of 20 points" in out
    assert len(list((tmp_path / "explain-chapter").glob("*.png"))) == 8


@pytest.mark.slow
def test_ensemble_example_matches_exact_shapley_values(tmp_path):
    out = _run("explain_ensemble.py", tmp_path)
    assert "ensemble-linear" in out
    line = next(s for s in out.splitlines() if "ExactExplainer on the blend" in s)
    assert float(line.rsplit("=", 1)[1]) < 1e-3
    assert "max |difference| = 0.0e+00" in out
