"""Save, load and inspect model packages."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelworks.exceptions import ConfigError, PackageError, SchemaError, UnsafePackageError
from modelworks.package import _files, _formats, _manifest

REFERENCE_ROWS = 500
ARCHIVE_SUFFIX = ".mwpkg"
CARD = "MODEL_CARD.md"


class PackageWarning(UserWarning):
    """A package loads but something about it deserves attention (library versions differ...)."""


@dataclass
class Package:
    """A loaded model package.

    Attributes
    ----------
    model : estimator
        The fitted model.
    manifest : dict
        The manifest (format version, versions, task, target, schema, metrics, hashes...).
    schema : modelworks.data.Schema
        The input schema; :meth:`predict` validates with it first.
    path : pathlib.Path
        Where the package was loaded from (a directory or a ``.mwpkg`` archive).
    """

    model: Any
    manifest: dict
    schema: Any
    path: Path
    _reference: bytes | None = field(default=None, repr=False)

    @property
    def task(self) -> str | None:
        return self.manifest.get("task")

    @property
    def target(self) -> str | None:
        return self.manifest.get("target")

    @property
    def classes(self) -> list | None:
        return self.manifest.get("classes")

    @property
    def features(self) -> list[str]:
        return list(self.manifest.get("features") or [])

    def validate(self, frame, *, ignore_extra: bool = False):
        """Check ``frame`` against the schema; return it with columns in training order."""
        return self.schema.validate(frame, ignore_extra=ignore_extra)

    def predict(self, frame, *, ignore_extra: bool = False):
        """Validate ``frame`` with the package's schema, then predict."""
        return self.model.predict(self.validate(frame, ignore_extra=ignore_extra))

    def predict_proba(self, frame, *, ignore_extra: bool = False):
        """Validate ``frame`` with the package's schema, then predict class probabilities."""
        if not hasattr(self.model, "predict_proba"):
            raise ConfigError(f"the packaged model ({self.manifest['model'].get('class')}) gives no probabilities")
        return self.model.predict_proba(self.validate(frame, ignore_extra=ignore_extra))

    def reference_sample(self):
        """The small sample of training data stored for drift checks (a DataFrame), or None."""
        if self._reference is None:
            return None
        import pandas as pd

        ref = self.manifest.get("reference_sample") or {}
        try:
            if ref.get("format") == "csv":
                return pd.read_csv(io.BytesIO(self._reference))
            import pyarrow.parquet as pq

            return pq.read_table(io.BytesIO(self._reference)).to_pandas()
        except Exception as e:
            raise PackageError(f"the reference sample in {self.path} cannot be read: {e}") from e

    def model_card(self) -> str:
        from modelworks.package._card import render_card

        return render_card(self.manifest)


# ------------------------------------------------------------------------------------- save


def _fingerprint(X, y) -> dict:
    import pandas as pd

    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in X.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    if y is not None:
        h.update(pd.util.hash_pandas_object(pd.Series(y).reset_index(drop=True), index=False).to_numpy().tobytes())
    return {"rows": len(X), "columns": X.shape[1], "fingerprint": f"sha256:{h.hexdigest()}"}


def _classes(model) -> list | None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    with contextlib.suppress(TypeError):
        from modelworks._io import to_jsonable

        return to_jsonable(list(classes))
    return None


def _estimator_name(model) -> str:
    steps = getattr(model, "steps", None)
    final = steps[-1][1] if steps else model
    return type(final).__name__


