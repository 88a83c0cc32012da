"""``modelworks tune`` in-process and as a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelworks.cli import main

MODELWORKS = Path(sys.executable).with_name("modelworks")


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    from sklearn.datasets import load_wine

    path = tmp_path_factory.mktemp("data") / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    return path


def test_tune_prints_the_best_and_writes_result_and_plots(csv, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(
        [
            "tune",
            str(csv),
            "--target",
            "target",
            "--model",
            "logreg",
            "--strategy",
            "tpe",
            "--trials",
            "5",
            "--cv",
            "3",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "best CV log_loss: 0." in text and "model__C = " in text
    assert "trials: " in text and "study: logreg-tpe in" in text
    result = json.loads((out / "result.json").read_text())
    assert result["task"] == "multiclass" and len(result["trials"]) == 5
    assert (out / "study.journal").exists() and (out / "plots" / "tuning_history.png").exists()


def test_rerun_resumes_and_json_is_machine_readable(csv, tmp_path, capsys):
    args = [
        "tune",
        str(csv),
        "--target",
        "target",
        "--model",
        "knn",
        "--strategy",
        "random",
        "--cv",
        "3",
        "--out",
        str(tmp_path),
        "--study",
        "k",
        "--space",
        '{"n_neighbors": [1, 40, "int"]}',
        "--json",
    ]
    assert main(args + ["--trials", "3"]) == 0
    capsys.readouterr()
    assert main(args + ["--trials", "5"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["study_name"] == "k" and len(d["trials"]) == 5
    assert d["space"] == {"model__n_neighbors": "int [1, 40]"}


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--model", "randomforrest"], "unknown model 'randomforrest' (did you mean"),
        (
            ["--model", "rf", "--space", '{"n_estimator": [10, 20]}'],
            "unknown parameter 'n_estimator' for Pipeline (did you mean 'model__n_estimators'?)",
        ),
        (["--model", "rf", "--space", "{n_estimators: [10]}"], "--space is not valid JSON"),
        (["--model", "rf", "--space", '{"max_depth": []}'], "space['max_depth'] is an empty list"),
        (["--model", "rf", "--scoring", "acc"], "unknown scoring 'acc'"),
        (["--model", "rf", "--storage", "redis://x"], "unknown storage scheme 'redis://'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(csv, tmp_path, capsys, extra, match):
    rc = main(["tune", str(csv), "--target", "target", "--out", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert match in err and "Traceback" not in err
    assert err.count("\n") <= 2


def test_missing_target_column(csv, tmp_path, capsys):
    assert (
        main(["tune", str(csv), "--target", "nope", "--model", "rf", "--out", str(tmp_path)]) == 2
    )
    assert "target column 'nope' not found" in capsys.readouterr().err


def test_real_subprocess(csv, tmp_path):
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    help_ = subprocess.run(
        [str(MODELWORKS), "tune", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert help_.returncode == 0 and "--strategy {grid,random,bayes,tpe}" in help_.stdout
    run = subprocess.run(
        [
            str(MODELWORKS),
            "tune",
            str(csv),
            "--target",
            "target",
            "--model",
            "logreg",
            "--strategy",
            "grid",
            "--space",
            '{"C": [0.1, 1.0, 10.0]}',
            "--cv",
            "3",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "trials: 3 completed, 0 pruned, 0 failed" in run.stdout
    bad = subprocess.run(
        [str(MODELWORKS), "tune", str(csv), "--target", "target", "--model", "rf", "--trials", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "expected a number > 0" in bad.stderr


def test_ctrl_c_stops_cleanly_keeps_trials_and_refits(csv, tmp_path):
    import signal
    import time

    import optuna

    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    proc = subprocess.Popen(
        [
            str(MODELWORKS),
            "tune",
            str(csv),
            "--target",
            "target",
            "--model",
            "rf",
            "--strategy",
            "random",
            "--trials",
            "200",
            "--cv",
            "3",
            "--pruning",
            "none",
            "--space",
            '{"n_estimators": [20, 300, "int"]}',
            "--out",
            str(tmp_path),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # a foreground command gets Ctrl-C; a suite started in the background (nohup, `&` in a
        # script) passes SIGINT down as ignored, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    journal = tmp_path / "study.journal"
    storage = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists():
            storage = storage or optuna.storages.JournalStorage(
                optuna.storages.journal.JournalFileBackend(str(journal))
            )
            try:
                done = [
                    t
                    for t in optuna.load_study(study_name="rf-random", storage=storage).trials
                    if t.state.name == "COMPLETE"
                ]
            except KeyError:
                done = []
            if len(done) >= 2:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: the finished trials are kept" in err and "Traceback" not in err
    d = json.loads(out)
    assert d["interrupted"] is True and d["n_trials_completed"] >= 2
    states = [t["state"] for t in d["trials"]]
    assert "RUNNING" not in states
    assert json.loads((tmp_path / "result.json").read_text())["best_params"] == d["best_params"]
