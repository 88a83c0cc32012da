"""``modelworks package inspect``, ``register`` and ``serve`` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelworks.package as mp
from modelworks.cli import main


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    y = np.where(X["a"] > 0, 1, 0)
    return mp.save(LogisticRegression().fit(X, y), tmp_path_factory.mktemp("cli") / "pkg", X_sample=X,
                   y_sample=y, task="binary", target="t", metrics={"roc_auc": 0.97})


def test_inspect_prints_the_manifest_summary(package, capsys):
    assert main(["package", "inspect", str(package)]) == 0
    out = capsys.readouterr().out
    assert "format 2, hashes verified" in out and "task: binary   target: t" in out
    assert "features (2): a, b" in out and "roc_auc=0.97" in out and "model.skops" in out


def test_inspect_json_card_and_out(package, capsys, tmp_path):
    assert main(["package", "inspect", str(package), "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["features"] == ["a", "b"] and manifest["verified"] is True
    assert main(["package", "inspect", str(package), "--card", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.startswith("# Model card: LogisticRegression")
    assert (tmp_path / "o" / "MODEL_CARD.md").exists() and (tmp_path / "o" / "manifest.json").exists()


def test_user_errors_are_one_line_and_exit_2(package, capsys, tmp_path):
    assert main(["package", "inspect", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no model package at") and err.count("\n") == 1
    bad = tmp_path / "bad"
    import shutil

    shutil.copytree(package, bad)
    (bad / "model.skops").write_bytes(b"x")
    assert main(["package", "inspect", str(bad)]) == 2
    assert "model.skops" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "nope"), "--port", "0"]) == 2
    assert "no model package" in capsys.readouterr().err
    assert main(["register", str(package), "--name", "bad name", "--tracking-uri", f"sqlite:///{tmp_path}/x.db"]) == 2
    assert "model name must be" in capsys.readouterr().err


def test_register_then_serve_by_alias_reference(package, capsys, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    assert main(["register", str(package), "--name", "cli-model", "--alias", "champion", "--tracking-uri", uri,
                 "--json", "--out", str(tmp_path / "reg")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == 1 and info["aliases"] == ["champion"]
    assert json.loads((tmp_path / "reg" / "registration.json").read_text())["ref"] == "models:/cli-model/1"
    assert main(["serve", "models:/cli-model@nope", "--tracking-uri", uri, "--port", "0"]) == 2
    assert "has no alias 'nope'" in capsys.readouterr().err


def test_the_installed_command_runs_in_a_subprocess(package):
    proc = subprocess.run([sys.executable, "-m", "modelworks", "package", "inspect", str(package), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["task"] == "binary"
    proc = subprocess.run([sys.executable, "-m", "modelworks", "serve", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--max-body-bytes" in proc.stdout and "--ignore-extra" in proc.stdout
