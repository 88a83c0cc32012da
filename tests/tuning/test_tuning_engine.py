"""The engine: strategies, pruning, budgets, resuming, results, errors."""

import json

import numpy as np
import optuna
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import ConfigError, DataError, SpaceError, TuningError, UnknownNameError
from modelworks.tuning import TuneResult, load_study, tune

TREE_SPACE = {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5, 20]}


@pytest.mark.parametrize("strategy", ["grid", "random", "tpe", "bayes"])
def test_every_strategy_returns_a_refitted_best_model(clf_data, strategy):
    X, y = clf_data
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy=strategy,
        space=TREE_SPACE,
        trials=6,
        cv=3,
    )
    assert isinstance(r, TuneResult)
    assert r.strategy == strategy and r.scoring == "roc_auc"
    assert set(r.best_params) == {"max_depth", "min_samples_leaf"}
    assert r.best_score == r.trials.loc[r.trials["state"] == "COMPLETE", "value"].max()
    assert 0.5 < r.best_score <= 1.0 and r.best_score_std >= 0
    assert r.best_estimator.get_params()["max_depth"] == r.best_params["max_depth"]
    assert r.best_estimator.predict(X).shape == (len(X),)  # fitted on all of X
    assert r.n_trials_completed + r.n_trials_pruned == 6


def test_grid_search_finds_what_gridsearchcv_finds(clf_data):
    X, y = clf_data
    folds = list(StratifiedKFold(4, shuffle=True, random_state=1).split(X, y))
    ours = tune(
        DecisionTreeClassifier(random_state=0), X, y, strategy="grid", space=TREE_SPACE, cv=folds
    )
    ref = GridSearchCV(
        DecisionTreeClassifier(random_state=0), TREE_SPACE, cv=folds, scoring="roc_auc"
    ).fit(X, y)
    assert ours.n_trials_completed == 12  # exhaustive, no pruning for grid by default
    assert ours.best_score == pytest.approx(ref.best_score_)
    i = ref.cv_results_["params"].index(ours.best_params)
    assert ref.cv_results_["mean_test_score"][i] == pytest.approx(ref.best_score_)


def test_zoo_model_uses_its_default_space_in_a_pipeline(clf_data):
    X, y = clf_data
    r = tune("logreg", X.to_numpy(), y.to_numpy(), strategy="random", trials=4, cv=3)
    assert list(r.best_params) == ["model__C"]
    assert 1e-3 <= r.best_params["model__C"] <= 1e3
    assert r.model_name == "logreg" and r.study_name == "logreg-random"
    assert r.trials.loc[0, "baseline"]  # trial 0 starts from the zoo model's own parameters
    assert r.baseline_score == pytest.approx(r.trials.loc[0, "value"])


def test_pipeline_step_params_and_regression_default_scoring(reg_data):
    X, y = reg_data
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge())])
    r = tune(
        pipe,
        X,
        y,
        strategy="tpe",
        space={"ridge__alpha": (1e-3, 10.0, "log"), "scale__with_mean": [True, False]},
        trials=5,
        cv=3,
    )
    assert r.task == "regression" and r.scoring == "neg_root_mean_squared_error"
    assert r.model_name == "ridge" and r.study_name == "ridge-tpe"  # named after the final step
    assert r.best_score < 0 and set(r.best_params) == {"ridge__alpha", "scale__with_mean"}


def test_same_seed_gives_the_same_trial_sequence(clf_data):
    X, y = clf_data
    space = {
        "max_depth": (1, 8, "int"),
        "min_samples_leaf": (1, 30, "int"),
        "ccp_alpha": (1e-5, 1e-1, "log"),
    }

    def params(seed, strategy):
        r = tune(
            DecisionTreeClassifier(random_state=0),
            X,
            y,
            strategy=strategy,
            space=space,
            trials=14,
            cv=3,
            seed=seed,
        )
        return r.trials[list(r.best_params)].to_numpy().tolist()

    assert params(3, "tpe") == params(3, "tpe")
    assert params(3, "random") == params(3, "random")
    assert params(3, "random") != params(4, "random")


