"""Evaluation plots: confusion matrix, ROC, precision-recall, calibration, residuals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modelworks.report import save_figure


def classification_plots(y_true, pred, proba, classes, out_dir: Path, prefix: str = "") -> dict[str, Path]:
    """Confusion matrix always; ROC, PR and calibration for binary tasks with probabilities."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    out: dict[str, Path] = {}
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ConfusionMatrixDisplay.from_predictions(y_true, pred, labels=classes, ax=ax, colorbar=False,
                                            xticks_rotation=45 if len(classes) > 4 else "horizontal")
    ax.set_title("Confusion matrix (held-out)")
    out["confusion_matrix"] = save_figure(fig, out_dir / f"{prefix}confusion_matrix.png")
    if proba is not None and len(classes) == 2:
        from sklearn.calibration import CalibrationDisplay

        y_pos = np.asarray(y_true) == classes[1]
        p = np.asarray(proba)[:, 1]
        fig, ax = plt.subplots(figsize=(4.8, 4.2))
        RocCurveDisplay.from_predictions(y_pos, p, ax=ax, name="model")
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
        ax.set_title(f"ROC curve (positive class: {classes[1]})")
        out["roc"] = save_figure(fig, out_dir / f"{prefix}roc.png")
        fig, ax = plt.subplots(figsize=(4.8, 4.2))
        PrecisionRecallDisplay.from_predictions(y_pos, p, ax=ax, name="model")
        ax.set_title("Precision-recall curve")
        out["pr"] = save_figure(fig, out_dir / f"{prefix}pr.png")
        fig, ax = plt.subplots(figsize=(4.8, 4.2))
        CalibrationDisplay.from_predictions(y_pos, p, n_bins=10, ax=ax, name="model")
        ax.set_title("Calibration")
        out["calibration"] = save_figure(fig, out_dir / f"{prefix}calibration.png")
    return out


def regression_plots(y_true, pred, out_dir: Path, prefix: str = "") -> dict[str, Path]:
    """Predicted vs actual and residuals vs predicted."""
    import matplotlib.pyplot as plt

    y_true, pred = np.asarray(y_true, float), np.asarray(pred, float)
    out: dict[str, Path] = {}
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.scatter(y_true, pred, s=10, alpha=0.6)
    lo, hi = float(min(y_true.min(), pred.min())), float(max(y_true.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], "--", color="grey", lw=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted vs actual (held-out)")
    out["predicted_vs_actual"] = save_figure(fig, out_dir / f"{prefix}predicted_vs_actual.png")
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.scatter(pred, y_true - pred, s=10, alpha=0.6)
    ax.axhline(0, color="grey", lw=1, ls="--")
    ax.set_xlabel("predicted")
    ax.set_ylabel("residual (actual - predicted)")
    ax.set_title("Residuals")
    out["residuals"] = save_figure(fig, out_dir / f"{prefix}residuals.png")
    return out


def leaderboard_plot(leaderboard, metric: str, out_path: Path, higher_is_better: bool) -> Path:
    """Horizontal bars of the CV mean ± std of ``metric`` per model."""
    import matplotlib.pyplot as plt

    lb = leaderboard.sort_values(f"{metric}_mean", ascending=not higher_is_better)
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(lb) + 1.2))
    ax.barh(lb["model"][::-1], lb[f"{metric}_mean"][::-1], xerr=lb[f"{metric}_std"][::-1],
            color="#4C78A8", alpha=0.85)
    ax.set_xlabel(f"{metric} (cross-validated mean ± std)")
    ax.set_title("Model comparison")
    lo = float((lb[f"{metric}_mean"] - lb[f"{metric}_std"]).min())
    hi = float((lb[f"{metric}_mean"] + lb[f"{metric}_std"]).max())
    pad = 0.05 * (hi - lo if hi > lo else 1)
    ax.set_xlim(lo - pad, hi + pad)
    return save_figure(fig, out_path)
