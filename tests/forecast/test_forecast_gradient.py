"""The lean finite-difference gradient gives statsforecast's ARIMA search the same answers."""

import numpy as np
import pytest

pytest.importorskip("statsforecast")


def _fit(values, m):
    import warnings

    from statsforecast.models import AutoARIMA

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        model = AutoARIMA(season_length=m).fit(values)
        return model.model_, model.predict(6, level=[80, 95])


def _quarterly():
    rng = np.random.default_rng(5)
    t = np.arange(64)
    return 20 + 0.2 * t + 3 * np.sin(np.pi * t / 2) + np.cumsum(rng.normal(0, 0.5, 64))


@pytest.mark.parametrize("which", ["nile", "quarterly"])
def test_same_orders_coefficients_and_forecasts_with_the_lean_gradient(which, request, monkeypatch):
    import scipy.optimize._differentiable_functions as sdf

    from modelworks.forecast._gradient import faster_fits

    values = request.getfixturevalue("nile").to_numpy(float) if which == "nile" else _quarterly()
    m = 4 if which == "quarterly" else 1
    plain_model, plain = _fit(values, m)

    calls = {"n": 0}
    real = sdf.approx_derivative

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(sdf, "approx_derivative", counting)
    with faster_fits(reltol=None):  # scipy's own stopping rule: bit-for-bit the same path
        fast_model, fast = _fit(values, m)
    assert calls["n"] == 0  # scipy's finite differences were not used inside the block
    assert tuple(fast_model["arma"]) == tuple(plain_model["arma"])
    np.testing.assert_array_equal(np.asarray(list(fast_model["coef"].values())),
                                  np.asarray(list(plain_model["coef"].values())))
    for key in ("mean", "lo-80", "hi-95"):
        np.testing.assert_array_equal(fast[key], plain[key])
    _fit(values, m)  # outside the block statsforecast runs scipy's own code again
    assert calls["n"] > 0


@pytest.mark.parametrize("which", ["nile", "quarterly"])
def test_r_stopping_rule_keeps_the_model_with_fewer_likelihood_evaluations(which, request):
    import statsforecast.arima as sf_arima

    from modelworks.forecast._gradient import faster_fits, install

    values = request.getfixturevalue("nile").to_numpy(float) if which == "nile" else _quarterly()
    m = 4 if which == "quarterly" else 1
    install()
    real = sf_arima.minimize
    counts, results = {}, {}
    for rule, reltol in (("scipy", None), ("r", 1.4901161193847656e-08)):
        evaluations = {"n": 0}

        def counting(*a, _evaluations=evaluations, **k):
            res = real(*a, **k)
            _evaluations["n"] += int(res.nfev)
            return res

        sf_arima.minimize = counting
        try:
            with faster_fits(reltol=reltol):
                results[rule] = _fit(values, m)
        finally:
            sf_arima.minimize = real
        counts[rule] = evaluations["n"]
    (sp_model, sp), (r_model, r) = results["scipy"], results["r"]
    assert tuple(r_model["arma"]) == tuple(sp_model["arma"])
    assert counts["r"] < counts["scipy"]
    scale = np.std(values)
    np.testing.assert_allclose(r["mean"], sp["mean"], atol=0.02 * scale)
    np.testing.assert_allclose(r["hi-95"], sp["hi-95"], atol=0.05 * scale)


def test_forward_difference_matches_scipy_steps():
    from scipy.optimize._numdiff import approx_derivative

    from modelworks.forecast._gradient import _EPS_STEP, forward_difference

    def f(x):
        return float(np.sum(np.sin(3 * x) * x**2))

    x = np.array([0.0, -1.5, 2.0, 1e9])
    ours = forward_difference(f, x, f(x))
    theirs = approx_derivative(f, x, method="2-point", abs_step=_EPS_STEP, f0=f(x))
    np.testing.assert_array_equal(ours, theirs)
