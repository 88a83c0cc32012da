"""The job behind ``modelworks package inspect``: a package's manifest with the one result shape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelworks._result import Result


class ManifestResult(Result):
    """A package's manifest (:func:`read_manifest`) and its model card.

    ``summary()`` is a few lines about the package, or the markdown model card when the result
    was made with ``card=True``; ``write(out_dir)`` writes ``manifest.json`` and ``MODEL_CARD.md``.
    """

    title = "modelworks package inspect"
    json_name = "manifest.json"

    def __init__(self, manifest: dict[str, Any], *, card: bool = False) -> None:
        self.manifest = manifest
        self.show_card = card
        self.files: dict[str, Path] = {}

    @property
    def card(self) -> str:
        """The markdown model card."""
        from modelworks.package._card import render_card

        return render_card(self.manifest)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.manifest)

    def _lines(self) -> list[str]:
        m = self.manifest
        model, data = m["model"], m.get("training_data") or {}
        features = m["features"]
        lines = [f"package: {m['path']}  (format {m['format_version']}, "
                 f"{'hashes verified' if m['verified'] else 'hashes not checked'})",
                 f"model: {model.get('estimator')} ({model.get('class')}) stored as "
                 f"{model.get('format')}:{model.get('file')}",
                 f"task: {m.get('task')}   target: {m.get('target')}   seed: {m.get('seed')}",
                 f"features ({len(features)}): {', '.join(features[:12])}" + (" ..." if len(features) > 12 else "")]
        if m.get("classes"):
            lines.append(f"classes: {', '.join(map(str, m['classes']))}")
        if m.get("metrics"):
            lines.append("metrics: " + "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                 for k, v in m["metrics"].items()))
        lines += [f"training data: {data.get('rows')} rows, fingerprint {data.get('fingerprint')}",
                  f"created: {m.get('created')} with modelworks {m.get('modelworks_version')}",
                  "libraries: " + ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items()),
                  "files: " + ", ".join(f"{n} ({e['bytes']:,} B)" for n, e in m["files"].items())]
        return lines

    def summary(self) -> str:
        if self.show_card:
            return self.card
        written = [f"wrote {', '.join(str(p) for p in self.files.values())}"] if self.files else []
        return "\n".join(self._lines() + written)

    def report_section(self, report):
        sec = report.section("Model package", order=70)
        sec.text("\n".join(self._lines()))
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """``manifest.json`` and ``MODEL_CARD.md`` (no report)."""
        from modelworks._io import write_json, write_text

        out = Path(out_dir)
        self.files = {"manifest": write_json(out / "manifest.json", self.manifest),
                      "card": write_text(out / "MODEL_CARD.md", self.card)}
        return dict(self.files)


def inspect_job(path: str | os.PathLike, *, verify: bool = True, trust=(), card: bool = False) -> ManifestResult:
    """A package's manifest as ``modelworks package inspect`` shows it, without loading the model.

    Parameters
    ----------
    path : path
        A package directory or ``.mwpkg`` archive.
    verify, trust
        As in :func:`modelworks.package.read_manifest`.
    card : bool
        ``summary()`` is the markdown model card instead of the short description.

    Returns
    -------
    ManifestResult
    """
    from modelworks.package._package import read_manifest

    return ManifestResult(read_manifest(path, verify=verify, trust=trust), card=card)
