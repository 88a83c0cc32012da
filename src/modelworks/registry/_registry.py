"""A model registry on MLflow: runs, versions and aliases of modelworks packages.

The default store is a local sqlite file, ``./mlflow.db``, with artifacts in ``./mlartifacts``
(``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs). Any MLflow tracking URI
works instead: pass ``tracking_uri=`` or set ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelworks._result import Result
from modelworks.exceptions import ConfigError, RegistryError

EXPERIMENT = "modelworks"
_REF = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_TRANSIENT = ("database is locked", "database table is locked", "unable to open database", "deadlock",
              "could not serialize", "UNIQUE constraint failed", "Duplicate entry")


@dataclass
class VersionInfo(Result):
    """One registered version (the result of ``modelworks register``: the one result shape).

    ``write(out_dir)`` writes ``registration.json``.
    """

    title = "modelworks register"
    json_name = "registration.json"

    name: str
    version: int
    ref: str
    run_id: str | None
    source: str
    aliases: list[str]
    tracking_uri: str
    created: int | None = None
    tags: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        aliases = f" (alias {', '.join(self.aliases)})" if self.aliases else ""
        ref = f"models:/{self.name}@{self.aliases[0]}" if self.aliases else self.ref
        return (f"registered {self.ref}{aliases} in {self.tracking_uri}; run {self.run_id}\n"
                f"load it with: modelworks serve {ref}")

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """``registration.json`` (no report)."""
        from modelworks._io import write_json

        return {"result": write_json(Path(out_dir) / self.json_name, self.to_dict())}


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<cwd>/mlflow.db`` (MLflow's own default)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"


def local_tracking_uri(directory: str | os.PathLike) -> str:
    """A sqlite tracking URI for a store inside ``directory`` (``mlflow.db`` + ``mlartifacts/``)."""
    return f"sqlite:///{Path(directory).resolve() / 'mlflow.db'}"


def _sqlite_path(uri: str) -> Path | None:
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):])
    return None


def _artifact_root(uri: str) -> str | None:
    db = _sqlite_path(uri)
    if db is not None:
        return (db.parent / "mlartifacts").resolve().as_uri()
    if "://" not in uri:  # a plain directory is MLflow's file store
        return None
    return None


def _transient(e: Exception) -> bool:
    text = str(e)
    return any(t.lower() in text.lower() for t in _TRANSIENT)


def _retry(fn, *args, attempts: int = 60, **kwargs):
    """Run a store operation, retrying while a shared sqlite file is locked by another writer."""
    delay = 0.02
    for i in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if i == attempts - 1 or not _transient(e):
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _store_lock(uri: str):
    """Serialize first-time creation of a local sqlite store across processes."""
    db = _sqlite_path(uri)
    if db is None:
        yield
        return
    import fcntl

    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


_CLIENTS: dict[str, Any] = {}


def _cache_dir() -> Path:
    return Path(os.environ.get("MODELWORKS_CACHE_DIR") or Path.home() / ".cache" / "modelworks")


def _seed_sqlite(db: Path) -> None:
    """Start a new local store from a cached, already-migrated empty database.

    Creating an MLflow sqlite store runs every schema migration (10-15 s on a busy laptop);
    that happens once per MLflow version, then new stores are a file copy.
    """
    import mlflow

    template = _cache_dir() / f"mlflow-{mlflow.__version__}-empty.db"
    try:
        if not template.exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            with _store_lock(f"sqlite:///{template}"):
                if not template.exists():
                    import sqlalchemy
                    from mlflow.store.db.utils import _initialize_tables

                    tmp = template.with_name(f".{template.name}.{os.getpid()}")
                    engine = sqlalchemy.create_engine(f"sqlite:///{tmp}")
                    _initialize_tables(engine)
                    engine.dispose()
                    os.replace(tmp, template)
        if not db.exists():
            tmp = db.with_name(f".{db.name}.{os.getpid()}")
            shutil.copyfile(template, tmp)
            os.replace(tmp, db)
    except Exception:  # the cache is an optimisation only: MLflow creates the store itself otherwise
        return


def _client(tracking_uri: str | None):
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = tracking_uri or default_tracking_uri()
    if uri in _CLIENTS:
        return _CLIENTS[uri], uri
    from modelworks._imports import require

    require("mlflow", purpose="the model registry")
    import logging

    from mlflow.tracking import MlflowClient

    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking", "mlflow.store"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with _store_lock(uri):
            db = _sqlite_path(uri)
            if db is not None and not db.exists():
                _seed_sqlite(db)
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            client.search_registered_models(max_results=1)  # creates / migrates a new store now
    except Exception as e:
        raise RegistryError(f"cannot open the MLflow store at {uri}: {type(e).__name__}: {e}") from e
    _CLIENTS[uri] = client
    return client, uri


def _experiment_id(client, uri: str, name: str) -> str:
    exp = _retry(client.get_experiment_by_name, name)
    if exp is not None:
        return exp.experiment_id
    with _store_lock(uri):
        exp = _retry(client.get_experiment_by_name, name)
        if exp is not None:
            return exp.experiment_id
        try:
            return _retry(client.create_experiment, name, artifact_location=_artifact_root(uri))
        except Exception:
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise
            return exp.experiment_id


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"model name must be 1-128 letters, digits, '.', '_' or '-' (starting with a letter or digit), "
            f"got {name!r}"
        )
    return name


def _check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or re.fullmatch(r"[vV]\d+", alias) or alias == "latest":
        raise ConfigError(f"alias must be a word like 'champion' or 'challenger' (not 'latest' or v1), got {alias!r}")
    return alias


def _info(mv, uri: str) -> VersionInfo:
    return VersionInfo(name=mv.name, version=int(mv.version), ref=f"models:/{mv.name}/{mv.version}",
                       run_id=mv.run_id, source=mv.source, aliases=sorted(getattr(mv, "aliases", []) or []),
                       tracking_uri=uri, created=getattr(mv, "creation_timestamp", None),
                       tags=dict(getattr(mv, "tags", {}) or {}))


def _pip_requirements() -> list[str]:
    from modelworks.package._manifest import version_of

    reqs = []
    for dist in ("modelworks", "scikit-learn", "skops", "pandas", "numpy", "pyarrow"):
        v = version_of(dist)
        if v:
            reqs.append(f"{dist}=={v}")
    return reqs


def _mlflow_model_dir(package: Path, manifest: dict, dest: Path) -> Path:
    """Write an MLflow pyfunc model whose data is the package (``loader_module``, nothing pickled)."""
    import mlflow.pyfunc

    staged = dest / "stage" / ("package.mwpkg" if package.is_file() else "package")
    staged.parent.mkdir(parents=True)
    (shutil.copy2 if package.is_file() else shutil.copytree)(package, staged)
    model_dir = dest / "model"
    mlflow.pyfunc.save_model(
        path=str(model_dir), loader_module="modelworks.registry._pyfunc", data_path=str(staged),
        pip_requirements=_pip_requirements(),
        metadata={"modelworks_package_format": manifest.get("format_version"), "task": manifest.get("task"),
                  "target": manifest.get("target"), "features": manifest.get("features")},
    )
    return model_dir


def register(package_path: str | os.PathLike, name: str, *, alias: str | None = None,
             tracking_uri: str | None = None, run_name: str | None = None, params: dict | None = None,
             metrics: dict | None = None, plots: list | None = None, experiment: str = EXPERIMENT) -> VersionInfo:
    """Log a run with the package and register it as a new version of ``name``.

    Parameters
    ----------
    package_path : path
        A package directory or ``.mwpkg`` archive (verified before it is registered).
    name : str
        Registered model name.
    alias : str, optional
        Point this alias (``"champion"``, ``"challenger"``) at the new version.
    tracking_uri : str, optional
        Any MLflow tracking URI (default: ``MLFLOW_TRACKING_URI`` or ``sqlite:///./mlflow.db``).
    run_name : str, optional
        Name of the MLflow run.
    params, metrics : dict, optional
        Logged on the run (the manifest's metrics are logged too).
    plots : list of path, optional
        Image files logged under the run's ``plots/`` artifacts.
    experiment : str, default="modelworks"
        MLflow experiment of the run.

    Returns
    -------
    VersionInfo
        ``name``, ``version``, ``ref`` (``models:/NAME/VERSION``), ``run_id``, ``aliases``.
    """
    from modelworks.package import read_manifest

    _check_name(name)
    if alias is not None:
        _check_alias(alias)
    package = Path(package_path)
    manifest = read_manifest(package)  # refuses damaged packages before anything is logged
    plots = [Path(p) for p in (plots or [])]
    for p in plots:
        if not p.is_file():
            raise ConfigError(f"plot file not found: {p}")
    client, uri = _client(tracking_uri)
    exp_id = _experiment_id(client, uri, experiment)

    from mlflow.entities import Metric, Param, RunTag

    tags = {"modelworks.package": str(package.resolve()), "modelworks.task": str(manifest.get("task")),
            "modelworks.estimator": str(manifest["model"].get("estimator"))}
    run = _retry(client.create_run, exp_id, run_name=run_name or f"{name}-{manifest['model'].get('estimator')}",
                 tags=tags)
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)
        all_params = {"estimator": manifest["model"].get("estimator"), "seed": manifest.get("seed"),
                      "task": manifest.get("task"), "target": manifest.get("target"), **(params or {})}
        all_metrics = {**(manifest.get("metrics") or {}), **(metrics or {})}
        _retry(client.log_batch, run_id,
               metrics=[Metric(str(k), float(v), now, 0) for k, v in all_metrics.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)],
               params=[Param(str(k), str(v)[:6000]) for k, v in all_params.items() if v is not None],
               tags=[RunTag("mlflow.note.content", f"modelworks package {package.name}")])
        with tempfile.TemporaryDirectory(prefix="mw-register-") as tmp:
            model_dir = _mlflow_model_dir(package, manifest, Path(tmp))
            _retry(client.log_artifacts, run_id, str(model_dir), "model")
        for p in plots:
            _retry(client.log_artifact, run_id, str(p), "plots")
        source = f"{run.info.artifact_uri}/model"
        try:
            _retry(client.create_registered_model, name)
        except Exception as e:
            if "already exists" not in str(e).lower() and "RESOURCE_ALREADY_EXISTS" not in str(e):
                raise
        mv = _retry(client.create_model_version, name, source, run_id=run_id,
                    tags={"modelworks.format_version": str(manifest.get("format_version"))})
        if alias:
            _retry(client.set_registered_model_alias, name, alias, mv.version)
        _retry(client.set_terminated, run_id, "FINISHED")
    except Exception as e:
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, "FAILED")
        if isinstance(e, RegistryError | ConfigError):
            raise
        raise RegistryError(f"registering {package} as '{name}' in {uri} failed: {type(e).__name__}: {e}") from e
    info = _info(mv, uri)
    if alias:
        info.aliases = sorted(set(info.aliases) | {alias})
    return info


def parse_ref(ref: str) -> tuple[str, str | None, int | None]:
    """Split ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION`` into (name, alias, version)."""
    m = _REF.match(ref) if isinstance(ref, str) else None
    if not m:
        raise ConfigError(f"invalid model reference {ref!r}; use models:/NAME@ALIAS or models:/NAME/VERSION")
    return m["name"], m["alias"], int(m["version"]) if m["version"] else None


def _known_models(client) -> str:
    try:
        names = [m.name for m in client.search_registered_models(max_results=50)]
    except Exception:
        return "unknown"
    return ", ".join(names) if names else "none"


def get_version(ref: str, *, tracking_uri: str | None = None) -> VersionInfo:
    """Resolve a registry reference to its version (raises RegistryError saying where it looked)."""
    name, alias, version = parse_ref(ref)
    client, uri = _client(tracking_uri)
    try:
        mv = (_retry(client.get_model_version_by_alias, name, alias) if alias
              else _retry(client.get_model_version, name, str(version)))
    except Exception as e:
        what = f"alias '{alias}'" if alias else f"version {version}"
        try:
            client.get_registered_model(name)
            known = list_versions(name, tracking_uri=uri)
            avail = ", ".join(f"v{v.version}" + (f" ({', '.join(v.aliases)})" if v.aliases else "") for v in known)
            msg = f"model '{name}' has no {what} in the registry at {uri}; its versions: {avail or 'none'}"
        except Exception:
            msg = (f"no registered model '{name}' in the registry at {uri} (registered models: "
                   f"{_known_models(client)})")
        raise RegistryError(msg, param="tracking_uri", fix="pass {} if it lives elsewhere") from e
    return _info(mv, uri)


_DOWNLOADS: dict[str, Path] = {}


def package_path(ref: str, *, tracking_uri: str | None = None) -> Path:
    """The local path of the package behind a registry reference (downloaded if the store is remote)."""
    info = get_version(ref, tracking_uri=tracking_uri)
    source = info.source
    if source.startswith("file://"):
        from urllib.parse import unquote, urlparse

        model_dir = Path(unquote(urlparse(source).path))
    elif "://" not in source and not source.startswith(("models:/", "runs:/")):
        model_dir = Path(source)
    else:
        key = f"{info.tracking_uri}|{info.name}|{info.version}"
        if key not in _DOWNLOADS:
            import mlflow.artifacts

            dest = Path(tempfile.mkdtemp(prefix="mw-model-"))
            try:
                mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(dest),
                                                    tracking_uri=info.tracking_uri)
            except Exception as e:
                raise RegistryError(f"cannot download {ref} from {source}: {e}") from e
            found = [p for p in dest.rglob("MLmodel")]
            _DOWNLOADS[key] = found[0].parent if found else dest
        model_dir = _DOWNLOADS[key]
    for candidate in ("data/package", "data/package.mwpkg"):
        if (model_dir / candidate).exists():
            return model_dir / candidate
    raise RegistryError(
        f"{ref} (version {info.version} at {source}) is not a modelworks package: no data/package inside; "
        "it was not registered by modelworks"
    )


def load(ref: str, *, tracking_uri: str | None = None, trust_pickle: bool = False):
    """Load the package behind ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``."""
    from modelworks.package import load as load_package

    return load_package(package_path(ref, tracking_uri=tracking_uri), trust_pickle=trust_pickle)


def set_alias(name: str, alias: str, version: int, *, tracking_uri: str | None = None) -> VersionInfo:
    """Point ``alias`` at ``version`` of ``name`` (moving it if it pointed elsewhere)."""
    _check_name(name)
    _check_alias(alias)
    get_version(f"models:/{name}/{int(version)}", tracking_uri=tracking_uri)  # a clear error if absent
    client, uri = _client(tracking_uri)
    _retry(client.set_registered_model_alias, name, alias, str(int(version)))
    return get_version(f"models:/{name}@{alias}", tracking_uri=uri)


def delete_alias(name: str, alias: str, *, tracking_uri: str | None = None) -> None:
    client, _ = _client(tracking_uri)
    get_version(f"models:/{name}@{alias}", tracking_uri=tracking_uri)
    _retry(client.delete_registered_model_alias, name, alias)


def list_versions(name: str, *, tracking_uri: str | None = None) -> list[VersionInfo]:
    """Every version of ``name``, oldest first, with its aliases."""
    _check_name(name)
    client, uri = _client(tracking_uri)
    out, token = [], None
    while True:
        page = _retry(client.search_model_versions, f"name='{name}'", max_results=10_000, page_token=token)
        out += [_info(mv, uri) for mv in page]
        token = getattr(page, "token", None)
        if not token:
            break
    if not out:
        try:
            client.get_registered_model(name)
        except Exception as e:
            raise RegistryError(f"no registered model '{name}' in the registry at {uri} "
                                f"(registered models: {_known_models(client)})") from e
    aliases: dict[int, list[str]] = {}
    with contextlib.suppress(Exception):
        for a, v in (client.get_registered_model(name).aliases or {}).items():
            aliases.setdefault(int(v), []).append(a)
    for v in out:
        v.aliases = sorted(set(v.aliases) | set(aliases.get(v.version, [])))
    return sorted(out, key=lambda v: v.version)
