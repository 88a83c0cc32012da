"""Every examples/monitor_*.py runs and prints its findings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "MODELWORKS_PROGRESS": "0", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_drift_example_shows_the_chapter_rule_crying_wolf_and_modelworks_finding_the_real_shift(
    tmp_path,
):
    out = _run("monitor_drift.py", str(tmp_path))
    assert "week 1   ALARM" in out  # the chapter's rule fires with no drift...
    assert "DRIFT income, plan" in out  # ...modelworks flags the real changes
    assert "first at week 5" in out
    assert (tmp_path / "drift-over-time.png").exists()


def test_abtest_example_prints_verdicts_for_every_test():
    out = _run("monitor_abtest.py")
    assert "[mcnemar exact]" in out or "[mcnemar chi2]" in out
    assert "[paired bootstrap]" in out and "Nadeau-Bengio" in out
