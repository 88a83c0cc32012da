"""Partial dependence and ICE: same numbers as scikit-learn's brute force, blends by linearity."""

from __future__ import annotations

import numpy as np
import pytest
from explain_testkit import pipe, small
from sklearn.inspection import partial_dependence as sk_pd

from modelworks.exceptions import ColumnError, ExplainError
from modelworks.explain import partial_dependence, plot_partial_dependence


@pytest.fixture(scope="module")
def blend(cancer):
    from modelworks.ensemble import BlendClassifier

    X, y = cancer
    members = [pipe(X, y, n, "binary") for n in ("rf", "xgboost", "logreg")]
    return BlendClassifier.from_fitted(["rf", "xgb", "lr"], members, [0.5, 0.3, 0.2])


def test_blend_pd_and_ice_equal_sklearn_brute_force_on_the_blend(cancer, blend):
    X, _ = cancer
    res = partial_dependence(blend, X, ["radius", "size", ("radius", "texture"), "radius:size"], kind="both")
    item = res["radius"]
    assert "rf: brute-tree" in item.method and "lr: brute" in item.method
    ref = sk_pd(blend, X, ["radius"], method="brute", kind="both", custom_values={"radius": item.grid[0]})
    np.testing.assert_allclose(item.average, ref["average"], atol=1e-6)
    np.testing.assert_allclose(item.individual, ref["individual"], atol=1e-6)
    ref = sk_pd(blend, X, ["size"], method="brute", categorical_features=["size"])
    assert list(res["size"].grid[0]) == list(ref["grid_values"][0])
    np.testing.assert_allclose(res["size"].average, ref["average"], atol=1e-6)
    pair = res[("radius", "texture")]
    ref = sk_pd(blend, X, ["radius", "texture"], method="brute",
                custom_values={"radius": pair.grid[0], "texture": pair.grid[1]})
    np.testing.assert_allclose(pair.average, ref["average"], atol=1e-6)
    assert res["radius:size"].average.shape == (1, 20, 3)
    assert res.output == "probability of class '1'"


def test_blend_pd_is_the_weighted_sum_of_the_members(cancer, blend):
    X, _ = cancer
    whole = partial_dependence(blend, X, ["area"], method="brute")["area"].average
    parts = [partial_dependence(m, X, ["area"], method="brute")["area"].average for m in blend.estimators_]
    np.testing.assert_allclose(whole, sum(w * p for w, p in zip(blend.weights_, parts)), atol=1e-12)


def test_recursion_for_regressors_that_support_it(diabetes):
    X, y = diabetes
    model = pipe(X, y, "hgb", "regression")
    fast = partial_dependence(model, X, ["bmi"])
    assert fast["bmi"].method == "recursion" and fast.notes
    brute = partial_dependence(model, X, ["bmi"], method="brute")
    assert brute["bmi"].method == "brute-tree"
    ref = sk_pd(model, X, ["bmi"], method="brute", custom_values={"bmi": brute["bmi"].grid[0]})
    np.testing.assert_allclose(brute["bmi"].average, ref["average"], atol=1e-8)
    # recursion weights the other features by the training data: close, not equal (same offset)
    spread = np.ptp(brute["bmi"].average)
    assert np.abs(fast["bmi"].average - brute["bmi"].average).max() < 0.3 * spread
    with_ice = partial_dependence(model, X, ["bmi"], kind="both")
    assert with_ice["bmi"].method == "brute-tree"


def test_multiclass_pd_has_one_curve_per_class(wine):
    X, y = wine
    res = partial_dependence(pipe(X, y, "lightgbm", "multiclass"), X, ["alcohol"], kind="individual")
    assert res.outputs == ["a", "b", "c"]
    ice = res["alcohol"].individual
    assert ice.shape == (3, len(X), 20) and res["alcohol"].average is None
    np.testing.assert_allclose(ice.sum(axis=0), 1.0, atol=1e-9)  # probabilities per row and grid point


def test_generic_models_use_batched_brute_force(cancer):
    X, y = cancer
    knn = pipe(X, y, "knn", "binary")
    res = partial_dependence(knn, X, ["radius"])
    ref = sk_pd(knn, X, ["radius"], method="brute", custom_values={"radius": res["radius"].grid[0]})
    assert res["radius"].method == "brute"
    np.testing.assert_allclose(res["radius"].average, ref["average"], atol=1e-12)


