"""statsforecast's model, imported lean: no statsmodels.api, no StatsForecast front end,
until someone asks for them (then the real modules, unchanged)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("statsforecast")

_SCRIPT = textwrap.dedent("""
    import sys
    from modelworks.forecast._sf_import import statsforecast_models
    models = statsforecast_models()
    print("lean", "statsmodels.api" in sys.modules, "statsforecast.core" in sys.modules,
          "fugue" in sys.modules)
    import numpy as np
    y = np.sin(np.arange(60) / 3) * 10 + np.arange(60) * 0.5 + 50
    fit = models.AutoARIMA(season_length=1).fit(y)  # kpss, OLS through the stand-in
    print("fit", len(fit.predict(4)["mean"]))
    from statsforecast import StatsForecast
    import statsforecast
    print("front", StatsForecast.__name__, statsforecast.models is models,
          isinstance(statsforecast.__version__, str))
    import statsmodels.api as sm
    print("real", type(sm).__name__, sm.OLS.__module__, hasattr(sm, "GLM"))
""")


def test_statsforecast_imported_without_statsmodels_api_then_complete_on_use():
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["lean"] == "False False False"
    assert lines["fit"] == "4"
    assert lines["front"] == "StatsForecast True True"
    assert lines["real"] == "module statsmodels.regression.linear_model True"
