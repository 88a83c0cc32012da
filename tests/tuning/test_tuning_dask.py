"""Trials on a Dask cluster (a real LocalCluster on 127.0.0.1)."""

import socket

import pytest
from sklearn.tree import DecisionTreeClassifier

from modelworks.exceptions import TuningError
from modelworks.tuning import _workers, tune

distributed = pytest.importorskip("distributed")


def test_trials_run_on_a_local_dask_cluster(clf_data, tmp_path):
    X, y = clf_data
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        r = tune(
            DecisionTreeClassifier(random_state=0),
            X,
            y,
            strategy="tpe",
            space={"max_depth": (1, 8, "int"), "min_samples_leaf": (1, 20, "int")},
            trials=8,
            cv=2,
            dask=cluster.scheduler_address,
            out_dir=tmp_path,
        )
    assert r.n_trials_completed + r.n_trials_pruned == 8 and r.warnings == []
    assert r.trials["worker"].nunique() == 2  # one task per Dask worker, each in its own process
    assert r.best_estimator.predict(X).shape == (len(X),)


def test_an_unreachable_scheduler_is_a_clear_error(clf_data, tmp_path, monkeypatch):
    X, y = clf_data
    monkeypatch.setattr(_workers, "DASK_CONNECT_TIMEOUT", "1s")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        TuningError, match=f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'"
    ):
        tune(
            DecisionTreeClassifier(),
            X,
            y,
            space={"max_depth": [1, 2]},
            trials=2,
            cv=2,
            dask=f"tcp://127.0.0.1:{port}",
            out_dir=tmp_path,
        )
