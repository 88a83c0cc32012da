"""Property-based fuzz of the manifest and the skops tree: a typed error or a clean load, nothing else.

Hypothesis edits one place in the JSON of a real package (replace a value, delete a key, add a
key) with values chosen to hurt: wrong types, huge and negative numbers, NaN, dunder and
dangerous dotted names, numbers as column names, nested containers. The package is then
re-hashed and re-signed like an attacker would, and loaded. Every outcome must be a
:class:`~modelworks.exceptions.ModelworksError` or a package that loads (and, when only the
manifest changed, one whose predictions are identical to the original's); never another
exception, never a hang.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import modelworks.package as mp
from modelworks.exceptions import ModelworksError

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
from make_hostile import rehash  # noqa: E402

sys.path.pop(0)

EXAMPLES = 1000  # per document: 2,000 in all
NAMES = ["posix.system", "builtins.eval", "__import__", "sklearn.utils._testing.groupby", "numpy.memmap",
         "numpy.f2py.__main__.main", "os", "../../etc/passwd", "/etc/passwd", "model.skops", "manifest.json",
         "ObjectNode", "MethodNode", "OperatorFuncNode", "FunctionNode", "numpy.log1p", "columns", "name",
         "kind", "categorical", "numeric", "sha256", "files", "format", "skops", "native", "pickle"]
KEYS = ["__class__", "__module__", "__loader__", "__id__", "content", "file", "type", "columns", "name",
        "kind", "dtype", "categories", "min", "max", "nullable", "features", "schema", "model", "format",
        "format_version", "files", "classes", "task", "reference_sample", "bytes", "sha256", "func", "obj"]
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from([0, 1, -1, 2**63])
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12) | st.sampled_from(NAMES))
VALUES = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=6), c, max_size=3), max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _mutate(doc, data):
    doc = copy.deepcopy(doc)
    paths = list(_paths(doc))[1:]
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="where")]
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    op = data.draw(st.sampled_from(["replace", "replace", "delete", "insert"]), label="op")
    if op == "delete":
        del parent[path[-1]]
    elif op == "insert" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(KEYS) | st.text(max_size=6), label="key")] = data.draw(VALUES, label="value")
    else:
        parent[path[-1]] = data.draw(VALUES, label="value")
    return doc, (op, path)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = np.where(X["a"] > 0, "yes", "no")
    model = Pipeline([("abs", FunctionTransformer(np.absolute)), ("scale", StandardScaler()),
                      ("m", LogisticRegression())]).fit(X, y)
    pkg = mp.save(model, tmp_path_factory.mktemp("fuzz") / "pkg", X_sample=X, y_sample=y, task="binary")
    return pkg, X, model.predict_proba(X)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def _workdir(tmp_path_factory, pkg: Path, name: str) -> Path:
    work = tmp_path_factory.getbasetemp() / name
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pkg, work)
    return work


def _check_load(pkg: Path, X, expected, manifest_only: bool, what) -> None:
    try:
        loaded = mp.load(pkg)
    except ModelworksError:
        return
    except Exception as e:  # noqa: BLE001 - the property under test
        pytest.fail(f"{what}: untyped {type(e).__name__}: {e}")
    if manifest_only:
        try:
            proba = loaded.predict_proba(X)
        except ModelworksError:
            return
        np.testing.assert_array_equal(proba, expected, err_msg=str(what))


@FUZZ
@given(data=st.data())
def test_mutated_manifests_give_a_typed_error_or_an_identical_load(base, tmp_path_factory, data):
    pkg, X, expected = base
    work = _workdir(tmp_path_factory, pkg, "fuzz-manifest")
    manifest, what = _mutate(json.loads((work / "manifest.json").read_text()), data)
    if not isinstance(manifest, dict):
        return
    try:
        rehash(work, manifest)
    except (ValueError, TypeError):  # not expressible as a signed manifest (NaN, odd keys): write it raw
        (work / "manifest.json").write_text(json.dumps(manifest))
    _check_load(work, X, expected, True, what)
    try:
        mp.read_manifest(work)
    except ModelworksError:
        pass
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"inspect {what}: untyped {type(e).__name__}: {e}")


@FUZZ
@given(data=st.data())
def test_mutated_skops_trees_give_a_typed_error_or_a_load(base, tmp_path_factory, data):
    pkg, X, expected = base
    work = _workdir(tmp_path_factory, pkg, "fuzz-tree")
    with zipfile.ZipFile(work / "model.skops") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    tree, what = _mutate(json.loads(members["schema.json"]), data)
    members["schema.json"] = json.dumps(tree).encode()
    with zipfile.ZipFile(work / "model.skops", "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    rehash(work)
    _check_load(work, X, expected, False, what)


def test_a_schema_whose_columns_is_text_is_refused_by_inspect(base, tmp_path):
    from modelworks.cli import main

    work = tmp_path / "pkg"
    shutil.copytree(base[0], work)
    manifest = json.loads((work / "manifest.json").read_text())
    manifest["schema"]["columns"] = "x"
    rehash(work, manifest)
    assert main(["package", "inspect", str(work)]) == 2


def test_a_column_name_that_is_a_number_is_refused_by_predict(base, tmp_path, capsys):
    from modelworks.cli import main

    work = tmp_path / "pkg"
    shutil.copytree(base[0], work)
    manifest = json.loads((work / "manifest.json").read_text())
    manifest["schema"]["columns"][0]["name"] = 7
    rehash(work, manifest)
    base[1].to_csv(tmp_path / "x.csv", index=False)
    assert main(["predict", str(work), str(tmp_path / "x.csv")]) == 2
    assert "no text name" in capsys.readouterr().err
