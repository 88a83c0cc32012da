"""``modelworks predict`` / ``evaluate`` on real packages, through the installed command.

One model is trained by ``modelworks.run`` (logistic regression, 2-fold CV, the slow steps off),
saved as a ``.mwpkg`` archive and, for the registry case, registered in a sqlite MLflow store in a
temporary directory. Every command runs as a subprocess in a temporary working directory, so
nothing is written beside the repository.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelworks

FEATURES = ["age", "plan", "visits", "region"]


def _customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n) + 10_000 * seed,
            "age": rng.normal(40, 10, n).round(1),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "visits": rng.poisson(3, n).astype(float),
            "region": rng.choice(["north", "south"], n),
        }
    )
    noise = rng.normal(0, 3, n)
    frame["churn"] = np.where(
        frame["age"] + 5 * (frame["plan"] == "plus") + noise > 42, "yes", "no"
    )
    return frame


def _command() -> list[str]:
    script = Path(sys.executable).with_name("modelworks")
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelworks"]


def _cli(*args, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    return subprocess.run(
        [*_command(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A ``modelworks run`` model saved as a .mwpkg, and a held-out file of 150 new customers."""
    from modelworks.package import save

    root = tmp_path_factory.mktemp("scoring-packages")
    frame = _customers(600, seed=0)
    train, held = frame.iloc[:450], frame.iloc[450:].reset_index(drop=True)
    train.to_csv(root / "train.csv", index=False)
    result = modelworks.run(
        root / "train.csv",
        "churn",
        out_dir=root / "run",
        models=["logreg"],
        cv=2,
        steps={"tune": False, "ensemble": False, "explain": False, "monitor": False},
    )
    pkg = save(
        result.model,
        root / "churn.mwpkg",
        X_sample=train[FEATURES],
        y_sample=train["churn"],
        task="binary",
        target="churn",
        seed=0,
        archive=True,
    )
    held.to_csv(root / "labelled.csv", index=False)
    held.drop(columns=["churn"]).to_csv(root / "new.csv", index=False)
    return {"root": root, "model": result.model, "pkg": pkg, "held": held}


@pytest.fixture
def workdir(tmp_path):
    """The commands' working directory; they must write nothing in it but what they are told to."""
    wd = tmp_path / "cwd"
    wd.mkdir()
    return wd


def _assert_equals_in_process(out: pd.DataFrame, model, held: pd.DataFrame) -> None:
    X = held[FEATURES]
    assert list(out.columns) == ["customer_id", "prediction", "proba_no", "proba_yes"]
    np.testing.assert_array_equal(out["customer_id"], held["customer_id"])
    np.testing.assert_array_equal(out["prediction"].astype(str), model.predict(X))
    # exact, not approximately: the file holds the same doubles predict_proba returned
    np.testing.assert_array_equal(out[["proba_no", "proba_yes"]].to_numpy(), model.predict_proba(X))


