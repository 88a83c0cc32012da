"""Drift against a model package's reference sample, and ``abtest`` between two real packages."""

import json

import pytest

from modelworks.cli import main
from modelworks.monitor import drift


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer

    from modelworks.data import make_pipeline, train_test_split
    from modelworks.models import get_model
    from modelworks.package import save

    root = tmp_path_factory.mktemp("pkgs")
    frame = load_breast_cancer(as_frame=True).frame
    X, y = frame.drop(columns=["target"]), frame["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", test_size=0.4, seed=0)
    paths = {}
    for name, model in (
        ("dummyish", get_model("knn", "binary", seed=0).set_params(n_neighbors=60)),
        ("logreg", get_model("logreg", "binary", seed=0)),
    ):
        pipe = make_pipeline(X_train, model).fit(X_train, y_train)
        paths[name] = save(
            pipe, root / name, X_sample=X_train, y_sample=y_train, task="binary", target="target"
        )
    test = X_test.assign(target=y_test)
    test.to_csv(root / "test.csv", index=False)
    return root, paths, X_test, test


def test_drift_uses_the_packaged_reference_sample_and_leaves_out_its_target(packages):
    _, paths, X_test, _ = packages
    report = drift(paths["logreg"], X_test)
    assert report.only_in_reference == []  # the target in the sample is not a "missing column"
    assert not report.dataset_drift
    moved = X_test.assign(**{"mean radius": X_test["mean radius"] * 1.5})
    assert drift(paths["logreg"], moved).drifted == ["mean radius"]


def test_drift_cli_accepts_a_package_as_reference(packages, capsys):
    root, paths, _, test = packages
    assert main(["drift", str(paths["logreg"]), str(root / "test.csv"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "target" in [c["column"] for c in payload["columns"]]  # label drift checked when present


def test_abtest_mcnemar_bootstrap_and_cv_between_two_packages(packages, capsys):
    root, paths, _, _ = packages
    base = [
        "abtest",
        str(root / "test.csv"),
        "--target",
        "target",
        "--model-a",
        str(paths["dummyish"]),
        "--model-b",
        str(paths["logreg"]),
    ]
    assert main(base + ["--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert (
        res["test"].startswith("mcnemar")
        and res["model_a"] == "dummyish"
        and res["model_b"] == "logreg"
    )
    assert (
        main(base + ["--test", "bootstrap", "--metric", "roc_auc", "--out", str(root / "ab")]) == 0
    )
    out = capsys.readouterr().out
    assert "[paired bootstrap]" in out and "roc_auc" in out
    assert json.loads((root / "ab" / "abtest.json").read_text())["metric"] == "roc_auc"
    assert (root / "ab" / "report.html").exists()
    assert main(base + ["--test", "cv", "--json"]) == 0
    assert "Nadeau-Bengio" in json.loads(capsys.readouterr().out)["test"]


def test_abtest_refuses_labels_the_models_never_saw(packages, capsys):
    root, paths, _, test = packages
    bad = test.copy()
    bad.loc[bad.index[:3], "target"] = 7
    bad.to_csv(root / "bad.csv", index=False)
    code = main(
        [
            "abtest",
            str(root / "bad.csv"),
            "--target",
            "target",
            "--model-a",
            str(paths["dummyish"]),
            "--model-b",
            str(paths["logreg"]),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "DATA has labels model" in err and "never saw: 7" in err
