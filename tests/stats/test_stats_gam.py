"""GAMRegressor / GAMClassifier: pygam equivalence, band coverage, smoothing search, contract."""

import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from modelworks.exceptions import ColumnError, NotFittedError, StatsError
from modelworks.stats import GAM, SKOPS_TRUSTED, GAMClassifier, GAMRegressor, StatsWarning

_TRUTH = {
    "x0": lambda x: np.sin(2 * np.pi * x),
    "x1": lambda x: 8 * (x - 0.5) ** 2,
    "x2": np.exp,
    "x3": lambda x: 0.5 * x,
}


def _simulate(n, seed, noise=0.5):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 1, (n, len(_TRUTH))), columns=list(_TRUTH))
    y = sum(f(X[c]) for c, f in _TRUTH.items()) + rng.normal(0, noise, n)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(1)
    n = 500
    X = pd.DataFrame({
        "a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n),
        "region": rng.choice(["north", "south", "west"], n), "d": rng.uniform(0, 1, n),
    })
    eff = X["region"].map({"north": 0.0, "south": 1.0, "west": -1.0})
    y = np.sin(6 * X["a"]) + X["b"] ** 2 + eff + X["a"] * X["d"] + rng.normal(0, 0.3, n)
    return X, y.to_numpy()


def test_gam_is_the_regressor():
    assert GAM is GAMRegressor


def test_fixed_lam_reproduces_pygam_lineargam():
    from pygam import LinearGAM, s

    X, y = _simulate(400, 0)
    ours = GAMRegressor(lam=0.6).fit(X, y)
    ref = LinearGAM(s(0) + s(1) + s(2) + s(3)).fit(X.to_numpy(), y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X.to_numpy()), atol=1e-8)
    assert ours.gam_.statistics_["edof"] == pytest.approx(ref.statistics_["edof"])


def test_credible_bands_cover_the_true_smooths():
    covered = []
    for seed in range(3):
        X, y = _simulate(500, 10 + seed)
        effects = GAMRegressor().fit(X, y).partial_effects(width=0.95)
        for col, f in _TRUTH.items():
            band = effects[f"s({col})"]
            truth = f(band[col].to_numpy()) - f(X[col].to_numpy()).mean()  # centred like the terms
            covered.append(np.mean((truth >= band["lower"]) & (truth <= band["upper"])))
    assert np.mean(covered) >= 0.90, covered


def test_fast_search_reaches_a_lower_gcv_than_the_shared_grid_and_predicts_as_well():
    X, y = _simulate(2000, 2)
    Xt, yt = _simulate(2000, 3)
    fast = GAMRegressor(lam_search="fast").fit(X, y)
    grid = GAMRegressor(lam_search="grid").fit(X, y)
    assert fast.gam_.statistics_["GCV"] <= grid.gam_.statistics_["GCV"] + 1e-12
    mse_fast = np.mean((fast.predict(Xt) - yt) ** 2)
    mse_grid = np.mean((grid.predict(Xt) - yt) ** 2)
    assert mse_fast <= mse_grid * 1.01
    # one lam per term: the linear truth (x3) gets the strongest smoothing
    lams = dict(zip([t["name"] for t in fast.terms_], fast.lam_))
    assert lams["s(x3)"] == max(lams.values())
    assert fast.summary().set_index("term").loc["s(x3)", "edf"] < 1.5


def test_factor_and_tensor_terms_and_centred_effects(mixed_frame):
    X, y = mixed_frame
    m = GAMRegressor(tensor=("a", "d")).fit(X, y)
    assert [t["name"] for t in m.terms_] == ["s(b)", "f(region)", "te(a,d)"]
    effects = m.partial_effects()
    region = effects["f(region)"].set_index("region")["effect"]
    assert region["south"] - region["west"] == pytest.approx(2.0, abs=0.25)
    assert effects["te(a,d)"].shape[0] == 33 * 33
    # centred: the effect averages to ~0 over the training data
    b = effects["s(b)"]
    assert abs(np.interp(X["b"], b["b"], b["effect"]).mean()) < 0.02
    assert m.score(X, y) > 0.8


def test_unknown_level_at_predict_uses_the_most_frequent_level(mixed_frame):
    X, y = mixed_frame
    m = GAMRegressor().fit(X, y)
    new = X.head(3).assign(region="east")
    with pytest.warns(StatsWarning, match="not seen at fit.*east"):
        pred = m.predict(new)
    most = X["region"].value_counts().idxmax()
    np.testing.assert_allclose(pred, m.predict(new.assign(region=most)))


