"""``modelworks ensemble``: members, weights, CV and held-out scores; one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from modelworks.cli import main
from modelworks.workflow import demo_data

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    out = {}
    for name in ("breast_cancer", "wine", "diabetes"):
        frame, _ = demo_data(name)
        out[name] = root / f"{name}.csv"
        frame.to_csv(out[name], index=False)
    return out


def test_blend_with_the_chapters_hand_weights_prints_members_and_scores(csv_files, tmp_path, capsys):
    code = main(["ensemble", str(csv_files["wine"]), "--target", "target", "--method", "blend",
                 "--models", "rf,logreg,knn", "--weights", "0.4,0.4,0.2", "--cv", "3", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "blend(rf,logreg,knn)" in out
    for name, weight in (("rf", "0.400"), ("logreg", "0.400"), ("knn", "0.200")):
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert weight in line
    assert "cv log_loss" in out and "test log_loss" in out
    saved = json.loads((tmp_path / "ensemble.json").read_text())
    assert saved["weights_given"] is True
    assert [m["weight"] for m in saved["members"]] == pytest.approx([0.4, 0.4, 0.2])


@pytest.mark.parametrize("method", ["blend", "select", "stack"])
def test_every_method_writes_json_and_a_loadable_model(csv_files, tmp_path, capsys, method):
    code = main(["ensemble", str(csv_files["diabetes"]), "--target", "target", "--method", method,
                 "--models", "ridge,knn", "--cv", "3", "--out", str(tmp_path), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "regression" and result["method"] == method
    assert [m["name"] for m in result["members"]] == ["ridge", "knn"]
    for part in result["members"] + [result["ensemble"]]:
        assert np.isfinite(part["cv"]["rmse"]) and np.isfinite(part["test"]["rmse"])
    if method != "stack":
        assert sum(m["weight"] for m in result["members"]) == pytest.approx(1.0)
    data = (tmp_path / "model.skops").read_bytes()
    model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert model.predict(demo_data("diabetes")[0].drop(columns="target").head(3)).shape == (3,)


@pytest.mark.parametrize("args, message", [
    (["--models", "rf"], "at least 2 members, got 1 \\(rf\\)"),
    (["--models", "rf,ridge"], "member 'ridge' \\(RidgeClassifier\\) cannot predict probabilities"),
    (["--models", "rf,logreg", "--weights", "1,-1"], "weights must be non-negative, got logreg=-1"),
    (["--models", "rf,logreg", "--weights", "1,2,3"], "got 3 weights for 2 members"),
    (["--models", "rf,logreg", "--method", "select", "--weights", "1,1"], "weights apply to the blend method only.*drop --weights"),
    (["--models", "rf,linear"], "model 'linear' does not support binary tasks.*drop it from --models"),
    (["--models", "rf,nope"], "unknown model 'nope'"),
    (["--models", "rf,rf"], "listed twice"),
])
def test_user_errors_are_one_line_and_exit_2(csv_files, tmp_path, capsys, args, message):
    import re

    code = main(["ensemble", str(csv_files["breast_cancer"]), "--target", "target", "--out", str(tmp_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err
    assert re.search(message, errors[0]), errors[0]


def test_bad_target_and_method_are_refused(csv_files, tmp_path, capsys):
    assert main(["ensemble", str(csv_files["wine"]), "--target", "nope", "--models", "rf,logreg",
                 "--out", str(tmp_path)]) == 2
    assert "target column 'nope' not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["ensemble", str(csv_files["wine"]), "--target", "target", "--models", "rf,logreg", "--method", "vote"])
    assert e.value.code == 2


def test_the_installed_command_runs_a_stack(csv_files, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MODELWORKS_PROGRESS": "0"}
    proc = subprocess.run(
        [str(VENV_BIN / "modelworks"), "ensemble", str(csv_files["breast_cancer"]), "--target", "target",
         "--method", "stack", "--models", "logreg,knn", "--cv", "3", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "stack(logreg,knn)" in proc.stdout and "meta coef" in proc.stdout
    assert (tmp_path / "model.skops").exists()
    help_ = subprocess.run([str(VENV_BIN / "modelworks"), "ensemble", "--help"], capture_output=True, text=True,
                           timeout=60, env=env)
    assert help_.returncode == 0 and "--method" in help_.stdout and "--weights" in help_.stdout
