"""The manifest: everything about a package that can be read without loading the model.

``manifest.json`` is plain JSON. Since format version 2 its last field, ``manifest_sha256``, is
the SHA-256 of the file's own bytes with that hash replaced by 64 zeros, so a single changed byte
anywhere in the manifest (a metric, a hash, a file name) is detected before anything is trusted.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any

from modelworks.exceptions import IntegrityError, PackageError

FORMAT = "modelworks-package"
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
_ZEROS = "0" * 64
_CHECKSUM = re.compile(rb'"manifest_sha256": "([0-9a-f]{64})"')
_MAX_DEPTH = 64

# distribution name per top-level module a model may come from
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn", "xgboost": "xgboost", "lightgbm": "lightgbm", "keras": "keras",
    "torch": "torch", "statsmodels": "statsmodels", "pygam": "pygam", "prophet": "prophet",
    "catboost": "catboost",
}
_ALWAYS = ("modelworks", "scikit-learn", "numpy", "pandas", "scipy", "skops", "pyarrow")


def version_of(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (None when absent or not a valid name: a
    package's manifest may name anything)."""
    if not isinstance(dist, str) or not dist.strip():
        return None
    try:
        return importlib_metadata.version(dist)
    except (importlib_metadata.PackageNotFoundError, ValueError):
        if dist == "xgboost":
            return version_of("xgboost-cpu")
        return None


def library_versions(modules: set[str]) -> dict[str, str]:
    """Versions of the libraries every package needs plus those the model's types come from."""
    dists = list(_ALWAYS) + [_DISTRIBUTIONS[m] for m in sorted(modules) if m in _DISTRIBUTIONS]
    out = {}
    for dist in dict.fromkeys(dists):
        v = version_of(dist)
        if v:
            out[dist] = v
    return out


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def python_version() -> str:
    return platform.python_version()


