"""Every deploy_* example runs and prints what it did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"

EXPECTED = {
    "deploy_package.py": ["reloaded predictions identical: True", "tampered package refused: IntegrityError",
                          "# Model card"],
    "deploy_registry.py": ["registered models:/breast-cancer-rf/2", "champion: version", "mlflow ui"],
    "deploy_serve.py": ["POST /predict -> 200", "bad request -> 422: missing columns", "exit code 0"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in EXPECTED[name]:
        assert text in proc.stdout, proc.stdout