def test_a_resumed_study_draws_new_points_not_the_first_runs_again(clf_data, tmp_path):
    X, y = clf_data
    space = {"ccp_alpha": (1e-5, 1e-1, "log"), "min_samples_leaf": (1, 30, "int")}
    for trials in (3, 6):
        r = tune(
            DecisionTreeClassifier(random_state=0),
            X,
            y,
            strategy="random",
            space=space,
            trials=trials,
            cv=2,
            out_dir=tmp_path,
            seed=0,
        )
    alphas = r.trials["ccp_alpha"].tolist()
    assert len(alphas) == 6 and len(set(alphas)) == 6
    assert r.trials["cached_from"].isna().all()  # nothing evaluated twice


def test_pruned_trials_are_kept_with_their_state(clf_data):
    X, y = clf_data
    space = {"max_depth": (1, 8, "int"), "min_samples_leaf": (1, 60, "int")}
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space=space,
        trials=25,
        cv=5,
        pruning="median",
        seed=1,
    )
    pruned = r.trials[r.trials["state"] == "PRUNED"]
    assert r.n_trials_pruned == len(pruned) >= 1
    assert (pruned["folds"] < 5).all() and pruned["value"].notna().all()
    assert r.n_trials_completed + r.n_trials_pruned == 25


def test_a_revisited_point_reuses_its_score_instead_of_refitting(clf_data):
    X, y = clf_data
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space={"max_depth": [1, 3]},
        trials=6,
        cv=3,
        pruning=False,
    )
    fresh = r.trials[r.trials["cached_from"].isna()]
    cached = r.trials[r.trials["cached_from"].notna()]
    assert len(fresh) == 2 and len(cached) == 4
    for _, row in cached.iterrows():
        src = r.trials.set_index("number").loc[int(row["cached_from"])]
        assert (row["value"], row["max_depth"]) == (src["value"], src["max_depth"])


def test_a_pruned_point_proposed_again_is_evaluated_in_full_once(clf_data):
    # random search visits every point of this 24-point space once before it repeats any
    X, y = clf_data
    space = {"max_depth": [1, 2, 3, 4, 6, 8], "min_samples_leaf": [1, 10, 20, 40]}
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space=space,
        trials=40,
        cv=5,
        pruning="median",
        seed=0,
    )
    t = r.trials
    assert (
        t.groupby(["max_depth", "min_samples_leaf"], dropna=False)["state"]
        .apply(lambda s: (s == "PRUNED").sum())
        .max()
        == 1
    )  # never pruned twice
    again = t[t["second_chance"]]
    assert len(again) >= 1 and (again["state"] == "COMPLETE").all() and (again["folds"] == 5).all()


def test_successive_halving_on_training_size():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import cross_val_score

    X, y = make_classification(n_samples=450, n_features=8, n_informative=5, random_state=0)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    space = {"max_depth": (1, 8, "int"), "min_samples_leaf": (1, 40, "int")}
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space=space,
        trials=15,
        cv=folds,
        pruning="halving-rows",
        seed=0,
    )
    steps = {t.number: sorted(t.intermediate_values) for t in r.study.trials}
    assert set(map(tuple, steps.values())) <= {(1,), (1, 3), (1, 3, 9)}
    pruned = r.trials[r.trials["state"] == "PRUNED"]
    assert len(pruned) >= 1 and all(steps[n] != [1, 3, 9] for n in pruned["number"])
    # a completed trial's score is the plain CV score on all rows
    best = DecisionTreeClassifier(random_state=0).set_params(**r.best_params)
    assert r.best_score == pytest.approx(
        cross_val_score(best, X, y, cv=folds, scoring="roc_auc").mean()
    )


