"""Bad --out and bad column options: one line on stderr, exit 2, never a traceback."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "t.csv"
    pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60), "y": rng.normal(size=60)}).to_csv(path, index=False)
    return path


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0]
    return errors[0]


def _bad_outs(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return {"existing file": a_file, "under a file": a_file / "sub", "unwritable": "/proc/modelworks-out"}


@pytest.mark.parametrize("case", ["existing file", "under a file", "unwritable"])
def test_run_out_that_cannot_be_a_directory(case, table, tmp_path, capsys):
    out = _bad_outs(tmp_path)[case]
    code = main(["run", str(table), "--target", "y", "--out", str(out), "--models", "ridge"])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2 and str(out) in line and "--out" in line


@pytest.mark.parametrize("command", [["stats", "gam", "--target", "y"],
                                     ["stats", "mixed", "--formula", "y ~ a", "--groups", "b"]])
def test_stats_out_that_is_a_file(command, table, tmp_path, capsys):
    out = _bad_outs(tmp_path)["existing file"]
    code = main(command[:2] + [str(table)] + command[2:] + ["--out", str(out)])
    assert code == 2 and "existing file" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("option", ["--features", "--factors", "--tensor"])
def test_stats_gam_unknown_columns(option, table, tmp_path, capsys):
    value = "a,nosuch" if option == "--tensor" else "nosuch"
    code = main(["stats", "gam", str(table), "--target", "y", option, value, "--out", str(tmp_path / "o")])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2 and "nosuch" in line and option in line


def test_run_out_existing_file_in_a_real_process(table, tmp_path):
    out = _bad_outs(tmp_path)["existing file"]
    proc = subprocess.run([sys.executable, "-m", "modelworks", "run", str(table), "--target", "y", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "is an existing file" in _one_error_line(proc.stderr)
