"""One shape for every job: a public function per CLI verb, one result shape.

Thin handlers (at most 40 lines, each ending in the one finisher) are a rule of
tests/test_architecture_rules.py.
"""

import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelworks._result import Result
from modelworks.cli import build_parser
from modelworks.cli._common import error_line
from modelworks.exceptions import ColumnError, EnsembleError, ModelworksError

SHAPE = ("to_dict", "summary", "plots", "report_section", "write")

# CLI verb -> (module, public function, result class) of the jobs that return the one shape
JOBS = {
    "run": ("modelworks", "run", "RunResult"),
    "demo": ("modelworks", "demo", "RunResult"),
    "abtest": ("modelworks.monitor", "abtest", "ComparisonResult"),
    "drift": ("modelworks.monitor", "drift_job", "DriftCheck"),
    "stats mixed": ("modelworks.stats", "mixed", "StatsResult"),
    "stats gam": ("modelworks.stats", "gam", "StatsResult"),
    "explain": ("modelworks.explain", "explain_job", "ExplainResult"),
    "ensemble": ("modelworks.ensemble", "ensemble", "EnsembleResult"),
    "tune": ("modelworks.tuning", "tune_job", "TuneJobResult"),
    "forecast": ("modelworks.forecast", "forecast_job", "ForecastJobResult"),
    "compare": ("modelworks", "rank_models", "modelworks._compare.Comparison"),
    "predict": ("modelworks.batch", "predict", "PredictResult"),
    "evaluate": ("modelworks.batch", "evaluate_job", "EvaluateJobResult"),
    "package inspect": ("modelworks.package", "inspect_job", "ManifestResult"),
    "register": ("modelworks.registry", "register", "VersionInfo"),
    "features poly": ("modelworks.features", "poly_job", "FeatureTableResult"),
    "features dfs": ("modelworks.features", "dfs_job", "FeatureTableResult"),
    "deep transfer": ("modelworks.deep", "transfer_job", "TransferJobResult"),
    "models": ("modelworks.models", "models_job", "ModelList"),
    "doctor": ("modelworks", "doctor", "modelworks._doctor.DoctorResult"),
    "serve": ("modelworks.serve", "serve", "ServeResult"),
}


def test_every_job_verb_is_a_cli_command():
    sub = build_parser()._subparsers._group_actions[0].choices
    for verb in JOBS:
        head, *rest = verb.split()
        assert head in sub
        if rest:
            assert rest[0] in sub[head]._subparsers._group_actions[0].choices


@pytest.mark.parametrize("verb", sorted(JOBS))
def test_each_job_is_public_and_returns_the_one_shape(verb):
    module_name, func, cls_name = JOBS[verb]
    module = importlib.import_module(module_name)
    assert func in module.__all__ and callable(getattr(module, func))
    home, _, cls_name = cls_name.rpartition(".")
    cls = getattr(module, cls_name, None) or getattr(importlib.import_module(home or getattr(module, func).__module__),
                                                     cls_name)
    assert issubclass(cls, Result)
    for method in SHAPE:
        assert callable(getattr(cls, method))
    # the two a subclass must write itself
    assert cls.to_dict is not Result.to_dict and cls.summary is not Result.summary


def _check_shape(result, tmp_path: Path) -> dict:
    """Call the five methods for real and check what each gives back."""
    from modelworks.report import Report

    assert isinstance(result, Result)
    text = result.summary()
    assert isinstance(text, str) and text.strip()
    plots = result.plots(tmp_path / "plots")
    assert isinstance(plots, dict) and all(Path(p).stat().st_size > 0 for p in plots.values())
    report = Report(tmp_path / "report", "shape")
    result.report_section(report)
    assert report.sections and report.write().stat().st_size > 0
    files = result.write(tmp_path / "out")
    assert files and all(Path(p).exists() for p in files.values() if isinstance(p, str | Path))
    payload = result.to_dict()
    json.dumps(payload, default=str)  # JSON-able
    return payload


