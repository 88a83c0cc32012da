"""Too few rows never reads as "no drift": the column is untestable, the minimum is stated."""

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main
from modelworks.monitor import MIN_ROWS, MonitorWarning, drift


@pytest.fixture(scope="module")
def ref():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600),
                         "c": rng.choice(["x", "y", "z"], 600)})


def test_one_shifted_row_is_untestable_not_no_drift(ref):
    cur = pd.DataFrame({"a": [2.5], "b": [-3.0], "c": ["x"]})  # 2.5 and 3 SD away
    with pytest.warns(MonitorWarning, match="at least 20"):
        report = drift(ref, cur)
    assert report.untestable == ["a", "b", "c"]
    assert set(report.table["status"]) == {"untestable"}
    assert report.table["effect"].isna().all() and report.table["p_value"].isna().all()
    assert not report.verdict.startswith("No drift")
    assert "could not be tested" in report.verdict and "at least 20" in report.verdict
    assert "Kolmogorov-Smirnov" in report.verdict and "chi-squared" in report.verdict


@pytest.mark.parametrize("n", [MIN_ROWS["ks"] - 1, MIN_ROWS["ks"]])
def test_the_minimum_is_the_boundary(ref, n):
    cur = ref.iloc[:n]
    if n < MIN_ROWS["ks"]:
        with pytest.warns(MonitorWarning):
            report = drift(ref, cur)
        assert report.untestable == ["a", "b", "c"]
    else:
        report = drift(ref, cur)
        assert report.untestable == [] and report.verdict.startswith("No drift in 3 columns")
        assert report.table["p_value"].notna().all()


def test_a_small_reference_is_caught_too(ref):
    with pytest.warns(MonitorWarning, match="reference has 5"):
        report = drift(ref.iloc[:5], ref)
    assert report.untestable == ["a", "b", "c"]


def test_missing_values_do_not_count(ref):
    cur = ref.iloc[:40].copy()
    cur.loc[cur.index[5:], "a"] = np.nan  # 5 values left in a
    with pytest.warns(MonitorWarning, match="current has 5"):
        report = drift(ref, cur)
    table = report.table.set_index("column")
    # its distribution is not tested; the jump of its missing rate (0% -> 88%) still is
    assert np.isnan(table.loc["a", "p_value"]) and "at least 20" in table.loc["a", "note"]
    assert table.loc["a", "reason"] == "missing rate"
    assert table.loc["b", "status"] == "no drift"


def test_psi_needs_its_own_minimum(ref):
    small = drift(ref, ref.iloc[: MIN_ROWS["psi"] - 1]).table.set_index("column")
    assert small["psi"].isna().all() and small["p_value"].notna().all()
    big = drift(ref, ref.iloc[: MIN_ROWS["psi"]]).table.set_index("column")
    assert big["psi"].notna().all()


def test_the_cli_says_it_could_not_test(ref, tmp_path, capsys):
    ref_path, cur_path = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.to_csv(ref_path, index=False)
    ref.iloc[:1].assign(a=2.5).to_csv(cur_path, index=False)
    with pytest.warns(MonitorWarning):
        code = main(["drift", str(ref_path), str(cur_path), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "No drift" not in out and "could not be tested" in out and "at least 20" in out
