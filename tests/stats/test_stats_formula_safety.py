"""Formulas are data, not code: hostile formulas are refused before patsy evaluates anything."""

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from modelworks.cli import main
from modelworks.exceptions import StatsError
from modelworks.stats import SKOPS_TRUSTED, MixedModel
from modelworks.stats._formula import check_formula

# each one, if patsy evaluated it, would create the marker file {m}
HOSTILE = [
    "y ~ __import__('os').system('touch {m}')",
    "y ~ x + __import__('pathlib').Path('{m}').touch()",
    "y ~ getattr(__import__('os'), 'system')('touch {m}')",
    "y ~ getattr(getattr(x, 'values'), 'tofile')('{m}')",
    "y ~ (lambda: __import__('os').system('touch {m}'))()",
    "y ~ C(x, lambda v: open('{m}', 'w'))",
    "y ~ x.__class__.__base__.__subclasses__()",
    "y ~ x.to_csv('{m}')",
    "y ~ os.system('touch {m}')",
    "y ~ open('{m}', 'w')",
    "y ~ C(eval(\"open('{m}', 'w')\"))",
    "y ~ C(exec(\"open('{m}', 'w')\"))",
    "y ~ np.log(np.save('{m}', x))",
    "y ~ np.log(np.lib.npyio.savetxt('{m}', x))",
    "y ~ I(np.log.__call__(x)) + I(open('{m}', 'w'))",
    "y ~ np.sqrt(x)[open('{m}', 'w')]",
    "y ~ I([open('{m}', 'w') for _ in x])",
    "y ~ C(x, levels=[open('{m}', 'w')])",
    "y ~ Treatment(reference=open('{m}', 'w'))",
    "y ~ C(x)(open('{m}', 'w'))",
    "y ~ np.log(__builtins__['open']('{m}', 'w'))",
    "y ~ I(x if open('{m}', 'w') else x)",
    "y ~ I(f\"{{open('{m}', 'w')}}\")",
    "open('{m}', 'w') ~ x",
]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n_groups, per = 12, 10
    g = np.repeat([f"s{i}" for i in range(n_groups)], per)
    x = rng.uniform(1, 5, n_groups * per)
    c = rng.choice(["a", "b", "c"], n_groups * per)
    u = rng.normal(0, 1.0, n_groups)[np.repeat(np.arange(n_groups), per)]
    y = 2 + 0.8 * np.log(x) + 0.3 * (c == "b") + u + rng.normal(0, 0.5, n_groups * per)
    return pd.DataFrame({"y": y, "x": x, "c": c, "g": g})


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_formula_is_refused_and_nothing_runs(template, frame, tmp_path):
    marker = tmp_path / "marker"
    formula = template.format(m=marker)
    with pytest.raises(StatsError, match="formula"):
        MixedModel(formula, "g").fit(frame)
    assert not marker.exists()


@pytest.mark.parametrize("where", ["re_formula", "vc_formula"])
def test_hostile_random_effects_formulas_are_refused(where, frame, tmp_path):
    marker = tmp_path / "marker"
    bad = f"0 + __import__('os').system('touch {marker}')"
    kwargs = {"re_formula": "~" + bad} if where == "re_formula" else {"vc_formula": {"v": bad}}
    with pytest.raises(StatsError, match=where):
        MixedModel("y ~ x", "g", **kwargs).fit(frame)
    assert not marker.exists()


def test_hostile_formula_through_the_cli_is_one_line_exit_2(frame, tmp_path, capsys):
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    marker = tmp_path / "marker"
    code = main(["stats", "mixed", str(data), "--formula", f"y ~ __import__('os').system('touch {marker}')",
                 "--groups", "g", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and not marker.exists()
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [err.splitlines()[-1]]
    assert "refused" in err.splitlines()[-1]


def test_a_loaded_model_with_a_tampered_formula_does_not_run_it(frame, tmp_path):
    """A model file carries its formulas: predict checks them again before patsy sees them."""
    model = MixedModel("y ~ np.log(x)", "g").fit(frame)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=SKOPS_TRUSTED)
    marker = tmp_path / "marker"
    loaded.fe_rhs_ = f"np.log(x) + __import__('os').system('touch {marker}')"
    with pytest.raises(StatsError, match="refused"):
        loaded.predict(frame)
    loaded.fe_rhs_ = "np.log(x)"
    loaded.re_formula = f"~__import__('os').system('touch {marker}')"
    with pytest.raises(StatsError, match="refused"):
        loaded.predict(frame)
    assert not marker.exists()


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + C(c)",
        "y ~ np.log(x) + C(c, Treatment('b'))",
        "y ~ log(x) + C(c, Treatment(reference='c'))",
        "y ~ x * C(c)",
        "y ~ x + x:C(c)",
        "y ~ I(x**2) + np.sqrt(x) + np.exp(-x)",
        "np.log(y + 10) ~ x + C(c, Sum)",
        "y ~ C(c, levels=['c', 'b', 'a']) + x",
        "y ~ 0 + C(c) + x",
        "y ~ x - 1 + C(c)",
        "y ~ I(x > 3) + Q('x')",
    ],
)
def test_the_formula_grammar_users_need_still_fits(formula, frame):
    model = MixedModel(formula, "g").fit(frame)
    pred = model.predict(frame)
    assert pred.shape == (len(frame),) and np.isfinite(pred).all()
    if formula.startswith("y "):  # score() reads the response column itself
        assert model.score(frame) > 0.2


def test_random_slope_and_variance_component_still_fit(frame):
    model = MixedModel("y ~ np.log(x)", "g", re_formula="~np.log(x)").fit(frame)
    assert model.cov_re_.shape == (2, 2)
    vc = MixedModel("y ~ x", "g", vc_formula={"c": "0 + C(c)"}).fit(frame)
    assert vc.vc_names_ == ["c"]


def test_columns_are_read_from_the_formula():
    assert check_formula("np.log(y) ~ a:b + C(g, Treatment('z')) + Q('odd name') + I(x**2)") == [
        "y", "a", "b", "g", "odd name", "x"
    ]
