"""Polynomial / interaction features: names, the size guard, pipelines and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from modelworks.cli import main
from modelworks.exceptions import FeatureError
from modelworks.features import PolynomialFeatures, n_output_features


def frame(n=50):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(50, 10, n),
                         "visits": rng.poisson(3, n).astype(float), "plan": rng.choice(["a", "b"], n)})


def test_readable_names_and_values():
    X = frame()
    out = PolynomialFeatures(columns=["age", "income"], degree=2).fit_transform(X)
    assert list(out.columns) == ["visits", "plan", "age", "income", "age^2", "age*income", "income^2"]
    assert np.allclose(out["age*income"], X["age"] * X["income"])
    assert (out["plan"] == X["plan"]).all()


def test_interaction_only_matches_the_chapter():
    from sklearn.preprocessing import PolynomialFeatures as SkPoly

    X = frame()[["age", "income", "visits"]]
    ours = PolynomialFeatures(degree=2, interaction_only=True).fit_transform(X)
    theirs = SkPoly(degree=2, interaction_only=True, include_bias=False).fit_transform(X)
    assert list(ours.columns) == ["age", "income", "visits", "age*income", "age*visits", "income*visits"]
    assert np.allclose(ours.to_numpy(), theirs)


def test_guard_refuses_an_explosion_with_the_count():
    X = pd.DataFrame(np.ones((5, 30)), columns=[f"c{i}" for i in range(30)])
    assert n_output_features(30, 3, False) == 5455
    with pytest.raises(FeatureError, match="would make 5455 features, more than max_output=1000"):
        PolynomialFeatures(degree=3).fit(X)


def test_errors_name_the_columns():
    with pytest.raises(FeatureError, match="columns not found: salary"):
        PolynomialFeatures(columns=["salary"]).fit(frame())
    with pytest.raises(FeatureError, match="need numeric columns; not numeric: plan"):
        PolynomialFeatures(columns=["plan"]).fit(frame())
    X = frame()
    X.loc[3, "age"] = np.nan
    with pytest.raises(FeatureError, match="missing values in age"):
        PolynomialFeatures(columns=["age"]).fit(X)


def test_in_a_pipeline_with_the_chapter_model():
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    y = X["a"] * X["b"] + rng.normal(0, 0.05, 200)
    plain = cross_val_score(LinearRegression(), X, y, cv=3).mean()
    pipe = Pipeline([("poly", PolynomialFeatures(degree=2, interaction_only=True)), ("model", LinearRegression())])
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.95 > plain


@parametrize_with_checks([PolynomialFeatures()], expected_failed_checks=lambda e: {
    "check_estimators_nan_inf": "refuses NaN on purpose with a message saying to impute first",
    "check_transformer_data_not_an_array": "returns a DataFrame with readable names",
    "check_transformer_preserve_dtypes": "returns a DataFrame with readable names (float columns)",
})
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_cli_poly(tmp_path, capsys):
    src = tmp_path / "in.csv"
    frame().to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    assert main(["features", "poly", str(src), "--columns", "age,income", "--interaction-only", "--out", str(out),
                 "--json"]) == 0
    assert "age*income" in pd.read_parquet(out).columns
    assert main(["features", "poly", str(src), "--degree", "3", "--max-output", "10", "--out", str(tmp_path / "x.csv")]) == 2
    assert "would make 19 features, more than max_output=10" in capsys.readouterr().err