def test_resuming_keeps_finished_trials_and_runs_only_the_rest(clf_data, tmp_path):
    X, y = clf_data
    kw = dict(
        strategy="tpe",
        space=TREE_SPACE,
        cv=3,
        out_dir=tmp_path,
        study_name="resume-me",
        pruning=False,
    )
    first = tune(DecisionTreeClassifier(random_state=0), X, y, trials=4, **kw)
    second = tune(DecisionTreeClassifier(random_state=0), X, y, trials=7, **kw)
    assert len(second.trials) == 7
    kept = second.trials.iloc[:4][["number", "value", "max_depth", "min_samples_leaf"]]
    assert kept.equals(first.trials[["number", "value", "max_depth", "min_samples_leaf"]])
    third = tune(DecisionTreeClassifier(random_state=0), X, y, trials=7, **kw)  # nothing left to do
    assert len(third.trials) == 7 and third.best_score == second.best_score
    study = optuna.load_study(
        study_name="resume-me",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.journal"))
        ),
    )
    assert len(study.trials) == 7
    assert load_study(tmp_path, "resume-me").best_value == pytest.approx(second.best_score)


def test_resuming_with_other_inputs_is_refused(clf_data, tmp_path):
    X, y = clf_data
    kw = dict(strategy="random", cv=3, out_dir=tmp_path, study_name="s", trials=2)
    tune(DecisionTreeClassifier(), X, y, space=TREE_SPACE, **kw)
    with pytest.raises(
        TuningError, match="made with a different search space; .* another study name"
    ):
        tune(DecisionTreeClassifier(), X, y, space={"max_depth": [1, 2]}, **kw)
    with pytest.raises(TuningError, match="different data"):
        tune(DecisionTreeClassifier(), X.iloc[:100], y.iloc[:100], space=TREE_SPACE, **kw)


def test_target_stops_as_soon_as_it_is_reached(clf_data):
    X, y = clf_data
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space=TREE_SPACE,
        trials=12,
        cv=3,
        target=0.5,
        pruning=False,
    )
    assert len(r.trials) == 1


def test_timeout_without_trials_runs_until_time_is_up(clf_data):
    X, y = clf_data
    r = tune(
        LogisticRegression(),
        X,
        y,
        strategy="random",
        space={"C": (1e-2, 1e2, "log")},
        timeout=1.0,
        cv=2,
    )
    assert r.n_trials_completed >= 2 and r.elapsed_s < 10


class InterruptingTree(DecisionTreeClassifier):
    """Raises KeyboardInterrupt (as Ctrl-C would) on the 7th fit in this process."""

    fits = 0

    def fit(self, X, y, **kwargs):
        type(self).fits += 1
        if type(self).fits == 7:
            raise KeyboardInterrupt
        return super().fit(X, y, **kwargs)


def test_ctrl_c_keeps_finished_trials_and_refits_the_best(clf_data, tmp_path):
    X, y = clf_data
    InterruptingTree.fits = 0
    r = tune(
        InterruptingTree(random_state=0),
        X,
        y,
        strategy="random",
        space=TREE_SPACE,
        trials=10,
        cv=2,
        out_dir=tmp_path,
        pruning=False,
    )
    assert r.interrupted
    assert list(r.trials["state"]) == ["COMPLETE"] * 3 + ["FAIL"]
    assert r.best_estimator.predict(X).shape == (len(X),)
    again = tune(
        InterruptingTree(random_state=0),
        X,
        y,
        strategy="random",
        space=TREE_SPACE,
        trials=10,
        cv=2,
        out_dir=tmp_path,
        pruning=False,
    )  # rerun resumes to 10 finished trials
    assert not again.interrupted and again.n_trials_completed == 10


def test_all_trials_failing_is_an_error_naming_the_cause(clf_data):
    X, y = clf_data
    with pytest.raises(TuningError, match=r"no trial .* completed .*3 failed.*criterion"):
        tune(
            DecisionTreeClassifier(),
            X,
            y,
            strategy="random",
            space={"criterion": ["nonsense"]},
            trials=3,
            cv=2,
        )