def test_abtest_result_has_the_shape(tmp_path):
    from modelworks.monitor import compare_models

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    a = np.where(rng.random(300) < 0.7, y, 1 - y)
    b = np.where(rng.random(300) < 0.8, y, 1 - y)
    result = compare_models(y, a, b, test="bootstrap", metric="accuracy", n_boot=200)
    payload = _check_shape(result, tmp_path)
    assert payload["test"] == "paired bootstrap" and "bootstrap" in result.plots(tmp_path)
    assert (tmp_path / "out" / "abtest.json").exists() and result.verdict in result.summary()
    assert result.exit_code == 0


def test_drift_job_has_the_shape_and_exit_code_1_on_drift(tmp_path):
    from modelworks.monitor import drift_job

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)})
    cur = pd.DataFrame({"x": rng.normal(2, 1, size=600), "c": rng.choice(["a", "b"], 600)})
    result = drift_job(ref, cur)
    payload = _check_shape(result, tmp_path)
    assert result.exit_code == 1 and "x" in payload["drifted"]
    assert {"drift.json", "drift.csv", "report.html"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert drift_job(ref, ref.sample(frac=1, random_state=0)).exit_code == 0


def test_gam_job_has_the_shape(tmp_path):
    from modelworks.stats import gam

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.uniform(0, 1, 200), "b": rng.uniform(0, 1, 200)})
    df["y"] = np.sin(6 * df["a"]) + df["b"] + rng.normal(0, 0.2, 200)
    result = gam(df, "y", n_splines=8)
    payload = _check_shape(result, tmp_path)
    assert payload["task"] == "regression" and payload["model_file"].endswith("model.skops")


def test_ensemble_job_has_the_shape(tmp_path):
    from modelworks.ensemble import ensemble
    from modelworks.workflow import demo_data

    frame, target = demo_data("diabetes")
    result = ensemble(frame, target, method="blend", models=["ridge", "knn"], cv=3)
    assert result.model is not None
    payload = _check_shape(result, tmp_path)
    assert [m["name"] for m in payload["members"]] == ["ridge", "knn"]
    assert Path(payload["files"]["model"]).exists() and "model:" in result.summary()


def test_error_hints_name_the_parameter_in_python_and_the_flag_on_the_command_line():
    err = EnsembleError("model 'linear' does not support binary tasks", param="models", fix="drop it from {}")
    assert str(err) == "model 'linear' does not support binary tasks; drop it from models"
    assert error_line(err) == "model 'linear' does not support binary tasks; drop it from --models"
    assert error_line(ColumnError("x", param="n_boot", fix="raise {}")) == "x; raise --bootstrap"
    plain = ModelworksError("nothing to render")
    assert str(plain) == error_line(plain) == "nothing to render"


def test_ensemble_errors_say_the_parameter_and_the_cli_says_the_flag(tmp_path, capsys):
    from modelworks.cli import main
    from modelworks.ensemble import ensemble
    from modelworks.workflow import demo_data

    frame, target = demo_data("breast_cancer")
    with pytest.raises(EnsembleError, match="drop it from models$"):
        ensemble(frame, target, models=["rf", "linear"], cv=3)
    path = tmp_path / "bc.csv"
    frame.to_csv(path, index=False)
    assert main(["ensemble", str(path), "--target", "target", "--models", "rf,linear", "--cv", "3"]) == 2
    assert capsys.readouterr().err.strip().endswith("drop it from --models")


def test_run_result_has_the_shape_and_keeps_the_run_report(tmp_path):
    from modelworks import run
    from modelworks.workflow import demo_data

    frame, target = demo_data("wine")
    result = run(frame, target, out_dir=tmp_path / "run", time_budget=15, models=["logreg", "knn"], cv=3,
                 steps={"tune": False, "explain": False, "monitor": False, "package": False})
    full_report = result.report_path.read_text()
    assert result.write(tmp_path / "run") == {"result": result.result_path, "report": result.report_path}
    assert result.report_path.read_text() == full_report  # writing into its own folder rewrites nothing
    payload = _check_shape(result, tmp_path)
    assert payload["task"] == "multiclass" and "final model" in result.summary()


