"""One declaration per area (modelworks._areas): the CLI, doctor, the extras check and the lazy
subpackages derive from it and agree with pyproject.toml."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

from modelworks import _areas, _doctor, _imports
from modelworks.exceptions import MissingDependencyError

ROOT = Path(__file__).resolve().parents[2]
EXTRA_AREAS = [a for a in _areas.AREAS if a.extra_modules]


def _extras() -> dict[str, list[str]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_help_lists_every_command_in_the_same_order():
    from modelworks.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert list(sub.choices) == [
        "demo", "run", "compare", "models", "doctor", "tune", "ensemble", "explain", "stats",
        "forecast", "deep", "features", "package", "register", "serve", "predict", "evaluate",
        "drift", "abtest",
    ]


def test_every_cli_module_and_subpackage_exists():
    import modelworks
    from modelworks.cli import COMMAND_MODULES

    assert COMMAND_MODULES == _areas.command_modules() and len(set(COMMAND_MODULES)) == len(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        assert callable(importlib.import_module(name).register), name
    for name in _areas.subpackages():
        assert importlib.util.find_spec(f"modelworks.{name}") is not None, name
    assert modelworks._SUBPACKAGES == _areas.subpackages()
    assert {"data", "tuning", "package", "registry", "serve", "batch", "exceptions"} <= modelworks._SUBPACKAGES


def test_every_extra_in_pyproject_belongs_to_an_area_and_brings_its_modules():
    extras = _extras()
    declared = set(extras) - {"dev", "bench", "all"}
    assert {a.extra for a in _areas.AREAS} - {_areas.CORE} == declared
    for area in EXTRA_AREAS:
        text = " ".join(extras[area.extra]).lower()
        for module in area.extra_modules:
            assert module.lower() in text, f"{module} of area {area.name} not in [{area.extra}]"


def test_doctor_rows_come_from_the_areas_and_name_the_install_command():
    rows = _doctor.check_all()
    assert [r["area"] for r in rows] == [a.name for a in _areas.AREAS if a.doctor]
    assert not [r["detail"] for r in rows if " ?" in r["detail"]]  # every version found
    for row in rows:
        extra = _areas.BY_NAME[row["area"]].extra
        assert row["install"] == (
            "pip install modelworks" if extra == "core" else f"pip install 'modelworks[{extra}]'"
        )


@pytest.mark.parametrize(
    "module, extra", [(m, a.extra) for a in EXTRA_AREAS for m in a.extra_modules]
)
def test_a_missing_extra_module_names_the_extra_to_install(module, extra, monkeypatch):
    assert _imports.EXTRAS[module] == extra
    monkeypatch.setitem(sys.modules, module, None)  # `import module` fails as if not installed
    with pytest.raises(MissingDependencyError, match=re.escape(f"pip install 'modelworks[{extra}]'")):
        _imports.require(module, purpose="the test")


def test_doctor_reports_a_missing_extra_with_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "featuretools", None)
    row = next(r for r in _doctor.check_all() if r["area"] == "features")
    assert not row["ok"] and row["missing"] == ["featuretools"]
    assert row["install"] == "pip install 'modelworks[features]'"


def test_architecture_doc_names_every_area_and_only_files_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for area in _areas.AREAS:
        for package in area.packages:
            if package != "exceptions":
                assert f"`{package}`" in text or f"modelworks.{package}" in text, package
    src = ROOT / "src" / "modelworks"
    for path in re.findall(r"`([\w/]+\.py)`", text):
        found = (ROOT / path).exists() or (src / path).exists() or any(src.rglob(path))
        assert found, f"docs/architecture.md names {path}, which does not exist"
    from modelworks.workflow import STEPS

    steps = [s for s, _ in STEPS]
    assert f"({', '.join(steps)})" in " ".join(text.split()), steps


def test_run_steps_derive_from_the_areas():
    from modelworks import workflow

    assert workflow.STEPS == _areas.run_steps()
    assert [s for s, _ in workflow.STEPS] == ["evaluate", "refit", "package", "explain", "monitor"]  # deliverables first
    assert workflow.STEP_AREAS == {"explain": "explain"}  # the one step whose area needs an extra
    for switch, target in workflow.STEPS:  # every declared step resolves to a step function
        module, _, func = target.partition(":")
        assert callable(getattr(importlib.import_module(module), func or "step")), switch
    assert len({a.step.order for a in _areas.AREAS if a.step}) == len(workflow.STEPS)  # no ties in the order


def test_the_allow_list_trusts_exactly_the_tables_the_areas_name():
    from modelworks.package import _allowlist, trusted_types

    named = _areas.trusted_tables()
    assert set(named) == set(_allowlist.TABLES)  # every reviewed table is claimed by an area, no unknown one
    union = {n for _, names in _allowlist.TABLES.values() for n in names}
    assert set(_allowlist.TYPES) == union and trusted_types() == sorted(union)
    assert _areas.BY_NAME["boosters"].trusted == ("BOOSTERS",) and not _areas.BY_NAME["deep"].trusted
