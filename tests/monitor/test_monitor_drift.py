"""Behaviour of drift(): edge cases reported explicitly, errors, over time, streaming, report output."""

import json

import numpy as np
import pandas as pd
import pytest

from modelworks.exceptions import ColumnError, ConfigError, MonitorError, UnknownNameError
from modelworks.monitor import (
    DriftReport,
    drift,
    drift_over_time,
    drift_stream,
    self_test,
)


@pytest.fixture
def frames(rng):
    n = 1500
    ref = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 1, n),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "score": rng.normal(size=n),
        }
    )
    cur = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 1, n),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "score": rng.normal(size=n),
        }
    )
    return ref, cur


def status(report: DriftReport, col: str) -> str:
    return report.table.set_index("column").loc[col, "status"]


def test_same_distribution_gives_no_drift_and_a_sentence_saying_so(frames):
    report = drift(*frames)
    assert report.drifted == [] and not report.dataset_drift
    assert report.verdict.startswith("No drift in 4 columns (Benjamini-Hochberg at alpha 0.05")
    assert list(report.table["kind"]) == ["numeric", "numeric", "categorical", "numeric"]


def test_shifted_numeric_and_categorical_columns_are_flagged_with_effect_sizes(frames, rng):
    ref, cur = frames
    cur = cur.assign(
        age=cur["age"] + 5, plan=rng.choice(["basic", "pro", "team"], len(cur), p=[0.3, 0.3, 0.4])
    )
    report = drift(ref, cur)
    assert report.drifted == ["age", "plan"]
    t = report.table.set_index("column")
    assert t.loc["age", "effect"] == pytest.approx(
        0.5, abs=0.1
    )  # Wasserstein / SD of a 0.5 SD shift
    assert t.loc["plan", "effect_name"] == "jensen-shannon" and t.loc["plan", "js"] > 0.05
    assert t.loc["age", "psi"] > 0.1 and t.loc["plan", "psi"] > 0.1
    assert report.verdict.startswith("Drift in 2 of 4 columns: age, plan")


def test_nan_in_a_numeric_column_is_not_read_as_no_drift(frames):
    ref, cur = frames
    cur = cur.copy()
    cur.loc[cur.index[:600], "score"] = np.nan  # scipy's KS returns p = nan on this input
    report = drift(ref, cur)
    t = report.table.set_index("column")
    assert t.loc["score", "status"] == "drift"
    assert t.loc["score", "reason"] == "missing rate"
    assert t.loc["score", "missing_cur"] == pytest.approx(0.4)
    assert np.isfinite(t.loc["score", "p_value"])  # the KS test ran on the observed values


def test_all_missing_columns_are_reported_explicitly(frames):
    ref, cur = frames
    ref = ref.assign(empty=np.nan, gone=1.0)
    cur = cur.assign(empty=np.nan, gone=np.nan)
    report = drift(ref, cur)
    t = report.table.set_index("column")
    assert t.loc["empty", "status"] == "untestable"
    assert t.loc["empty", "note"] == "all missing in both"
    assert "1 column(s) could not be tested: empty (all missing in both)" in report.verdict
    assert t.loc["gone", "status"] == "drift" and t.loc["gone", "note"] == "all missing in current"
    assert report.untestable == ["empty"]


def test_constant_columns_are_noted_and_a_moved_constant_is_drift(frames):
    ref, cur = frames
    report = drift(ref.assign(k=3.0, m=1.0), cur.assign(k=3.0, m=2.0))
    t = report.table.set_index("column")
    assert t.loc["k", "status"] == "no drift" and t.loc["k", "note"] == "constant (3) on both sides"
    assert t.loc["m", "status"] == "drift" and t.loc["m", "effect"] == np.inf


def test_different_column_sets_are_reported_and_missing_ones_count_as_drift(frames):
    ref, cur = frames
    report = drift(ref, cur.drop(columns=["income"]).assign(extra=1))
    assert report.only_in_reference == ["income"] and report.only_in_current == ["extra"]
    assert status(report, "income") == "missing from current"
    assert report.dataset_drift
    assert "columns missing from the current data: income" in report.verdict
    assert "new columns not compared: extra" in report.verdict


