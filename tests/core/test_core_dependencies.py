"""pyproject.toml declares what modelworks imports, and the core holds nothing it does not use."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "modelworks"
# top-level module -> distribution, where the names differ
DIST = {
    "sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml", "xgboost": "xgboost-cpu",
    "skops": "skops", "mlflow": "mlflow-skinny",
}
# imported through a string (require / import_module) rather than an import statement
_CALLS = {"require", "is_available", "import_module"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in _CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "modelworks"}


def test_every_third_party_import_is_declared_in_the_core_or_an_extra():
    project = _project()
    extras = project["optional-dependencies"]
    declared = {_name(r) for r in project["dependencies"]}
    for extra, reqs in extras.items():
        if extra not in ("dev", "bench", "all"):
            declared |= {_name(r) for r in reqs}
            # "dask[distributed]" declares distributed too
            declared |= {x.strip().lower() for r in reqs for x in re.findall(r"\[([^]]*)\]", r)}
    undeclared = {m for m in _imported_modules() if DIST.get(m, m).lower() not in declared}
    assert not undeclared, f"imported by src/ but not declared in pyproject.toml: {sorted(undeclared)}"


# declared for speed, used by another library without an import of ours: uvicorn picks its C
# HTTP parser and event loop up by itself when they are installed
USED_BY_OTHERS = {"httptools": "uvicorn's HTTP parser", "uvloop": "uvicorn's event loop"}


def test_core_dependencies_are_all_imported():
    # a core dependency nobody imports only makes `pip install modelworks` bigger
    used = {DIST.get(m, m).lower() for m in _imported_modules()}
    unused = {_name(r) for r in _project()["dependencies"]} - used - USED_BY_OTHERS.keys()
    assert not unused, f"core dependencies never imported by src/: {sorted(unused)}"


def test_dead_and_test_only_dependencies_stay_out_of_the_core():
    core = {_name(r) for r in _project()["dependencies"]}
    assert "scikit-optimize" not in core and "tomli" not in core
    assert "scikit-optimize" in {_name(r) for r in _project()["optional-dependencies"]["dev"]}


# what a plain `pip install modelworks` must not pull: each lives in the extra of its area
# (MLflow alone brought Flask, gunicorn, docker, graphene and databricks-sdk into every install)
NOT_CORE = {
    "mlflow": "registry", "mlflow-skinny": "registry", "alembic": "registry", "shap": "explain",
    "numba": "explain", "pygam": "stats", "starlette": "serve", "uvicorn": "serve",
    "httptools": "serve", "uvloop": "serve", "orjson": "serve", "torch": "deep", "keras": "deep",
    "prophet": "forecast", "featuretools": "features", "dask": "dist",
}


def test_the_core_leaves_registry_explanations_statistics_and_serving_to_their_extras():
    project = _project()
    core = {_name(r) for r in project["dependencies"]}
    assert not core & NOT_CORE.keys(), f"in the core, belong to an extra: {sorted(core & NOT_CORE.keys())}"
    extras = project["optional-dependencies"]
    for dist, extra in NOT_CORE.items():
        if dist != "mlflow":  # the registry extra brings mlflow-skinny, whose module is `mlflow`
            assert dist in {_name(r) for r in extras[extra]}, f"{dist} not in [{extra}]"
    # the core is what run / compare / tune / predict / evaluate import
    assert {"scikit-learn", "optuna", "skops", "xgboost-cpu", "lightgbm", "pandas", "matplotlib"} <= core
    # `all` (what the Makefile installs) brings every extra of an area
    areas = {e for e in extras if e not in ("dev", "bench", "all")}
    all_ = re.search(r"\[([^]]*)\]", extras["all"][0]).group(1)
    assert {x.strip() for x in all_.split(",")} == areas


def test_exact_pins_live_in_constraints_not_in_extras():
    extras = _project()["optional-dependencies"]
    pinned = [r for reqs in extras.values() for r in reqs if "==" in r]
    assert not pinned, f"exact pins belong in constraints.txt: {pinned}"
    constraints = (ROOT / "constraints.txt").read_text().splitlines()
    # the CPU build: an unconstrained `modelworks[deep]` would pull a multi-GB CUDA torch
    assert any(line.startswith("torch==") for line in constraints)
    assert any(_name(r) == "torch" for r in extras["deep"])
    assert re.search(r"-c constraints\.txt", (ROOT / "Makefile").read_text())
