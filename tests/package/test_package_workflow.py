"""The ``package`` step of ``modelworks run``: package, register, report."""

from __future__ import annotations

import numpy as np
import pandas as pd

import modelworks.package as mp
from modelworks._context import RunContext
from modelworks.data import make_pipeline
from modelworks.models import get_model
from modelworks.registry._workflow import step
from modelworks.report import Report


def _ctx(tmp_path, **options):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.choice(["x", "y"], 80)})
    y = pd.Series(np.where(X["a"] > 0, "hi", "lo"))
    model = make_pipeline(X, get_model("logreg", "binary")).fit(X, y)
    return RunContext(data=X.assign(t=y), target="t", task="binary", out_dir=tmp_path, seed=4,
                      options={"model_name": "wf-model", **options}, X_train=X, y_train=y,
                      final_model=model, final_name="logreg", test_scores={"roc_auc": 0.93},
                      report=Report(tmp_path, "t"))


def test_step_packages_registers_and_reports(tmp_path):
    ctx = _ctx(tmp_path)
    step(ctx)
    res = ctx.results["package"]
    assert res["path"] == str(tmp_path / "model") and res["model_ref"] == "models:/wf-model@champion"
    assert res["version"] == 1 and res["tracking_uri"].endswith("mlflow.db")
    pkg = mp.load_ref(res["model_ref"], tracking_uri=res["tracking_uri"])
    assert pkg.manifest["metrics"] == {"roc_auc": 0.93} and pkg.manifest["seed"] == 4
    html = ctx.report.write().read_text()
    assert "Model package" in html and "modelworks serve models:/wf-model@champion" in html


def test_step_skips_registration_when_the_budget_is_spent(tmp_path):
    ctx = _ctx(tmp_path)
    ctx.time_budget = 1.0
    ctx.started -= 10
    step(ctx)
    assert "registration skipped" in ctx.results["package"]["register_note"]
    assert mp.load(ctx.results["package"]["path"]).task == "binary"