def _saved_model(tmp_path):
    from modelworks.data import make_pipeline
    from modelworks.models import get_model
    from modelworks.package import save
    from modelworks.workflow import demo_data

    frame, target = demo_data("breast_cancer")
    X, y = frame.drop(columns=[target]), frame[target]
    model = make_pipeline(X, get_model("logreg", "binary")).fit(X, y)
    return save(model, tmp_path / "pkg", X_sample=X, y_sample=y, task="binary", target=target), frame, target


def test_compare_result_has_the_shape_and_the_cli_prints_its_summary(tmp_path, capsys):
    from modelworks import rank_models
    from modelworks.cli import main
    from modelworks.workflow import demo_data

    frame, target = demo_data("wine")
    result = rank_models(frame, target, models=["logreg", "knn"], cv=3)
    payload = _check_shape(result, tmp_path)
    assert [r["model"] for r in payload["leaderboard"]] == list(result.leaderboard["model"])
    assert result.summary().startswith("task: multiclass   ranked by") and "3-fold CV" in result.summary()
    assert (tmp_path / "out" / "comparison.json").exists() and (tmp_path / "out" / "report.html").exists()
    path = tmp_path / "wine.csv"
    frame.to_csv(path, index=False)
    assert main(["compare", str(path), "--target", target, "--models", "logreg,knn", "--cv", "3",
                 "--out", str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out.splitlines()  # the summary (fit times differ between runs)
    assert printed[0] == result.summary().splitlines()[0] and len(printed) == len(result.summary().splitlines())
    assert json.loads((tmp_path / "cli" / "comparison.json").read_text())["metric"] == result.metric


def test_predict_and_evaluate_results_have_the_shape(tmp_path):
    from modelworks.batch import evaluate, evaluate_job, predict

    pkg, frame, target = _saved_model(tmp_path)
    pred = predict(pkg, frame.drop(columns=[target]))
    payload = _check_shape(pred, tmp_path / "predict")
    assert len(payload["predictions"]) == len(frame) and pred.summary().startswith(f"{len(frame)} predictions")
    streamed = predict(pkg, frame.drop(columns=[target]), keep=False, sink=lambda chunk: None)
    assert streamed.summary() == "" and "predictions" not in streamed.to_dict()  # nothing to add to a stream

    job = evaluate_job(pkg, frame, target, n_boot=50)
    payload = _check_shape(job, tmp_path / "evaluate")
    out = tmp_path / "evaluate" / "out"
    assert {"evaluation.json", "report.html"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "evaluation.json").read_text())["plots"] and f"report: {out}" in job.summary()
    # evaluate(out_dir=...) writes the same files through the same helper
    direct = evaluate(pkg, frame, target, n_boot=50, out_dir=tmp_path / "direct")
    assert direct.plots and all(p.exists() for p in direct.plots.values())
    assert json.loads((tmp_path / "direct" / "evaluation.json").read_text())["metrics"].keys() == payload["metrics"].keys()


def test_package_inspect_and_register_results_have_the_shape(tmp_path, capsys):
    from modelworks.cli import main
    from modelworks.package import inspect_job
    from modelworks.registry import register

    pkg, _, target = _saved_model(tmp_path)
    result = inspect_job(pkg)
    payload = _check_shape(result, tmp_path / "inspect")
    assert payload["target"] == target and payload["verified"] is True
    assert (tmp_path / "inspect" / "out" / "MODEL_CARD.md").read_text() == result.card
    assert "wrote" in result.summary() and inspect_job(pkg, card=True).summary() == result.card
    version = register(pkg, "shape-model", alias="champion", tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    payload = _check_shape(version, tmp_path / "register")
    assert payload["ref"] == "models:/shape-model/1"
    assert "models:/shape-model@champion" in version.summary()
    assert json.loads((tmp_path / "register" / "out" / "registration.json").read_text()) == payload
    assert main(["package", "inspect", str(pkg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == target


def test_models_and_doctor_are_listings_the_cli_prints_unchanged(tmp_path, capsys):
    from modelworks import doctor
    from modelworks.cli import main
    from modelworks.models import ZOO, models_job

    zoo = models_job()
    payload = _check_shape(zoo, tmp_path / "models")
    assert [row["name"] for row in payload["models"]] == list(ZOO) and zoo.to_json() == payload["models"]
    logreg = next(row for row in zoo.rows if row["name"] == "logreg")
    assert logreg["tasks"] == ["binary", "multiclass"] and logreg["family"] == "linear"
    assert json.loads((tmp_path / "models" / "out" / "models.json").read_text()) == payload
    assert main(["models", "--json"]) == 0 and json.loads(capsys.readouterr().out) == zoo.rows
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ZOO) and lines[0].split()[0] == next(iter(ZOO))
    checked = doctor()
    payload = _check_shape(checked, tmp_path / "doctor")
    assert {row["area"] for row in payload["areas"]} >= {"tuning", "serve", "registry"}
    assert checked.exit_code == 0 and checked.missing == [r["area"] for r in checked.rows if not r["ok"]]
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[3:].split()[0] for line in lines] == [row["area"] for row in checked.rows]
    assert all(line.startswith("ok " if row["ok"] else "-- ") for line, row in zip(lines, checked.rows, strict=True))


def test_serve_result_has_the_shape(tmp_path):
    from modelworks.serve import ServeResult

    started = ServeResult("models:/m@champion", "models:/m/3", "127.0.0.1", 41234, 2)
    payload = _check_shape(started, tmp_path)
    assert payload["url"] == "http://127.0.0.1:41234" and payload["model"] == "models:/m/3"
    assert started.summary().startswith("modelworks serve: models:/m/3 on http://127.0.0.1:41234 (2 workers;")


def test_poly_job_has_the_shape_and_writes_its_table(tmp_path, capsys):
    from modelworks.cli import main
    from modelworks.features import poly_job

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.9], "y": [0, 1, 0, 1]})
    result = poly_job(frame, tmp_path / "poly.parquet", exclude=["y"], interaction_only=True)
    payload = _check_shape(result, tmp_path / "shape")
    assert payload["new"] == ["a*b"] and list(pd.read_parquet(tmp_path / "poly.parquet").columns) == list(result.table.columns)
    assert result.summary().endswith(f"to {tmp_path / 'poly.parquet'}")
    with pytest.raises(ModelworksError, match="must end in .csv or .parquet"):
        poly_job(frame, tmp_path / "poly.txt")
    frame.to_csv(tmp_path / "in.csv", index=False)
    assert main(["features", "poly", str(tmp_path / "in.csv"), "--exclude", "y", "--out", str(tmp_path / "p.csv")]) == 0
    assert capsys.readouterr().out.startswith("expanded 2 columns into 5 features")


def test_data_spine_errors_name_the_parameter_and_the_cli_the_flag(tmp_path, capsys):
    from modelworks import rank_models
    from modelworks.cli import main
    from modelworks.exceptions import TargetError
    from modelworks.workflow import demo_data

    frame, _ = demo_data("wine")
    with pytest.raises(TargetError, match="columns are: .*; pass one of them as target$"):
        rank_models(frame, "nope")
    rare = frame.assign(target=["rare"] * 3 + ["common"] * (len(frame) - 3))
    with pytest.raises(TargetError, match="fewer members than the 5 CV folds; use cv=3 or merge/drop rare classes$"):
        rank_models(rare, "target")
    path = tmp_path / "wine.csv"
    frame.to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "nope"]) == 2
    assert capsys.readouterr().err.strip().endswith("; pass one of them as --target")
    rare.to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "target"]) == 2
    assert capsys.readouterr().err.strip().endswith("use --cv=3 or merge/drop rare classes")
