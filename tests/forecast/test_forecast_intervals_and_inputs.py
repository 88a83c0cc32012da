"""Box-Cox, automatic calibration, inferred columns, exogenous regressors from a future file,
the Prophet plotly notice, many series with a progress bar, and a real Dask cluster."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main
from modelworks.exceptions import ForecastError
from modelworks.forecast import AutoARIMA, forecast, forecast_series


@pytest.fixture(scope="module")
def growing():
    """Monthly series whose seasonal swings grow with its level (multiplicative)."""
    rng = np.random.default_rng(3)
    n = 96
    t = np.arange(n)
    y = np.exp(3 + 0.02 * t + 0.15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.03, n))
    return pd.Series(y, index=pd.date_range("2015-01-01", periods=n, freq="MS"), name="sales")


def test_box_cox_auto_picks_a_log_like_lambda_and_back_transforms(growing):
    model = AutoARIMA(box_cox="auto").fit(growing)
    assert model.lambda_ is not None and -0.5 < model.lambda_ < 0.5
    assert "Box-Cox" in model.label()
    fc = model.predict(12)
    # intervals are skewed upwards on the original scale, and the forecast is on that scale
    assert ((fc["upper_95"] - fc["forecast"]) > (fc["forecast"] - fc["lower_95"])).all()
    assert fc["forecast"].between(growing.min() * 0.5, growing.max() * 2).all()
    plain = AutoARIMA().fit(growing)
    assert plain.lambda_ is None and "Box-Cox" not in plain.label()


def test_box_cox_is_skipped_for_non_positive_data_and_checked(growing):
    shifted = growing - growing.mean()
    assert AutoARIMA(box_cox="auto", seasonal=False).fit(shifted).lambda_ is None
    with pytest.raises(ForecastError, match="box_cox must be None, 'auto' or a number"):
        AutoARIMA(box_cox="sqrt").fit(growing)
    with pytest.raises(ForecastError, match="approximation must be True, False or None"):
        AutoARIMA(approximation="yes").fit(growing)


def test_approximate_search_and_exact_search_both_fit(growing):
    approx = AutoARIMA(approximation=True).fit(growing)
    exact = AutoARIMA(approximation=False).fit(growing)
    for m in (approx, exact):
        assert m.seasonal_order_[3] == 12
        assert np.isfinite(m.predict(6)["forecast"]).all()


def test_the_backtest_decides_on_box_cox_and_on_calibration(growing):
    res = forecast_series(growing, horizon=6, model="auto-arima", backtest_folds=3)
    board = res.leaderboard.set_index("model")
    assert board.loc["auto-arima", "box_cox"] in ("kept", "rejected")
    kept = board.loc["auto-arima", "box_cox"] == "kept"
    assert ("Box-Cox" in res.label) == kept
    assert res.intervals in ("model", "calibrated")
    assert ("(calibrated)" in res.label) == (res.intervals == "calibrated")
    assert board.loc["auto-arima", "intervals"] == res.intervals
    # never: the model's own intervals, and no Box-Cox trial
    res = forecast_series(growing, horizon=6, model="auto-arima", backtest_folds=2,
                          calibrate=False, box_cox=None)
    assert res.intervals == "model" and "Box-Cox" not in res.label
    assert "box_cox" not in res.leaderboard


def test_a_kept_box_cox_transform_refits_the_untransformed_search_as_backtested(growing,
                                                                              monkeypatch):
    from modelworks.forecast import _select

    monkeypatch.setattr(_select, "_prefers_box_cox", lambda *a: True)
    res = forecast_series(growing, horizon=6, model="auto-arima", backtest_folds=3,
                          calibrate=False)
    plain = AutoARIMA().fit(growing)
    assert res.leaderboard.set_index("model").loc["auto-arima", "box_cox"] == "kept"
    assert res.label.startswith(plain.label() + ", Box-Cox ")  # same orders and constant
    assert np.all(res.forecast["lower_80"] < res.forecast["upper_80"])
    assert np.all(res.forecast["forecast"].between(res.forecast["lower_80"],
                                                   res.forecast["upper_80"]))


def test_coverage_table_shows_nominal_and_delivered(growing):
    res = forecast(growing, horizon=6, model="seasonal-naive", backtest=4)
    cov = res.coverage().set_index("level")
    assert list(cov.index) == [80, 95]
    assert cov.loc[95, "nominal"] == 0.95
    chosen = res.leaderboard[res.leaderboard["selected"]].iloc[0]
    col = "calibrated_coverage_95" if chosen["intervals"] == "calibrated" else "coverage_95"
    assert cov.loc[95, "delivered"] == pytest.approx(chosen[col])
    payload = res.to_dict()
    assert [row["level"] for row in payload["coverage"]] == [80, 95]
    assert payload["intervals"] == {"sales": chosen["intervals"]}


@pytest.fixture(scope="module")
def files(tmp_path_factory, growing):
    d = tmp_path_factory.mktemp("fc17")
    rng = np.random.default_rng(5)
    n, h = 60, 6
    idx = pd.date_range("2020-01-01", periods=n + h, freq="MS")
    promo = rng.integers(0, 2, n + h).astype(float)
    y = 50 + 20 * promo + rng.normal(0, 0.5, n + h)
    pd.DataFrame({"month": idx[:n].strftime("%Y-%m-%d"), "promo": promo[:n], "units": y[:n]}).to_csv(
        d / "exog.csv", index=False)
    pd.DataFrame({"month": idx[n:].strftime("%Y-%m-%d"), "promo": promo[n:]}).to_csv(
        d / "future.csv", index=False)
    pd.DataFrame({"month": idx[n:].strftime("%Y-%m-%d")}).to_csv(d / "future_bad.csv", index=False)
    pd.DataFrame({"when": growing.index.strftime("%Y-%m-%d"), "store": "A",
                  "sales": growing.to_numpy()}).to_csv(d / "one.csv", index=False)
    pd.DataFrame({"when": growing.index.strftime("%Y-%m-%d"), "a": growing.to_numpy(),
                  "b": growing.to_numpy()}).to_csv(d / "two.csv", index=False)
    return d, promo[n:]


def test_cli_infers_time_and_target_and_says_so(files, tmp_path, capsys):
    d, _ = files
    code = main(["forecast", str(d / "one.csv"), "--horizon", "3", "--model", "seasonal-naive",
                 "--backtest", "0", "--out", str(tmp_path / "o")])
    assert code == 0
    err = capsys.readouterr().err
    assert "using time column 'when' and target column 'sales' (inferred" in err
    assert main(["forecast", str(d / "two.csv"), "--horizon", "3", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "cannot tell which column to forecast (several numeric columns: a, b)" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_cli_exog_with_future_values(files, tmp_path, capsys):
    d, promo_future = files
    out = tmp_path / "o"
    code = main(["forecast", str(d / "exog.csv"), "--time", "month", "--target", "units",
                 "--exog", "promo", "--future", str(d / "future.csv"), "--horizon", "6",
                 "--model", "arima", "--order", "0,0,0", "--backtest", "2", "--json",
                 "--out", str(out)])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["columns"]["target"] == "units"
    fc = pd.read_csv(out / "forecasts.csv")
    np.testing.assert_allclose(fc["forecast"], 50 + 20 * promo_future, atol=1.5)
    assert main(["forecast", str(d / "exog.csv"), "--exog", "promo", "--future",
                 str(d / "future_bad.csv"), "--horizon", "6", "--model", "arima",
                 "--out", str(out)]) == 2
    assert "the future file lacks column(s) promo" in capsys.readouterr().err
    assert main(["forecast", str(d / "exog.csv"), "--exog", "promo", "--horizon", "6",
                 "--model", "naive", "--out", str(out)]) == 2
    assert "does not use exogenous regressors" in capsys.readouterr().err


def test_prophet_plotly_notice_never_reaches_the_user(files, tmp_path):
    d, _ = files
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "modelworks", "forecast", str(d / "one.csv"),
                           "--horizon", "3", "--model", "prophet", "--backtest", "0",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Importing plotly failed" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines()[0].startswith("using time column 'when'")
    assert "1 series forecast" in proc.stdout
    # without modelworks' filter prophet does print it here (plotly is not installed)
    bare = subprocess.run([sys.executable, "-c", "import prophet"], capture_output=True,
                          text=True, env=env, timeout=120)
    if "Importing plotly failed" not in bare.stderr:
        pytest.skip("plotly is installed here: prophet has no notice to silence")


def _many(n_series: int, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    idx = pd.date_range("2021-01-01", periods=n, freq="MS")
    return pd.concat([pd.DataFrame({"t": idx, "sku": f"s{i:02d}",
                                    "q": 10 + i + np.cumsum(rng.normal(0, 1, n))})
                      for i in range(n_series)], ignore_index=True)


def test_many_series_show_a_progress_bar(tmp_path, capsys):
    path = tmp_path / "many.csv"
    _many(12).to_csv(path, index=False)
    code = main(["forecast", str(path), "--id", "sku", "--horizon", "3", "--model", "naive",
                 "--backtest", "1", "--jobs", "1", "--progress", "--out", str(tmp_path / "o")])
    assert code == 0
    captured = capsys.readouterr()
    assert "forecasting" in captured.err and "12/12" in captured.err
    assert "12 series forecast" in captured.out


def test_many_series_on_a_local_dask_cluster_match_local_processes(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    frame = _many(6)
    local = forecast(frame, time="t", target="q", id="sku", horizon=3, model="drift",
                     backtest=2, n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="1GiB") as cluster:
        remote = forecast(frame, time="t", target="q", id="sku", horizon=3, model="drift",
                          backtest=2, dask=cluster.scheduler_address)
        # AutoARIMA alone (no backtest) goes through statsforecast's own Dask backend (fugue)
        small = frame[frame["sku"].isin(["s00", "s01", "s02"])]
        native = forecast(small, time="t", target="q", id="sku", horizon=3, model="auto-arima",
                          backtest=0, dask=cluster.scheduler_address,
                          model_options={"seasonal": False})
        path = tmp_path / "many.csv"
        frame.to_csv(path, index=False)
        code = main(["forecast", str(path), "--id", "sku", "--horizon", "3", "--model", "drift",
                     "--backtest", "1", "--dask", cluster.scheduler_address, "--out",
                     str(tmp_path / "o")])
    pd.testing.assert_frame_equal(local.forecasts, remote.forecasts)
    here = forecast(small, time="t", target="q", id="sku", horizon=3, model="auto-arima",
                    backtest=0, n_jobs=1, model_options={"seasonal": False})
    assert set(native.forecasts["model"]) == {"AutoARIMA (statsforecast on Dask)"}
    cols = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    np.testing.assert_allclose(native.forecasts[cols].to_numpy(), here.forecasts[cols].to_numpy(),
                               rtol=1e-6)
    assert [s.id for s in remote.series] == [f"s{i:02d}" for i in range(6)]
    assert code == 0 and "6 series forecast" in capsys.readouterr().out


def test_unreachable_dask_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("modelworks.forecast._parallel.DASK_CONNECT_TIMEOUT", "2s")
    with pytest.raises(ForecastError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"):
        forecast(_many(2), time="t", target="q", id="sku", horizon=3, model="naive",
                 backtest=0, dask="tcp://127.0.0.1:1")