def test_levels_unseen_in_the_reference_are_tested_and_named(frames, rng):
    ref, cur = frames
    cur = cur.copy()
    cur.loc[cur.index[:300], "plan"] = "enterprise"
    t = drift(ref, cur).table.set_index("column")
    assert t.loc["plan", "status"] == "drift"
    assert "unseen in the reference: enterprise" in t.loc["plan", "note"]


def test_datetime_and_bool_columns_are_compared():
    rng = np.random.default_rng(42)
    n = 800
    ref = pd.DataFrame(
        {
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
            "flag": rng.random(n) < 0.5,
        }
    )
    cur = pd.DataFrame(
        {
            "when": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
            "flag": rng.random(n) < 0.5,
        }
    )
    report = drift(ref, cur)
    assert list(report.table["kind"]) == ["datetime", "categorical"]
    assert report.drifted == ["when"]


def test_dates_written_as_text_are_compared_as_times(tmp_path):
    rng = np.random.default_rng(3)
    n = 600

    def days(start):
        return (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 60, n), "D")).strftime("%Y-%m-%d")

    ref = pd.DataFrame({"when": days("2024-01-01"), "plan": rng.choice(["a", "b"], n)})
    same = pd.DataFrame({"when": days("2024-01-01"), "plan": rng.choice(["a", "b"], n)})
    later = pd.DataFrame({"when": days("2024-01-20"), "plan": rng.choice(["a", "b"], n)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    same.to_csv(tmp_path / "same.csv", index=False)
    report = drift(tmp_path / "ref.csv", tmp_path / "same.csv")  # text dates: KS on times, not 60 categories
    assert list(report.table["kind"]) == ["datetime", "categorical"] and report.drifted == []
    assert drift(ref, later).drifted == ["when"]
    # a reference holding real datetimes (a package's sample) against dates read from a CSV
    typed = ref.assign(when=pd.to_datetime(ref["when"]))
    assert drift(typed, tmp_path / "same.csv").table["kind"].tolist() == ["datetime", "categorical"]
    # text that is not dates next to reference dates stays an explicit mismatch
    with pytest.raises(MonitorError, match="'when' is dates .* but text"):
        drift(typed, same.assign(when="soon"))


def test_type_mismatch_names_the_column_and_both_types(frames):
    ref, cur = frames
    cur = cur.assign(age=cur["age"].astype(str).str[:4] + "y")
    with pytest.raises(
        MonitorError,
        match=r"column 'age' is numeric \(float64, e\.g\. .*\) in the reference but "
        r"text \(object, e\.g\. '.*y'\) in the current data",
    ):
        drift(ref, cur)


def test_no_columns_in_common_is_an_error(frames):
    ref, _ = frames
    with pytest.raises(MonitorError, match="no columns in common"):
        drift(ref, pd.DataFrame({"other": [1, 2, 3]}))


def test_bad_options_and_unknown_columns_say_what_to_do(frames):
    ref, cur = frames
    with pytest.raises(
        UnknownNameError,
        match="unknown correction 'fdr'; choose one of: bh, holm, bonferroni, none",
    ):
        drift(ref, cur, correction="fdr")
    with pytest.raises(ConfigError, match=r"alpha must be a number in \(0, 1\)"):
        drift(ref, cur, alpha=5)
    with pytest.raises(
        ConfigError, match="min_effect keys must be among numeric, categorical, missing"
    ):
        drift(ref, cur, min_effect={"numerc": 0.1})
    with pytest.raises(
        ColumnError, match="column\\(s\\) nope not in the reference data; its columns are: age"
    ):
        drift(ref, cur, columns=["age", "nope"])
    with pytest.raises(MonitorError, match="the current data has no rows"):
        drift(ref, cur.iloc[:0])


def test_columns_and_min_effect_narrow_the_check(frames):
    ref, cur = frames
    cur = cur.assign(age=cur["age"] + 2)  # 0.2 SD
    assert drift(ref, cur).drifted == ["age"]
    assert drift(ref, cur, min_effect=0.3).drifted == []
    assert drift(ref, cur, columns=["plan", "score"]).table["column"].tolist() == ["plan", "score"]


def test_reads_csv_and_parquet_files(frames, tmp_path):
    ref, cur = frames
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.assign(age=cur["age"] + 8).to_parquet(tmp_path / "cur.parquet")
    report = drift(tmp_path / "ref.csv", tmp_path / "cur.parquet")
    assert report.drifted == ["age"]


def test_report_is_json_able_and_adds_plots_to_an_html_report(frames, tmp_path):
    from modelworks.report import Report

    ref, cur = frames
    report = drift(ref, cur.assign(age=cur["age"] + 6))
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["drifted"] == ["age"] and payload["rule"]["correction"] == "bh"
    assert len(payload["columns"]) == 4
    html_report = Report(tmp_path / "rep", "t")
    report.add_to_report(html_report)
    path = html_report.write()
    text = path.read_text()
    assert "Data drift" in text and "Drift in 1 of 4 columns: age" in text
    pngs = sorted(p.name for p in (tmp_path / "rep" / "plots").glob("*.png"))
    assert pngs == ["drift-data-drift-distributions.png", "drift-data-drift-effects.png"]


def test_self_test_reports_a_false_alarm_rate_at_or_below_alpha_for_independent_rows(rng):
    n = 1200
    iid = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.choice(list("xyz"), n),
            "c": rng.poisson(2, n).astype(float),
        }
    )
    check = self_test(iid, repeats=60, seed=1)
    assert check.repeats == 60 and check.n_rows == n
    assert check.false_alarm_rate <= 0.1
    assert check.verdict.startswith(
        "Reference split against itself 60 times: the rule (Benjamini-Hochberg"
    )
    naive = self_test(iid, repeats=60, seed=1, correction="none", min_effect=0)
    assert naive.alarms >= check.alarms
    with pytest.raises(ConfigError, match="repeats must be a whole number >= 1"):
        self_test(iid, repeats=0)


