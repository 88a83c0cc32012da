"""Without an extra, every verb that needs it says which extra to install (one line, exit 2), and
`run` goes on without the steps it cannot do, saying why."""

from __future__ import annotations

import sys

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import modelworks
from modelworks import _areas
from modelworks.cli import main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import modelworks.package as mp

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:150, :5], y.iloc[:150]
    root = tmp_path_factory.mktemp("extras")
    csv = root / "cancer.csv"
    X.assign(target=y).to_csv(csv, index=False)
    pkg = mp.save(LogisticRegression(max_iter=500).fit(X, y), root / "pkg", X_sample=X, y_sample=y)
    return csv, pkg, root


def _without(monkeypatch, *modules):
    for m in modules:  # `import m` fails as if it were not installed
        monkeypatch.setitem(sys.modules, m, None)


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err
    return err.splitlines()[-1]  # progress lines may come first; the error is one line


@pytest.mark.parametrize("extra, modules, argv", [
    ("explain", ("shap",), lambda csv, pkg, out: ["explain", str(pkg), str(csv), "--out", str(out)]),
    ("serve", ("uvicorn",), lambda csv, pkg, out: ["serve", str(pkg), "--port", "0"]),
    ("registry", ("mlflow",), lambda csv, pkg, out: [
        "register", str(pkg), "--name", "m", "--tracking-uri", f"sqlite:///{out}/mlflow.db"]),
    ("stats", ("pygam",), lambda csv, pkg, out: ["stats", "gam", str(csv), "--target", "target",
                                                 "--out", str(out)]),
])
def test_a_verb_without_its_extra_names_the_extra(extra, modules, argv, data, tmp_path, capsys,
                                                  monkeypatch):
    csv, pkg, _ = data
    _without(monkeypatch, *modules)
    err = _one_line_error(capsys, argv(csv, pkg, tmp_path))
    assert f"pip install 'modelworks[{extra}]'" in err, err
    assert err.startswith("error: ") and modules[0] in err


def test_the_cli_names_the_extra_of_a_module_imported_without_require(capsys, monkeypatch):
    from modelworks import _imports

    err = ModuleNotFoundError("No module named 'starlette'", name="starlette")
    assert "pip install 'modelworks[serve]'" in str(_imports.as_missing_dependency(err))
    # a missing module that no extra brings is a bug, not a user error: it is not converted
    assert _imports.as_missing_dependency(ModuleNotFoundError("x", name="not_a_dependency")) is None


def test_needs_extra_says_what_is_missing_and_how_to_install_it(monkeypatch):
    assert _areas.needs_extra("explain") is None  # installed here
    _without(monkeypatch, "shap")
    note = _areas.needs_extra("explain")
    assert note == "shap not installed: explain needs the 'explain' extra (pip install 'modelworks[explain]')"


def test_run_without_the_explain_and_registry_extras_skips_them_with_a_note(data, tmp_path, monkeypatch):
    csv, _, _ = data
    _without(monkeypatch, "shap", "mlflow")
    res = modelworks.run(csv, "target", out_dir=tmp_path / "out", models=["logreg"], cv=3,
                         time_budget=60, steps={"tune": False, "ensemble": False, "monitor": False})
    assert res.model is not None and (tmp_path / "out" / "model").exists()  # the package is saved
    assert "pip install 'modelworks[explain]'" in res.results["skipped_steps"]["explain"]
    assert "explain" not in res.results.get("errors", {}) and "explain" not in res.results
    note = res.results["package"]["register_note"]
    assert note.startswith("registration skipped") and "pip install 'modelworks[registry]'" in note
    assert "model_ref" not in res.results["package"]
    assert any("modelworks[explain]" in w for w in res.warnings)
    assert any("modelworks[registry]" in w for w in res.warnings)
    assert "modelworks[explain]" in res.report_path.read_text()


def test_doctor_names_the_new_extras(monkeypatch):
    from modelworks import _doctor

    _without(monkeypatch, "shap", "pygam", "mlflow", "uvicorn")
    rows = {r["area"]: r for r in _doctor.check_all()}
    for area, extra in [("explain", "explain"), ("stats", "stats"), ("registry", "registry"),
                        ("serve", "serve")]:
        assert not rows[area]["ok"] and rows[area]["install"] == f"pip install 'modelworks[{extra}]'"
    assert rows["package"]["ok"] and rows["package"]["install"] == "pip install modelworks"