def test_classifier_binary_with_string_labels(mixed_frame):
    X, y = mixed_frame
    labels = np.where(y > np.median(y), "high", "low")
    clf = GAMClassifier().fit(X, labels)
    assert list(clf.classes_) == ["high", "low"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    assert clf.score(X, labels) > 0.8
    assert "UBRE" in clf.summary_dict()
    with pytest.raises(StatsError, match="binary target, got 3 class"):
        GAMClassifier().fit(X, np.arange(len(X)) % 3)


def test_sklearn_contract_clone_and_cross_validation(mixed_frame):
    X, y = mixed_frame
    m = GAMRegressor(n_splines=10)
    assert clone(m).get_params() == m.get_params()
    assert np.all(cross_val_score(m, X, y, cv=3) > 0.7)
    with pytest.raises(NotFittedError, match="not fitted"):
        GAMRegressor().predict(X)
    arr = GAMRegressor().fit(X[["a", "b"]].to_numpy(), y)
    assert arr.predict(X[["a", "b"]].to_numpy()).shape == (len(X),)


@pytest.mark.parametrize("cls", [GAMRegressor, GAMClassifier])
def test_skops_round_trip(mixed_frame, cls):
    X, y = mixed_frame
    target = y if cls is GAMRegressor else (y > np.median(y)).astype(int)
    m = cls(tensor=("a", "d")).fit(X, target)
    blob = sio.dumps(m)
    assert set(sio.get_untrusted_types(data=blob)) <= set(SKOPS_TRUSTED)
    loaded = sio.loads(blob, trusted=SKOPS_TRUSTED)
    np.testing.assert_allclose(loaded.predict(X) if cls is GAMRegressor else loaded.predict_proba(X),
                               m.predict(X) if cls is GAMRegressor else m.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.partial_effects()["s(b)"], m.partial_effects()["s(b)"])


@pytest.mark.parametrize(
    ("edit", "kwargs", "error", "match"),
    [
        (lambda X: X.assign(a=X["a"].where(X.index != 7)), {}, StatsError, "'a' has 1 missing value.*rows 7"),
        (lambda X: X.head(30), {}, StatsError, "too few rows for the number of spline bases: 30 rows"),
        (lambda X: X.assign(b=1.0), {}, StatsError, "'b' has a single value|'b' is constant"),
        (None, {"features": ["a", "zz"]}, ColumnError, "not in the data: zz"),
        (None, {"tensor": ("a", "region")}, StatsError, "tensor column 'region' is categorical"),
        (None, {"lam_search": "bayes"}, StatsError, "lam_search must be one of fast, grid"),
        (None, {"n_splines": 3}, StatsError, "n_splines must be a whole number >= 4"),
        (lambda X: X.assign(id=[f"row{i}" for i in range(len(X))]), {}, StatsError,
         "'id' .* 500 distinct values, too many for a factor term"),
    ],
)
def test_bad_input_gets_a_clear_error(mixed_frame, edit, kwargs, error, match):
    X, y = mixed_frame
    if edit is not None:
        X = edit(X)
    with pytest.raises(error, match=match):
        GAMRegressor(**kwargs).fit(X, y[: len(X)])


def test_non_numeric_or_missing_target_is_refused(mixed_frame):
    X, y = mixed_frame
    with pytest.raises(StatsError, match="must be numeric.*GAMClassifier"):
        GAMRegressor().fit(X, X["region"])
    with pytest.raises(StatsError, match="target has 1 missing"):
        GAMRegressor().fit(X, np.where(np.arange(len(y)) == 0, np.nan, y))


def test_plots_and_report_section(tmp_path, mixed_frame):
    from modelworks.report import Report
    from modelworks.stats import plot_partial_effects, report_section

    X, y = mixed_frame
    m = GAMRegressor(tensor=("a", "d")).fit(X, y)
    fig = plot_partial_effects(m)
    assert len([ax for ax in fig.axes if ax.get_visible() and ax.get_title()]) == 3
    report = Report(tmp_path, "t")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatsWarning)
        report_section(report, m, X, y)
    html = report.write().read_text()
    assert "Generalized additive model" in html and "te(a,d)" in html
    assert (tmp_path / "plots" / "generalized-additive-model-partial-effects.png").stat().st_size > 5000
    assert (tmp_path / "plots" / "generalized-additive-model-residuals.png").exists()


def test_works_inside_a_modelworks_pipeline_for_tuning_and_ensembles():
    from sklearn.datasets import load_diabetes

    from modelworks.data import make_pipeline

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    pipe = make_pipeline(X, GAMRegressor(n_splines=8))
    assert np.mean(cross_val_score(pipe, X, y, cv=3)) > 0.4
