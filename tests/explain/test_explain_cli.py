"""``modelworks explain MODEL DATA``: in-process and one real subprocess, on a saved package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from explain_testkit import pipe

from modelworks.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(cancer, tmp_path_factory):
    from modelworks.package import save

    X, y = cancer
    root = tmp_path_factory.mktemp("explain-cli")
    model = pipe(X, y, "hgb", "binary")
    pkg = save(model, root / "model", X_sample=X, y_sample=y, task="binary", target="label")
    data = root / "data.csv"
    X.assign(label=y).to_csv(data, index=False)  # the target column is in the file: ignored
    return pkg, data, root


def test_explain_writes_plots_json_and_prints_top_features(saved, capsys):
    pkg, data, root = saved
    out = root / "out"
    code = main(["explain", str(pkg), str(data), "--out", str(out), "--rows", "60",
                 "--pdp", "radius,size,radius:texture"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "explainer: tree" in printed and "top features" in printed
    result = json.loads((out / "explanation.json").read_text())
    assert result["explanation"]["rows"] == 60
    assert [i["features"] for i in result["partial_dependence"]["items"]] == [["radius"], ["size"],
                                                                              ["radius", "texture"]]
    for path in [*result["plots"].values(), *result["pdp_plots"].values()]:
        assert Path(path).stat().st_size > 5000


@pytest.mark.parametrize("argv,message", [
    (["--pdp", "nope"], "unknown feature"),
    (["--pdp", "a:b:c"], None),
    (["--explainer", "linear"], "explainer='linear' cannot handle HistGradientBoostingClassifier"),
])
def test_user_errors_exit_2_with_one_line(saved, capsys, argv, message, tmp_path):
    pkg, data, _ = saved
    code = main(["explain", str(pkg), str(data), "--out", str(tmp_path), "--rows", "20", *argv]) \
        if message else None
    if message is None:  # argparse rejects it before the handler runs
        with pytest.raises(SystemExit) as exc:
            main(["explain", str(pkg), str(data), *argv])
        assert exc.value.code == 2
        assert "--pdp takes columns and pairs" in capsys.readouterr().err
        return
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # progress lines first, then one error line
    assert err.startswith("error:") and message in err


def test_columns_the_model_never_saw_are_left_out_and_missing_ones_named(saved, capsys, tmp_path):
    import pandas as pd

    pkg, data, _ = saved
    frame = pd.read_csv(data)
    frame.insert(0, "customer_id", range(len(frame)))
    frame.to_csv(tmp_path / "with_id.csv", index=False)
    assert main(["explain", str(pkg), str(tmp_path / "with_id.csv"), "--out", str(tmp_path / "o"),
                 "--rows", "20", "--pdp", "radius"]) == 0
    assert "left out: customer_id, label" in capsys.readouterr().err
    frame.drop(columns=["radius"]).to_csv(tmp_path / "no_radius.csv", index=False)
    assert main(["explain", str(pkg), str(tmp_path / "no_radius.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "missing column: radius" in capsys.readouterr().err


def test_missing_package_exits_2(tmp_path, capsys, saved):
    _, data, _ = saved
    assert main(["explain", str(tmp_path / "nothing"), str(data)]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_real_command_prints_json(saved, tmp_path):
    pkg, data, _ = saved
    exe = Path(sys.executable).with_name("modelworks")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(exe), "explain", str(pkg), str(data), "--out", str(tmp_path), "--rows", "40",
                           "--json", "--kind", "average"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["explanation"]["explainer"] == "tree"
    assert len(result["partial_dependence"]["items"]) == 3  # top 2 features and their pair
