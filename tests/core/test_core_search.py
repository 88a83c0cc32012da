"""The budget-aware search behind ``run``: portfolio order, validation plans, cost model, tie groups,
log target, holdout without refit, ensemble selection, and the report it writes."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

import modelworks
from modelworks.models._portfolio import portfolio
from modelworks.search import CostModel, _plan, plan_validation, rank_groups, run_search


def table(n=400, seed=0, task="binary"):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice([f"l{i}" for i in range(12)], n)})
    signal = X["a"] + 0.5 * X["b"] ** 2 + (X["c"].isin(["l1", "l2", "l3"])) * 1.0
    if task == "regression":
        y = pd.Series(np.exp(1 + 0.6 * signal + rng.normal(0, 0.2, n)), name="y")
    else:
        y = pd.Series(np.where(signal + rng.normal(0, 0.5, n) > 0.6, "yes", "no"), name="y")
    return X, y


def test_portfolio_puts_cheap_boosters_first_and_respects_table_size():
    rows = portfolio("binary")
    assert [c.learner for c in rows[:2]] == ["hgb", "lightgbm"]
    first_weak = min(i for i, c in enumerate(rows) if c.learner in {"logreg", "knn", "svm", "mlp"})
    assert all(c.learner in {"hgb", "lightgbm", "xgboost", "catboost"} for c in rows[:first_weak][:6])
    assert "svm" in {c.learner for c in portfolio("binary", n_rows=1_000)}
    assert "svm" not in {c.learner for c in portfolio("binary", n_rows=50_000)}
    assert "ridge" not in {c.learner for c in rows}  # no probabilities: regression only
    named = portfolio("regression", ["rf", "lightgbm"])
    assert [c.name for c in named[:2]] == ["rf", "lightgbm"]  # the user's learners, zoo defaults first
    assert all(c.learner in {"rf", "lightgbm"} for c in named)


def test_validation_matches_the_data_size(monkeypatch):
    y = pd.Series(np.tile(["a", "b"], 300))
    small = plan_validation(y, "binary", cv=5)
    assert small.kind == "kfold" and len(small.folds) == 5 and len(small.rows) == 600
    monkeypatch.setattr(_plan, "FEW_FOLDS_MAX_ROWS", 100)
    monkeypatch.setattr(_plan, "RUNG_MIN_ROWS", 400)
    big = plan_validation(y, "binary", cv=5)
    assert big.kind == "holdout" and len(big.folds) == 1 and len(big.groups) == _plan.HOLDOUT_CHUNKS
    train, valid = big.folds[0]
    assert not set(train) & set(valid) and sorted(np.concatenate(big.groups)) == sorted(valid)
    assert big.rung_rows == _plan.RUNG_ROWS  # big enough to screen on a subsample first


def test_cost_model_learns_from_finished_fits():
    cost = CostModel(n_features=10, n_classes=2)
    prior = cost.fit_seconds("lightgbm", {}, 10_000)
    cost.observe("lightgbm", {}, 10_000, 10 * prior)
    assert cost.fit_seconds("lightgbm", {}, 10_000) == pytest.approx(10 * prior, rel=0.05)
    # twice the trees costs about twice as much; unseen learners are never assumed cheaper than the prior
    assert cost.fit_seconds("lightgbm", {"n_estimators": 400}, 10_000) > 1.8 * cost.fit_seconds("lightgbm", {}, 10_000)
    assert cost.fit_seconds("xgboost", {}, 10_000) >= CostModel(n_features=10).fit_seconds("xgboost", {}, 10_000)
    many = CostModel(n_features=10, n_classes=30)
    assert many.fit_seconds("hgb", {}, 10_000) > 10 * CostModel(n_features=10, n_classes=3).fit_seconds("hgb", {}, 1)


def test_rank_groups_tie_what_cannot_be_told_apart():
    rng = np.random.default_rng(0)
    base = 0.9 + rng.normal(0, 0.01, 10)
    same = base + rng.normal(0, 0.002, 10)  # noise around the best
    worse = base - 0.05 + rng.normal(0, 0.002, 10)  # clearly worse on every split
    groups, tests = rank_groups(["best", "same", "worse"], [base, same, worse], higher=True, test_ratio=1 / 9)
    assert groups == [1, 1, 2]
    assert tests and tests[0]["worse"] == "worse" and tests[0]["p_value"] < 0.05
    # lower is better (log-loss): the orientation flips
    groups, _ = rank_groups(["low", "high"], [1 - base, 1 - worse], higher=False, test_ratio=1 / 9)
    assert groups == [1, 2]


def test_rank_groups_stay_contiguous_down_the_leaderboard():
    # paired tests are not transitive: "noisy" is not significantly worse than "leader" (its split
    # scores vary too much), although "steady" above it is. Groups follow the board: 1, 2, 2.
    leader = np.array([0.90, 0.91, 0.89, 0.90, 0.92, 0.88, 0.90, 0.91, 0.89, 0.90])
    steady = leader - 0.02
    noisy = leader - 0.025 + np.array([0.09, -0.08, 0.1, -0.1, 0.07, -0.09, 0.08, -0.07, 0.1, -0.1])
    assert rank_groups(["leader", "noisy"], [leader, noisy], higher=True, test_ratio=1 / 9)[0] == [1, 1]
    groups, tests = rank_groups(["leader", "steady", "noisy"], [leader, steady, noisy], higher=True,
                                test_ratio=1 / 9)
    assert groups == [1, 2, 2]
    assert [(t["better"], t["worse"]) for t in tests] == [("leader", "steady")]


def test_search_shares_splits_skips_what_does_not_fit_and_never_repeats_a_point():
    X, y = table(500)
    plan = plan_validation(y, "binary", cv=3)
    res = run_search(X, y, "binary", configs=portfolio("binary"), plan=plan,
                     deadline=time.monotonic() + 4, tune=True, max_trials=5)
    names = [e.name for e in res.entries]
    assert names[0] == "hgb" and len(names) == len(set(names))
    for e in res.entries:  # every candidate predicted every row out of fold, on the same splits
        assert e.oof.shape == (500, 2) and np.allclose(e.oof.sum(axis=1), 1)
        assert len(e.group_scores) == 3
    keys = {(e.learner, tuple(sorted(map(str, e.params.items()))), e.log_target) for e in res.entries}
    assert len(keys) == len(res.entries)
    assert res.ranked()[0].scores["roc_auc"] > 0.8
    # with no time at all only the first candidate runs, on one fold turned holdout, and the rest say why
    res = run_search(X, y, "binary", configs=portfolio("binary"), plan=plan, deadline=time.monotonic() - 1,
                     tune=True)
    assert [e.name for e in res.entries] == ["hgb"] and res.trials == 0
    assert res.plan.kind == "holdout" and np.array_equal(res.plan.rows, np.sort(plan.folds[0][1]))
    assert any("switched to one holdout" in n for n in res.notes)
    assert res.entries[0].fold_models and len(res.entries[0].group_scores) == len(res.plan.groups)
    assert all(why.startswith("time budget") for why in res.skipped.values())


def test_log_target_is_tried_on_a_skewed_positive_target_and_kept_when_it_cross_validates_better():
    X, y = table(400, task="regression")
    plan = plan_validation(y, "regression", cv=3)
    res = run_search(X, y, "regression", configs=portfolio("regression", ["hgb", "lightgbm"])[:2], plan=plan,
                     deadline=None, tune=False)
    info = res.log_target
    assert info is not None and info["tried_on"] == "hgb"
    raw, logged = (e for e in res.entries if e.learner == "hgb" and e.params == {})
    assert logged.log_target and not raw.log_target
    assert info["kept"] == ("log" if logged.scores["rmse"] < raw.scores["rmse"] else "raw")
    later = [e for e in res.entries if e.learner == "lightgbm"]
    assert later and all(e.log_target == (info["kept"] == "log") for e in later)


def test_holdout_plan_uses_the_fold_models_and_ensemble_selection_is_honest(monkeypatch):
    from modelworks.search._final import fit_final, select_ensemble

    monkeypatch.setattr(_plan, "FEW_FOLDS_MAX_ROWS", 300)
    X, y = table(1500, task="binary")
    plan = plan_validation(y, "binary")
    assert plan.kind == "holdout"
    configs = portfolio("binary", ["hgb", "logreg", "knn"])
    res = run_search(X, y, "binary", configs=configs, plan=plan, deadline=None, tune=False)
    ens = select_ensemble(res, y, seed=0)
    assert set(ens["weights"]) <= set(ens["members"]) and sum(ens["weights"].values()) == pytest.approx(1)
    assert ens["adopted"] == (ens["gain"] > max(1e-4, ens["gain_se"]) and len(ens["weights"]) >= 2)
    model, name, _ = fit_final(res, X, y, ensemble=ens, seed=0)
    best = res.ranked()[0]
    if not ens["adopted"]:
        assert name == best.name and model is best.fold_models[0]  # no refit on a holdout
    else:
        assert name.startswith("select(")
    proba = model.predict_proba(X.head(7))
    assert proba.shape == (7, 2) and np.allclose(proba.sum(axis=1), 1)


def test_run_reports_the_search_tie_groups_and_the_budget(tmp_path):
    X, y = table(300)
    frame = X.assign(target=y)
    result = modelworks.run(frame, "target", out_dir=tmp_path, time_budget=10, cv=3,
                            steps={"explain": False, "package": False, "monitor": False})
    board = result.leaderboard
    assert "rank_group" in board.columns and board["rank_group"].iloc[0] == 1
    assert board["rank_group"].is_monotonic_increasing
    doc = json.loads(result.result_path.read_text())
    search = doc["steps"]["search"]
    assert search["validation"]["kind"] in {"kfold", "holdout"} and search["evaluated"] == len(board)
    assert set(search["rank_groups"]) == set(board["model"])
    assert doc["steps"]["budget"]["seconds"] == 10
    assert doc["steps"]["ensemble"]["final_name"] == result.model_name
    html = result.report_path.read_text()
    for text in ("Model search", "Which differences are real", "Time budget", "rank group"):
        assert text in html
    assert set(result.model.predict(X.head(5))) <= {"yes", "no"}


def test_run_without_a_budget_picks_one_from_the_data_size_and_says_so(tmp_path):
    from modelworks.workflow import auto_budget

    assert auto_budget(500, 10) < auto_budget(500_000, 10) <= auto_budget(1_000_000, 50)
    X, y = table(200)
    result = modelworks.run(X.assign(target=y), "target", out_dir=tmp_path, models=["logreg", "knn"], cv=3,
                            steps={"tune": False, "explain": False, "package": False, "monitor": False})
    assert any(w.startswith("time budget: 60 s, picked from the data size") for w in result.warnings)
    assert result.results["budget"]["picked"] is True


def test_no_time_to_refit_averages_the_fold_models_of_the_best_candidate(monkeypatch):
    from modelworks.search import _search
    from modelworks.search._final import fit_final

    monkeypatch.setattr(_search, "KEEP_FOLD_MODELS", 1)  # only the best candidate keeps its fold models
    X, y = table(300, task="regression")
    plan = plan_validation(y, "regression", cv=3)
    res = run_search(X, y, "regression", configs=portfolio("regression", ["hgb", "ridge"])[:2], plan=plan,
                     deadline=None, tune=False)
    best = res.ranked()[0]
    assert len(best.fold_models) == 3 and all(not e.fold_models for e in res.entries if e is not best)
    model, name, note = fit_final(res, X, y, ensemble=None, left=0.0)
    assert name == f"{best.name} (3 fold models averaged)" and "averaged" in note
    expected = np.mean([m.predict(X.head(4)) for m in best.fold_models], axis=0)
    assert np.allclose(model.predict(X.head(4)), expected)
    refit, name, _ = fit_final(res, X, y, ensemble=None, left=None)
    assert name == best.name and refit is not best.fold_models[0]


def test_the_scored_final_model_is_the_members_fold_models_averaged_without_a_fit():
    from modelworks.search._final import fit_final

    X, y = table(300)
    plan = plan_validation(y, "binary", cv=3)
    res = run_search(X, y, "binary", configs=portfolio("binary", ["hgb", "logreg", "knn"])[:3], plan=plan,
                     deadline=None, tune=False)
    assert all(len(e.fold_models) == 3 for e in res.entries)  # the best few keep theirs
    names = [e.name for e in res.ranked()[:2]]
    ensemble = {"adopted": True, "weights": {names[0]: 0.75, names[1]: 0.25}}
    model, name, note = fit_final(res, X, y, ensemble=ensemble, bag=True)
    assert name == f"select({','.join(names)})" and note is None
    assert len(model.estimators_) == 6 and np.isclose(sum(model.weights_), 1.0)
    by_name = {e.name: e for e in res.entries}
    expected = sum(w / 3 * m.predict_proba(X.head(5)) for n, w in ensemble["weights"].items()
                   for m in by_name[n].fold_models)
    assert np.allclose(model.predict_proba(X.head(5)), expected)
    # the refit on all rows fits the same members again: new models, same recipe
    refit, refit_name, _ = fit_final(res, X, y, ensemble=ensemble)
    assert refit_name == name and len(refit.estimators_) == 2
    assert all(m not in by_name[n].fold_models for n, m in zip(names, refit.estimators_))


def _screening_table(monkeypatch):
    """1,200 rows with the size thresholds shrunk so that the plan is a holdout with a 300-row rung."""
    monkeypatch.setattr(_plan, "FEW_FOLDS_MAX_ROWS", 300)
    monkeypatch.setattr(_plan, "RUNG_MIN_ROWS", 500)
    monkeypatch.setattr(_plan, "RUNG_ROWS", 300)
    X, y = table(1200)
    return X, y, plan_validation(y, "binary")


def test_big_tables_screen_candidates_on_a_subsample_first(monkeypatch):
    X, y, plan = _screening_table(monkeypatch)
    assert plan.kind == "holdout" and plan.rung_rows == 300
    configs = portfolio("binary", ["hgb", "logreg", "knn", "lightgbm"])[:4]
    res = run_search(X, y, "binary", configs=configs, plan=plan, deadline=None, tune=False)
    screened = [e for e in res.entries if e.stage == "screen"]
    full = [e for e in res.entries if e.stage != "screen"]
    assert len(screened) == 4 and 2 <= len(full) < 4  # the better half goes on to all the rows
    dropped = [n for n, why in res.skipped.items() if why.startswith("screened out")]
    assert len(dropped) == 4 - len(full)
    best_screened = sorted(screened, key=lambda e: -e.scores["roc_auc"])[:len(full)]
    assert {e.name.removesuffix(" [screen]") for e in best_screened} == {e.name for e in full}
    assert all(e not in res.ranked() for e in screened)  # screened fits are not final candidates


@pytest.mark.parametrize("learner", ["hgb", "lightgbm", "xgboost"])
def test_search_pipelines_with_categoricals_and_log_target_save_and_load_as_packages(tmp_path, learner):
    from modelworks.package import load, save
    from modelworks.search._prep import build_pipeline

    X, y = table(200, task="regression")
    pipe = build_pipeline(X, learner, "tree", {"n_estimators": 20} if learner != "hgb" else {"max_iter": 20},
                          "regression", 0, log_target=True).fit(X, y)
    save(pipe, tmp_path / "pkg", X_sample=X, y_sample=y, task="regression", target="y")
    loaded = load(tmp_path / "pkg")
    loaded = getattr(loaded, "model", loaded)
    assert np.allclose(loaded.predict(X.head(5)), pipe.predict(X.head(5)))
    assert (pipe.predict(X) > 0).all()  # back on the original (positive) scale


def test_a_fit_past_its_allowance_is_stopped_and_teaches_the_cost_model(monkeypatch):
    from modelworks.search import _search
    from modelworks.search._search import Searcher

    X, y = table(2_000)
    plan = plan_validation(y, "binary", cv=3)
    s = Searcher(X, y, "binary", plan, deadline=time.monotonic() + 600)
    s.cost.ratio["hgb"] = [1e-6]  # the cost model believes hgb is a million times cheaper than it is
    monkeypatch.setattr(_search, "OVERRUN_SLACK", 0.05)
    assert s.evaluate("hgb:huge", "hgb", {"max_iter": 3000, "early_stopping": False}, "tree") is None
    assert s.skipped["hgb:huge"].startswith("stopped: fold 1 reached 3x its estimated fit time")
    assert not s.entries
    assert len(s.cost.ratio["hgb"]) == 2 and s.cost.ratio["hgb"][1] > 1e3 * s.cost.ratio["hgb"][0]  # it learned


def test_stopping_a_fit_keeps_a_timer_that_was_already_armed():
    import signal

    from modelworks.search._deadline import FitStopped, stop_fit_at

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with stop_fit_at("lightgbm", time.monotonic() + 5) as records:  # due first: ours is armed
            assert 4 < signal.getitimer(signal.ITIMER_REAL)[0] <= 5
        assert not any(r.stopped for r in records)
        assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30  # theirs again, with what it had left
        with stop_fit_at("hgb", time.monotonic() + 100):  # theirs is due first: left alone
            assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
        with stop_fit_at("hgb", time.monotonic() + 0.01) as records:
            time.sleep(1)  # interrupted by our timer
        assert any(r.stopped for r in records) and not fired
        with stop_fit_at("hgb", time.monotonic() + 0.01) as records:
            try:
                time.sleep(1)
            except FitStopped:  # compiled code may re-raise the interruption as its own error
                raise ValueError("not a valid PEP 3118 buffer format string") from None
        assert any(r.stopped for r in records)
        with pytest.raises(ValueError, match="the fit's own"), stop_fit_at("hgb", time.monotonic() + 100):
            raise ValueError("the fit's own error")  # the timer has not fired: it propagates
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_catboost_cost_counts_categorical_columns_more():
    numeric = CostModel(n_features=8)
    three_cats = CostModel(n_features=8, n_categorical=3)
    assert three_cats.fit_seconds("catboost", {}, 50_000) > 2 * numeric.fit_seconds("catboost", {}, 50_000)
    assert three_cats.fit_seconds("lightgbm", {}, 50_000) == numeric.fit_seconds("lightgbm", {}, 50_000)


def test_a_log_target_candidate_gets_duan_smearing_when_it_cross_validates_better(tmp_path):
    from modelworks.search._search import Searcher

    rng = np.random.default_rng(0)
    n = 1_500
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series(np.exp(1 + X["a"] + rng.normal(0, 0.8, n)), name="y")  # mean = geometric mean x 1.38
    plan = plan_validation(y, "regression", cv=3)
    s = Searcher(X, y, "regression", plan)
    entry = s.evaluate("hgb (log target)", "hgb", {"max_iter": 50}, "tree", log_target=True)
    factor = entry.pipeline.get_params()["model__smearing"]
    assert 1.2 < factor < 1.6
    assert all(m.get_params()["model__smearing"] == factor for m in entry.fold_models)
    # the out-of-fold predictions it was scored on are the smeared ones: their mean is the target's
    assert abs(entry.oof.mean() / y.mean() - 1) < 0.1
    plain = np.expm1(entry.fold_models[0].named_steps["model"].regressor_.predict(
        entry.fold_models[0].named_steps["prep"].transform(X)))
    assert np.allclose(entry.fold_models[0].predict(X), (1 + plain) * factor - 1)
    # it travels with the package
    from modelworks.package import load, save

    model = entry.fold_models[0]
    save(model, tmp_path / "pkg", X_sample=X.head(20), task="regression", target="y")
    assert np.allclose(load(tmp_path / "pkg").predict(X.head(20)), model.predict(X.head(20)))


def test_the_refit_reserve_counts_no_more_members_than_candidates():
    from modelworks.search._search import REFIT_MEMBERS, SAFETY, Searcher

    X, y = table(600)
    plan = plan_validation(y, "binary", cv=3)
    s = Searcher(X, y, "binary", plan, deadline=time.monotonic() + 600)
    one = s.evaluate("hgb", "hgb", {"max_iter": 30}, "tree")
    per_fit = one.fit_seconds * len(y) / plan.n_train * SAFETY
    assert s.deadline - time.monotonic() - s.left() == pytest.approx(per_fit, abs=0.05)  # one candidate: one fit
    s.evaluate("lightgbm", "lightgbm", {"n_estimators": 30}, "tree")
    s.evaluate("logreg", "logreg", {}, "dense")
    best = s.best()
    full = best.fit_seconds * len(y) / plan.n_train * SAFETY * REFIT_MEMBERS
    assert s.deadline - time.monotonic() - s.left() == pytest.approx(full, abs=0.05)


def test_when_no_full_size_fit_fits_the_screened_candidates_are_the_candidates(monkeypatch):
    X, y, plan = _screening_table(monkeypatch)
    configs = portfolio("binary", ["hgb", "logreg", "knn", "lightgbm"])[:4]
    # the deadline has passed: the first screening fit runs (forced), nothing on all the rows does
    res = run_search(X, y, "binary", configs=configs, plan=plan, deadline=time.monotonic() - 1, tune=False)
    assert [e.name for e in res.ranked()] == ["hgb [300 rows]"]
    assert res.ranked()[0].fit_rows == 300 and res.ranked()[0].fold_models
    assert any("screening subsample are the final candidates" in n for n in res.notes)
    assert res.skipped["hgb"].startswith("time budget")  # its full-size fit was not forced
