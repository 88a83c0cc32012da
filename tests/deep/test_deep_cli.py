"""``modelworks deep transfer``: in-process and as a real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")
from deep_helpers import write_digit_folder  # noqa: E402

from modelworks.cli import main  # noqa: E402


def test_transfer_writes_model_plots_report_and_json(digit_dir, tiny_base, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["deep", "transfer", str(digit_dir), "--base", str(tiny_base), "--epochs", "2",
                 "--fine-tune-layers", "1", "--fine-tune-epochs", "1", "--batch-size", "8",
                 "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)
    assert summary["classes"] == ["digit_0", "digit_1", "digit_2"]
    assert [row["phase"] for row in summary["history"]][-1] == "fine_tune"
    assert 0.0 <= summary["evaluation"]["accuracy"] <= 1.0
    for name in ("model.keras", "report.html", "result.json", "plots/training_curves.png",
                 "plots/confusion_matrix.png"):
        assert (out / name).is_file(), name
    assert "[head] epoch 1/3" in captured.err and "[fine_tune] epoch 3/3" in captured.err


def test_transfer_job_has_the_one_result_shape(digit_dir, tiny_base, tmp_path):
    from modelworks._result import Result
    from modelworks.deep import TransferResult, transfer_job
    from modelworks.report import Report

    job = transfer_job(str(tiny_base), digit_dir, epochs=1, batch_size=8, progress=False)
    assert isinstance(job, Result) and isinstance(job.transfer, TransferResult)
    assert "evaluation" not in job.to_dict() and job.summary().startswith("base: ")
    plots = job.plots(tmp_path / "plots")
    assert set(plots) == {"training_curves", "confusion_matrix"} and all(p.stat().st_size for p in plots.values())
    report = Report(tmp_path / "report", "shape")
    job.report_section(report)
    assert report.write().is_file()
    files = job.write(tmp_path / "out")
    assert json.loads(files["result"].read_text()) == job.to_dict() and "evaluation" in job.to_dict()
    assert "validation accuracy:" in job.summary() and f"model: {files['model']}" in job.summary()


@pytest.mark.parametrize(("args", "message"), [
    (["--base", "VGG17"], "unknown base model 'VGG17'"),
    (["--base", "missing.keras"], "base model file not found"),
])
def test_user_errors_exit_2_with_one_line(digit_dir, tmp_path, capsys, args, message):
    code = main(["deep", "transfer", str(digit_dir), *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_one_class_folder_exits_2(tiny_base, tmp_path, capsys):
    folder = write_digit_folder(tmp_path / "one", digits=(4,), per_class=3)
    assert main(["deep", "transfer", str(folder), "--base", str(tiny_base)]) == 2
    assert "only one class sub-folder ('digit_4')" in capsys.readouterr().err


def test_bad_option_values_exit_2(digit_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["deep", "transfer", str(digit_dir), "--base", "x.keras", "--epochs", "0"])
    assert exc.value.code == 2
    assert "expected a number > 0" in capsys.readouterr().err


def test_real_command_in_a_subprocess(digit_dir, tiny_base, tmp_path):
    exe = Path(sys.executable).with_name("modelworks")
    env = os.environ | {"MODELWORKS_PROGRESS": "0"}
    proc = subprocess.run([str(exe), "deep", "transfer", str(digit_dir), "--base", str(tiny_base),
                           "--epochs", "1", "--out", str(tmp_path / "cli")],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "validation accuracy:" in proc.stdout
    assert (tmp_path / "cli" / "report.html").is_file()
    help_text = subprocess.run([str(exe), "deep", "transfer", "--help"], capture_output=True,
                               text=True, timeout=60, env=env).stdout
    assert "--fine-tune-layers" in help_text and "--base" in help_text


def test_imagenet_base_without_network_exits_2_and_keeps_stdout_clean(digit_dir, tmp_path,
                                                                      monkeypatch, capsys):
    import urllib.error

    import keras.src.utils.file_utils as file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    code = main(["deep", "transfer", str(digit_dir), "--base", "MobileNetV2", "--image-size", "96",
                 "--out", str(tmp_path / "o"), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "there is no network access" in captured.err
