"""The one resolver of model references (``modelworks._resolve``), on a real sqlite MLflow store."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelworks
import modelworks.package as mp
import modelworks.registry as reg
from modelworks import _resolve as rs
from modelworks.exceptions import (
    ConfigError,
    NotFittedError,
    PackageError,
    RegistryError,
    UnsafePackageError,
)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = np.where(X["a"] + 0.1 * X["b"] > 0, "up", "down")
    model = LogisticRegression().fit(X, y)
    root = tmp_path_factory.mktemp("resolve")
    path = mp.save(model, root / "pkg", X_sample=X, y_sample=y, task="binary", target="dir")
    archive = mp.save(model, root / "pkg.mwpkg", X_sample=X, y_sample=y, task="binary", target="dir")
    return path, archive, X, model


@pytest.fixture
def uri(tmp_path):
    return reg.local_tracking_uri(tmp_path)


def test_parse_ref_tells_paths_from_registry_versions():
    assert rs.parse_ref("models:/churn@champion") == rs.ModelRef("models:/churn@champion", "churn", "champion", None)
    assert rs.parse_ref("models:/churn/3").version == 3 and rs.parse_ref("models:/churn/3").is_registry
    local = rs.parse_ref(Path("out/model"))
    assert not local.is_registry and local.label == "model"
    assert rs.parse_ref("models:/churn@champion").label == "churn@champion"
    for bad in ("models:/", "models:/a/b/c", "models:/x@"):
        with pytest.raises(ConfigError, match="models:/NAME@ALIAS or models:/NAME/VERSION"):
            rs.parse_ref(bad)
    with pytest.raises(ConfigError, match="got int"):
        rs.parse_ref(3)


def test_is_package_ref_tells_packages_from_data_files(package, tmp_path):
    path, archive, X, _ = package
    data = tmp_path / "data.csv"
    X.to_csv(data, index=False)
    assert rs.is_package_ref(path) and rs.is_package_ref(str(archive)) and rs.is_package_ref("models:/m@a")
    assert not rs.is_package_ref(data) and not rs.is_package_ref(tmp_path) and not rs.is_package_ref(X)


def test_paths_archives_aliases_and_versions_load_the_same_model(package, uri):
    path, archive, X, model = package
    reg.register(path, "dir", alias="champion", tracking_uri=uri)
    reg.register(archive, "dir", alias="challenger", tracking_uri=uri)
    expected = model.predict(X)
    for ref in (path, str(archive), "models:/dir@champion", "models:/dir/2"):
        loaded = rs.load_ref(ref, tracking_uri=uri)
        assert isinstance(loaded, rs.StoredPackage) and isinstance(loaded, mp.Package)
        np.testing.assert_array_equal(loaded.predict(X), expected)
        assert loaded.reference_sample() is not None and loaded.manifest["target"] == "dir"
    # the public wrapper in the package area is the same resolver
    np.testing.assert_array_equal(mp.load_ref("models:/dir/1", tracking_uri=uri).predict(X), expected)
    loaded = rs.load_ref(path)
    assert rs.load_ref(loaded) is loaded


def test_locate_pins_an_alias_to_its_version(package, uri):
    path, _, _, _ = package
    reg.register(path, "pinned", alias="champion", tracking_uri=uri)
    reg.register(path, "pinned", alias="champion", tracking_uri=uri)
    where, label = rs.locate("models:/pinned@champion", tracking_uri=uri)
    assert label == "models:/pinned@champion (version 2)"
    assert (where / "manifest.json").exists() or where.suffix == ".mwpkg"
    assert rs.locate(path) == (Path(path), str(path))


def test_registry_errors_say_where_they_looked(package, uri):
    path, _, _, _ = package
    reg.register(path, "known", alias="champion", tracking_uri=uri)
    with pytest.raises(RegistryError, match="no registered model 'ghost'.*registered models: known"):
        rs.load_ref("models:/ghost@champion", tracking_uri=uri)
    with pytest.raises(RegistryError, match="model 'known' has no alias 'staging'.*v1 \\(champion\\)"):
        rs.load_ref("models:/known@staging", tracking_uri=uri)
    with pytest.raises(PackageError, match="no model package at"):
        rs.load_ref(Path(path).parent / "missing")


def test_trust_is_passed_through_and_never_implied(tmp_path, uri):
    import operator

    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0]})
    model = make_pipeline(FunctionTransformer(operator.neg), LinearRegression()).fit(X, [1, 2, 3, 4.5, 5])
    saved = mp.save(model, tmp_path / "pickled", X_sample=X, allow_pickle=True)
    reg.register(saved, "pickled", alias="champion", tracking_uri=uri)
    for ref in (saved, "models:/pickled@champion"):
        with pytest.raises(UnsafePackageError, match="trust_pickle"):
            rs.load_ref(ref, tracking_uri=uri)
        loaded = rs.load_ref(ref, tracking_uri=uri, trust_pickle=True)
        np.testing.assert_allclose(loaded.predict(X), model.predict(X))


def test_resolve_model_takes_estimators_and_package_shapes(package):
    path, _, X, model = package
    wrapped = rs.resolve_model(model)
    assert isinstance(wrapped, rs.InMemory) and isinstance(wrapped, rs.Package) and wrapped.manifest == {}
    assert not isinstance(wrapped, rs.StoredPackage)
    with pytest.raises(NotFittedError, match="LogisticRegression is not fitted"):
        rs.resolve_model(LogisticRegression())
    with pytest.raises(ConfigError, match="got list"):
        rs.resolve_model([1, 2])

    class Shaped:  # anything with model, schema and manifest is a package to the resolver
        def __init__(self):
            self.model, self.schema, self.manifest = model, None, {"task": "binary"}

    shaped = Shaped()
    assert rs.resolve_model(shaped) is shaped
    res = modelworks.predict(shaped, X)
    np.testing.assert_array_equal(res.predictions["prediction"], model.predict(X))


def test_ref_label():
    assert rs.ref_label("models:/churn@champion", "A") == "churn@champion"
    assert rs.ref_label("out/model.mwpkg", "A") == "model.mwpkg"
    assert rs.ref_label("", "B") == "B" and rs.ref_label(None, "B") == "B"


def _imports(path: Path) -> set[str]:
    """Every modelworks module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m for m in found if m.startswith("modelworks")}


def test_package_does_not_import_the_registry():
    root = Path(modelworks.__file__).parent
    for f in (root / "package").rglob("*.py"):
        bad = {m for m in _imports(f) if m.startswith("modelworks.registry")}
        assert not bad, f"{f.name} imports {bad}"
        # the one way up is the public load_ref facade (package/__init__.py) over the resolver
        up = {m for m in _imports(f) if m.startswith("modelworks._resolve")}
        assert not up or f.name == "__init__.py", f"{f.name} imports {up}"
    for f in (root / "registry").rglob("*.py"):
        assert not {m for m in _imports(f) if m.startswith("modelworks._resolve")}, f.name