def test_result_is_json_and_draws_plots(clf_data, tmp_path):
    X, y = clf_data
    space = {"max_depth": (1, 8, "int"), "min_samples_leaf": (1, 30, "int")}
    r = tune(
        DecisionTreeClassifier(random_state=0), X, y, strategy="tpe", space=space, trials=8, cv=3
    )
    d = json.loads(json.dumps(r.to_dict()))
    assert d["best_params"] == r.best_params and len(d["trials"]) == 8
    paths = r.plots(tmp_path / "plots")
    names = {p.name for p in paths}
    assert {
        "tuning_history.png",
        "tuning_importance.png",
        "tuning_slice.png",
        "tuning_contour.png",
    } <= names
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(strategy="hyperband"),
            UnknownNameError,
            "unknown strategy 'hyperband'; use one of: grid, random, bayes, tpe",
        ),
        (dict(trials=0), ConfigError, "trials must be a whole number >= 1"),
        (dict(timeout=-1), ConfigError, "timeout must be a positive number"),
        (dict(n_jobs=0), ConfigError, "n_jobs must be a whole number"),
        (dict(cv=1), ConfigError, "cv must be at least 2 folds"),
        (dict(cv=70), ConfigError, r"cv=70 but class .* has only"),
        (dict(scoring="accuracy_score"), ConfigError, "unknown scoring 'accuracy_score'"),
        (dict(pruning="sometimes"), UnknownNameError, "pruning must be True, False or one of"),
        (dict(task="ranking"), ConfigError, "task must be one of"),
        (dict(storage="redis://localhost"), TuningError, "unknown storage scheme 'redis://'"),
    ],
)
def test_bad_options_are_refused_before_any_trial(clf_data, kwargs, error, match):
    X, y = clf_data
    with pytest.raises(error, match=match):
        tune(DecisionTreeClassifier(), X, y, space=TREE_SPACE, **{"strategy": "random", **kwargs})


def test_bad_data_and_models_are_refused(clf_data):
    X, y = clf_data
    with pytest.raises(DataError, match="X has 120 rows but y has 119"):
        tune(DecisionTreeClassifier(), X, y.iloc[:-1], space=TREE_SPACE)
    y_nan = y.astype(float).copy()
    y_nan.iloc[3] = np.nan
    with pytest.raises(DataError, match="y has 1 missing values"):
        tune(DecisionTreeClassifier(), X, y_nan, space=TREE_SPACE)
    with pytest.raises(SpaceError, match="a search space is needed for a DecisionTreeClassifier"):
        tune(DecisionTreeClassifier(), X, y)
    with pytest.raises(ConfigError, match="model must be a zoo name"):
        tune(42, X, y, space=TREE_SPACE)
    with pytest.raises(UnknownNameError, match="unknown model 'randomforrest'"):
        tune("randomforrest", X, y)


def _points(trials, names):
    return [tuple(round(float(v), 6) if isinstance(v, float) else v for v in row)
            for row in trials[names].itertuples(index=False)]


def test_bayes_learns_from_pruned_trials_and_never_proposes_a_point_twice():
    # the GP sampler used to ignore pruned trials and propose the pruned point again and again
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    space = {"max_depth": (1, 12, "int"), "min_samples_leaf": (1, 60, "int"), "ccp_alpha": (1e-5, 0.05, "log")}
    r = tune(DecisionTreeClassifier(random_state=0), X, y, strategy="bayes", space=space, trials=16, cv=3,
             pruning="median", seed=0)
    points = _points(r.trials, ["max_depth", "min_samples_leaf", "ccp_alpha"])
    assert len(points) == 16 and len(set(points)) == 16
    assert r.trials["cached_from"].isna().all() and not r.trials["second_chance"].any()


@pytest.mark.parametrize("strategy", ["tpe", "random"])
def test_the_same_seed_gives_the_same_trials_and_best_at_any_n_jobs(clf_data, strategy):
    X, y = clf_data
    space = {"max_depth": (1, 8, "int"), "min_samples_leaf": (1, 40, "int"), "ccp_alpha": (1e-5, 0.05, "log")}
    runs = [tune(DecisionTreeClassifier(random_state=0), X, y, strategy=strategy, space=space, trials=12, cv=3,
                 pruning="median", seed=7, n_jobs=n_jobs) for n_jobs in (1, 2)]
    names = ["max_depth", "min_samples_leaf", "ccp_alpha"]
    one, two = (r.trials.sort_values("number") for r in runs)
    assert _points(one, names) == _points(two, names)
    assert one["state"].tolist() == two["state"].tolist()
    assert np.allclose(one["value"].to_numpy(float), two["value"].to_numpy(float))
    assert runs[0].best_params == runs[1].best_params and runs[0].best_trial == runs[1].best_trial