def save(model, path: str | os.PathLike, *, metadata: dict | None = None, X_sample=None, y_sample=None,
         task: str | None = None, target: str | None = None, metrics: dict | None = None,
         seed: int | None = None, archive: bool = False, allow_pickle: bool = False,
         dropped_columns: dict[str, str] | None = None) -> Path:
    """Write a fitted model and its manifest as a package (a directory, or one ``.mwpkg`` file).

    Parameters
    ----------
    model : fitted estimator
        A scikit-learn estimator or pipeline (saved with skops), a modelworks Keras wrapper or a
        plain Keras model (native ``.keras``), or a pipeline ending in one of those.
    path : path
        Where to write; replaced atomically if it exists.
    metadata : dict, optional
        Anything JSON-able to keep in the manifest (owner, dataset, notes...).
    X_sample : pandas.DataFrame
        Training features (or a sample): the schema, feature names, data fingerprint and the
        reference sample for drift checks come from it. Required.
    y_sample : array-like, optional
        Training target matching ``X_sample`` (fingerprint and reference sample).
    task, target : str, optional
        ``"binary"``, ``"multiclass"`` or ``"regression"``; the target column's name.
    metrics : dict, optional
        Held-out scores to record.
    seed : int, optional
        Random seed used in training.
    archive : bool, default=False
        Write a single zip file (``.mwpkg``) instead of a directory.
    allow_pickle : bool, default=False
        Fall back to pickle when skops cannot save the model. Such packages only load with
        ``load(..., trust_pickle=True)``.
    dropped_columns : dict, optional
        ``{column: why}`` for columns of the training file that were dropped before training
        (constant, ID-like, ...); recorded in the schema so that files shaped like the training
        file are accepted and those columns ignored.

    Returns
    -------
    pathlib.Path
        The package path.
    """
    import pandas as pd

    from modelworks._io import atomic_path
    from modelworks.data import Schema

    if not isinstance(X_sample, pd.DataFrame) or X_sample.empty:
        raise ConfigError(
            "save(...) needs X_sample=, a non-empty DataFrame of training features: the input schema, "
            "feature names and drift reference come from it"
        )
    if not hasattr(model, "predict"):
        raise ConfigError(f"model must be a fitted estimator with predict(), got {type(model).__name__}")
    if dropped_columns is not None and not isinstance(dropped_columns, dict):
        raise ConfigError(f"dropped_columns must be a dict of column -> reason, got {type(dropped_columns).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    if task is not None and task not in ("binary", "multiclass", "regression"):
        raise ConfigError(f"task must be 'binary', 'multiclass' or 'regression', got {task!r}")
    path = Path(path)
    if archive and path.suffix != ARCHIVE_SUFFIX:
        path = path.with_name(path.name + ARCHIVE_SUFFIX)
    X_sample = X_sample.copy()
    X_sample.columns = [str(c) for c in X_sample.columns]
    try:
        schema = Schema.from_frame(X_sample, dropped=dropped_columns)
    except SchemaError as e:
        raise ConfigError(str(e)) from e

    with tempfile.TemporaryDirectory(prefix=".mwpkg-", dir=path.parent if path.parent.exists() else None) as tmp:
        root = Path(tmp) / "pkg"
        root.mkdir()
        handler = _formats.choose(model)
        try:
            entry = handler.save(model, root)
        except PackageError:
            if not allow_pickle or handler.name != "skops":
                raise
            for f in root.iterdir():
                f.unlink() if f.is_file() else shutil.rmtree(f)
            handler = _formats.FORMATS["pickle"]
            entry = handler.save(model, root)
        entry = {"format": handler.name, **entry}
        entry.setdefault("class", _formats.qualname(model))
        entry["estimator"] = _estimator_name(model)

        ref = X_sample.sample(n=min(REFERENCE_ROWS, len(X_sample)), random_state=seed or 0).sort_index()
        ref_target = target or "__target__"
        if y_sample is not None and ref_target not in ref.columns:
            y_ser = pd.Series(pd.Series(y_sample).to_numpy(), index=X_sample.index)
            ref = ref.assign(**{ref_target: y_ser.loc[ref.index]})
        ref.reset_index(drop=True).to_parquet(root / "reference.parquet", index=False)

        manifest = {
            "format": _manifest.FORMAT,
            "format_version": _manifest.FORMAT_VERSION,
            "created": _manifest.now(),
            "modelworks_version": _manifest.version_of("modelworks"),
            "python": _manifest.python_version(),
            "libraries": _manifest.library_versions(_formats.modules_of(model)),
            "model": entry,
            "task": task,
            "target": target,
            "features": schema.names,
            "schema": schema.to_dict(),
            "classes": _classes(model),
            "metrics": dict(metrics or {}),
            "seed": seed,
            "training_data": _fingerprint(X_sample, y_sample),
            "reference_sample": {"file": "reference.parquet", "format": "parquet", "rows": len(ref),
                                 "target_column": ref_target if y_sample is not None else None},
            "metadata": dict(metadata or {}),
        }
        from modelworks.package._card import render_card

        (root / CARD).write_text(render_card(manifest), encoding="utf-8")
        manifest["files"] = {
            name: {"sha256": _files.sha256_file(root / name), "bytes": size}
            for name, size in sorted(_files.list_files(root).items())
        }
        (root / _files.MANIFEST).write_bytes(_manifest.dumps(manifest))

        with atomic_path(path) as out:
            if archive:
                _files.write_archive(root, out)
            else:
                shutil.copytree(root, out)
    return path


# ------------------------------------------------------------------------------------- load


def _resolve(path) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"a package path must be a string or path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        hint = "" if str(path).startswith("models:/") else (
            " (registry references look like models:/NAME@ALIAS or models:/NAME/VERSION)")
        raise PackageError(f"no model package at {p.resolve()}: looked for a directory with manifest.json or a "
                           f"{ARCHIVE_SUFFIX} archive{hint}")
    return p


