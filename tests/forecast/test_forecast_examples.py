"""The forecasting examples run and print what they promise."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "forecast_arima.py": ["ma.L1", "ARIMA(1,1,1) forecast with 80% and 95% intervals", "AutoARIMA chose",
                          "coverage 80%"],
    "forecast_prophet.py": ["Prophet forecast of CO2", "co2_prophet.png", "seasonal-naive"],
    "forecast_many.py": ["6 series forecast", "mase_mean", "report: macro-forecast/report.html"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in CASES[name]:
        assert text in proc.stdout
    assert list(tmp_path.glob("*.png")) or (tmp_path / "macro-forecast" / "report.html").exists()
