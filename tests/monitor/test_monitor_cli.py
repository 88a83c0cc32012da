"""``modelworks drift`` and ``modelworks abtest`` on real files, in-process and as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from modelworks.cli import main

MODELWORKS = Path(sys.executable).with_name("modelworks")


@pytest.fixture
def files(tmp_path, rng):
    n = 1000

    def frame(shift):
        return pd.DataFrame(
            {
                "x": rng.normal(shift, 1, n),
                "y": rng.exponential(size=n),
                "c": rng.choice(list("abc"), n),
            }
        )

    ref, same, moved = frame(0), frame(0), frame(0.5)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    same.to_csv(tmp_path / "same.csv", index=False)
    moved.to_parquet(tmp_path / "moved.parquet")
    return tmp_path


def test_drift_exits_0_without_drift_and_1_with_drift(files, capsys):
    assert main(["drift", str(files / "ref.csv"), str(files / "same.csv")]) == 0
    out = capsys.readouterr().out
    assert "No drift in 3 columns" in out
    assert main(["drift", str(files / "ref.csv"), str(files / "moved.parquet")]) == 1
    assert "Drift in 1 of 3 columns: x" in capsys.readouterr().out


def test_drift_json_and_out_directory(files, capsys):
    out = files / "report"
    code = main(
        [
            "drift",
            str(files / "ref.csv"),
            str(files / "moved.parquet"),
            "--json",
            "--out",
            str(out),
            "--correction",
            "holm",
            "--min-effect",
            "numeric=0.2,categorical=0.1",
            "--self-test",
            "20",
        ]
    )
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["drifted"] == ["x"] and payload["rule"]["correction"] == "holm"
    assert payload["rule"]["min_effect"] == {"numeric": 0.2, "categorical": 0.1, "missing": 0.02}
    assert payload["self_test"]["repeats"] == 20
    assert json.loads((out / "drift.json").read_text())["verdict"] == payload["verdict"]
    assert "column,kind,status" in (out / "drift.csv").read_text()
    assert "Drift in 1 of 3 columns" in (out / "report.html").read_text()
    assert any(p.name.endswith("distributions.png") for p in (out / "plots").iterdir())


def test_drift_over_time_by_column_and_streaming(files, capsys, rng):
    data = pd.concat(
        [
            pd.read_csv(files / "same.csv").assign(month="m1"),
            pd.read_parquet(files / "moved.parquet").assign(month="m2"),
        ]
    )
    data.to_csv(files / "months.csv", index=False)
    assert main(["drift", str(files / "ref.csv"), str(files / "months.csv"), "--by", "month"]) == 1
    out = capsys.readouterr().out
    assert "Drift in 1 of 2 batches, first at m2" in out
    assert (
        main(["drift", str(files / "ref.csv"), str(files / "moved.parquet"), "--stream", "--json"])
        == 1
    )
    assert json.loads(capsys.readouterr().out)["approximate"] is True


@pytest.mark.parametrize(
    "args,message",
    [
        (["drift", "nope.csv", "{same}"], "reference file not found: nope.csv"),
        (["drift", "{ref}", "{same}", "--correction", "fdr"], "invalid choice: 'fdr'"),
        (["drift", "{ref}", "{same}", "--alpha", "2"], "expected a number between 0 and 1"),
        (
            ["drift", "{ref}", "{same}", "--columns", "x,zzz"],
            "column(s) zzz not in the reference data",
        ),
        (["drift", "{ref}", "{bad}"], "column 'x' is numeric"),
        (
            ["drift", "{ref}", "{same}", "--stream", "--by", "c"],
            "already streamed; drop --stream",
        ),
        (
            ["abtest", "{same}", "--target", "nope", "--model-a", "a", "--model-b", "b"],
            "target column 'nope' not found",
        ),
    ],
)
def test_user_errors_exit_2_with_one_line(files, capsys, args, message):
    pd.DataFrame({"x": ["a", "b"], "y": [1.0, 2.0], "c": ["a", "b"]}).to_csv(
        files / "bad.csv", index=False
    )
    fmt = {
        "ref": str(files / "ref.csv"),
        "same": str(files / "same.csv"),
        "bad": str(files / "bad.csv"),
    }
    try:
        code = main([a.format(**fmt) for a in args])
    except SystemExit as e:  # argparse rejects bad option values itself
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_drift_runs_as_a_real_command(files):
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    done = subprocess.run(
        [str(MODELWORKS), "drift", str(files / "ref.csv"), str(files / "moved.parquet"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["drifted"] == ["x"]
    helped = subprocess.run(
        [str(MODELWORKS), "drift", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert (
        helped.returncode == 0
        and "exit codes: 0 no drift, 1 drift detected, 2 user error" in helped.stdout
    )
