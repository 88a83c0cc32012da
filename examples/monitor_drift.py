"""Drift detection, the chapter's first monitoring step, done with modelworks.

The chapter runs ``scipy.stats.ks_2samp`` on every column and raises an alarm when any p < 0.05.
With 20 columns and no drift at all, that rule fires most of the time. Here: the same batches,
the chapter's rule next to ``modelworks.monitor.drift`` (corrected p-values + effect floors),
then a self-test of the rule and a drift-over-time table and plot.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from modelworks.monitor import drift, drift_over_time, self_test

rng = np.random.default_rng(0)
N = 2_000


def batch(shift=0.0, plan_p=(0.6, 0.3, 0.1)):
    data = {f"x{i}": rng.normal(size=N) for i in range(18)}
    data["income"] = rng.lognormal(10 + shift, 1, N)
    data["plan"] = rng.choice(["basic", "pro", "team"], N, p=plan_p)
    return pd.DataFrame(data)


def chapter_detect_drift(reference, new, threshold=0.05):
    """The chapter's loop (numeric columns only: ks_2samp cannot take the text column)."""
    return {
        c: stats.ks_2samp(reference[c], new[c]).pvalue < threshold
        for c in reference.columns
        if reference[c].dtype.kind == "f"
    }


reference = batch()
batches = {
    f"week {w}": batch(
        shift=0.4 if w >= 5 else 0.0, plan_p=(0.4, 0.3, 0.3) if w >= 6 else (0.6, 0.3, 0.1)
    )
    for w in range(1, 8)
}

print("week     chapter rule (any p<0.05)   modelworks")
for name, new in batches.items():
    naive = [c for c, hit in chapter_detect_drift(reference, new).items() if hit]
    report = drift(reference, new)
    print(
        f"{name:8s} {('ALARM ' + ','.join(naive))[:26] if naive else 'ok':28s} "
        f"{'DRIFT ' + ', '.join(report.drifted) if report.drifted else 'ok'}"
    )

# how often would each rule fire with nothing changed? (the reference against itself)
print()
print(self_test(reference, repeats=50).verdict)
print(self_test(reference, repeats=50, correction="none", min_effect=0).verdict)

# the whole history at once, with a plot
timeline = drift_over_time(reference, batches)
print()
print(timeline.summary[["batch", "n_drifted", "drifted"]].to_string(index=False))
print(timeline.verdict)
out = Path(sys.argv[1] if len(sys.argv) > 1 else "monitor-drift-out")
print("plot:", timeline.plot(out / "drift-over-time.png"))
print("plots:", [str(p) for p in drift(reference, batches["week 7"]).plots(out)])