def test_cli_predict_on_a_package_equals_in_process_predict(trained, workdir):
    out = workdir / "preds.csv"
    # 37-row chunks: the 150 rows are scored in 5 pieces and must still equal one in-process call
    done = _cli(
        "predict",
        trained["pkg"],
        trained["root"] / "new.csv",
        "--out",
        out,
        "--proba",
        "--chunk-size",
        37,
        "--json",
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (
        summary["rows"] == 150
        and summary["chunks"] == 5
        and Path(summary["out"]).name == "preds.csv"
    )
    preds = pd.read_csv(out, float_precision="round_trip")
    _assert_equals_in_process(preds, trained["model"], trained["held"])
    assert sorted(p.name for p in workdir.iterdir()) == ["preds.csv"]  # no temporary left behind


def test_cli_predict_without_out_streams_csv_to_stdout(trained, workdir):
    done = _cli("predict", trained["pkg"], trained["root"] / "new.csv", "--proba", "--chunk-size", 37, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("customer_id,prediction") == 1  # one header, then every chunk's rows
    preds = pd.read_csv(io.StringIO(done.stdout), float_precision="round_trip")
    _assert_equals_in_process(preds, trained["model"], trained["held"])
    assert list(workdir.iterdir()) == []


def test_cli_predict_by_registry_alias_equals_the_package(trained, tmp_path, workdir):
    from modelworks.registry import local_tracking_uri, register

    store = tmp_path / "store"
    uri = local_tracking_uri(store)
    version = register(trained["pkg"], "churn", alias="champion", tracking_uri=uri)
    assert version.version == 1 and (store / "mlflow.db").exists()
    out = workdir / "preds.parquet"  # the output's extension picks Parquet
    done = _cli(
        "predict",
        "models:/churn@champion",
        trained["root"] / "new.csv",
        "--out",
        out,
        "--proba",
        "--tracking-uri",
        uri,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 150 predictions" in done.stdout  # the one finisher prints the summary on stdout
    _assert_equals_in_process(pd.read_parquet(out), trained["model"], trained["held"])
    assert sorted(p.name for p in workdir.iterdir()) == ["preds.parquet"]  # no mlflow.db in the cwd


def test_cli_evaluate_writes_metrics_with_intervals_and_a_report(trained, workdir):
    from sklearn.metrics import accuracy_score, roc_auc_score

    out_dir = workdir / "eval"
    # labelled.csv still has its customer_id column: evaluate sets it aside as predict does
    done = _cli(
        "evaluate",
        trained["pkg"],
        trained["root"] / "labelled.csv",
        "--target",
        "churn",
        "--out",
        out_dir,
        "--json",
        "--bootstrap",
        200,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    written = json.loads((out_dir / "evaluation.json").read_text())
    assert printed["metrics"] == written["metrics"]
    assert written["task"] == "binary" and written["rows"] == 150 and written["level"] == 0.95
    metrics = written["metrics"]
    assert set(metrics) == {"accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier"}
    for name, m in metrics.items():
        low, high = m["ci"]
        assert low <= m["value"] <= high, (name, m)
        assert low < high, (name, m)  # 200 resamples of 150 rows cannot all agree
    held, model = trained["held"], trained["model"]
    assert metrics["accuracy"]["value"] == pytest.approx(
        accuracy_score(held["churn"], model.predict(held[FEATURES])), abs=1e-12
    )
    assert metrics["roc_auc"]["value"] == pytest.approx(
        roc_auc_score(held["churn"] == "yes", model.predict_proba(held[FEATURES])[:, 1]), abs=1e-12
    )
    assert np.sum(written["confusion_matrix"]["matrix"]) == 150
    report = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "Evaluation" in report and "balanced_accuracy" in report
    for plot in ("calibration", "confusion_matrix", "roc"):
        assert (out_dir / "plots" / f"{plot}.png").stat().st_size > 0


def test_killed_predict_leaves_no_output_file(trained, tmp_path, workdir):
    big = tmp_path / "big.csv"
    pd.concat([_customers(300_000, seed=1).drop(columns=["churn"])]).to_csv(big, index=False)
    out = workdir / "preds.csv"
    env = {**os.environ, "MODELWORKS_PROGRESS": "0"}
    proc = subprocess.Popen(
        [
            *_command(),
            "predict",
            str(trained["pkg"]),
            str(big),
            "--out",
            str(out),
            "--proba",
            "--chunk-size",
            "1000",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # wait until chunks are being written: the hidden temporary exists and has data in it
        deadline = time.monotonic() + 120
        partial = []
        while not partial:
            assert proc.poll() is None, (
                "predict ended before it was seen writing; use a larger file"
            )
            assert time.monotonic() < deadline, "predict never started writing"
            partial = [p for p in workdir.glob(".preds.csv.*.partial") if p.stat().st_size > 0]
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not out.exists()
    # what SIGKILL leaves is the hidden, half-written temporary only, never the target name
    left = [p.name for p in workdir.iterdir()]
    assert left and all(n.startswith(".preds.csv.") and n.endswith(".partial") for n in left), left
    # the next run to the same target removes what the killed one left (its writer is dead)
    small = tmp_path / "small.csv"
    _customers(50, seed=2).drop(columns=["churn"]).to_csv(small, index=False)
    again = subprocess.run([*_command(), "predict", str(trained["pkg"]), str(small), "--out", str(out)],
                           cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["preds.csv"]
    assert len(pd.read_csv(out)) == 50


def test_only_partials_of_dead_writers_on_this_machine_are_cleaned(tmp_path):
    import socket

    from modelworks.batch._predict import _clean_stale_partials, _partial_suffix

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    target = tmp_path / "preds.csv"
    files = {
        "dead": tmp_path / f".preds.csv.abc.w{dead.pid}@{host}.partial",
        "alive (this process)": tmp_path / f".preds.csv.def{_partial_suffix()}",
        "other machine": tmp_path / f".preds.csv.ghi.w{dead.pid}@not-{host}.partial",
        "other target": tmp_path / f".other.csv.jkl.w{dead.pid}@{host}.partial",
        "no writer tag": tmp_path / ".preds.csv.mno.partial",
    }
    for f in files.values():
        f.write_text("half")
    assert _clean_stale_partials(target) == [files["dead"]]
    assert [k for k, f in files.items() if not f.exists()] == ["dead"]


def _bad_inputs(held: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    unsafe = held.drop(columns=["churn"]).astype({"age": object})
    unsafe.loc[100, "age"] = "old"
    return {
        "missing": (
            held.drop(columns=["churn", "age"]),
            "error: missing column: age (the model expects: ",
        ),
        "extra": (
            held.drop(columns=["churn"]).assign(colour="red"),
            "error: unexpected column: colour ",
        ),
        "unsafe": (unsafe, "error: column 'age' expects numbers but got 'old'"),
    }


@pytest.mark.parametrize("case", ["missing", "extra", "unsafe"])
def test_cli_predict_names_bad_input_in_one_line_and_exits_2(trained, workdir, case):
    frame, message = _bad_inputs(trained["held"])[case]
    data = workdir.parent / f"{case}.csv"
    frame.to_csv(data, index=False)
    done = _cli(
        "predict",
        trained["pkg"],
        data,
        "--out",
        workdir / "preds.csv",
        "--chunk-size",
        40,
        cwd=workdir,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list(workdir.iterdir()) == []  # neither the output nor its temporary


def test_cli_predict_drops_extra_columns_when_told(trained, workdir):
    frame, _ = _bad_inputs(trained["held"])["extra"]
    data = workdir.parent / "extra.csv"
    frame.to_csv(data, index=False)
    out = workdir / "preds.csv"
    done = _cli(
        "predict", trained["pkg"], data, "--out", out, "--proba", "--ignore-extra", cwd=workdir
    )
    assert done.returncode == 0, done.stderr
    _assert_equals_in_process(
        pd.read_csv(out, float_precision="round_trip"), trained["model"], trained["held"]
    )


def test_unsafe_value_is_named_by_its_row_in_the_file(trained, tmp_path):
    from modelworks.exceptions import SchemaError

    frame, _ = _bad_inputs(trained["held"])["unsafe"]
    frame.to_csv(tmp_path / "unsafe.csv", index=False)
    with pytest.raises(SchemaError, match=r"got 'old' \(row 100,"):
        modelworks.predict(trained["pkg"], tmp_path / "unsafe.csv", chunk_size=40)