@contextlib.contextmanager
def _opened(path: Path, max_bytes: int):
    """Yield a directory holding the package's files (archives are checked, then extracted)."""
    if path.is_dir():
        yield path
        return
    if not _files.is_archive(path):
        raise PackageError(f"{path} is neither a package directory nor a {ARCHIVE_SUFFIX} archive")
    _files.verify_archive(path, max_bytes=max_bytes)
    with tempfile.TemporaryDirectory(prefix="mwpkg-") as tmp:
        _files.extract_archive(path, Path(tmp), max_bytes=max_bytes)
        yield Path(tmp)


def _read_manifest(root: Path, where: Path) -> dict:
    raw = _files.read_limited(root / _files.MANIFEST, _files.MAX_MANIFEST_BYTES, "manifest")
    return _manifest.loads(raw, str(where))


def _check_versions(manifest: dict, where: Path) -> None:
    saved = manifest.get("libraries") or {}
    if not isinstance(saved, dict):
        return
    for dist, version in saved.items():
        if dist == "modelworks" or not isinstance(version, str):
            continue
        current = _manifest.version_of(dist)
        if current and current.split(".")[:2] != version.split(".")[:2]:
            warnings.warn(
                f"{where} was saved with {dist} {version}; this environment has {current}. It loaded, "
                "but check its predictions (python -m modelworks package inspect shows all versions)",
                PackageWarning, stacklevel=3,
            )


def _check_roles(manifest: dict, where: Path) -> None:
    """Every listed file must be the model, the reference sample or the card: nothing rides along."""
    model = manifest["model"]
    ref = (manifest.get("reference_sample") or {}).get("file")
    prefixes = [model["file"] + "/"]
    final = model.get("final")
    if isinstance(final, dict) and isinstance(final.get("file"), str):
        prefixes.append(final["file"].split("/")[0] + "/")
    for name in manifest["files"]:
        if name in (model["file"], ref, CARD) or any(name.startswith(pre) for pre in prefixes):
            continue
        raise UnsafePackageError(
            f"{where} lists a file the package format has no place for: '{name}'; refusing to load"
        )


def _check_side_files(root: Path, manifest: dict, where: Path) -> bytes | None:
    """The reference sample must really be Parquet (or CSV text in format 1), the card UTF-8 text."""
    if CARD in manifest["files"]:
        try:
            (root / CARD).read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise UnsafePackageError(f"{CARD} in {where} is not UTF-8 text; refusing to load") from e
    ref = manifest.get("reference_sample") or {}
    if ref.get("file") not in manifest["files"]:
        return None
    data = (root / ref["file"]).read_bytes()
    kind = ref.get("format", "parquet")
    if kind == "parquet":
        ok = len(data) >= 12 and data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    elif kind == "csv":
        try:
            data.decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
    else:
        ok = False
    if not ok:
        raise UnsafePackageError(
            f"the reference sample {ref['file']} in {where} is not a {kind} file; refusing to load"
        )
    return data


