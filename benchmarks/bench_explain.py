"""Explanations: modelworks vs the fastest peers, side by side, alternating, median of repeats.

Data: statsmodels' randhie (RAND health insurance experiment, 20,190 rows x 9 features, shipped
with statsmodels), target ``mdvis`` (doctor visits, regression). Seed 0. Threads pinned to 1.

Cases (each prints time ratios and a quality column next to them):

1. Tree models, path-dependent TreeSHAP on 5,000 rows: ``modelworks.explain`` vs
   ``shap.TreeExplainer(model).shap_values`` vs the booster's own ``pred_contribs``/``pred_contrib``.
   Goal: <= 1.1x the fastest, max |difference| < 1e-5.
2. A 3-member blend (xgboost + lightgbm + random forest), 2,000 rows, background of 100 rows:
   modelworks' exact ensemble SHAP vs shap's PermutationExplainer and KernelExplainer on the
   blend. The peers are timed on a few rows and extrapolated linearly (their cost per row is
   constant; running them on 2,000 rows would take hours). Quality: max |difference| from the
   exact interventional Shapley values (shap's ExactExplainer on the whole blend, 2**9
   coalitions x 100 background rows) on the same 8 rows. Goal: >= 20x faster and closer.
3. Partial dependence of the same blend on all 20,190 rows, 20 grid points: modelworks
   (``method="brute"``) vs ``sklearn.inspection.partial_dependence(blend, method="brute")``.
   Goal: >= 10x faster, same curves within 1e-6. randhie is panel data (each person appears
   about 5 times): modelworks computes each distinct row once (exact), so a second run on
   20,000 generated rows without duplicates shows the speed of the tree kernel alone.

Run: ``python benchmarks/bench_explain.py`` (about 5 minutes here). Writes
``benchmarks/results/explain.json``. Timings on the shared 2-core machine are noisy; compare the
ratios, not the seconds.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

for _k, _v in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive", "MPLBACKEND": "Agg",
               "MODELWORKS_PROGRESS": "0"}.items():
    os.environ.setdefault(_k, _v)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPEATS = 3
SEED = 0
OUT = Path(__file__).resolve().parent / "results" / "explain.json"


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def alternate(runs: dict, repeats: int = REPEATS) -> dict:
    """Run each callable ``repeats`` times, alternating the order; median seconds and last result."""
    times = {k: [] for k in runs}
    results = {}
    names = list(runs)
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for k in order:
            dt, results[k] = timed(runs[k])
            times[k].append(dt)
    return {k: (statistics.median(v), results[k]) for k, v in times.items()}


def load():
    import statsmodels.api as sm

    data = sm.datasets.randhie.load_pandas().data
    y = data.pop("mdvis").astype(float)
    return data.astype(float), y


def case_tree(X, y, rows: int = 5000):
    import shap
    import xgboost

    from modelworks.explain import explain_model
    from modelworks.models import get_model

    Xe = X.iloc[:rows]
    out = []
    for name in ("xgboost", "lightgbm"):
        model = get_model(name, "regression", seed=SEED).fit(X, y)
        Z = Xe.to_numpy()
        if name == "xgboost":
            booster = model.get_booster()

            def native(booster=booster, Z=Z):
                return booster.predict(xgboost.DMatrix(Z, feature_names=booster.feature_names),
                                       pred_contribs=True, validate_features=False)
            native_name = "xgboost pred_contribs"
        else:
            def native(model=model, Z=Z):
                return model.booster_.predict(Z, pred_contrib=True)
            native_name = "lightgbm pred_contrib"
        explain_model(model, Xe.iloc[:50])  # warm-up (imports)
        res = alternate({
            "modelworks": lambda model=model: explain_model(model, Xe).values,
            "shap.TreeExplainer": lambda model=model, Z=Z: shap.TreeExplainer(model).shap_values(Z),
            native_name: native,
        })
        ours = res["modelworks"][1]
        fastest = min(res, key=lambda k: res[k][0] if k != "modelworks" else np.inf)
        for peer in ("shap.TreeExplainer", native_name):
            vals = np.asarray(res[peer][1])
            vals = vals[:, :-1] if vals.shape[1] == X.shape[1] + 1 else vals
            out.append({
                "case": "tree SHAP", "model": name, "rows": rows, "peer": peer,
                "ours_s": res["modelworks"][0], "peer_s": res[peer][0],
                "ratio_ours_over_peer": res["modelworks"][0] / res[peer][0],
                "fastest_peer": peer == fastest,
                "max_abs_diff": float(np.abs(ours - vals).max()),
            })
    return out


def make_blend(X, y):
    from modelworks.ensemble import BlendRegressor
    from modelworks.models import get_model

    members = [get_model(n, "regression", seed=SEED).fit(X, y) for n in ("xgboost", "lightgbm", "rf")]
    return BlendRegressor.from_fitted(["xgboost", "lightgbm", "rf"], members, [0.4, 0.3, 0.3])


def case_blend_shap(X, y, blend, rows: int = 2000, peer_rows: int = 8, background: int = 100):
    import shap

    from modelworks.explain import explain_model

    rng = np.random.default_rng(SEED)
    bg = X.iloc[rng.choice(len(X), background, replace=False)]
    Xe = X.iloc[rng.choice(len(X), rows, replace=False)]
    check = Xe.iloc[:peer_rows]
    f = blend.predict
    masker = shap.maskers.Independent(bg.to_numpy(), max_samples=background)
    explain_model(blend, check.iloc[:2], background=bg)  # warm-up (numba kernels load)

    t_exact, exact = timed(lambda: shap.explainers.ExactExplainer(f, masker)(check.to_numpy(), silent=True))
    res = alternate({
        "modelworks": lambda: explain_model(blend, Xe, background=bg),
        "permutation": lambda: shap.explainers.PermutationExplainer(f, masker, seed=SEED)(
            check.to_numpy(), silent=True),
    })
    t_kernel, kern = timed(lambda: np.asarray(shap.KernelExplainer(f, bg.to_numpy()).shap_values(
        check.to_numpy()[:2], silent=True)))
    ours = res["modelworks"][1]
    ours_check = explain_model(blend, check, background=bg).values
    perm = res["permutation"][1].values
    per_row_perm = res["permutation"][0] / peer_rows
    per_row_kernel = t_kernel / 2
    base = {"case": "blend SHAP", "model": "xgboost+lightgbm+rf blend", "rows": rows,
            "background": background, "ours_s": res["modelworks"][0],
            "ours_max_abs_diff_from_exact": float(np.abs(ours_check - exact.values).max()),
            "exact_reference_s_for_check_rows": t_exact, "check_rows": peer_rows,
            "ours_explainer": ours.explainer_name}
    return [
        {**base, "peer": "shap PermutationExplainer (default 500 evals)",
         "peer_s": per_row_perm * rows, "peer_s_measured_rows": peer_rows,
         "ratio_peer_over_ours": per_row_perm * rows / res["modelworks"][0],
         "peer_max_abs_diff_from_exact": float(np.abs(perm - exact.values).max())},
        {**base, "peer": "shap KernelExplainer (auto nsamples)",
         "peer_s": per_row_kernel * rows, "peer_s_measured_rows": 2,
         "ratio_peer_over_ours": per_row_kernel * rows / res["modelworks"][0],
         "peer_max_abs_diff_from_exact": float(np.abs(kern - exact.values[:2]).max())},
    ]


def generated(n: int = 20_000, p: int = 9):
    """20,000 rows with no duplicates (continuous features, Friedman-like target)."""
    rng = np.random.default_rng(SEED)
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{i}" for i in range(p)])
    y = 10 * np.sin(X.x0 * X.x1) + 20 * (X.x2 - 0.5) ** 2 + 10 * X.x3 + 5 * X.x4 + rng.normal(size=n)
    return X, y


def case_pdp(X, y, blend, features=("lpi", "fmde"), data="randhie"):
    from sklearn.inspection import partial_dependence as sk_pd

    from modelworks.explain import partial_dependence

    out = []
    partial_dependence(blend, X.iloc[:100], [features[0]], method="brute")  # warm-up
    for feat in features:
        from modelworks.explain._pdp import _grid

        grid_values, _ = _grid(X[feat], 20, (0.05, 0.95))  # the same grid for both sides
        res = alternate({
            "modelworks": lambda feat=feat: partial_dependence(blend, X, [feat], method="brute")[feat],
            "sklearn brute": lambda feat=feat, g=grid_values: sk_pd(blend, X, [feat], method="brute",
                                                                    custom_values={feat: g}),
        })
        ours, ref = res["modelworks"][1], res["sklearn brute"][1]
        diff = np.abs(ours.average - ref["average"]).max()
        auto_t, auto = timed(lambda feat=feat: partial_dependence(blend, X, [feat])[feat])
        out.append({
            "case": "blend PDP", "data": data, "model": "xgboost+lightgbm+rf blend", "rows": len(X),
            "distinct_rows_besides_feature": int(len(X.drop(columns=feat).drop_duplicates())), "feature": feat,
            "grid": len(grid_values), "peer": "sklearn partial_dependence(method='brute')",
            "ours_s": res["modelworks"][0], "peer_s": res["sklearn brute"][0],
            "ratio_peer_over_ours": res["sklearn brute"][0] / res["modelworks"][0],
            "ours_method": ours.method, "max_abs_diff": float(diff),
            "max_rel_diff": float(diff / max(np.abs(ref["average"]).max(), 1e-12)),
            "auto_method": auto.method, "auto_s": auto_t,
            "auto_max_abs_diff_from_brute": float(np.abs(auto.average - ref["average"]).max()),
        })
    return out


def main() -> int:
    warnings.simplefilter("ignore")
    X, y = load()
    print(f"data: statsmodels randhie, {X.shape[0]} rows x {X.shape[1]} features, target mdvis; "
          f"seed {SEED}; {REPEATS} repeats (median), alternating; OMP_NUM_THREADS=1", flush=True)
    rows = case_tree(X, y)
    print("\n1. tree SHAP (path-dependent), 5,000 rows")
    print(f"{'model':<10}{'peer':<24}{'ours s':>9}{'peer s':>9}{'ours/peer':>11}  {'max|diff|':>10}")
    for r in rows:
        star = " (fastest)" if r["fastest_peer"] else ""
        print(f"{r['model']:<10}{r['peer']:<24}{r['ours_s']:>9.3f}{r['peer_s']:>9.3f}"
              f"{r['ratio_ours_over_peer']:>11.2f}  {r['max_abs_diff']:>10.1e}{star}", flush=True)

    blend = make_blend(X, y)
    brows = case_blend_shap(X, y, blend)
    print(f"\n2. blend SHAP, {brows[0]['rows']} rows, background {brows[0]['background']} "
          f"(peers timed on a few rows, extrapolated)")
    print(f"{'peer':<46}{'ours s':>9}{'peer s':>10}{'peer/ours':>11}  {'ours err':>9}  {'peer err':>9}")
    for r in brows:
        print(f"{r['peer']:<46}{r['ours_s']:>9.2f}{r['peer_s']:>10.0f}{r['ratio_peer_over_ours']:>11.0f}"
              f"  {r['ours_max_abs_diff_from_exact']:>9.1e}  {r['peer_max_abs_diff_from_exact']:>9.1e}", flush=True)
    print("   (err = max |difference| from shap's ExactExplainer on the whole blend, same rows and background)")

    prows = case_pdp(X, y, blend)
    Xg, yg = generated()
    prows += case_pdp(Xg, yg, make_blend(Xg, yg), features=("x0", "x3"), data="generated (no duplicate rows)")
    print(f"\n3. blend partial dependence, {prows[0]['rows']} rows, {prows[0]['grid']} grid points")
    print(f"{'data':<10}{'feature':<9}{'distinct':>9}{'ours s':>9}{'sklearn s':>11}{'sk/ours':>9}  {'max|diff|':>10}"
          f"  {'rel':>8}  auto")
    for r in prows:
        print(f"{r['data'][:9]:<10}{r['feature']:<9}{r['distinct_rows_besides_feature']:>9}"
              f"{r['ours_s']:>9.2f}{r['peer_s']:>11.2f}{r['ratio_peer_over_ours']:>9.1f}"
              f"  {r['max_abs_diff']:>10.1e}  {r['max_rel_diff']:>8.1e}  {r['auto_method']} "
              f"{r['auto_s']:.2f}s, differs from brute by {r['auto_max_abs_diff_from_brute']:.2g}", flush=True)

    import lightgbm
    import shap
    import sklearn
    import xgboost

    result = {
        "benchmark": "explain", "data": "statsmodels randhie (20190 x 9), target mdvis; PDP also on 20000 generated rows", "seed": SEED,
        "repeats": REPEATS, "threads": 1, "python": sys.version.split()[0], "machine": platform.machine(),
        "versions": {"shap": shap.__version__, "sklearn": sklearn.__version__, "xgboost": xgboost.__version__,
                     "lightgbm": lightgbm.__version__},
        "note": "shared 2-core machine: ratios are what to compare; absolute seconds are noisy",
        "tree_shap": rows, "blend_shap": brows, "blend_pdp": prows,
    }
    from modelworks._io import write_json

    write_json(OUT, result)
    print(f"\nwrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
