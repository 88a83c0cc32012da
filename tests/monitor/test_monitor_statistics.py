"""Statistical properties of the drift rule and agreement of every p-value with scipy/statsmodels."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelworks.monitor import compare_predictions, drift
from modelworks.monitor._stats import ecdf_distances, ks_pvalue

N_BATCHES = 400
N_COLUMNS = 20


def _no_drift_batch(rng, n):
    """20 columns of mixed kinds and shapes; reference and current from the same distribution."""

    def side():
        cols = {}
        for i in range(6):
            cols[f"normal{i}"] = rng.normal(size=n)
        for i in range(3):
            cols[f"skewed{i}"] = rng.lognormal(sigma=1.0, size=n)
        for i in range(3):  # heavily tied integer columns: KS is conservative there
            cols[f"count{i}"] = rng.poisson(3.0, size=n).astype(float)
        for i in range(2):  # missing values at a stable rate
            v = rng.normal(size=n)
            v[rng.random(n) < 0.1] = np.nan
            cols[f"gappy{i}"] = v
        for i in range(4):
            cols[f"level{i}"] = rng.choice(["a", "b", "c", "d"], p=[0.4, 0.3, 0.2, 0.1], size=n)
        for i in range(2):
            cols[f"flag{i}"] = rng.random(n) < 0.3
        return pd.DataFrame(cols)

    ref, cur = side(), side()
    assert ref.shape[1] == N_COLUMNS
    return ref, cur


def test_family_wise_false_alarm_rate_of_the_default_rule_stays_at_alpha():
    rng = np.random.default_rng(20240611)
    alarms_default = alarms_bh_only = alarms_naive = 0
    for _ in range(N_BATCHES):
        ref, cur = _no_drift_batch(rng, 300)
        report = drift(ref, cur)
        alarms_default += report.dataset_drift
        t = report.table
        # the correction alone (no effect floor) must already control the family-wise rate
        alarms_bh_only += bool(
            (t["p_adjusted"] <= 0.05).any() | (t["missing_p_adjusted"] <= 0.05).any()
        )
        # the chapter's rule: any raw p < 0.05
        alarms_naive += bool((t["p_value"] < 0.05).any())
    bound = 0.05 + 2 * math.sqrt(0.05 * 0.95 / N_BATCHES)
    assert alarms_default / N_BATCHES <= bound
    assert alarms_bh_only / N_BATCHES <= bound
    # and the naive rule really is broken, so the checks above can fail
    assert alarms_naive / N_BATCHES > 0.4


def test_power_for_a_0_3_sd_mean_shift_at_n_2000_is_at_least_0_9():
    rng = np.random.default_rng(7)
    hits = 0
    trials = 60
    for _ in range(trials):
        ref = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(N_COLUMNS)})
        cur = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(N_COLUMNS)})
        cur["x3"] += 0.3
        hits += "x3" in drift(ref, cur).drifted
    assert hits / trials >= 0.9


def test_a_0_01_sd_shift_at_a_million_rows_is_significant_but_not_flagged():
    rng = np.random.default_rng(3)
    n = 1_000_000
    ref = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    cur = pd.DataFrame({"x": rng.normal(0.01, 1, size=n), "y": rng.normal(size=n)})
    report = drift(ref, cur)
    row = report.table.set_index("column").loc["x"]
    assert row["p_value"] < 0.05  # the naive rule would raise an alarm...
    assert row["effect"] < 0.02
    assert report.drifted == []  # ...the effect floor does not
    # a real shift at the same size is flagged
    cur["y"] += 0.2
    assert drift(ref, cur).drifted == ["y"]


@pytest.mark.parametrize(
    "n1,n2,ties",
    [
        (40, 60, False),
        (300, 300, True),
        (2_000, 1_500, False),
        (12_000, 20_000, False),
        (30_000, 25_000, True),
    ],
)
@pytest.mark.parametrize("shift", [0.0, 0.05, 0.1, 0.3])
def test_ks_statistic_and_p_value_equal_scipy(n1, n2, ties, shift):
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(shift, 1, size=n2)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    sa, sb = np.sort(a), np.sort(b)
    d, w = ecdf_distances(sa, sb)
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    p = ks_pvalue(d, n1, n2, sa, sb)
    if expected.pvalue >= 1e-5:
        assert p == pytest.approx(expected.pvalue, rel=1e-9)
    else:  # the far tail at large n: the limiting distribution (documented shortcut)
        assert p == pytest.approx(expected.pvalue, rel=0.05) and p < 1e-5
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-12)


def test_drift_table_p_values_equal_scipy_for_every_kind_of_column():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=800), "c": rng.choice(list("abc"), 800)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, size=700), "c": rng.choice(list("abcd"), 700)})
    x = ref["x"].to_numpy().copy()
    x[:80] = np.nan
    ref["x"] = x
    t = drift(ref, cur, correction="none").table.set_index("column")
    assert t.loc["x", "p_value"] == pytest.approx(
        stats.ks_2samp(ref["x"].dropna(), cur["x"]).pvalue, rel=1e-12
    )
    counts = (
        pd.concat([ref["c"].value_counts(), cur["c"].value_counts()], axis=1).fillna(0).to_numpy().T
    )
    assert t.loc["c", "p_value"] == pytest.approx(stats.chi2_contingency(counts).pvalue, rel=1e-12)
    # the missing-rate change is its own test: 80 of 800 vs 0 of 700
    assert t.loc["x", "missing_p"] == pytest.approx(
        stats.chi2_contingency([[80, 720], [0, 700]], correction=True).pvalue, rel=1e-12
    )


@pytest.mark.parametrize(
    "correction,method", [("bh", "fdr_bh"), ("holm", "holm"), ("bonferroni", "bonferroni")]
)
def test_adjusted_p_values_equal_statsmodels_multipletests(correction, method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(11)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=500) for i in range(8)})
    cur = pd.DataFrame({f"x{i}": rng.normal(0.03 * i, 1, size=500) for i in range(8)})
    t = drift(ref, cur, correction=correction).table
    assert np.allclose(t["p_adjusted"], multipletests(t["p_value"], method=method)[1], rtol=1e-12)


@pytest.mark.parametrize(
    "agree,a_only,b_only", [(80, 3, 9), (400, 30, 52), (90, 0, 0), (50, 12, 12)]
)
def test_mcnemar_p_value_equals_statsmodels_exact_or_chi2_by_discordant_count(
    agree, a_only, b_only
):
    from statsmodels.stats.contingency_tables import mcnemar

    y = np.ones(agree + a_only + b_only + 10, dtype=int)
    pa = y.copy()
    pb = y.copy()
    pb[:a_only] = 0  # A right, B wrong
    pa[a_only : a_only + b_only] = 0  # B right, A wrong
    pa[-10:] = pb[-10:] = 0  # both wrong
    res = compare_predictions(y, pa, pb, test="mcnemar")
    exact = a_only + b_only < 25
    table = [[agree, a_only], [b_only, 10]]
    assert res.p_value == pytest.approx(
        mcnemar(table, exact=exact, correction=True).pvalue, rel=1e-12
    )
    assert res.details["exact"] is exact
    assert (res.details["a_only_right"], res.details["b_only_right"]) == (a_only, b_only)
    assert res.difference == pytest.approx((b_only - a_only) / len(y))


def test_rare_levels_are_pooled_for_the_chi_squared_test():
    ref = pd.DataFrame({"c": ["a"] * 500 + ["b"] * 480 + ["x", "y"] * 4})
    cur = pd.DataFrame({"c": ["a"] * 490 + ["b"] * 490 + ["x"] * 3 + ["z"] * 5})
    t = drift(ref, cur, correction="none").table.set_index("column")
    pooled = [[500, 480, 8], [490, 490, 8]]  # x, y and z each expect < 5 counts: one cell
    assert t.loc["c", "p_value"] == pytest.approx(stats.chi2_contingency(pooled).pvalue, rel=1e-12)
    assert "unseen in the reference: z" in t.loc["c", "note"]
