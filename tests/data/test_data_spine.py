"""The data spine's single rules: column kinds, date text, the chunked reader, the target check."""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest

from modelworks.data import (
    DataWarning,
    check_target,
    column_kind,
    column_kinds,
    is_date_text,
    iter_table,
    load_table,
    parse_date_text,
    parse_dates,
)
from modelworks.exceptions import ColumnError, ConfigError, DataFileError, TargetError


# ----------------------------------------------------------------------------- column kinds
@pytest.mark.parametrize(("values", "kind", "detail"), [
    ([1.5, 2.0, np.nan], "numeric", "numeric"),
    ([1, 2, 3], "numeric", "integer"),
    ([True, False, True], "categorical", "boolean"),
    (["a", "b", None], "categorical", "categorical"),
    (pd.to_datetime(["2024-01-01", "2024-02-01", None]), "datetime", "datetime"),
    (pd.period_range("2024-01", periods=3, freq="M"), "datetime", "datetime"),
    (["2024-01-01", "2024-02-01", "2024-03-01"], "categorical", "categorical"),  # text: is_date_text's question
    (pd.Categorical(["x", "y", "x"]), "categorical", "categorical"),
])
def test_column_kind_is_one_rule_with_the_schema_detail(values, kind, detail):
    s = pd.Series(values)
    assert column_kind(s) == kind
    assert column_kind(s, detail=True) == detail


def test_column_kind_policies_text_and_few_levels():
    review = pd.Series([f"the product number {i} arrived late and broken again" for i in range(40)])
    assert column_kind(review) == "categorical" and column_kind(review, text=True) == "text"
    codes = pd.Series([1, 2, 3, 1, 2, 3] * 5)
    assert column_kind(codes) == "numeric"
    assert column_kind(codes, max_levels=3) == "categorical" and column_kind(codes, max_levels=2) == "numeric"
    X = pd.DataFrame({"review": review, "n": np.arange(40.0), "flag": [True, False] * 20,
                      "when": pd.date_range("2024-01-01", periods=40)})
    assert column_kinds(X) == {"numeric": ["n"], "categorical": ["flag"], "datetime": ["when"], "text": ["review"]}


# ----------------------------------------------------------------------------- dates
def test_parse_dates_reads_mixed_formats_and_marks_the_rest():
    parsed = parse_dates(pd.Series(["2024-01-31", "31 Jan 2024 12:00", "not a date", None]))
    assert parsed.dtype.kind == "M"
    assert parsed.iloc[0] == pd.Timestamp("2024-01-31") and parsed.iloc[1] == pd.Timestamp("2024-01-31 12:00")
    assert parsed.iloc[2:].isna().all()
    periods = parse_dates(pd.Series(pd.period_range("2024-01", periods=2, freq="M")))
    assert list(periods) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    stamps = pd.Series(pd.date_range("2024-01-01", periods=3))
    assert parse_dates(stamps) is stamps


def test_is_date_text_rule_and_its_policies():
    dates = pd.Series(["2024-01-31", "2024/02/01", None, "2024-03-01"])
    assert is_date_text(dates)
    assert not is_date_text(pd.Series(["red", "green", "blue"]))
    assert not is_date_text(pd.Series([20240131, 20240201]))  # numbers are never date text
    assert not is_date_text(pd.Series(pd.date_range("2024-01-01", periods=2)))  # already dates
    assert not is_date_text(pd.Series([None, None], dtype=object))
    one_typo = pd.Series([f"2024-01-{d:02d}" for d in range(1, 29)] + ["2024-13-45"])
    assert not is_date_text(one_typo)  # drift's policy: every value
    parsed = parse_date_text(one_typo, min_share=0.95)  # prepare's policy: 95%, the rest missing
    assert parsed is not None and parsed.isna().sum() == 1
    words = pd.Series(["May 2024", "June 2024", "July 2024"] * 10)
    assert is_date_text(words)  # pandas reads month names with a year as dates
    assert not is_date_text(words, numeric_form=True)  # prepare converts only dates written with numbers
    assert is_date_text(pd.Series([datetime.date(2024, 1, d) for d in range(1, 5)], dtype=object))