def test_drift_over_time_finds_the_batch_where_the_shift_starts(rng, tmp_path):
    ref = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("ab"), 3000)})
    months = []
    for m in range(6):
        part = pd.DataFrame(
            {"x": rng.normal(0.6 if m >= 4 else 0, 1, 800), "c": rng.choice(list("ab"), 800)}
        )
        part["month"] = f"2024-0{m + 1}"
        months.append(part)
    data = pd.concat(months, ignore_index=True)
    timeline = drift_over_time(ref, data, by="month")
    assert timeline.drifted_batches == ["2024-05", "2024-06"]
    assert timeline.verdict.startswith("Drift in 2 of 6 batches, first at 2024-05")
    assert set(timeline.table["column"]) == {"x", "c"}
    png = timeline.plot(tmp_path / "t.png")
    assert png.stat().st_size > 1000
    # the same data streamed from a Parquet file in batches of 800 rows
    data.drop(columns=["month"]).to_parquet(tmp_path / "d.parquet")
    streamed = drift_over_time(ref, tmp_path / "d.parquet", batch_rows=800)
    assert streamed.drifted_batches == [4, 5]
    # a list of frames
    assert drift_over_time(ref, [m.drop(columns="month") for m in months]).drifted_batches == [4, 5]
    with pytest.raises(ColumnError, match="by column 'week' not in the batches"):
        drift_over_time(ref, data, by="week")


def test_streaming_a_parquet_file_agrees_with_the_in_memory_result(rng, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref = pd.DataFrame(
        {
            "x": rng.normal(size=5000),
            "y": rng.exponential(size=5000),
            "c": rng.choice(list("abc"), 5000),
        }
    )
    path = tmp_path / "big.parquet"
    writer = None
    parts = []
    for _ in range(5):  # written in row groups, read back in record batches
        part = pd.DataFrame(
            {
                "x": rng.normal(0.3, 1, 20_000),
                "y": rng.exponential(size=20_000),
                "c": rng.choice(list("abcd"), 20_000, p=[0.33, 0.33, 0.33, 0.01]),
            }
        )
        parts.append(part)
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    streamed = drift_stream(ref, path, batch_rows=7_000)
    exact = drift(ref, pd.concat(parts, ignore_index=True))
    assert streamed.approximate and "approximate" in streamed.verdict
    assert streamed.drifted == exact.drifted == ["x", "c"]
    s, e = streamed.table.set_index("column"), exact.table.set_index("column")
    assert s.loc["x", "statistic"] == pytest.approx(e.loc["x", "statistic"], abs=0.005)
    assert s.loc["x", "effect"] == pytest.approx(e.loc["x", "effect"], abs=0.02)
    assert s.loc["c", "p_value"] == pytest.approx(
        e.loc["c", "p_value"], rel=1e-9
    )  # counts are exact
    assert s.loc["y", "psi"] == pytest.approx(e.loc["y", "psi"], abs=1e-9)
