"""modelworks.stats vs the plain libraries, side by side in one process, alternating.

Mixed models: MixedModel(...).fit vs statsmodels MixedLM.from_formula(...).fit() on a
random-intercept and a random-slope model (10k rows, 500 groups): time ratio (goal <= 1.05x)
and the largest difference in the estimates.
GAMs: GAMRegressor (fast per-term smoothing search) vs pygam LinearGAM(...).gridsearch on 10k and
50k rows with 5 smooth terms, plus a 10k-row binary case (LogisticGAM): time ratio (goal <= 0.5x)
next to held-out deviance.

Run: python benchmarks/bench_stats.py [--repeats 3] [--quick]
Writes benchmarks/results/stats.json. Timings are noisy on a shared machine: read the ratios.
"""

from __future__ import annotations

import os

for _k, _v in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OMP_WAIT_POLICY": "passive", "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(_k, _v)

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SEED = 0


def mixed_data(n=10_000, groups=500, seed=SEED):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    u0, u1 = rng.normal(0, 1.0, groups), rng.normal(0, 0.4, groups)
    y = 1.0 + (2.0 + u1[g]) * x1 - 0.5 * x2 + u0[g] + rng.normal(0, 1.0, n)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


def gam_data(n, seed, binary=False):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 5))
    eta = (np.sin(2 * np.pi * X[:, 0]) + 8 * (X[:, 1] - 0.5) ** 2 + np.exp(X[:, 2]) + 0.5 * X[:, 3]
           + np.cos(4 * X[:, 4]))
    if binary:
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(eta - eta.mean()) * 1.5))).astype(float)
    else:
        y = eta + rng.normal(0, 0.5, n)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]), y


def _time(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def _peer_mixed(df, re_formula):
    from statsmodels.regression.mixed_linear_model import MixedLM

    return MixedLM.from_formula("y ~ x1 + x2", df, groups="g", re_formula=re_formula).fit()


def _ours_mixed(df, re_formula):
    from modelworks.stats import MixedModel

    return MixedModel("y ~ x1 + x2", "g", re_formula=re_formula).fit(df)


def bench_mixed(repeats):
    df = mixed_data()
    rows = []
    for label, re_formula in [("random intercept", None), ("random slope (~x1)", "~x1")]:
        ours_t, peer_t, peer_blup_t = [], [], []
        for _ in range(repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, peer = _time(_peer_mixed, df, re_formula)
                peer_t.append(t)
                t, _ = _time(getattr, peer, "random_effects")  # what statsmodels needs for BLUPs
                peer_blup_t.append(t)
                t, ours = _time(_ours_mixed, df, re_formula)
                ours_t.append(t)
        blup_diff = max(float(np.max(np.abs(ours.blup_[i] - peer.random_effects[lab].to_numpy())))
                        for i, lab in enumerate(peer.model.group_labels))
        rows.append({
            "case": f"MixedLM {label}, 10k rows / 500 groups",
            "ours_s": statistics.median(ours_t), "peer_s": statistics.median(peer_t),
            "ratio": statistics.median(ours_t) / statistics.median(peer_t),
            "ratio_incl_blups": statistics.median(ours_t) / (statistics.median(peer_t) + statistics.median(peer_blup_t)),
            "max_abs_diff_fixed_effects": float(np.max(np.abs(ours.fe_params_ - peer.fe_params.to_numpy()))),
            "max_abs_diff_blups": blup_diff,
            "loglik_ours": ours.llf_, "loglik_peer": float(peer.llf),
            "converged_ours": ours.converged_, "converged_peer": bool(peer.converged),
        })
    return rows


def bench_gam(repeats, sizes):
    from pygam import LinearGAM, LogisticGAM, s

    from modelworks.stats import GAMClassifier, GAMRegressor

    terms = s(0) + s(1) + s(2) + s(3) + s(4)
    rows = []
    cases = [(n, False) for n in sizes] + [(10_000, True)]
    for n, binary in cases:
        X, y = gam_data(n, SEED, binary)
        Xt, yt = gam_data(n, SEED + 1, binary)
        ours_t, peer_t = [], []
        # warm-up (imports, first-call costs) not timed
        (GAMClassifier if binary else GAMRegressor)().fit(X[:2000], y[:2000])
        for _ in range(repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                peer_cls = LogisticGAM if binary else LinearGAM
                t, peer = _time(peer_cls(terms).gridsearch, X.to_numpy(), y, progress=False)
                peer_t.append(t)
                t, ours = _time((GAMClassifier if binary else GAMRegressor)().fit, X, y)
                ours_t.append(t)
        if binary:
            p_ours = np.clip(ours.predict_proba(Xt)[:, 1], 1e-12, 1 - 1e-12)
            p_peer = np.clip(peer.predict_mu(Xt.to_numpy()), 1e-12, 1 - 1e-12)
            dev = [float(-2 * np.mean(yt * np.log(p) + (1 - yt) * np.log(1 - p))) for p in (p_ours, p_peer)]
        else:
            dev = [float(np.mean((m - yt) ** 2)) for m in (ours.predict(Xt), peer.predict(Xt.to_numpy()))]
        rows.append({
            "case": f"{'LogisticGAM' if binary else 'LinearGAM'} 5 smooths, {n // 1000}k rows",
            "ours_s": statistics.median(ours_t), "peer_s": statistics.median(peer_t),
            "ratio": statistics.median(ours_t) / statistics.median(peer_t),
            "heldout_deviance_per_row_ours": dev[0], "heldout_deviance_per_row_peer": dev[1],
            "lam_ours": [round(v, 3) for v in ours.lam_], "lam_peer": float(np.ravel(peer.lam[0])[0]),
        })
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="GAM on 10k rows only")
    args = ap.parse_args(argv)
    print(f"seed {SEED}; {args.repeats} repeats, median; threads pinned to 1; {platform.processor() or platform.machine()}")
    mixed = bench_mixed(args.repeats)
    print("\nMixed models (peer: statsmodels MixedLM.from_formula(...).fit(), default optimisers)")
    print(f"{'case':48s} {'ours s':>8s} {'peer s':>8s} {'ratio':>6s} {'ratio+BLUP':>10s} {'max|dFE|':>9s} {'max|dBLUP|':>10s} conv(o/p)")
    for r in mixed:
        print(f"{r['case']:48s} {r['ours_s']:8.3f} {r['peer_s']:8.3f} {r['ratio']:6.2f} {r['ratio_incl_blups']:10.2f} "
              f"{r['max_abs_diff_fixed_effects']:9.1e} {r['max_abs_diff_blups']:10.1e} {r['converged_ours']}/{r['converged_peer']}")
    gam = bench_gam(args.repeats, [10_000] if args.quick else [10_000, 50_000])
    print("\nGAMs (peer: pygam gridsearch, lam in logspace(-3, 3, 11) shared by all terms; "
          "quality: held-out MSE or binomial deviance per row)")
    print(f"{'case':40s} {'ours s':>8s} {'peer s':>8s} {'ratio':>6s} {'dev ours':>9s} {'dev peer':>9s}")
    for r in gam:
        print(f"{r['case']:40s} {r['ours_s']:8.3f} {r['peer_s']:8.3f} {r['ratio']:6.2f} "
              f"{r['heldout_deviance_per_row_ours']:9.4f} {r['heldout_deviance_per_row_peer']:9.4f}")
    from modelworks._io import write_json

    out = Path(__file__).parent / "results" / "stats.json"
    write_json(out, {"seed": SEED, "repeats": args.repeats, "mixed": mixed, "gam": gam,
                     "note": "shared 2-core machine: absolute times are noisy, compare ratios"})
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
