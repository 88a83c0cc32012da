"""Model packages: a fitted model and everything about it, saved without pickle.

A package is a directory (or one ``.mwpkg`` zip file) holding the model in a pickle-free
format (skops with an explicit allow-list; native ``.keras`` / ``save_native`` for Keras), a
``manifest.json`` that can be read without loading anything (format version, library versions,
task, target, input schema, metrics, training-data fingerprint, seed, creation time, a SHA-256
of every file, and a self-checksum), a small Parquet reference sample of the training data for
drift checks, and a markdown model card.

:func:`load` verifies the manifest checksum, the file list and every hash before parsing, audits
the model's types against the allow-list before building anything, and never falls back to
pickle: a pickled model loads only with ``trust_pickle=True`` for that one call.
"""

import os

from modelworks import _deprecation
from modelworks.package._audit import BOOSTER_TYPES, is_trusted, trusted_types
from modelworks.package._job import ManifestResult, inspect_job
from modelworks.package._manifest import FORMAT_VERSION
from modelworks.package._package import (
    ARCHIVE_SUFFIX,
    Package,
    PackageWarning,
    load,
    model_card,
    read_manifest,
    save,
)

__all__ = [
    "ARCHIVE_SUFFIX",
    "BOOSTER_TYPES",
    "FORMAT_VERSION",
    "ManifestResult",
    "Package",
    "PackageWarning",
    "inspect_job",
    "is_trusted",
    "load",
    "load_ref",
    "model_card",
    "read_manifest",
    "save",
    "trusted_types",
]


def load_ref(ref: str | os.PathLike, *, tracking_uri: str | None = None, trust_pickle: bool = False,
             trust=()) -> Package:
    """Load a package path or a registry reference (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``).

    A facade over the one resolver, :func:`modelworks._resolve.load_ref`: the package area's own
    modules know nothing of the registry; only this public name delegates up to the layer that
    does. ``trust_pickle`` and ``trust`` are passed to :func:`load` as given: a registry
    reference never implies them.
    """
    from modelworks._resolve import load_ref as _load_ref

    return _load_ref(ref, tracking_uri=tracking_uri, trust_pickle=trust_pickle, trust=trust)


# inspect: read_manifest's name before modelworks 0.2 (it shadowed the standard library's)
__getattr__ = _deprecation.forwarding(__name__)
