"""What :func:`modelworks.deep.transfer` returns: the model, its history, evaluation, plots and files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelworks.deep._images import Images, load_images
from modelworks.exceptions import DeepError


@dataclass
class TransferResult:
    """A model trained by :func:`transfer`, its per-epoch history and what it was built from.

    Attributes
    ----------
    model : keras.Model
        Takes images ``(n, height, width, channels)`` of raw 0-255 pixels; returns class
        probabilities in the order of ``classes``.
    history : pandas.DataFrame
        One row per epoch: ``phase`` ("head", "fine_tune" or "scratch"), ``epoch``, ``loss``,
        ``accuracy`` and, with a validation split, ``val_loss``, ``val_accuracy``.
    classes : list
        Class labels (sub-folder names for an image folder).
    image_shape : tuple
        ``(height, width, channels)`` the model takes.
    """

    model: Any
    history: Any
    classes: list
    image_shape: tuple
    base: str
    info: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    _validation: tuple | None = field(default=None, repr=False)

    # -- using the model -----------------------------------------------------------------------
    def _images(self, data, labels=None) -> Images:
        return load_images(data, size=self.image_shape[:2], channels=self.image_shape[2],
                           labels=labels)

    def predict_proba(self, data, labels=None) -> np.ndarray:
        """Class probabilities for images (a folder, an array or a DataFrame of paths)."""
        images = self._images(data, labels)
        return np.asarray(self.model.predict(images.X, verbose=0, batch_size=64), dtype=float)

    def predict(self, data) -> np.ndarray:
        """Predicted class labels."""
        return np.asarray(self.classes, dtype=object)[np.argmax(self.predict_proba(data), axis=1)]

    def evaluate(self, data=None, labels=None) -> dict[str, Any]:
        """Accuracy, loss, per-class precision/recall and the confusion matrix.

        Parameters
        ----------
        data : folder, array, (X, y) or DataFrame, optional
            Labelled images; by default the validation split held out during training.
        labels : array-like, optional
            Labels when ``data`` is an array.
        """
        from sklearn.metrics import classification_report, confusion_matrix, log_loss

        if data is None:
            if self._validation is None:
                raise DeepError("no validation split was held out (validation_split=0); pass "
                                "labelled images to evaluate")
            X, y_enc = self._validation
        else:
            images = self._images(data, labels)
            if images.y is None:
                raise DeepError("evaluate needs labelled images (a class folder, (X, y) or a "
                                "DataFrame with a label column)")
            index = {str(c): i for i, c in enumerate(self.classes)}
            unknown = sorted({str(v) for v in images.y} - set(index))
            if unknown:
                raise DeepError(f"labels not seen in training: {', '.join(unknown[:10])}; the "
                                f"model knows: {', '.join(map(str, self.classes))}")
            X, y_enc = images.X, np.array([index[str(v)] for v in images.y])
        proba = np.asarray(self.model.predict(X, verbose=0, batch_size=64), dtype=float)
        pred = proba.argmax(axis=1)
        k = len(self.classes)
        names = [str(c) for c in self.classes]
        report = classification_report(y_enc, pred, labels=list(range(k)), target_names=names,
                                       output_dict=True, zero_division=0)
        return {
            "n": int(len(y_enc)),
            "accuracy": float(np.mean(pred == y_enc)),
            "loss": float(log_loss(y_enc, _normalize(proba), labels=list(range(k)))),
            "per_class": {c: {m: float(report[c][m]) for m in ("precision", "recall", "f1-score",
                                                                "support")} for c in names},
            "confusion_matrix": confusion_matrix(y_enc, pred, labels=list(range(k))).tolist(),
            "classes": names,
        }

    # -- pictures and files ----------------------------------------------------------------------
    def plot_history(self, path: str | os.PathLike | None = None):
        """Loss and accuracy per epoch (train and validation), phases marked; PNG if ``path``."""
        import matplotlib.pyplot as plt

        h = self.history
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
        for ax, metric in zip(axes, ("loss", "accuracy")):
            ax.plot(h["epoch"], h[metric], "o-", ms=3, label="train")
            if f"val_{metric}" in h:
                ax.plot(h["epoch"], h[f"val_{metric}"], "o-", ms=3, label="validation")
            for start in h.loc[h["phase"].ne(h["phase"].shift()) & (h.index > 0), "epoch"]:
                ax.axvline(start - 0.5, color="grey", ls="--", lw=1)
            ax.set_xlabel("epoch")
            ax.set_title(metric)
            ax.legend()
        fig.suptitle("Training curves (" + " then ".join(dict.fromkeys(h["phase"])) + ")")
        fig.tight_layout()
        if path is None:
            return fig
        from modelworks.report import save_figure

        return save_figure(fig, path)

    def plot_confusion_matrix(self, path: str | os.PathLike | None = None, evaluation=None):
        """Confusion matrix of ``evaluation`` (default: the validation split); PNG if ``path``."""
        import matplotlib.pyplot as plt
        from sklearn.metrics import ConfusionMatrixDisplay

        evaluation = evaluation or self.evaluate()
        k = len(self.classes)
        fig, ax = plt.subplots(figsize=(1.2 + 0.5 * k, 1.0 + 0.45 * k) if k > 6 else (4.8, 4.2))
        ConfusionMatrixDisplay(np.array(evaluation["confusion_matrix"]),
                               display_labels=evaluation["classes"]).plot(
            ax=ax, colorbar=False, xticks_rotation=45 if k > 4 else "horizontal")
        ax.set_title(f"Confusion matrix (n={evaluation['n']}, accuracy "
                     f"{evaluation['accuracy']:.3f})")
        if path is None:
            return fig
        from modelworks.report import save_figure

        return save_figure(fig, path)

    def to_dict(self) -> dict[str, Any]:
        from modelworks._io import to_jsonable

        return to_jsonable({"base": self.base, "classes": self.classes,
                            "image_shape": list(self.image_shape), "info": self.info,
                            "skipped": self.skipped,
                            "history": self.history.to_dict(orient="records")})

    def save(self, path: str | os.PathLike) -> Path:
        """Save the model as a native ``.keras`` file (atomically)."""
        from modelworks._io import atomic_path

        path = Path(path)
        if path.suffix != ".keras":
            raise DeepError(f"save to a file ending in .keras, got {path.name}")
        with atomic_path(path, suffix=".keras") as tmp:
            self.model.save(tmp)
        return path

    def add_to_report(self, report, *, evaluation=None, order: int = 60):
        """Add a "Transfer learning" section: key figures, curves, confusion matrix, history."""
        label = "held-out" if evaluation is not None else "validation"
        import pandas as pd

        sec = report.section("Transfer learning", order=order)
        sec.text(f"Base: {self.base}. Classes: {', '.join(map(str, self.classes))}. Images "
                 f"{self.image_shape[0]}x{self.image_shape[1]}x{self.image_shape[2]}; "
                 f"{self.info.get('n_train', '?')} for training, "
                 f"{self.info.get('n_validation', 0)} for validation.")
        phases = ", ".join(f"{p} ({n} epochs)" for p, n in
                           self.history.groupby("phase", sort=False).size().items())
        sec.text(f"Phases: {phases}. Trainable parameters in the last phase: "
                 f"{self.info.get('trainable_params', '?')}.")
        if self.skipped:
            sec.warning(f"{len(self.skipped)} unreadable image file(s) were skipped, e.g. "
                        f"{self.skipped[0]}")
        if evaluation is None and self._validation is not None:
            evaluation = self.evaluate()
        if evaluation is not None:
            sec.metrics({f"{label} accuracy": evaluation["accuracy"],
                         f"{label} log loss": evaluation["loss"], "images": evaluation["n"]})
        sec.image(self.plot_history(report.plots_dir / "training_curves.png"),
                  "Loss and accuracy per epoch; the dashed line starts the next phase.")
        if evaluation is not None:
            sec.image(self.plot_confusion_matrix(report.plots_dir / "confusion_matrix.png",
                                                 evaluation), "Confusion matrix on held-out images.")
            per_class = pd.DataFrame(evaluation["per_class"]).T.reset_index(names="class")
            sec.table(per_class)
        sec.table(self.history)
        return sec

    def write(self, out_dir: str | os.PathLike, *, evaluation: dict | None = None
              ) -> dict[str, Path]:
        """Write ``model.keras``, ``plots/*.png``, ``result.json`` and ``report.html``.

        ``evaluation`` (from :meth:`evaluate` on test images) defaults to the validation split.
        """
        from modelworks._io import write_json
        from modelworks.report import Report

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        report = Report(out, "Transfer learning", f"base {self.base}")
        if evaluation is None and self._validation is not None:
            evaluation = self.evaluate()
        self.add_to_report(report, evaluation=evaluation)
        paths = {"model": self.save(out / "model.keras"),
                 "training_curves": report.plots_dir / "training_curves.png"}
        if evaluation is not None:
            paths["confusion_matrix"] = report.plots_dir / "confusion_matrix.png"
        paths["report"] = report.write()
        paths["result"] = out / "result.json"
        write_json(paths["result"], self.to_dict() | {"evaluation": evaluation,
                                                      "files": {k: str(v) for k, v in paths.items()}})
        return paths


def _normalize(proba: np.ndarray) -> np.ndarray:
    """Clip and renormalise float32 softmax rows so log loss sees proper probabilities."""
    p = np.clip(proba, 1e-7, 1.0)
    return p / p.sum(axis=1, keepdims=True)
