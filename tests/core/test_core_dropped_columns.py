"""Columns that `run` drops are recorded in the package schema, and files shaped like the
training file are accepted by predict, evaluate, serve's validation and drift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main
from modelworks.data import Schema
from modelworks.exceptions import SchemaError


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    label = np.select([x1 + x2 > 0.7, x1 - x2 > 0.5], ["a", "b"], "c")
    return pd.DataFrame({"row_id": np.arange(n), "site": "north", "x1": x1, "x2": x2, "label": label})


def test_schema_accepts_and_names_dropped_columns():
    X = _table()[["x1", "x2"]]
    schema = Schema.from_frame(X, dropped={"site": "constant", "row_id": "looks like an ID"})
    frame = _table(20, seed=1).drop(columns=["label"])
    out = schema.validate(frame)
    assert list(out.columns) == ["x1", "x2"]
    assert schema.ignored(frame.columns) == ["row_id", "site"]
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again.dropped == schema.dropped
    # a column never seen in training is still refused
    with pytest.raises(SchemaError, match="unexpected column: other"):
        schema.validate(frame.assign(other=1))
    with pytest.raises(SchemaError, match="both features and dropped"):
        Schema.from_frame(X, dropped={"x1": "constant"})


def test_run_then_evaluate_predict_and_drift_accept_the_training_files_shape(tmp_path, capsys):
    frame = _table()
    train, held = frame.iloc[:300], frame.iloc[300:]
    train.to_csv(tmp_path / "train.csv", index=False)
    held.to_csv(tmp_path / "held.csv", index=False)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "train.csv"), "--target", "label", "--out", str(out), "--models", "logreg",
                 "--cv", "3", "--skip", "tune,ensemble,explain,monitor", "--json"]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    assert set(manifest["schema"]["dropped"]) == {"row_id", "site"}
    assert "site" not in manifest["features"]

    assert main(["evaluate", str(out / "model"), str(tmp_path / "held.csv"), "--target", "label", "--json"]) == 0
    got = capsys.readouterr()
    result = json.loads(got.out)
    assert set(result["ignored_columns"]) == {"row_id", "site"}
    assert result["metrics"]["accuracy"]["value"] > 0.6
    assert "site: constant" in got.err

    assert main(["predict", str(out / "model"), str(tmp_path / "held.csv"), "--out",
                 str(tmp_path / "pred.csv")]) == 0
    assert "ignored columns the model does not use: " in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "pred.csv")) == len(held)

    from modelworks.monitor import drift

    report = drift(out / "model", held.drop(columns=["label"]))
    assert "site" not in report.only_in_current and "row_id" not in report.only_in_current