def dumps(manifest: dict[str, Any]) -> bytes:
    """Serialize with the self-checksum as the last field."""
    from modelworks._io import to_jsonable

    body = {k: v for k, v in to_jsonable(manifest).items() if k != "manifest_sha256"}
    body["manifest_sha256"] = _ZEROS
    raw = (json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    return raw.replace(f'"manifest_sha256": "{_ZEROS}"'.encode(), f'"manifest_sha256": "{digest}"'.encode())


def _depth(obj: Any, level: int = 0) -> int:
    if level > _MAX_DEPTH:
        return level
    if isinstance(obj, dict):
        return max([_depth(v, level + 1) for v in obj.values()], default=level)
    if isinstance(obj, list):
        return max([_depth(v, level + 1) for v in obj], default=level)
    return level


def _reject_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


def loads(raw: bytes, where: str) -> dict[str, Any]:
    """Parse and verify a manifest; return it migrated to the current format version."""
    try:
        text = raw.decode("utf-8")
        manifest = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as e:
        raise PackageError(f"the manifest of {where} is nested too deeply to be a manifest") from e
    except (UnicodeDecodeError, ValueError) as e:
        raise PackageError(f"the manifest of {where} is not valid JSON ({e}); the package is damaged") from e
    if not isinstance(manifest, dict):
        raise PackageError(f"the manifest of {where} is not a JSON object; the package is damaged")
    if _depth(manifest) > _MAX_DEPTH:
        raise PackageError(f"the manifest of {where} is nested too deeply to be a manifest")
    if manifest.get("format", FORMAT) != FORMAT:
        raise PackageError(f"{where} is a {manifest.get('format')!r} file, not a modelworks package")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PackageError(f"the manifest of {where} has no valid format_version; the package is damaged")
    if version > FORMAT_VERSION:
        raise PackageError(
            f"{where} uses package format version {version}, newer than this modelworks reads "
            f"({FORMAT_VERSION}); upgrade modelworks to load it"
        )
    if version not in SUPPORTED_VERSIONS:
        raise PackageError(f"{where} has unknown package format version {version}")
    if version >= 2:
        _verify_checksum(raw, manifest, where)
    manifest = MIGRATIONS[version](manifest, where) if version in MIGRATIONS else manifest
    _check_structure(manifest, where)
    return manifest


def _verify_checksum(raw: bytes, manifest: dict, where: str) -> None:
    found = _CHECKSUM.findall(raw)
    if len(found) != 1 or manifest.get("manifest_sha256") != found[0].decode():
        raise IntegrityError(f"the manifest of {where} has no valid self-checksum; the package was modified")
    zeroed = _CHECKSUM.sub(f'"manifest_sha256": "{_ZEROS}"'.encode(), raw)
    if hashlib.sha256(zeroed).hexdigest() != found[0].decode():
        raise IntegrityError(
            f"the manifest of {where} does not match its SHA-256: it was modified after saving; "
            "re-export the package from its source"
        )


def _need(manifest: dict, key: str, types: type | tuple, where: str, optional: bool = False) -> Any:
    value = manifest.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        value = None
    if not isinstance(value, types):
        raise PackageError(f"the manifest of {where} has an invalid or missing '{key}'; the package is damaged")
    return value


def _check_structure(m: dict, where: str) -> None:
    from modelworks.package._files import check_name

    model = _need(m, "model", dict, where)
    _need(model, "format", str, where)
    _need(model, "file", str, where)
    check_name(model["file"], where)
    files = _need(m, "files", dict, where)
    for name, entry in files.items():
        check_name(name, where)
        if name == "manifest.json":
            raise PackageError(f"the manifest of {where} lists itself among its files; damaged")
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
                and isinstance(entry.get("bytes"), int) and not isinstance(entry.get("bytes"), bool)
                and entry["bytes"] >= 0):
            raise PackageError(f"the manifest of {where} has an invalid entry for file '{name}'")
    features = _need(m, "features", list, where)
    if not all(isinstance(f, str) for f in features):
        raise PackageError(f"the manifest of {where} lists features that are not column names; damaged")
    from modelworks._schema_doc import check_dropped, check_schema_document
    from modelworks.exceptions import SchemaError

    try:
        check_schema_document(_need(m, "schema", dict, where))
        check_dropped(m["schema"])
    except SchemaError as e:
        raise PackageError(f"the input schema in the manifest of {where} is invalid: {e}") from e
    _need(m, "task", str, where, optional=True)
    _need(m, "classes", list, where, optional=True)
    _need(m, "metrics", dict, where, optional=True)
    ref = _need(m, "reference_sample", dict, where, optional=True)
    if ref is not None:
        check_name(_need(ref, "file", str, where), where)


def _from_v1(m: dict, where: str) -> dict:
    """Format 1 (modelworks 0.1 first cut): flat keys, ``sha256`` map, CSV sample, no self-checksum."""
    try:
        files = {name: {"sha256": digest, "bytes": int(m["sizes"][name])} for name, digest in m["sha256"].items()}
        out = {
            "format": FORMAT,
            "format_version": 1,
            "created": m.get("created"),
            "modelworks_version": m.get("modelworks_version"),
            "libraries": m.get("libraries", {}),
            "model": {"format": m.get("model_format", "skops"), "file": m["model_file"],
                      "class": m.get("model_class")},
            "task": m.get("task"),
            "target": m.get("target"),
            "features": list(m["features"]),
            "schema": m["schema"],
            "classes": m.get("classes"),
            "metrics": m.get("metrics") or {},
            "seed": m.get("seed"),
            "training_data": {"fingerprint": m.get("data_hash")},
            "reference_sample": {"file": m["sample_file"], "format": "csv"} if m.get("sample_file") else None,
            "metadata": m.get("metadata") or {},
            "files": files,
        }
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PackageError(f"the version 1 manifest of {where} is incomplete ({e}); the package is damaged") from e
    return out


MIGRATIONS = {1: _from_v1}
