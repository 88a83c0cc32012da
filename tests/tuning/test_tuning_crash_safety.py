"""Crash safety of stored studies: a torn journal record, and workers that outlive their parent."""

import os
import signal
import socket
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import TuningError
from modelworks.tuning import tune
from modelworks.tuning._storage import TuningWarning, repair_journal

TREE_SPACE = {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5, 20]}
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def _journal(path):
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


def _study(clf_data, out, trials):
    X, y = clf_data
    return tune(DecisionTreeClassifier(random_state=0), X, y, strategy="random", space=TREE_SPACE,
                trials=trials, cv=2, pruning=False, out_dir=out, study_name="torn")


FIRST_RUN = """
import sys
import time
from sklearn.datasets import make_classification
from sklearn.tree import DecisionTreeClassifier
import pandas as pd
from modelworks.tuning import tune
X, y = make_classification(n_samples=120, n_features=6, n_informative=4, random_state=0)
tune(DecisionTreeClassifier(random_state=0), pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]),
     pd.Series(y, name="y"), strategy="random", space=SPACE, trials=4, cv=2, pruning=False,
     out_dir=sys.argv[1], study_name="torn")
""".replace("SPACE", repr(TREE_SPACE))


@pytest.mark.parametrize("cut", ["mid-line", "no-newline", "garbage-line"])
def test_a_torn_last_record_is_dropped_with_a_warning_and_the_study_resumes(cut, clf_data, tmp_path):
    out = tmp_path / "out"
    # the first run is another process, as in a real crash: its trials' worker is then gone
    subprocess.run([sys.executable, "-c", FIRST_RUN, str(out)], check=True, timeout=300)
    journal = out / "study.journal"
    data = journal.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    torn = {
        "mid-line": data[: last_start + (len(data) - last_start) // 2],  # a crash mid-append
        "no-newline": data[:-1],  # the record is whole but its newline never reached the disk
        "garbage-line": data + b'{"op_code": 5, "trial_i\n',  # a full disk, then a newline
    }[cut]
    journal.write_bytes(torn)
    # what Optuna does on its own: reading skips the torn tail, but the next append glues onto it
    # and the read after the append after that fails (the rerun's JSONDecodeError traceback)
    backend = optuna.storages.journal.JournalFileBackend(str(journal))
    for name in ("x1", "x2"):
        backend.append_logs([{"op_code": 0, "study_name": name, "directions": [1], "worker_id": "w"}])
    with pytest.raises(ValueError):
        list(optuna.storages.journal.JournalFileBackend(str(journal)).read_logs(0))
    journal.write_bytes(torn)

    with pytest.warns(TuningWarning, match="torn record"):
        r = _study(clf_data, out, 8)
    assert r.n_trials_completed == 8
    trials = optuna.load_study(study_name="torn", storage=_journal(journal)).trials  # the file is sound
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 8
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert repair_journal(journal) == 0


def test_damage_before_the_last_record_is_a_clear_error(clf_data, tmp_path):
    out = tmp_path / "out"
    _study(clf_data, out, 3)
    journal = out / "study.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[-2] = lines[-2][: len(lines[-2]) // 2] + b"\n"
    lines[-1] = b"not json\n"
    journal.write_bytes(b"".join(lines))
    with pytest.raises(TuningError, match="damaged before its last record"):
        _study(clf_data, out, 5)


def _finished_and_running(journal):
    try:
        trials = optuna.load_study(study_name="rf-random", storage=_journal(journal)).trials
    except KeyError:  # the study is not created yet
        return 0, 0
    done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    return done, sum(t.state == TrialState.RUNNING for t in trials)


def test_kill_9_of_tune_n_jobs_2_takes_its_workers_down_and_the_resume_respects_trials(tmp_path):
    psutil = pytest.importorskip("psutil")
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=400, n_features=8, random_state=0)
    data = tmp_path / "d.csv"
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)]).assign(y=y)
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    trials = 40  # far more than the workers can finish in the few seconds we wait for them to die
    cmd = [sys.executable, "-m", "modelworks", "tune", str(data), "--target", "y", "--model", "rf",
           "--strategy", "random", "--trials", str(trials), "--n-jobs", "2", "--cv", "2",
           "--space", '{"n_estimators": [30, 60], "max_depth": [2, 4, 8]}', "--out", str(out)]
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "study.journal"
    deadline = time.monotonic() + 240
    try:
        while True:
            assert time.monotonic() < deadline, "the workers never got going"
            assert proc.poll() is None, "tune finished before it could be killed"
            workers = psutil.Process(proc.pid).children(recursive=True)
            if journal.exists() and len(workers) >= 2:
                done, running = _finished_and_running(journal)
                if done >= 1 and running >= 1:
                    break
            time.sleep(0.1)
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"worker processes outlived tune: {[p.pid for p in alive]}"
    done_at_kill, _ = _finished_and_running(journal)
    time.sleep(2.0)  # orphans, had there been any, would keep adding trials
    assert _finished_and_running(journal)[0] == done_at_kill

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    done, running = _finished_and_running(journal)
    assert (done, running) == (trials, 0), rerun.stdout + rerun.stderr


def test_a_requeued_trial_does_not_carry_the_dead_workers_marks(tmp_path):
    """Else another worker fails the retry the moment it starts ("Cannot tell a FAIL trial")."""
    from modelworks.tuning import recover_stale_trials
    from modelworks.tuning._storage import WORKER_ATTR, open_storage

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    study = optuna.create_study(study_name="s", storage=open_storage(tmp_path / "j"))
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{dead.pid}")
    trial.set_user_attr("kept", 1)
    study._storage.set_trial_system_attr(trial._trial_id, "heartbeat", time.time() - 3600)
    assert recover_stale_trials(study) == [0]
    retry = study.get_trials(states=(TrialState.WAITING,))[0]
    assert retry.params == trial.params and retry.user_attrs == {"kept": 1}
    assert "heartbeat" not in retry.system_attrs and retry.system_attrs["failed_trial"] == 0
