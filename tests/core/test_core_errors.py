"""Bad input gets one clear line and exit code 2, through the Python API and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import modelworks
from modelworks.cli import main
from modelworks.data import Schema, load_table, prepare
from modelworks.exceptions import (
    ColumnError,
    ConfigError,
    DataError,
    DataFileError,
    ModelworksError,
    SchemaError,
    TargetError,
    UnknownNameError,
)


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(40, 10, n).round(1),
        "income": rng.normal(50, 15, n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "churn": rng.choice(["yes", "no"], n),
    })


@pytest.fixture
def csv(tmp_path):
    def write(frame, name="data.csv", **kw):
        path = tmp_path / name
        frame.to_csv(path, index=False, **kw)
        return path
    return write


def _cli_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    return err


def test_missing_file(capsys, tmp_path):
    err = _cli_error(capsys, ["compare", str(tmp_path / "nope.csv"), "--target", "y"])
    assert "data file not found" in err and "nope.csv" in err


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataFileError, match="is a directory"):
        load_table(tmp_path)


def test_binary_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    with pytest.raises(DataFileError, match="looks binary"):
        load_table(path)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="not a readable Parquet file"):
        load_table(path)


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    err = _cli_error(capsys, ["run", str(path), "--target", "y", "--out", str(tmp_path / "o")])
    assert "is empty (0 bytes)" in err


def test_header_only(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b,y\n")
    with pytest.raises(DataFileError, match="has a header but no rows"):
        load_table(path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="unknown extension '.xlsx'"):
        load_table(path)


def test_target_missing_lists_columns(csv, capsys):
    err = _cli_error(capsys, ["compare", str(csv(_frame())), "--target", "churned"])
    assert "target column 'churned' not found; columns are: age, income, plan, churn" in err


def test_target_all_nan():
    frame = _frame()
    frame["churn"] = np.nan
    with pytest.raises(TargetError, match="entirely missing"):
        prepare(frame, "churn")


def test_nan_in_some_target_rows_are_dropped_with_a_count():
    frame = _frame()
    frame.loc[:4, "churn"] = None
    with pytest.warns(UserWarning, match="dropped 5 of 60 rows whose target 'churn' is missing"):
        prep = prepare(frame, "churn")
    assert len(prep.y) == 55


def test_nan_in_target_refused_when_asked():
    frame = _frame()
    frame.loc[:2, "churn"] = None
    with pytest.raises(TargetError, match="has 3 missing values"):
        prepare(frame, "churn", drop_missing_target=False)


def test_single_class_target():
    frame = _frame()
    frame["churn"] = "no"
    with pytest.raises(TargetError, match="single class \\('no'\\)"):
        prepare(frame, "churn")


def test_class_smaller_than_cv_folds():
    frame = _frame()
    frame["churn"] = ["rare"] * 3 + ["common"] * 57
    with pytest.raises(TargetError, match="fewer members than the 5 CV folds; use cv=3 or merge"):
        prepare(frame, "churn", cv=5)


def test_duplicate_columns_in_csv(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a,y\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(ColumnError, match="duplicate column names: a"):
        load_table(path)


def test_duplicate_columns_in_frame():
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "y"])
    with pytest.raises(ColumnError, match="duplicate column names: a"):
        load_table(frame)


def test_inf_values():
    frame = _frame()
    frame.loc[3, "income"] = np.inf
    frame.loc[7, "income"] = -np.inf
    with pytest.raises(DataError, match="infinite values in column 'income' \\(2\\)"):
        prepare(frame, "churn")


def test_constant_column_is_dropped_with_a_warning():
    frame = _frame()
    frame["country"] = "NL"
    with pytest.warns(UserWarning, match="dropped column 'country': constant"):
        prep = prepare(frame, "churn")
    assert "country" not in prep.X.columns


def test_id_like_column_is_dropped_with_a_warning():
    frame = _frame()
    frame.insert(0, "customer_id", range(1000, 1060))
    with pytest.warns(UserWarning, match="dropped column 'customer_id': looks like an ID"):
        prep = prepare(frame, "churn")
    assert "customer_id" not in prep.X.columns


@pytest.mark.parametrize("name", ["rownames", "row_names", "Unnamed: 0"])
def test_exported_row_names_are_dropped_as_ids_even_when_sampled(name):
    # R's write.csv and pandas' to_csv write the row names; a sample of rows leaves gaps in them
    frame = _frame()
    frame.insert(0, name, np.random.default_rng(0).choice(100_000, size=len(frame), replace=False))
    with pytest.warns(UserWarning, match=f"dropped column '{name}': looks like an ID"):
        prep = prepare(frame, "churn")
    assert name not in prep.X.columns


def test_non_utf8_csv(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,y\nJos\xe9,1\nRen\xe9e,0\n".encode("latin-1"))
    err = _cli_error(capsys, ["compare", str(path), "--target", "y"])
    assert "is not UTF-8 text" in err and "iconv" in err


def test_mixed_types_in_a_column():
    frame = _frame()
    frame["income"] = frame["income"].astype(object)
    frame.loc[5, "income"] = "n/a"
    with pytest.raises(ColumnError, match="column 'income' mixes numbers and text \\(e.g. 'n/a'\\)"):
        prepare(frame, "churn")


def test_unknown_model_name(csv, capsys):
    err = _cli_error(capsys, ["compare", str(csv(_frame())), "--target", "churn", "--models", "rf,xgbost"])
    assert "unknown model 'xgbost' (did you mean 'xgboost'?); known models:" in err


def test_unknown_model_name_in_python():
    with pytest.raises(UnknownNameError, match="known models: logreg, linear, ridge"):
        modelworks.get_model("forest", "binary")


def test_model_for_the_wrong_task():
    with pytest.raises(ConfigError, match="model 'linear' is for regression only"):
        modelworks.get_model("linear", "binary")


def test_cv_larger_than_rows():
    frame = _frame(n=40)
    with pytest.raises(DataError, match="only 40 rows with a target; at least 100 are needed"):
        prepare(frame, "churn", cv=50)


def test_cv_below_two(csv, capsys):
    err = _cli_error(capsys, ["compare", str(csv(_frame())), "--target", "churn", "--cv", "1"])
    assert "cv must be a whole number >= 2, got 1" in err


def test_negative_cv_is_an_argument_error(csv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(csv(_frame())), "--target", "churn", "--cv", "-3"])
    assert exit_info.value.code == 2
    assert "expected a number > 0, got -3" in capsys.readouterr().err


def test_three_row_dataset(csv, capsys):
    err = _cli_error(capsys, ["run", str(csv(_frame().head(3))), "--target", "churn"])
    assert "only 3 rows with a target; at least 10 are needed" in err


def test_target_listed_as_a_feature():
    with pytest.raises(ConfigError, match="the target 'churn' is also listed as a feature"):
        prepare(_frame(), "churn", features=["age", "churn"])


def test_regression_on_text_target():
    with pytest.raises(TargetError, match="task 'regression' needs a numeric target"):
        prepare(_frame(), "plan", task="regression")


def test_missing_columns_at_predict_are_named():
    schema = Schema.from_frame(_frame().drop(columns="churn"))
    with pytest.raises(SchemaError, match="missing column: income \\(the model expects: age, income, plan\\)"):
        schema.validate(_frame().drop(columns=["churn", "income"]))


def test_extra_columns_at_predict_are_refused():
    schema = Schema.from_frame(_frame().drop(columns="churn"))
    with pytest.raises(SchemaError, match="unexpected column: churn .*ignore_extra=True"):
        schema.validate(_frame())


def test_reordered_columns_at_predict_are_matched_by_name():
    X = _frame().drop(columns="churn")
    schema = Schema.from_frame(X)
    out = schema.validate(X[["plan", "income", "age"]])
    assert list(out.columns) == ["age", "income", "plan"]
    assert np.allclose(out["income"], X["income"])


def test_mistyped_column_at_predict():
    X = _frame().drop(columns="churn")
    schema = Schema.from_frame(X)
    bad = X.copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[2, "age"] = "forty"
    with pytest.raises(SchemaError, match="column 'age' expects numbers but got 'forty' \\(row 2"):
        schema.validate(bad)


def test_every_error_is_a_modelworks_error_and_a_builtin():
    for cls, builtin in [(DataFileError, OSError), (ColumnError, KeyError), (TargetError, ValueError),
                         (UnknownNameError, KeyError), (SchemaError, KeyError)]:
        assert issubclass(cls, ModelworksError) and issubclass(cls, builtin)
    assert str(ColumnError("a 'b'")) == "a 'b'"  # no KeyError quoting