def test_errors(cancer, diabetes):
    X, y = cancer
    model = pipe(X, y, "rf", "binary")
    with pytest.raises(ColumnError, match="unknown feature.*: age; columns are: radius"):
        partial_dependence(model, X, ["age"])
    many = X.assign(code=[f"c{i % 30}" for i in range(len(X))])
    wide = pipe(many, y, "rf", "binary")
    with pytest.raises(ExplainError, match="'code' has 30 levels; a 2-D partial dependence allows at most 20"):
        partial_dependence(wide, many, [("radius", "code")])
    assert partial_dependence(wide, many, ["code"])["code"].average.shape == (1, 30)  # 1-D is fine
    with pytest.raises(ExplainError, match="method='recursion' cannot be used for RandomForestClassifier"):
        partial_dependence(model, X, ["radius"], method="recursion")
    with pytest.raises(ExplainError, match="kind must be one of"):
        partial_dependence(model, X, ["radius"], kind="mean")


def _non_blank(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return float(img[..., :3].std())


def test_pdp_and_shap_plots_are_real_non_blank_pngs(cancer, blend, tmp_path):
    from modelworks.explain import explain_model

    X, _ = cancer
    res = partial_dependence(blend, X, ["radius", "size", "radius:texture"], kind="both")
    paths = plot_partial_dependence(res, tmp_path)
    assert set(paths) == {"radius", "size", "radius:texture"}
    ex = explain_model(blend, X.iloc[:30], background=X.iloc[-20:])
    paths.update(ex.plots(tmp_path, row=3))
    assert {"beeswarm", "bar", "dependence", "waterfall"} <= set(paths)
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert _non_blank(path) > 0.02, f"{path.name} looks blank"


def test_multiclass_shap_plots(wine, tmp_path):
    from modelworks.explain import explain_model

    X, y = wine
    ex = explain_model(small("rf", "multiclass").fit(X, y), X.iloc[:30])
    paths = ex.plots(tmp_path, class_index="b", feature="alcohol")
    assert paths["dependence"].name == "shap-dependence-alcohol.png"
    assert all(_non_blank(p) > 0.02 for p in paths.values())
    with pytest.raises(ExplainError, match="class 'z' not found; classes are: a, b, c"):
        ex.plots(tmp_path, class_index="z")


def test_integer_columns_with_many_values_get_a_whole_number_grid():
    # a large table's integer column has more distinct values than the grid: the grid was a
    # float linspace cast back to integers ("Trying to coerce float values to integers")
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge

    from modelworks.data import make_pipeline
    from modelworks.explain import partial_dependence

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"sqft": rng.integers(300, 5000, 600), "rooms": rng.integers(1, 8, 600),
                      "zone": rng.choice(list("abc"), 600)})
    y = X["sqft"] * 0.1 + X["rooms"] * 5 + rng.normal(size=600)
    pipe = make_pipeline(X, Ridge()).fit(X, y)
    res = partial_dependence(pipe, X, ["sqft", ("sqft", "rooms")], kind="both", max_rows=100)
    grid = np.asarray(res.items[0].grid[0], dtype=float)
    assert len(grid) > 10 and np.all(grid == np.round(grid))
    assert np.all(np.diff(res.items[0].average[:, 0] if res.items[0].average.ndim == 2 else res.items[0].average) > 0)


def test_the_grid_kernel_equals_the_point_kernel_for_one_and_two_columns():
    """``tree_ice_grid`` (boxes of grid cells, one walk per leaf) = ``tree_ice`` (every grid point)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor

    from modelworks.explain._trees import parse, tree_ice, tree_ice_grid

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X[:, 0] * X[:, 1] + X[:, 2]
    for model in (RandomForestRegressor(10, max_depth=6, random_state=0).fit(X, y),
                  HistGradientBoostingClassifier(max_iter=10).fit(X, (y > 0).astype(int))):
        trees = parse(model)
        for cols in ([0], [0, 1], [3, 1]):
            grids = [np.sort(rng.normal(size=7)) for _ in cols]
            boxes = tree_ice_grid(trees, X[:40], cols, grids)
            points = np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(cols), -1).T
            every = tree_ice(trees, X[:40], cols, points)
            assert boxes is not None and np.allclose(boxes.reshape(every.shape), every), (type(model), cols)
