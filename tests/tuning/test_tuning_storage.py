"""Reliability of stored studies: kill -9 and resume, parallel writers, heartbeats, storages."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import optuna
import pytest
from optuna.trial import TrialState
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import TuningError
from modelworks.tuning import load_study, recover_stale_trials, tune
from modelworks.tuning._storage import _make_journal, open_storage

TREE_SPACE = {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5, 20]}
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")

SLOW_MODEL = textwrap.dedent('''
    """A model slow enough (about 0.3 s per fold) to be killed mid-trial."""
    import time

    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier


    def _slow(X):
        time.sleep(0.15)
        return X


    def model():
        return Pipeline([("slow", FunctionTransformer(_slow)), ("tree", DecisionTreeClassifier(random_state=0))])


    def data():
        X, y = make_classification(n_samples=120, n_features=6, random_state=0)
        return pd.DataFrame(X), pd.Series(y)


    SPACE = {"tree__max_depth": (1, 10, "int"), "tree__min_samples_leaf": (1, 30, "int")}
''')

WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import slowmodel
    from modelworks.tuning import tune

    X, y = slowmodel.data()
    tune(slowmodel.model(), X, y, strategy="random", space=slowmodel.SPACE, trials=40, cv=2, pruning=False,
         out_dir=sys.argv[2], study_name="crash")
""")


def _journal(path):
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def test_kill_9_mid_trial_then_resume_loses_and_duplicates_nothing(tmp_path):
    (tmp_path / "slowmodel.py").write_text(SLOW_MODEL)
    (tmp_path / "worker.py").write_text(WORKER)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(tmp_path), str(out)])
    journal = out / "study.journal"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert time.monotonic() < deadline, "the worker never got going"
            assert proc.poll() is None, "the worker finished before it could be killed"
            if journal.exists():
                try:
                    trials = optuna.load_study(study_name="crash", storage=_journal(journal)).trials
                except KeyError:  # study not created yet
                    trials = []
                done = [t for t in trials if t.state == TrialState.COMPLETE]
                running = [t for t in trials if t.state == TrialState.RUNNING and t.params]
                if len(done) >= 3 and running:
                    break
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    before = optuna.load_study(study_name="crash", storage=_journal(journal)).trials
    completed = {t.number: (t.value, t.params) for t in before if t.state == TrialState.COMPLETE}
    killed = [t.number for t in before if t.state == TrialState.RUNNING]
    assert killed, "no trial was running when the worker was killed"

    sys.path.insert(0, str(tmp_path))
    try:
        import slowmodel

        X, y = slowmodel.data()
        r = tune(
            slowmodel.model(),
            X,
            y,
            strategy="random",
            space=slowmodel.SPACE,
            trials=len(completed) + 2,
            cv=2,
            pruning=False,
            out_dir=out,
            study_name="crash",
        )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slowmodel", None)

    after = optuna.load_study(study_name="crash", storage=_journal(journal)).trials
    by_number = {t.number: t for t in after}
    assert not [t for t in after if t.state == TrialState.RUNNING]  # 0 left RUNNING
    for number, (value, params) in completed.items():  # 0 completed trials lost
        assert by_number[number].state == TrialState.COMPLETE
        assert (by_number[number].value, by_number[number].params) == (value, params)
    for number in killed:  # the killed trial failed and was run again with the same parameters
        assert by_number[number].state == TrialState.FAIL
        retries = [t for t in after if t.system_attrs.get("failed_trial") == number]
        assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
        assert retries[0].params == by_number[number].params
    origins = [
        t.system_attrs.get("failed_trial", t.number)
        for t in after
        if t.state == TrialState.COMPLETE
    ]
    assert len(origins) == len(set(origins))  # 0 duplicated
    assert r.n_trials_completed == len(completed) + 2


def test_four_processes_times_25_trials_give_exactly_100(clf_data, tmp_path):
    X, y = clf_data
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="random",
        space={"max_depth": (1, 10, "int"), "min_samples_leaf": (1, 30, "int")},
        trials=100,
        cv=2,
        n_jobs=4,
        out_dir=tmp_path,
        pruning=False,
    )
    study = optuna.load_study(study_name=r.study_name, storage=_journal(tmp_path / "study.journal"))
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 100 and len(states) == 100
    assert r.warnings == []  # no worker error, no "database is locked"
    per_worker = r.trials["worker"].value_counts()
    assert len(per_worker) == 4 and set(per_worker) == {25}
    assert os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in per_worker.index}


def test_grid_search_gives_the_same_best_at_any_n_jobs(clf_data, tmp_path):
    X, y = clf_data
    one = tune(
        DecisionTreeClassifier(random_state=0), X, y, strategy="grid", space=TREE_SPACE, cv=3
    )
    two = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="grid",
        space=TREE_SPACE,
        cv=3,
        n_jobs=2,
        out_dir=tmp_path,
    )
    assert (one.best_params, one.best_score) == (two.best_params, two.best_score)
    key = ["max_depth", "min_samples_leaf"]
    a = one.trials.sort_values("number").set_index("number")[key + ["value"]]
    b = two.trials.sort_values("number").set_index("number")[key + ["value"]]
    assert len(b) == 12 and a.equals(b)  # every grid point exactly once, same trial numbers
    assert two.trials["worker"].nunique() == 2


def test_heartbeat_marks_a_silent_trial_stale_and_requeues_it(tmp_path):
    storage = _make_journal(str(tmp_path / "hb.journal"), heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(study_name="hb", storage=storage)
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr("worker", "another-machine:4242")  # alive as far as we can tell
    storage.record_heartbeat(trial._trial_id)
    assert recover_stale_trials(study) == []  # a fresh heartbeat: still running
    time.sleep(1.5)
    assert recover_stale_trials(study) == [trial.number]
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAIL, TrialState.WAITING]
    assert study.trials[1].params == study.trials[0].params


def test_a_dead_local_worker_is_detected_without_waiting_for_the_heartbeat(tmp_path):
    study = optuna.create_study(study_name="dead", storage=open_storage(tmp_path / "d.journal"))
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr("worker", f"{os.uname().nodename}:{proc.pid}")
    assert recover_stale_trials(study) == [trial.number]


def test_sqlite_url_storage_opens_with_plain_optuna(clf_data, tmp_path):
    X, y = clf_data
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="tpe",
        space=TREE_SPACE,
        trials=3,
        cv=2,
        storage=url,
        study_name="sq",
    )
    assert r.storage == url
    study = optuna.load_study(study_name="sq", storage=url)
    assert len(study.trials) == 3 and study.best_value == pytest.approx(r.best_score)


def test_storage_errors_are_clear(tmp_path):
    with pytest.raises(TuningError, match=r"postgresql://u:\*\*\*@127.0.0.1:1/db"):
        open_storage("postgresql://u:secret@127.0.0.1:1/db")
    with pytest.raises(TuningError, match="no study file at"):
        load_study(tmp_path / "nothing.journal", "x")
    optuna.create_study(study_name="a", storage=open_storage(tmp_path / "s.journal"))
    with pytest.raises(TuningError, match="no study named 'b'"):
        load_study(tmp_path / "s.journal", "b")
