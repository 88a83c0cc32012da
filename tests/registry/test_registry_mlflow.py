"""The MLflow-backed registry, on a real sqlite store in a temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelworks.package as mp
import modelworks.registry as reg
from modelworks.exceptions import ConfigError, IntegrityError, RegistryError


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = np.where(X["a"] > 0, "up", "down")
    model = LogisticRegression().fit(X, y)
    root = tmp_path_factory.mktemp("reg")
    return mp.save(model, root / "pkg", X_sample=X, y_sample=y, task="binary", target="dir",
                   metrics={"accuracy": 0.95}), X


@pytest.fixture
def uri(tmp_path):
    return reg.local_tracking_uri(tmp_path)


def test_register_versions_aliases_and_load_by_reference(package, uri, tmp_path):
    path, X = package
    v1 = reg.register(path, "churn", alias="champion", tracking_uri=uri, params={"C": 1.0})
    v2 = reg.register(path, "churn", alias="challenger", tracking_uri=uri)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.ref == "models:/churn/1" and v1.aliases == ["champion"]
    assert (tmp_path / "mlflow.db").exists() and (tmp_path / "mlartifacts").is_dir()
    champion = mp.load_ref("models:/churn@champion", tracking_uri=uri)
    np.testing.assert_array_equal(champion.predict(X), mp.load(path).predict(X))
    assert reg.load("models:/churn/2", tracking_uri=uri).manifest["metrics"] == {"accuracy": 0.95}
    assert [(v.version, v.aliases) for v in reg.list_versions("churn", tracking_uri=uri)] == [
        (1, ["champion"]), (2, ["challenger"])]
    moved = reg.set_alias("churn", "champion", 2, tracking_uri=uri)
    assert moved.version == 2 and reg.get_version("models:/churn@champion", tracking_uri=uri).version == 2
    assert [v.aliases for v in reg.list_versions("churn", tracking_uri=uri)] == [[], ["challenger", "champion"]]


def test_runs_hold_params_metrics_plots_and_the_package(package, uri, tmp_path):
    from mlflow.tracking import MlflowClient

    path, _ = package
    plot = tmp_path / "roc.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n")
    v = reg.register(path, "m", tracking_uri=uri, run_name="first", params={"depth": 3}, metrics={"f1": 0.5},
                     plots=[plot])
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(v.run_id)
    assert run.info.run_name == "first" and run.info.status == "FINISHED"
    assert run.data.metrics == {"accuracy": 0.95, "f1": 0.5}
    assert run.data.params["depth"] == "3" and run.data.params["task"] == "binary"
    top = {a.path for a in client.list_artifacts(v.run_id)}
    assert top == {"model", "plots"}
    assert {a.path for a in client.list_artifacts(v.run_id, "plots")} == {"plots/roc.png"}
    model_files = {a.path for a in client.list_artifacts(v.run_id, "model")}
    assert "model/MLmodel" in model_files and not any(p.endswith((".pkl", "python_model.pkl")) for p in model_files)


def test_registered_model_loads_with_plain_mlflow_pyfunc(package, uri):
    import mlflow
    import mlflow.pyfunc

    path, X = package
    reg.register(path, "interop", alias="champion", tracking_uri=uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        model = mlflow.pyfunc.load_model("models:/interop@champion")
        pred = model.predict(X)
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
    np.testing.assert_array_equal(np.asarray(pred), mp.load(path).predict(X))
    assert model.metadata.flavors["python_function"]["loader_module"] == "modelworks.registry._pyfunc"


def test_default_store_is_mlflow_db_in_the_current_directory(package, tmp_path, monkeypatch):
    path, _ = package
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert reg.default_tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    v = reg.register(path, "here", alias="champion")
    assert (tmp_path / "mlflow.db").exists() and v.tracking_uri.endswith("mlflow.db")
    assert mp.load_ref("models:/here@champion").task == "binary"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'other.db'}")
    assert reg.default_tracking_uri().endswith("other.db")


def test_unknown_references_say_where_they_looked(package, uri):
    path, _ = package
    reg.register(path, "known", alias="champion", tracking_uri=uri)
    with pytest.raises(RegistryError, match=r"no registered model 'ghost' in the registry at sqlite:///.*"
                                            r"\(registered models: known\)"):
        mp.load_ref("models:/ghost@champion", tracking_uri=uri)
    with pytest.raises(RegistryError, match=r"model 'known' has no alias 'prod' .*its versions: v1 \(champion\)"):
        reg.load("models:/known@prod", tracking_uri=uri)
    with pytest.raises(RegistryError, match="has no version 7"):
        reg.load("models:/known/7", tracking_uri=uri)
    with pytest.raises(ConfigError, match="invalid model reference"):
        reg.load("models:/known@", tracking_uri=uri)
    with pytest.raises(RegistryError, match="no registered model 'ghost'"):
        reg.list_versions("ghost", tracking_uri=uri)


@pytest.mark.parametrize("name, alias, message", [
    ("bad name!", None, "model name must be"),
    ("ok", "latest", "alias must be a word"),
    ("ok", "v3", "alias must be a word"),
])
def test_bad_names_and_aliases_are_refused(package, uri, name, alias, message):
    with pytest.raises(ConfigError, match=message):
        reg.register(package[0], name, alias=alias, tracking_uri=uri)


def test_a_damaged_package_is_refused_before_anything_is_logged(package, uri, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(package[0], bad)
    (bad / "model.skops").write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        reg.register(bad, "bad", tracking_uri=uri)
    reg.register(package[0], "good", tracking_uri=uri)
    with pytest.raises(RegistryError, match="no registered model 'bad'"):
        reg.list_versions("bad", tracking_uri=uri)


_WORKER = textwrap.dedent("""
    import json, sys
    import modelworks.registry as reg
    uri, path, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    versions, errors = [], []
    for i in range(n):
        try:
            versions.append(reg.register(path, name, tracking_uri=uri).version)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    print(json.dumps({"versions": versions, "errors": errors}))
""")


def _concurrent(package, uri, processes, per_process):
    reg.register(package[0], "shared", tracking_uri=uri)  # the store and model exist: version 1
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, uri, str(package[0]), "shared", str(per_process)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors = [e for r in results for e in r["errors"]]
    versions = sorted(v for r in results for v in r["versions"])
    listed = [v.version for v in reg.list_versions("shared", tracking_uri=uri)]
    return errors, versions, listed


def test_concurrent_registration_gives_distinct_contiguous_versions(package, uri):
    errors, versions, listed = _concurrent(package, uri, processes=4, per_process=5)
    assert errors == []
    assert versions == list(range(2, 22))
    assert listed == list(range(1, 22))


@pytest.mark.slow
def test_8_processes_register_100_versions_each(package, uri):
    errors, versions, listed = _concurrent(package, uri, processes=8, per_process=100)
    assert errors == [], errors[:5]
    assert len(versions) == 800 and len(set(versions)) == 800
    assert versions == list(range(2, 802)) and listed == list(range(1, 802))
