"""The job behind ``modelworks deep transfer``: :func:`transfer` on an image folder, one result shape."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from modelworks._result import Result


class TransferJobResult(Result):
    """A :class:`TransferResult` (``transfer``) with the one result shape.

    ``write(out_dir)`` writes ``model.keras``, ``plots/*.png``, ``result.json`` and
    ``report.html`` (:meth:`TransferResult.write`); ``to_dict()`` is then what ``result.json``
    holds (with the evaluation on the validation split and the files).
    """

    title = "modelworks deep transfer"

    def __init__(self, transfer) -> None:
        self.transfer = transfer
        self.files: dict[str, Path] = {}
        self._written: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self._written) if self._written is not None else self.transfer.to_dict()

    def summary(self) -> str:
        t = self.transfer
        lines = [f"base: {t.base}   classes: {', '.join(map(str, t.classes))}   "
                 f"images: {t.info['n_train']} train / {t.info['n_validation']} validation"]
        if t.skipped:
            lines.append(f"skipped {len(t.skipped)} unreadable image file(s), e.g. {t.skipped[0]}")
        ev = (self._written or {}).get("evaluation")
        if ev:
            lines.append(f"validation accuracy: {ev['accuracy']:.4f}   log loss: {ev['loss']:.4f}")
        lines += [f"{name}: {path}" for name, path in self.files.items()]
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Training curves and, with a validation split, the confusion matrix."""
        out = Path(out_dir)
        paths = {"training_curves": self.transfer.plot_history(out / "training_curves.png")}
        if self.transfer._validation is not None:
            paths["confusion_matrix"] = self.transfer.plot_confusion_matrix(out / "confusion_matrix.png")
        return paths

    def report_section(self, report):
        return self.transfer.add_to_report(report)

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        self.files = self.transfer.write(out_dir)
        self._written = json.loads(self.files["result"].read_text(encoding="utf-8"))
        return dict(self.files)


def transfer_job(base, data, **options) -> TransferJobResult:
    """:func:`transfer` as ``modelworks deep transfer`` runs it; ``options`` as for :func:`transfer`.

    Returns
    -------
    TransferJobResult
        ``.transfer`` is the :class:`TransferResult`; ``write(out_dir)`` writes the model, plots,
        ``result.json`` and ``report.html``.
    """
    from modelworks.deep._transfer import transfer

    return TransferJobResult(transfer(base, data, **options))
