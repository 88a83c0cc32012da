"""Model references, resolved in one place, above ``package`` and ``registry``.

A model reference is what a user may pass wherever a saved model is wanted (``predict``,
``evaluate``, ``serve``, ``drift``, ``abtest``, ``explain``):

* a package directory or ``.mwpkg`` archive (a path);
* ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``, a version in the MLflow registry, whose
  package is found with :func:`modelworks.registry.package_path`;
* an object that already is a loaded package (anything that satisfies :class:`Package`);
* for scoring only, a fitted estimator (:func:`resolve_model`).

Loading is always :func:`modelworks.package.load` with the caller's ``trust_pickle`` and
``trust``: a registry entry never implies either. This module imports ``package`` and
``registry``; ``package`` does not import ``registry`` (its ``load_ref`` is a thin wrapper of
the one here).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Protocol, runtime_checkable

from modelworks.exceptions import ConfigError, NotFittedError

REGISTRY_PREFIX = "models:/"
ARCHIVE_SUFFIX = ".mwpkg"  # modelworks.package.ARCHIVE_SUFFIX, without importing the package area
MANIFEST_FILE = "manifest.json"


@runtime_checkable
class Package(Protocol):
    """What a loaded model package offers to the code that scores, serves or monitors it.

    :class:`modelworks.package.Package` is the implementation (see :class:`StoredPackage`);
    an estimator given directly is wrapped in :class:`InMemory`. Code that receives a model
    reference works with these members only.

    Attributes
    ----------
    model : estimator
        The fitted estimator (``predict``, maybe ``predict_proba`` and ``classes_``).
    schema : modelworks.data.Schema or None
        The input schema the estimator was trained on; ``None`` when unknown.
    manifest : dict
        What is known about the model: ``task``, ``target``, ``classes``, ``features``,
        ``metrics``, ``reference_sample`` (``{"file", "format", "target_column"}``), ...
        Empty for an estimator given directly.
    """

    model: Any
    schema: Any
    manifest: dict


@runtime_checkable
class StoredPackage(Package, Protocol):
    """A :class:`Package` loaded from disk or the registry: where it came from, and its sample
    of training data (what :func:`load_ref` returns)."""

    path: Path

    def reference_sample(self) -> Any:
        """The sample of training data stored for drift checks (a DataFrame), or ``None``."""
        ...


@dataclass
class InMemory:
    """A fitted estimator given directly (no package): no schema beyond scikit-learn's own checks."""

    model: Any
    schema: Any = None
    manifest: dict = field(default_factory=dict)
    path: Path | None = None


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference: a package path or a registry version.

    Attributes
    ----------
    text : str
        The reference as given.
    name, alias, version
        For a registry reference: the registered name and the alias or version number.
    """

    text: str
    name: str | None = None
    alias: str | None = None
    version: int | None = None

    @property
    def is_registry(self) -> bool:
        return self.name is not None

    @property
    def label(self) -> str:
        """A short name for tables and plots: ``NAME@ALIAS``, ``NAME/3`` or the file name."""
        if self.is_registry:
            return self.text[len(REGISTRY_PREFIX):]
        return PurePath(self.text).name


def is_registry_ref(value: Any) -> bool:
    """Whether ``value`` is written as a registry reference (``models:/...``)."""
    return isinstance(value, str) and value.startswith(REGISTRY_PREFIX)


def is_package_ref(value: Any) -> bool:
    """Whether ``value`` names a model package (a directory with a manifest or a ``.mwpkg``
    archive) or a registry entry, as opposed to a data file."""
    if is_registry_ref(value):
        return True
    if not isinstance(value, str | os.PathLike):
        return False
    path = os.fspath(value)
    if path.endswith(ARCHIVE_SUFFIX):
        return True
    return os.path.isdir(path) and os.path.exists(os.path.join(path, MANIFEST_FILE))


def parse_ref(ref: str | os.PathLike) -> ModelRef:
    """Parse a model reference; registry references are checked for their shape.

    Raises
    ------
    ConfigError
        ``ref`` is not a string or path, or starts with ``models:/`` but is not
        ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION``.
    """
    if not isinstance(ref, str | os.PathLike):
        raise ConfigError(
            "a model reference must be a package path, models:/NAME@ALIAS or models:/NAME/VERSION, "
            f"got {type(ref).__name__}"
        )
    text = os.fspath(ref)
    if not is_registry_ref(text):
        return ModelRef(text)
    from modelworks.registry import parse_ref as parse_registry_ref

    name, alias, version = parse_registry_ref(text)
    return ModelRef(text, name=name, alias=alias, version=version)


def locate(ref: str | os.PathLike, *, tracking_uri: str | None = None) -> tuple[Path, str]:
    """The local path of the package behind ``ref``, and a label naming what was resolved.

    A registry alias is resolved to its version once, here, so that every later load (each
    worker of a server) gets the same version: the label then says which
    (``models:/churn@champion (version 3)``).

    Raises
    ------
    RegistryError
        The registry has no such name, alias or version, or the version is no modelworks package.
    """
    parsed = parse_ref(ref)
    if not parsed.is_registry:
        return Path(parsed.text), parsed.text
    from modelworks.registry import get_version, package_path

    version = get_version(parsed.text, tracking_uri=tracking_uri)
    path = package_path(version.ref, tracking_uri=version.tracking_uri)
    return path, f"{parsed.text} (version {version.version})"


def load_ref(ref, *, tracking_uri: str | None = None, trust_pickle: bool = False, trust=()) -> StoredPackage:
    """Load the package behind a path or registry reference (a loaded package is returned as is).

    ``trust_pickle`` and ``trust`` go to :func:`modelworks.package.load` as given: a registry
    reference never implies them.

    Raises
    ------
    PackageError, IntegrityError, UnsafePackageError
        As :func:`modelworks.package.load`.
    RegistryError
        As :func:`locate`.
    """
    if isinstance(ref, StoredPackage):
        return ref
    from modelworks.package import load

    path, _ = locate(ref, tracking_uri=tracking_uri)
    return load(path, trust_pickle=trust_pickle, trust=trust)


def resolve_model(model, *, trust_pickle: bool = False, trust=(), tracking_uri: str | None = None) -> Package:
    """A package path / registry reference / loaded package / fitted estimator, as a :class:`Package`.

    Raises
    ------
    NotFittedError
        ``model`` is an estimator that is not fitted.
    ConfigError
        ``model`` is none of the above.
    """
    if isinstance(model, str | os.PathLike):
        return load_ref(model, tracking_uri=tracking_uri, trust_pickle=trust_pickle, trust=trust)
    if isinstance(model, Package):
        return model
    if hasattr(model, "predict"):
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except Exception as e:
            raise NotFittedError(f"the model {type(model).__name__} is not fitted; fit it or pass a model package") from e
        return InMemory(model=model)
    raise ConfigError(
        f"model must be a package path, a 'models:/NAME@ALIAS' reference or a fitted estimator, got {type(model).__name__}"
    )


def ref_label(ref: Any, default: str) -> str:
    """A short display name of a model reference (``NAME@ALIAS``, the file name), or ``default``."""
    if isinstance(ref, str | os.PathLike):
        text = os.fspath(ref)
        label = text[len(REGISTRY_PREFIX):] if is_registry_ref(text) else PurePath(text).name
        return label or default
    return default
