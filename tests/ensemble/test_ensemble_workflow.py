"""The ensemble step of ``modelworks run``: built from compare's out-of-fold predictions."""

from __future__ import annotations

import time

import numpy as np
import pytest

from modelworks._compare import cross_validate_models
from modelworks._context import RunContext
from modelworks.data import Schema, train_test_split
from modelworks.ensemble import SKOPS_TRUSTED, BlendRegressor, EnsembleSelectionRegressor
from modelworks.ensemble._workflow import step
from modelworks.report import Report
from modelworks.workflow import demo_data


def _context(tmp_path, dataset, models, *, cv=3, time_budget=None):
    frame, target = demo_data(dataset)
    X, y = frame.drop(columns=[target]), frame[target]
    task = "regression" if dataset == "diabetes" else ("binary" if y.nunique() == 2 else "multiclass")
    X_train, X_test, y_train, y_test = train_test_split(X, y, task=task, seed=0)
    ctx = RunContext(data=frame, target=target, task=task, out_dir=tmp_path, cv=cv, time_budget=time_budget,
                     X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                     schema=Schema.from_frame(X), report=Report(tmp_path, "test"))
    comp = cross_validate_models(X_train, y_train, task, models, cv=cv, seed=0)
    ctx.leaderboard, ctx.candidates, ctx.oof, ctx.folds = comp.leaderboard, comp.candidates, comp.oof, comp.folds
    ctx.best_name = comp.best
    return ctx


@pytest.fixture(scope="module")
def diabetes_ctx(tmp_path_factory):
    return _context(tmp_path_factory.mktemp("run"), "diabetes", ["ridge", "rf", "knn"])


def test_an_ensemble_that_beats_the_best_model_out_of_fold_becomes_the_final_model(diabetes_ctx):
    ctx = diabetes_ctx
    step(ctx)
    res = ctx.results["ensemble"]
    assert res["adopted"] is True
    assert res["best_method"] in ("blend", "select")
    assert res["gain"] > 0
    assert ctx.final_name == ctx.results["ensemble"]["final_name"]
    assert ctx.final_name.startswith(f"{res['best_method']}(") and ctx.final_name.endswith(")")
    model = ctx.final_model
    assert isinstance(model, (BlendRegressor, EnsembleSelectionRegressor))
    assert ctx.final_name == f"{res['best_method']}({','.join(model.names_)})"
    assert model.weights_.sum() == pytest.approx(1.0) and np.all(model.weights_ > 0)
    # members are fitted on the training split, and the output is their weighted sum
    manual = sum(w * est.predict(ctx.X_test) for w, est in zip(model.weights_, model.estimators_))
    np.testing.assert_allclose(model.predict(ctx.X_test), manual)
    assert set(res["member_scores"]) == {"ridge", "rf", "knn"}
    section = next(s for s in ctx.report.sections if s.title == "Ensemble")
    html = section.render(ctx.out_dir)
    assert "Adopted" in html and "learned blend" in html and "ensemble selection" in html
    assert (ctx.report.plots_dir / "ensemble-scores.png").exists()


def test_the_adopted_ensemble_saves_with_skops(diabetes_ctx):
    import skops.io as sio

    if diabetes_ctx.final_model is None:
        step(diabetes_ctx)
    model = diabetes_ctx.final_model
    data = sio.dumps(model)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert set(SKOPS_TRUSTED) & set(sio.get_untrusted_types(data=data))
    np.testing.assert_allclose(loaded.predict(diabetes_ctx.X_test), model.predict(diabetes_ctx.X_test))


def test_identical_members_are_not_adopted(tmp_path):
    ctx = _context(tmp_path, "wine", ["logreg", "knn"])
    ctx.oof["knn"] = ctx.oof["logreg"].copy()  # nothing to gain by mixing a model with itself
    step(ctx)
    res = ctx.results["ensemble"]
    assert res["adopted"] is False
    assert ctx.final_model is None
    assert "Kept the single model" in res["reason"]


def test_no_time_left_keeps_the_single_model(tmp_path):
    ctx = _context(tmp_path, "diabetes", ["ridge", "rf", "knn"], time_budget=1.0)
    ctx.started = time.monotonic() - 10  # the budget is spent
    step(ctx)
    res = ctx.results["ensemble"]
    assert res["adopted"] is False and ctx.final_model is None
    assert "remain" in res["reason"]


def test_fewer_than_two_candidates_is_reported_not_raised(tmp_path):
    ctx = _context(tmp_path, "wine", ["logreg", "knn"])
    ctx.oof.pop("knn")
    step(ctx)
    assert "at least 2 candidates" in ctx.results["ensemble"]["reason"]
    assert ctx.final_model is None


def test_run_reports_the_ensemble_section(tmp_path):
    from modelworks.workflow import run

    frame, target = demo_data("diabetes")
    result = run(frame, target, out_dir=tmp_path, models=["ridge", "rf", "knn"], cv=3,
                 steps={"tune": False, "explain": False, "package": False, "monitor": False})
    assert "ensemble" in result.results and "errors" not in result.results
    html = result.report_path.read_text()
    assert "Ensemble" in html
    if result.results["ensemble"]["adopted"]:
        assert result.model_name == result.results["ensemble"]["final_name"]


def test_a_tuned_model_from_an_earlier_step_joins_the_pool_without_refit(tmp_path):
    from sklearn.base import clone

    ctx = _context(tmp_path, "diabetes", ["ridge", "rf", "knn"])
    tuned = clone(ctx.candidates["ridge"]).set_params(model__alpha=0.3).fit(ctx.X_train, ctx.y_train)
    ctx.final_model, ctx.final_name = tuned, "ridge (tuned)"
    before = set(ctx.oof)
    step(ctx)
    res = ctx.results["ensemble"]
    assert "ridge (tuned)" in res["members"]
    assert set(ctx.oof) == before  # the shared context is not modified
    if res["adopted"] and "ridge (tuned)" in ctx.final_model.names_:
        i = ctx.final_model.names_.index("ridge (tuned)")
        assert ctx.final_model.estimators_[i] is tuned  # already fitted on the training split
    else:
        assert ctx.final_model is tuned


def test_a_tuned_model_that_cannot_be_compared_is_kept(tmp_path):
    ctx = _context(tmp_path, "diabetes", ["ridge", "rf", "knn"], time_budget=1.0)
    ctx.started = time.monotonic() - 10
    sentinel = object()
    ctx.final_model, ctx.final_name = sentinel, "rf (tuned)"
    step(ctx)
    assert ctx.final_model is sentinel
    assert "could not be compared" in ctx.results["ensemble"]["reason"]
