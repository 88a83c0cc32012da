"""The tuning step of ``modelworks run``."""

import time

import pytest

from modelworks._compare import cross_validate_models
from modelworks._context import RunContext
from modelworks.metrics import PRIMARY
from modelworks.report import Report
from modelworks.tuning import _workflow


def _ctx(clf_data, tmp_path, models, budget=None):
    X, y = clf_data
    cmp = cross_validate_models(X, y, "binary", models, cv=3, seed=0)
    return RunContext(
        data=X.assign(y=y),
        target="y",
        task="binary",
        out_dir=tmp_path,
        seed=0,
        cv=3,
        time_budget=budget,
        X_train=X,
        y_train=y,
        scoring=PRIMARY["binary"],
        leaderboard=cmp.leaderboard,
        candidates=cmp.candidates,
        oof=cmp.oof,
        folds=cmp.folds,
        best_name=cmp.best,
        report=Report(tmp_path, "t"),
    )


def test_step_tunes_the_best_model_and_reports_it(clf_data, tmp_path, monkeypatch):
    monkeypatch.setattr(_workflow, "TRIALS", 8)
    ctx = _ctx(clf_data, tmp_path, ["knn"])
    _workflow.step(ctx)
    res = ctx.results["tuning"]
    assert res["model"] == "knn" and res["scoring"] == "roc_auc"
    assert res["n_trials_completed"] + res["n_trials_pruned"] == 8
    # trial 0 is the untuned model on the same folds: the comparison's score exactly
    assert res["score_before"] == pytest.approx(ctx.leaderboard.loc[0, "roc_auc_mean"])
    assert res["improved"] == (res["score_after"] > res["score_before"])
    if res["improved"]:
        assert ctx.final_name == "knn (tuned)"
        assert ctx.final_model.predict(ctx.X_train).shape == (len(ctx.X_train),)
    sec = next(s for s in ctx.report.sections if s.title == "Tuning")
    html = sec.render(tmp_path)
    assert "model__n_neighbors" in html
    pngs = {p.name for p in (tmp_path / "plots").glob("tuning*.png")}
    assert len(pngs) == 2 and all(name in html for name in pngs)  # history and importance
    assert (tmp_path / "tuning" / "study.journal").exists()


def test_step_respects_the_time_budget(clf_data, tmp_path):
    ctx = _ctx(clf_data, tmp_path, ["logreg"], budget=100)
    ctx.started = time.monotonic() - 99  # one second left
    _workflow.step(ctx)
    assert "too little of the time budget left" in ctx.results["tuning"]["skipped"]
    assert ctx.final_model is None


def test_step_skips_models_without_a_space(clf_data, tmp_path):
    X, y = clf_data
    ctx = _ctx(clf_data, tmp_path, ["logreg"])
    ctx.best_name = "linear"
    ctx.candidates = {"linear": None}
    _workflow.step(ctx)
    assert ctx.results["tuning"] == {"skipped": "'linear' has no hyperparameters to tune"}