def _trust_list(trust) -> tuple[str, ...]:
    if trust is None:
        return ()
    if isinstance(trust, str):
        trust = [t for t in trust.split(",") if t.strip()]
    if not all(isinstance(t, str) and t.strip() for t in trust):
        raise ConfigError(f"trust must be a list of type names like 'mypkg.MyTransformer', got {trust!r}")
    return tuple(t.strip() for t in trust)


def load(path: str | os.PathLike, *, trust_pickle: bool = False, trust=(),
         max_bytes: int = _files.MAX_PACKAGE_BYTES) -> Package:
    """Load a package after verifying it; nothing in it runs unless it passes every check.

    Order: the manifest's own checksum, the file list (no extra, missing, linked or oversized
    files), every file's SHA-256, then the model's types against the allow-list, and only then
    the model is built.

    Parameters
    ----------
    path : path
        A package directory or ``.mwpkg`` archive.
    trust_pickle : bool, default=False
        Allow this one load to unpickle a model saved with ``allow_pickle=True``. Never implied.
    trust : list of str, optional
        Type or function names (``module.Name``, as the refusal names them) to load for this one
        call although they are not on modelworks' allow-list. Never implied by a registry entry
        or a signature.
    max_bytes : int
        Refuse packages whose files add up to more than this.

    Raises
    ------
    PackageError
        Not a package, damaged, or from a newer format.
    IntegrityError
        A file or the manifest does not match its hash.
    UnsafePackageError
        Unexpected or linked files, paths outside the package, types off the allow-list, a
        pickle without ``trust_pickle=True``.
    """
    p = _resolve(path)
    trust = _trust_list(trust)
    from modelworks.data import Schema
    from modelworks.exceptions import SchemaError

    with _opened(p, max_bytes) as root:
        manifest = _read_manifest(root, p)
        _files.verify_files(root, manifest["files"], max_bytes=max_bytes)
        if manifest["model"]["file"] not in manifest["files"] and not any(
            n.startswith(manifest["model"]["file"] + "/") for n in manifest["files"]
        ):
            raise PackageError(f"the manifest of {p} names a model file it does not list; damaged")
        try:
            schema = Schema.from_dict(manifest["schema"])
        except SchemaError as e:
            raise PackageError(f"the input schema in {p} is invalid: {e}") from e
        _check_roles(manifest, p)
        reference = _check_side_files(root, manifest, p)
        model = _formats.load_model(root, manifest["model"], trust_pickle=trust_pickle, trust=trust)
    _check_versions(manifest, p)
    return Package(model=model, manifest=manifest, schema=schema, path=p, _reference=reference)


def read_manifest(path: str | os.PathLike, *, verify: bool = True, trust=()) -> dict:
    """The manifest of a package, without loading any model code.

    Parameters
    ----------
    path : path
        A package directory or ``.mwpkg`` archive.
    verify : bool, default=True
        Also check every file against its SHA-256 and the model's names against the allow-list
        (reads the files, imports and builds nothing).
    trust : list of str, optional
        Names to accept beyond the allow-list, as for :func:`load`.

    Returns
    -------
    dict
        The manifest (migrated to the current format), plus ``"path"`` and ``"verified"``.

    Raises
    ------
    UnsafePackageError
        With ``verify=True``: the model would use a name that :func:`load` refuses.
    """
    p = _resolve(path)
    trust = _trust_list(trust)
    if p.is_dir() and not verify:
        manifest = _read_manifest(p, p)
    elif not verify:
        if not _files.is_archive(p):
            raise PackageError(f"{p} is neither a package directory nor a {ARCHIVE_SUFFIX} archive")
        manifest = _manifest.loads(_files.read_archive_manifest(p), str(p))
    else:
        with _opened(p, _files.MAX_PACKAGE_BYTES) as root:
            manifest = _read_manifest(root, p)
            _files.verify_files(root, manifest["files"], max_bytes=_files.MAX_PACKAGE_BYTES)
            _check_roles(manifest, p)
            _formats.audit_model(root, manifest["model"], trust=trust)
    return {**manifest, "path": str(p), "verified": bool(verify)}


def model_card(path: str | os.PathLike) -> str:
    """A markdown model card rendered from the package's manifest (nothing is loaded)."""
    from modelworks.package._card import render_card

    return render_card(read_manifest(path, verify=False))
