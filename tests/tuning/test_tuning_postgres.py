"""Studies shared through a real PostgreSQL server, as workers on several machines share them.

The session starts a throwaway cluster (``initdb`` + ``pg_ctl`` on 127.0.0.1, a free port, its
socket and data in a temporary directory, password login) and each test gets a new database.
Where the PostgreSQL binaries are missing the tests skip: ``make postgres`` installs them (CI
runs ``make test``, which does).
"""

import glob
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import TuningError
from modelworks.tuning import tune
from modelworks.tuning._storage import open_storage

MODELWORKS = Path(sys.executable).with_name("modelworks")
USER, PASSWORD = "modelworks", "pg-test-secret"
TREE_SPACE = {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5, 20]}
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def _bindir() -> Path | None:
    """Debian keeps the server binaries off PATH, under /usr/lib/postgresql/VERSION/bin."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(
            found, key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()]
        )
        return Path(newest).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, port: int):
        self.port = port

    def url(self, db: str, *, password: str = PASSWORD, port: int | None = None) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{port or self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"study_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of our own for the session, stopped and deleted afterwards."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'modelworks[dist]'")
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: `make postgres` installs it (Debian postgresql)")
    as_postgres: list[str] = []
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no 'postgres' user to run the server as: `make postgres` installs it")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    # under /tmp, not $TMPDIR: the postgres user must reach it, and socket paths are short
    root = Path(
        tempfile.mkdtemp(prefix="modelworks-pg-", dir="/tmp" if os.path.isdir("/tmp") else None)
    )
    data, log, pwfile = root / "data", root / "server.log", root / "password"
    pwfile.write_text(PASSWORD)
    if owner is not None:
        for path in (root, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    started = False
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}"]
        initdb += ["-A", "scram-sha-256", "-E", "UTF8", "--no-sync"]
        done = subprocess.run(as_postgres + initdb, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stderr.strip()[-2000:]}")
        for _ in range(3):  # another process may take the free port first
            port = _free_port()
            # durability off: a throwaway server, and trials are many small commits
            options = f"-h 127.0.0.1 -p {port} -k {root} -F -c synchronous_commit=off"
            pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
            if subprocess.run(as_postgres + pg_ctl + ["-o", options, "start"]).returncode == 0:
                started = True
                break
        if not started:
            pytest.fail(f"the PostgreSQL server did not start: {log.read_text()[-2000:]}")
        yield PostgresServer(port)
    finally:
        if started:
            subprocess.run(
                as_postgres
                + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres):
    """A new, empty database on the session's server."""
    return postgres.url(postgres.new_database())


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]).assign(y=y)
    path = tmp_path_factory.mktemp("data") / "small.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_study_in_postgresql_opens_with_plain_optuna(clf_data, pg_url):
    X, y = clf_data
    r = tune(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        strategy="tpe",
        space=TREE_SPACE,
        trials=4,
        cv=2,
        storage=pg_url,
        study_name="pg",
    )
    assert PASSWORD not in r.storage and r.storage.endswith("@127.0.0.1:" + pg_url.split(":")[-1])
    study = optuna.load_study(study_name="pg", storage=pg_url)
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.best_value == pytest.approx(r.best_score)
    assert study.user_attrs["modelworks"]["strategy"] == "tpe"


def test_two_workers_started_together_share_one_study(csv, tmp_path, pg_url):
    space = '{"n_estimators": [10, 100, "int"], "max_features": [0.2, 1.0, "linear"]}'
    args = ["--model", "rf", "--strategy", "random", "--space", space, "--pruning", "none"]
    args += ["--storage", pg_url, "--study", "shared", "--trials", "16", "--json"]
    workers = [
        subprocess.Popen(
            [str(MODELWORKS), "tune", str(csv), "--target", "y", "--cv", "3"]
            + ["--out", str(tmp_path / f"w{i}")]
            + args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [w.communicate(timeout=180) for w in workers]
    for w, (_, err) in zip(workers, outputs):
        assert w.returncode == 0, err
        assert PASSWORD not in err
    results = [json.loads(out) for out, _ in outputs]

    trials = optuna.load_study(study_name="shared", storage=pg_url).trials
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # no duplicate trial numbers
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    # the study, not each worker, reaches --trials (a worker may finish one it had started)
    assert 16 <= len(done) <= 17 and len(trials) == len(done)
    pids = {int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in done}
    assert pids == {w.pid for w in workers}  # both workers ran trials
    # the same command and seed on both, yet each worker drew points of its own
    assert len({tuple(sorted(t.params.items())) for t in done}) == len(done)
    best = max(t.value for t in done)
    # each worker refits the best it saw; the one that ran the best trial saw it
    assert all(r["best_score"] <= best for r in results)
    assert max(r["best_score"] for r in results) == pytest.approx(best)


def test_rerun_on_postgresql_resumes_and_keeps_completed_trials(clf_data, pg_url):
    X, y = clf_data
    kwargs = dict(strategy="random", space=TREE_SPACE, cv=2, storage=pg_url, study_name="again")
    first = tune(DecisionTreeClassifier(random_state=0), X, y, trials=3, **kwargs)
    before = {
        t.number: (t.value, t.params)
        for t in optuna.load_study(study_name="again", storage=pg_url).trials
    }
    # the rerun's worker processes open the database themselves
    second = tune(DecisionTreeClassifier(random_state=0), X, y, trials=7, n_jobs=2, **kwargs)
    after = optuna.load_study(study_name="again", storage=pg_url).trials
    assert len(before) == 3 and len(after) == 7
    assert all(t.state == TrialState.COMPLETE for t in after)
    assert {t.number: (t.value, t.params) for t in after if t.number in before} == before
    assert second.n_trials_completed == 7 and second.best_score >= first.best_score
    assert second.trials["worker"].nunique() == 3  # this process, then two workers


def test_a_bad_database_url_is_one_line_and_exit_2(csv, tmp_path, postgres):
    urls = {
        "refused": postgres.url("postgres", port=_free_port()),
        "does not exist": postgres.url("no_such_db"),
        "password authentication failed": postgres.url("postgres", password="wrong-secret"),
    }
    procs = {
        why: subprocess.Popen(
            [str(MODELWORKS), "tune", str(csv), "--target", "y", "--model", "knn"]
            + ["--trials", "2", "--cv", "3", "--out", str(tmp_path / "out"), "--storage", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for why, url in urls.items()
    }
    for why, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and why in lines[0], err
        assert "cannot open storage 'postgresql://modelworks:***@127.0.0.1:" in lines[0]
        assert "Traceback" not in err and "secret" not in err + out


def test_workers_opening_a_new_database_at_once_all_get_in(postgres):
    # the first workers on an empty database race to create Optuna's tables; the losers retry
    urls = [postgres.url(postgres.new_database()) for _ in range(2)]
    for url in urls:
        barrier = threading.Barrier(4)

        def open_together(_, url=url, barrier=barrier):
            barrier.wait()
            return open_storage(url)

        with ThreadPoolExecutor(4) as pool:
            storages = list(pool.map(open_together, range(4)))
        assert all(isinstance(s, optuna.storages.RDBStorage) for s in storages)


def test_the_postgres_spelling_works_and_a_missing_driver_is_named(postgres):
    url = postgres.url(postgres.new_database()).replace("postgresql://", "postgres://")
    assert open_storage(url).url.startswith("postgresql://")
    if importlib.util.find_spec("psycopg2") is None:  # the dist extra brings psycopg 3 only
        with pytest.raises(TuningError, match=r"not installed: install psycopg2-binary"):
            open_storage(url.replace("postgres://", "postgresql+psycopg2://"))
