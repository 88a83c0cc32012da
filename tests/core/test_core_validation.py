"""The data spine's small helpers: parameter checks (modelworks._validation) and the Task enum."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelworks._validation import check_option, check_scalar
from modelworks.data import Task, infer_task
from modelworks.exceptions import ConfigError, EnsembleError, FeatureError


@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    (3, {"low": 2}, 3),
    (np.int64(5), {"low": 1}, 5),
    (2, {"low": 2, "high": 2}, 2),
    (0.5, {"kind": float, "low": 0, "high": 1, "closed": "left"}, 0.5),
    (0, {"kind": float, "low": 0, "high": 1, "closed": "left"}, 0.0),
    (np.float32(0.25), {"kind": float, "low": 0, "closed": "neither"}, 0.25),
    (7, {"kind": float}, 7.0),
    (None, {"allow_none": True}, None),
])
def test_accepted_values_come_back_as_python_numbers(value, kwargs, expected):
    out = check_scalar(value, "x", **kwargs)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(("value", "kwargs", "message"), [
    (1, {"low": 2}, "cv must be a whole number >= 2, got 1"),
    (True, {"low": 0}, "cv must be a whole number >= 0, got True"),
    (2.0, {"low": 1}, "cv must be a whole number >= 1, got 2.0"),
    ("3", {}, "cv must be a whole number, got '3'"),
    (None, {"low": 1}, "cv must be a whole number >= 1, got None"),
    (None, {"low": 1, "allow_none": True}, None),
    (11, {"low": 1, "high": 10}, "cv must be a whole number between 1 and 10, got 11"),
    (1.0, {"kind": float, "low": 0, "high": 1, "closed": "left"}, r"cv must be a number in [0, 1), got 1.0"),
    (0, {"kind": float, "low": 0, "closed": "neither"}, "cv must be a number > 0, got 0"),
    (5, {"kind": float, "high": 5, "closed": "neither"}, "cv must be a number < 5, got 5"),
    (float("nan"), {"kind": float}, "cv must be a number, got nan"),
    (float("inf"), {"kind": float, "low": 0}, "cv must be a number >= 0, got inf"),
    (False, {"kind": float}, "cv must be a number, got False"),
])
def test_refused_values_name_the_argument_the_rule_and_what_came(value, kwargs, message):
    if message is None:
        assert check_scalar(value, "cv", **kwargs) is None
        return
    with pytest.raises(ConfigError) as e:
        check_scalar(value, "cv", **kwargs)
    assert str(e.value) == message


def test_the_area_error_type_is_kept():
    with pytest.raises(FeatureError, match="degree must be a whole number >= 1, got 0"):
        check_scalar(0, "degree", low=1, error=FeatureError)
    with pytest.raises(TypeError, match="kind must be int or float"):
        check_scalar(1, "x", kind=str)
    with pytest.raises(TypeError, match="closed must be one of"):
        check_scalar(1, "x", closed="open")


def test_check_option_lists_the_choices_and_suggests_the_closest():
    assert check_option("tpe", "strategy", ("grid", "tpe")) == "tpe"
    with pytest.raises(ConfigError) as e:
        check_option("bayse", "strategy", ("grid", "random", "bayes", "tpe"))
    assert str(e.value) == (
        "strategy must be one of grid, random, bayes, tpe, got 'bayse' (did you mean 'bayes'?)"
    )
    with pytest.raises(ConfigError, match=r"got 'zzz'$"):
        check_option("zzz", "strategy", ("grid", "tpe"))
    # True == 1 to Python, but it is not the option 1; arrays are no option either
    with pytest.raises(ConfigError, match="got True"):
        check_option(True, "n", (1, 2))
    assert check_option(True, "flag", (True, False)) is True
    with pytest.raises(ConfigError, match="got array"):
        check_option(np.array([1, 2]), "n", (1, 2))
    with pytest.raises(ConfigError, match="got \\['a'\\]"):
        check_option(["a"], "name", ("a",))


def test_adopters_use_it(tmp_path):
    from modelworks.ensemble._weights import ensemble_selection_weights
    from modelworks.features import PolynomialFeatures

    with pytest.raises(EnsembleError, match="n_iter must be a whole number >= 1, got True"):
        ensemble_selection_weights([np.zeros(4)], np.zeros(4), "regression", n_iter=True)
    with pytest.raises(FeatureError, match="degree must be a whole number >= 1, got 2.5"):
        PolynomialFeatures(degree=2.5).fit(pd.DataFrame({"a": [1.0, 2.0]}))


def test_task_is_a_string_and_reuses_infer_task():
    assert Task.BINARY == "binary" and json.dumps([Task.REGRESSION]) == '["regression"]'
    assert [str(t) for t in Task] == ["binary", "multiclass", "regression"]
    assert Task.MULTICLASS.is_classification and not Task.REGRESSION.is_classification
    for y in ([0, 1, 1, 0], ["a", "b", "c"], np.linspace(0, 1, 50)):
        assert Task.infer(y) is Task(infer_task(y))
    assert Task.infer(pd.Series(["x", "y", "z", "x"])) is Task.MULTICLASS
    assert Task.parse("regression") is Task.REGRESSION and Task.parse(Task.BINARY) is Task.BINARY
    with pytest.raises(ConfigError, match="task must be one of binary, multiclass, regression, "
                                          "got 'binary ' \\(did you mean 'binary'\\?\\)"):
        Task.parse("binary ")


def test_task_names_are_declared_once():
    from modelworks.data._task import TASK_NAMES
    from modelworks.data._validate import TASKS
    from modelworks.ensemble._losses import TASKS as ENSEMBLE_TASKS

    assert TASKS is TASK_NAMES and ENSEMBLE_TASKS is TASK_NAMES
