"""Search spaces: sklearn grids, skopt dimensions, modelworks types and zoo ranges -> Optuna."""

import optuna
import pytest
import skopt.space
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import SpaceError
from modelworks.tuning import Categorical, Integer, Real, to_distributions, tune
from modelworks.tuning._space import contains, grid_values, resolve_names

D = optuna.distributions


def test_sklearn_param_grid_becomes_categorical_choices():
    dists = to_distributions({"n_estimators": [50, 100, 200], "max_depth": [3, None]})
    assert dists["n_estimators"] == D.CategoricalDistribution([50, 100, 200])
    assert dists["max_depth"].choices == (3, None)


def test_skopt_dimensions_as_in_the_chapter():
    space = [
        skopt.space.Integer(50, 300, name="n_estimators"),
        skopt.space.Real(0.01, 0.3, prior="log-uniform", name="learning_rate"),
        skopt.space.Categorical(["gini", "entropy"], name="criterion"),
    ]
    dists = to_distributions(space)
    assert dists["n_estimators"] == D.IntDistribution(50, 300)
    assert dists["learning_rate"] == D.FloatDistribution(0.01, 0.3, log=True)
    assert dists["criterion"] == D.CategoricalDistribution(["gini", "entropy"])


def test_modelworks_types_and_zoo_ranges():
    dists = to_distributions(
        {
            "a": Integer(1, 10, "log-uniform"),
            "b": Real(0.0, 1.0),
            "c": Categorical([True, False]),
            "d": (1e-3, 1e3, "log"),
            "e": (2, 6, "int"),
            "f": (0.1, 0.9, "linear"),
        }
    )
    assert dists["a"] == D.IntDistribution(1, 10, log=True)
    assert dists["b"] == D.FloatDistribution(0.0, 1.0)
    assert dists["c"].choices == (True, False)
    assert dists["d"] == D.FloatDistribution(1e-3, 1e3, log=True)
    assert dists["e"] == D.IntDistribution(2, 6)
    assert dists["f"] == D.FloatDistribution(0.1, 0.9)


def test_optuna_distributions_pass_through():
    d = D.FloatDistribution(0, 1, step=0.1)
    assert to_distributions({"x": d})["x"] is d


@pytest.mark.parametrize(
    "space, match",
    [
        ({"max_depth": []}, r"space\['max_depth'\] is an empty list"),
        ({"C": Real(10, 1)}, r"low \(10\) is greater than high \(1\)"),
        ({"C": (5, 1, "log")}, "greater than high"),
        ({"C": Real(0, 1, "log-uniform")}, "log-uniform range needs low > 0"),
        ({"C": Real(0, 1, "normal")}, "prior must be 'uniform' or 'log-uniform'"),
        ({"n": Integer(1.5, 4)}, "whole-number bounds"),
        ({"est": [StandardScaler()]}, "cannot be stored in a study"),
        ({}, "the search space is empty"),
        ([{"a": [1]}, {"b": [2]}], "list of param_grid dicts is not supported"),
        ([skopt.space.Integer(1, 3)], "has no name"),
        ("n_estimators", "must be a dict"),
        ({"C": object()}, "cannot search"),
    ],
)
def test_bad_spaces_get_a_clear_error(space, match):
    with pytest.raises(SpaceError, match=match):
        to_distributions(space)


def test_unknown_parameter_names_the_closest_valid_one():
    pipe = Pipeline([("scale", StandardScaler()), ("model", DecisionTreeClassifier())])
    dists = to_distributions({"max_depht": [1, 2]})
    with pytest.raises(
        SpaceError,
        match=r"unknown parameter 'max_depht' for Pipeline \(did you mean 'model__max_depth'\?\)",
    ):
        resolve_names(dists, pipe, prefix="model")


def test_bare_names_map_to_the_model_step():
    pipe = Pipeline([("scale", StandardScaler()), ("model", DecisionTreeClassifier())])
    out = resolve_names(
        to_distributions({"max_depth": [1, 2], "scale__with_mean": [True, False]}),
        pipe,
        prefix="model",
    )
    assert set(out) == {"model__max_depth", "scale__with_mean"}


def test_grid_cuts_ranges_into_a_few_values():
    grid = grid_values(
        to_distributions({"C": (1e-2, 1e2, "log"), "k": (1, 3, "int"), "m": ["a", "b"]})
    )
    assert grid["C"] == pytest.approx([0.01, 0.1, 1.0, 10.0, 100.0])
    assert grid["k"] == [1, 2, 3]
    assert grid["m"] == ["a", "b"]


def test_contains_checks_defaults_against_the_space():
    dists = to_distributions({"C": (1e-3, 1e3, "log"), "k": [3, 5]})
    assert contains(dists, {"C": 1.0, "k": 5})
    assert not contains(dists, {"C": 1e4, "k": 5})
    assert not contains(dists, {"C": 1.0, "k": 4})


def test_a_bad_space_fails_before_any_trial_runs(clf_data, tmp_path):
    X, y = clf_data
    with pytest.raises(SpaceError, match="empty list"):
        tune(
            DecisionTreeClassifier(),
            X,
            y,
            space={"max_depth": [2, 3], "min_samples_leaf": []},
            out_dir=tmp_path,
        )
    with pytest.raises(SpaceError, match="unknown parameter 'depth'"):
        tune("rf", X, y, space={"depth": [2, 3]}, out_dir=tmp_path)
    assert not (tmp_path / "study.journal").exists()
