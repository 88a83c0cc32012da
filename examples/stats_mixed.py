"""The chapter's mixed-effects model with modelworks: y ~ x1 + x2 with a random intercept per group.

statsmodels: ``MixedLM.from_formula('y ~ x1 + x2', data=df, groups=df['group']).fit().summary()``.
Here: one estimator that also predicts (with each known group's BLUP), tests a random slope by
a likelihood-ratio test, and draws a caterpillar plot.
"""

import sys
import tempfile

import numpy as np
import pandas as pd

from modelworks.report import Report
from modelworks.stats import MixedModel, report_section

# 40 schools, 25 pupils each: a school-level intercept and a school-level slope of x1
rng = np.random.default_rng(0)
groups = np.repeat(np.arange(40), 25)
x1, x2 = rng.normal(size=len(groups)), rng.normal(size=len(groups))
u0, u1 = rng.normal(0, 1.5, 40), rng.normal(0, 0.5, 40)
y = 2.0 + (1.0 + u1[groups]) * x1 - 0.5 * x2 + u0[groups] + rng.normal(0, 1, len(groups))
df = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "group": [f"school{g:02d}" for g in groups]})

model = MixedModel("y ~ x1 + x2", "group").fit(df)
print(model.summary())
print(model.fixed_effects().round(3))

# new rows: one known school (uses its BLUP), one new school (fixed effects only)
new = pd.DataFrame({"x1": [0.5, 0.5], "x2": [0.0, 0.0], "group": ["school03", "school99"]})
print(model.predict_frame(new)[["prediction", "source"]])

# does x1's slope vary by school? compare ML fits by a likelihood-ratio test
small = MixedModel("y ~ x1 + x2", "group", reml=False).fit(df)
large = MixedModel("y ~ x1 + x2", "group", re_formula="~x1", reml=False).fit(df)
test = small.lrt(large)
print(f"LRT random slope of x1: chi2={test.statistic:.1f}, df={test.df}, p={test.p_value:.2g}")
print(f"AIC random intercept {small.aic_:.1f} vs random slope {large.aic_:.1f}")

out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="stats-mixed-")
report = Report(out, "Mixed-effects example")
report_section(report, large, df)
print("report:", report.write())
