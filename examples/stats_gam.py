"""The chapter's GAM with modelworks: LinearGAM().fit(X, y) and partial dependence with 95% bands.

pygam: ``gam = LinearGAM().fit(X, y)``, then per term ``generate_X_grid`` and
``partial_dependence(term=i, X=XX, width=0.95)`` and a plot. Here the smoothing is chosen
automatically (one lam per term), the bands are mgcv-style credible bands, and one call draws
every panel.
"""

import sys
import tempfile

import numpy as np
import pandas as pd

from modelworks.report import Report, save_figure
from modelworks.stats import GAMClassifier, GAMRegressor, plot_partial_effects, report_section

rng = np.random.default_rng(0)
n = 2000
X = pd.DataFrame({
    "age": rng.uniform(18, 80, n),
    "income": rng.lognormal(10, 0.5, n),
    "region": rng.choice(["north", "south", "east"], n),
})
y = (np.sin(X["age"] / 10) + 0.3 * np.log(X["income"]) + X["region"].map({"north": 0, "south": 0.5, "east": -0.5})
     + rng.normal(0, 0.3, n))
X_train, X_test, y_train, y_test = X[:1500], X[1500:], y[:1500], y[1500:]

gam = GAMRegressor().fit(X_train, y_train)
print(gam.summary().round(3).to_string(index=False))
print(f"held-out R^2: {gam.score(X_test, y_test):.3f}")

for name, frame in gam.partial_effects(width=0.95).items():
    print(f"{name}: effect from {frame['effect'].min():+.2f} to {frame['effect'].max():+.2f}, "
          f"mean band half-width {(frame['upper'] - frame['lower']).mean() / 2:.3f}")

# a binary target: LogisticGAM underneath
clf = GAMClassifier().fit(X_train, y_train > y_train.median())
print(f"classifier accuracy (held out): {clf.score(X_test, y_test > y_train.median()):.3f}")

out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="stats-gam-")
print("plot:", save_figure(plot_partial_effects(gam), f"{out}/partial_effects.png"))
report = Report(out, "GAM example")
report_section(report, gam, X_train, y_train)
print("report:", report.write())
