"""Helpers for tests that tamper with model packages as an attacker would (shared by the package and
CatBoost tests)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from modelworks.package import _files, _manifest


def rehash(pkg: Path, manifest: dict | None = None) -> None:
    """Rewrite the manifest with fresh hashes and checksum: an attacker who controls every byte."""
    manifest = manifest or json.loads((pkg / "manifest.json").read_text())  # as written, unverified
    files = _files.list_files(pkg)
    files.pop("manifest.json", None)
    manifest["files"] = {n: {"sha256": _files.sha256_file(pkg / n), "bytes": s} for n, s in files.items()}
    (pkg / "manifest.json").write_bytes(_manifest.dumps(manifest))


def rewrite_skops(path: Path, edit) -> None:
    """Apply ``edit(members: dict[name, bytes])`` to the zip inside a skops file."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