# ----------------------------------------------------------------------------- chunked reading
@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": np.arange(25), "x": rng.normal(size=25), "plan": rng.choice(["a", "b"], 25)})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".csv.gz", ".parquet"])
def test_iter_table_reads_files_in_bounded_chunks(tmp_path, table, suffix):
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        table.to_parquet(path, row_group_size=7)
    else:
        table.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    chunks = list(iter_table(path, chunk_rows=10))
    assert all(len(c) <= 10 for c in chunks) and sum(map(len, chunks)) == 25
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), load_table(path))
    only = list(iter_table(path, chunk_rows=10, columns=["x"]))
    assert all(list(c.columns) == ["x"] for c in only)
    with pytest.raises(ColumnError, match="column\\(s\\) nope not in the data"):
        list(iter_table(path, columns=["nope"]))


def test_iter_table_slices_a_frame_and_yields_nothing_for_no_rows(table):
    chunks = list(iter_table(table, chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert list(iter_table(table.iloc[:0])) == []
    with pytest.raises(ConfigError, match="chunk_rows must be a whole number >= 1, got 0"):
        list(iter_table(table, chunk_rows=0))


@pytest.mark.parametrize(("name", "content", "match"), [
    ("missing.csv", None, "file not found"),
    ("empty.csv", b"", "is empty \\(0 bytes\\)"),
    ("header.csv", b"a,b\n", "has a header but no rows \\(columns: a, b\\)"),
    ("binary.csv", b"PK\x03\x04\x00\x00binary", "looks binary"),
    ("latin.csv", "a,b\ncaf\xe9,1\n".encode("latin-1"), "is not UTF-8 text"),
    ("broken.parquet", b"not parquet at all", "is not a readable Parquet file"),
    ("table.xlsx", b"x", "unknown extension '.xlsx'"),
])
def test_iter_table_raises_what_load_table_raises(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    for read in (load_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataFileError, match=match):
            read(path)


def test_iter_table_refuses_duplicate_columns(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(ColumnError, match="duplicate column names: a"):
        list(iter_table(path))


# ----------------------------------------------------------------------------- the target
def test_check_target_policies():
    frame = pd.DataFrame({"x": range(6), "y": [1.0, np.nan, 0.0, 1.0, np.nan, 0.0]})
    with pytest.warns(DataWarning, match="dropped 2 of 6 rows whose target 'y' is missing"):
        notes: list[str] = []
        kept = check_target(frame, "y", notes=notes)
    assert len(kept) == 4 and notes == ["dropped 2 of 6 rows whose target 'y' is missing"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(check_target(frame, "y", missing="drop")) == 4
        assert check_target(frame, "y", missing="keep") is frame
    with pytest.raises(TargetError, match="has 2 missing values; fill or drop those rows"):
        check_target(frame, "y", missing="refuse")
    with pytest.raises(ConfigError, match="missing must be one of warn, drop, refuse, keep"):
        check_target(frame, "y", missing="ignore")


def test_check_target_errors():
    frame = pd.DataFrame({"x": [1, 2], "y": [np.inf, 1.0], "z": [np.nan, np.nan]})
    with pytest.raises(TargetError, match="target column 'nope' not found; columns are: x, y, z; pass one of them as target$"):
        check_target(frame, "nope")
    with pytest.raises(TargetError, match="'nope' not found in the data; .* \\(evaluate needs labels\\)"):
        check_target(frame, "nope", name="data", hint="evaluate needs labels")
    with pytest.raises(TargetError, match="has 1 infinite values"):
        check_target(frame, "y")
    with pytest.raises(TargetError, match="entirely missing"):
        check_target(frame, "z")
    with pytest.raises(ConfigError, match="a target column name is required"):
        check_target(frame, "")
