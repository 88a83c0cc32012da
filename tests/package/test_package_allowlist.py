"""The reviewed allow-list itself: complete for modelworks' models, and only defining-module names."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

from modelworks.package import _allowlist

ALL = {**_allowlist.TYPES, **_allowlist.VALUE_TYPES, **_allowlist.FUNCTIONS}


def _resolve(name):
    module, _, attr = name.rpartition(".")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_entry_is_named_by_the_module_that_defines_it(name):
    obj = _resolve(name)
    module = name.rpartition(".")[0]
    if isinstance(obj, np.ufunc):
        assert module == "numpy"
    else:
        assert obj.__module__ == module, f"{name} is a re-export of {obj.__module__}"
    assert ALL[name].strip()


def test_no_standard_library_callable_is_allowed_beyond_plain_containers():
    stdlib = {"os", "posix", "subprocess", "itertools", "functools", "operator", "pathlib", "gzip",
              "threading", "multiprocessing", "socket", "shutil", "io", "importlib", "pickle", "code"}
    for name in ALL:
        assert name.split(".")[0] not in stdlib, name
    builtins_ = {n for n in ALL if n.startswith("builtins.")}
    assert builtins_ <= {"builtins." + t for t in ("dict", "list", "tuple", "set", "str", "int", "float", "bool",
                                                   "bytes", "bytearray", "slice", "object")}
    assert not any(n.startswith(("numpy.memmap", "numpy.load", "numpy.save", "numpy.lib")) for n in ALL)


@pytest.mark.parametrize("area", ["data", "models", "ensemble", "stats"])
def test_every_type_an_area_declares_is_on_the_allow_list(area):
    declared = importlib.import_module(f"modelworks.{area}").SKOPS_TRUSTED
    assert set(declared) <= set(_allowlist.TYPES)


def test_the_size_stated_in_the_readme_is_the_size_of_the_list():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"{len(_allowlist.TYPES)}\ntypes" in readme or f"{len(_allowlist.TYPES)} types" in readme
    assert f"{len(_allowlist.VALUE_TYPES)} types allowed as values" in readme
    assert f"{len(_allowlist.FUNCTIONS)} functions" in readme
