"""The model registry on MLflow: log runs, register package versions, set aliases, load by reference.

``register(package_path, name, alias="champion")`` logs an MLflow run (params, metrics, plots
and the package as an MLflow ``pyfunc`` model that needs no pickle) and registers a new version;
``load("models:/NAME@champion")`` gives the :class:`modelworks.package.Package` back. The default
store is ``sqlite:///./mlflow.db`` (artifacts in ``./mlartifacts``); any MLflow tracking URI
works. A registered model also loads with plain ``mlflow.pyfunc.load_model``.
"""

from modelworks.registry._registry import (
    EXPERIMENT,
    VersionInfo,
    default_tracking_uri,
    delete_alias,
    get_version,
    list_versions,
    load,
    local_tracking_uri,
    package_path,
    parse_ref,
    register,
    set_alias,
)

__all__ = [
    "EXPERIMENT",
    "VersionInfo",
    "default_tracking_uri",
    "delete_alias",
    "get_version",
    "list_versions",
    "load",
    "local_tracking_uri",
    "package_path",
    "parse_ref",
    "register",
    "set_alias",
]
