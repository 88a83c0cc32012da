"""Model references (a package path or ``models:/NAME@ALIAS``) for ``drift`` and ``abtest``.

Loading is the deployment area's job (``modelworks.package.load_ref``); this module only adapts
what it returns: the model, and the small reference sample of the training data its manifest
keeps for drift checks.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from modelworks.exceptions import MonitorError

# where a package manifest may keep its reference sample (records or a file name in the package)
_SAMPLE_KEYS = ("reference_sample", "reference", "sample")


def load_ref(ref: str | os.PathLike) -> Any:
    """Load a model package or registry reference with ``modelworks.package.load_ref``."""
    try:
        from modelworks.package import load_ref as _load
    except ImportError as e:
        raise MonitorError(
            f"cannot load model reference {ref!s}: model packages are not available in this "
            "installation of modelworks (modelworks.package.load_ref is missing)"
        ) from e
    return _load(ref)


def _manifest_dict(manifest: Any) -> dict:
    if manifest is None:
        return {}
    if isinstance(manifest, dict):
        return manifest
    if hasattr(manifest, "to_dict"):
        return manifest.to_dict()
    return dict(getattr(manifest, "__dict__", {}))


def is_model_ref(value) -> bool:
    """Whether ``value`` names a model package (directory or ``.mwpkg``) or a registry entry."""
    if isinstance(value, str) and value.startswith("models:/"):
        return True
    if not isinstance(value, str | os.PathLike):
        return False
    path = os.fspath(value)
    if path.endswith(".mwpkg"):
        return True
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "manifest.json"))


def target_column(loaded: Any) -> str | None:
    """The column of the reference sample that holds the training target, if any."""
    manifest = _manifest_dict(getattr(loaded, "manifest", None))
    info = manifest.get("reference_sample") or {}
    return info.get("target_column") or manifest.get("target")


def reference_sample(ref: str | os.PathLike) -> pd.DataFrame:
    """The reference sample of training data stored with a model package.

    The training target is kept in the sample (as ``DataFrame.attrs["target_column"]``) so that
    label drift can be checked when the current data has it too.
    """
    loaded = load_ref(ref)
    sample = getattr(loaded, "reference_sample", None)
    if callable(sample):
        sample = sample()
    if sample is None:
        manifest = _manifest_dict(getattr(loaded, "manifest", None))
        for key in _SAMPLE_KEYS:
            if manifest.get(key) is not None:
                sample = manifest[key]
                break
    if isinstance(sample, dict) and "records" in sample:
        sample = sample["records"]
    elif (
        isinstance(sample, dict) and "file" in sample
    ):  # {"file": "reference.parquet", "format": ...}
        sample = sample["file"]
    if isinstance(sample, str | os.PathLike):
        root = getattr(loaded, "path", None) or (ref if os.path.isdir(str(ref)) else None)
        from modelworks.data import load_table

        sample = load_table(os.path.join(root, sample) if root else sample, name="reference sample")
    if isinstance(sample, list | dict):
        sample = pd.DataFrame(sample)
    if not isinstance(sample, pd.DataFrame) or sample.empty:
        raise MonitorError(
            f"model package {ref!s} holds no reference sample of its training data; pass the "
            "reference data as a CSV/Parquet file instead"
        )
    sample.attrs["target_column"] = target_column(loaded)
    # columns of the training file that training dropped: current data may still have them
    sample.attrs["dropped_columns"] = dict(getattr(getattr(loaded, "schema", None), "dropped", None) or {})
    return sample
