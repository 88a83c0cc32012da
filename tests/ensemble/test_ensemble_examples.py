"""Every ensemble example runs and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_chapter_example_compares_stacking_hand_and_learned_blends():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "ensemble_chapter.py")], capture_output=True,
                          text=True, timeout=180, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for label in ("stack rf+svm -> logreg", "hand blend", "learned blend", "ensemble selection"):
        assert label in out
    assert "0.40/0.40/0.20" in out
    assert "predict_proba(X)): OK" in out
