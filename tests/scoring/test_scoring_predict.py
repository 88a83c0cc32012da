"""Batch prediction and evaluation: chunking, atomic output, schema checks, metrics with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import modelworks
from modelworks.exceptions import ConfigError, SchemaError, TargetError


@pytest.fixture(scope="module")
def fitted():
    from modelworks.data import Schema, make_pipeline
    from modelworks.models import get_model

    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "plan": rng.choice(["a", "b", "c"], n),
                      "visits": rng.poisson(3, n).astype(float)})
    y = np.where(X["age"] + 5 * (X["plan"] == "b") + rng.normal(0, 3, n) > 42, "yes", "no")
    model = make_pipeline(X, get_model("logreg", "binary")).fit(X, y)
    schema = Schema.from_frame(X)
    return model, schema, X, pd.Series(y, name="churn")


class _Pkg:  # the shape of modelworks.package.Package that predict/evaluate rely on
    def __init__(self, model, schema, task="binary", target="churn"):
        self.model, self.schema = model, schema
        self.manifest = {"task": task, "target": target}


def test_predictions_equal_in_process_predict(fitted):
    model, schema, X, _ = fitted
    res = modelworks.predict(_Pkg(model, schema), X, proba=True)
    assert (res.predictions["prediction"].to_numpy() == model.predict(X)).all()
    assert np.allclose(res.predictions[["proba_no", "proba_yes"]], model.predict_proba(X))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_many_chunks_give_the_same_file_as_one(fitted, tmp_path, suffix):
    model, schema, X, _ = fitted
    data = tmp_path / "in.csv"
    X.assign(customer_id=range(len(X))).to_csv(data, index=False)
    one = modelworks.predict(_Pkg(model, schema), data, out=tmp_path / f"one.{suffix}", proba=True)
    many = modelworks.predict(_Pkg(model, schema), data, out=tmp_path / f"many.{suffix}", proba=True, chunk_size=37)
    assert one.chunks == 1 and many.chunks == 11
    read = pd.read_parquet if suffix == "parquet" else pd.read_csv
    a, b = read(tmp_path / f"one.{suffix}"), read(tmp_path / f"many.{suffix}")
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns[:2]) == ["customer_id", "prediction"]  # the id column rides along
    assert len(a) == len(X)


def test_parquet_input_in_batches(fitted, tmp_path):
    model, schema, X, _ = fitted
    X.to_parquet(tmp_path / "in.parquet")
    res = modelworks.predict(_Pkg(model, schema), tmp_path / "in.parquet", chunk_size=100)
    assert res.chunks == 4 and (res.predictions["prediction"].to_numpy() == model.predict(X)).all()


def test_failed_prediction_leaves_no_output_file(fitted, tmp_path):
    model, schema, X, _ = fitted
    bad = X.copy().astype({"age": object})
    bad.loc[350, "age"] = "old"  # fails in the last chunk, after earlier chunks were written
    data = tmp_path / "bad.csv"
    bad.to_csv(data, index=False)
    with pytest.raises(SchemaError, match="column 'age' expects numbers but got 'old'"):
        modelworks.predict(_Pkg(model, schema), data, out=tmp_path / "pred.csv", chunk_size=50)
    assert not (tmp_path / "pred.csv").exists()
    assert not list(tmp_path.glob(".pred.csv*"))


def test_extra_columns_refused_unless_ignored(fitted):
    model, schema, X, _ = fitted
    with pytest.raises(SchemaError, match="unexpected column: colour"):
        modelworks.predict(_Pkg(model, schema), X.assign(colour="red"))
    res = modelworks.predict(_Pkg(model, schema), X.assign(colour="red"), ignore_extra=True)
    assert res.rows == len(X)


def test_proba_for_a_regressor_is_refused():
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"a": np.arange(20.0)})
    model = LinearRegression().fit(X, X["a"] * 2)
    with pytest.raises(ConfigError, match="probabilities need a classifier.*; drop proba$"):
        modelworks.predict(_Pkg(model, None, task="regression"), X, proba=True)


def test_evaluate_reports_metrics_with_intervals(fitted, tmp_path):
    model, schema, X, y = fitted
    res = modelworks.evaluate(_Pkg(model, schema), X.assign(churn=y), "churn", out_dir=tmp_path, n_boot=100)
    m = res.metrics
    assert set(m) == {"accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier"}
    for name, (lo, hi) in res.intervals.items():
        assert lo <= m[name] + 1e-9 and m[name] <= hi + 1e-9, name
    assert (tmp_path / "evaluation.json").exists() and (tmp_path / "report.html").exists()
    assert (tmp_path / "plots" / "calibration.png").exists()
    assert res.extra["confusion_matrix"]["labels"] == ["no", "yes"]


def test_evaluate_without_target_column(fitted):
    model, schema, X, _ = fitted
    with pytest.raises(TargetError, match="target column 'churn' not found in the data"):
        modelworks.evaluate(_Pkg(model, schema), X, "churn")


def test_evaluate_with_unseen_labels(fitted):
    model, schema, X, y = fitted
    y = y.copy()
    y.iloc[:3] = "maybe"
    with pytest.raises(TargetError, match="labels in 'churn' the model never saw: maybe"):
        modelworks.evaluate(_Pkg(model, schema), X.assign(churn=y), "churn")


def test_empty_file(tmp_path, fitted):
    model, schema, X, _ = fitted
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(Exception, match="is empty"):
        modelworks.predict(_Pkg(model, schema), tmp_path / "empty.csv")


def test_unfitted_model_is_refused(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from modelworks.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="is not fitted"):
        modelworks.predict(LogisticRegression(), pd.DataFrame({"a": [1.0]}))
