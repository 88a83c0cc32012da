"""``modelworks forecast`` in-process and as a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).with_name("modelworks")


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fc")
    rng = np.random.default_rng(0)
    idx = pd.date_range("2019-01-01", periods=40, freq="MS")
    rows = []
    for sid, level in (("north", 100.0), ("south", 40.0)):
        vals = level + 5 * np.sin(2 * np.pi * np.arange(40) / 12) + rng.normal(0, 1, 40)
        rows.append(pd.DataFrame({"date": idx.strftime("%Y-%m-%d"), "region": sid, "sales": vals.round(2)}))
    long = pd.concat(rows)
    long.to_csv(d / "long.csv", index=False)
    long[long.region == "north"].drop(columns="region").to_csv(d / "one.csv", index=False)
    bad = long[long.region == "north"].drop(columns="region").copy()
    bad.iloc[3, 0] = "2019-04-31"
    bad.to_csv(d / "bad_dates.csv", index=False)
    return d


def test_forecast_many_series_writes_csv_plots_and_report(csv_files, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["forecast", str(csv_files / "long.csv"), "--time", "date", "--target", "sales",
                 "--id", "region", "--horizon", "4", "--model", "seasonal-naive", "--backtest", "2",
                 "--out", str(out), "--json", "--jobs", "1", "--calibrate", "never"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["intervals"] == {"north": "model", "south": "model"}
    assert [row["level"] for row in payload["coverage"]] == [80, 95]
    assert payload["n_series"] == 2 and payload["selected"] == {"north": "seasonal-naive",
                                                               "south": "seasonal-naive"}
    fc = pd.read_csv(out / "forecasts.csv")
    assert list(fc.columns) == ["region", "time", "model", "forecast", "lower_80", "upper_80",
                                "lower_95", "upper_95"]
    assert len(fc) == 8 and fc["time"].iloc[0] == "2022-05-01"
    assert (out / "plots" / "forecast-north.png").stat().st_size > 1000
    assert (out / "plots" / "forecast-south.png").exists()
    html = (out / "report.html").read_text()
    assert "Forecast" in html and "Interval coverage" in html and "drift" in html  # baselines shown
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["model"]) == {"seasonal-naive", "naive", "drift"}


def test_forecast_auto_prints_the_model_table(csv_files, tmp_path, capsys):
    code = main(["forecast", str(csv_files / "one.csv"), "--time", "date", "--target", "sales",
                 "--horizon", "3", "--backtest", "2", "--out", str(tmp_path / "o")])
    assert code == 0
    out = capsys.readouterr().out
    assert "1 series forecast 3 period(s) ahead" in out
    assert "mase_mean" in out and "seasonal-naive" in out and "auto-arima" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--horizon", "0"], "horizon must be > 0 periods, got 0"),
    (["--horizon", "3", "--target", "revenue"], "target column 'revenue' not found; columns are: date, sales (use --target NAME)"),
    (["--horizon", "3", "--model", "arima", "--order", "1,1"], "--order must be 3 whole numbers"),
    (["--horizon", "3", "--backtest", "20"], "fewer folds: lower --backtest"),
])
def test_user_errors_exit_2_with_one_line(csv_files, tmp_path, capsys, extra, message):
    args = ["forecast", str(csv_files / "one.csv"), "--time", "date", "--target", "sales",
            "--out", str(tmp_path / "o"), "--model", "naive", *extra]
    with pytest.raises(SystemExit) if "--order" in message else _nothing():
        code = main(args)
        assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_subprocess_reports_unparseable_dates(csv_files, tmp_path):
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    proc = subprocess.run([str(EXE), "forecast", str(csv_files / "bad_dates.csv"), "--time", "date",
                           "--target", "sales", "--horizon", "3", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "row 3 ('2019-04-31')" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: time column 'date' has 1 value(s)")


def test_subprocess_help_lists_the_options():
    proc = subprocess.run([str(EXE), "forecast", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--time", "--target", "--id", "--horizon", "--model", "--order", "--seasonal-period",
                 "--backtest", "--out", "--json", "--fill"):
        assert flag in proc.stdout


def test_calibrate_flag_calibrates_the_chosen_model(csv_files, tmp_path, capsys):
    out = tmp_path / "cal"
    code = main(["forecast", str(csv_files / "one.csv"), "--time", "date", "--target", "sales",
                 "--horizon", "3", "--model", "seasonal-naive", "--backtest", "4", "--calibrate",
                 "--out", str(out), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["calibrated"] is True
    assert payload["selected"] == {"sales": "seasonal-naive (calibrated)"}
    html = (out / "report.html").read_text()
    assert "calibrated (cross-fold)" in html
