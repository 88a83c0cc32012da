"""Every deep-learning example runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(("name", "expected"), [
    ("deep_custom_layers.py", "identical predictions = True"),
    ("deep_keras_mlp.py", "identical probabilities = True"),
    pytest.param("deep_transfer.py", "from scratch (same network, same epochs)",
                 marks=pytest.mark.slow),
])
def test_example_runs(name, expected):
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert expected in proc.stdout
