"""Score a saved model on labelled data: the task's metrics with bootstrap intervals, and plots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelworks._result import Result
from modelworks.exceptions import ColumnError, ConfigError, TargetError


@dataclass
class EvaluationResult:
    """Metrics (point, CI low, CI high) of a model on labelled data."""

    task: str
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    rows: int
    level: float
    plots: dict[str, Path] = field(default_factory=dict)
    out_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    # (y, pred, proba, classes) the plots are drawn from
    _outputs: tuple | None = field(default=None, repr=False, compare=False)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"metric": k, "value": v, "ci_low": self.intervals.get(k, (np.nan, np.nan))[0],
             "ci_high": self.intervals.get(k, (np.nan, np.nan))[1]}
            for k, v in self.metrics.items()
        ])

    def to_dict(self) -> dict:
        return {"task": self.task, "rows": self.rows, "level": self.level,
                "metrics": {k: {"value": v, "ci": list(self.intervals.get(k, (None, None)))}
                            for k, v in self.metrics.items()},
                "plots": {k: str(v) for k, v in self.plots.items()}, **self.extra}

    def add_to_report(self, report, *, title: str = "Evaluation"):
        sec = report.section(title, order=46)
        sec.text(f"{self.rows} labelled rows; {int(self.level * 100)} % bootstrap confidence intervals.")
        sec.table(self.table())
        for name, path in self.plots.items():
            sec.image(path, name.replace("_", " "))
        return sec

    def draw_plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Draw the task's plots into ``out_dir`` (kept in ``plots``); ``{name: path}``."""
        from modelworks.metrics import classification_plots, regression_plots

        if self._outputs is None:
            return {}
        y, pred, proba, classes = self._outputs
        self.plots = (regression_plots(y, pred, out_dir) if self.task == "regression"
                      else classification_plots(y, pred, proba, list(classes), out_dir))
        return dict(self.plots)


class EvaluateJobResult(Result):
    """An :class:`EvaluationResult` (``evaluate``) with the one result shape.

    ``write(out_dir)`` writes the plots, ``report.html`` and ``evaluation.json``.
    """

    title = "modelworks evaluate"
    json_name = "evaluation.json"

    def __init__(self, evaluation: EvaluationResult) -> None:
        self.evaluation = evaluation

    @property
    def subtitle(self) -> str:
        return f"target '{self.evaluation.target}' · {self.evaluation.task}"

    def to_dict(self) -> dict[str, Any]:
        return self.evaluation.to_dict()

    def summary(self) -> str:
        ev = self.evaluation
        lines = [f"task: {ev.task}   rows: {ev.rows}"] + [f"note: {n}" for n in ev.extra.get("notes", [])]
        lines += [f"{row['metric']:<18} {row['value']:.4f}   [{row['ci_low']:.4f}, {row['ci_high']:.4f}]"
                  for _, row in ev.table().iterrows()]
        if ev.out_dir is not None:
            lines.append(f"report: {ev.out_dir / 'report.html'}")
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        return self.evaluation.draw_plots(out_dir)

    def report_section(self, report):
        self.plots(report.plots_dir)
        return self.evaluation.add_to_report(report)

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        self.evaluation.out_dir = Path(out_dir)
        return {**super().write(out_dir), **self.evaluation.plots}


def evaluate(model, data, target: str, *, out_dir: str | os.PathLike | None = None, n_boot: int = 500,
             level: float = 0.95, seed: int = 0, ignore_extra: bool = False, trust_pickle: bool = False, trust=(),
             tracking_uri: str | None = None) -> EvaluationResult:
    """Evaluate a saved model on labelled data.

    Classification: accuracy, balanced accuracy, F1, ROC AUC (one-vs-rest for multiclass),
    log-loss, Brier score, with a confusion matrix, ROC/PR and calibration plots. Regression:
    RMSE, MAE, R² with predicted-vs-actual and residual plots. Every metric gets a percentile
    bootstrap interval.

    Parameters
    ----------
    model : path, ``models:/NAME@ALIAS``, Package or fitted estimator
    data : path or pandas.DataFrame
        Must contain ``target`` and the model's input columns. An id-like column the model does
        not use (``id``, ``*_id``) is set aside, as :func:`predict` does, and so are columns
        that training dropped (constant, ID-like...; listed in ``extra["ignored_columns"]``).
    target : str
    out_dir : path, optional
        Where ``evaluation.json``, plots and ``report.html`` go.

    Raises
    ------
    TargetError
        ``target`` is not in the data, or it holds labels the model never saw (named).
    """
    from modelworks._resolve import resolve_model
    from modelworks.data import check_target, load_table
    from modelworks.metrics import bootstrap_ci, predict_outputs, score_predictions

    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1, got {level}")
    pkg = resolve_model(model, trust_pickle=trust_pickle, trust=trust, tracking_uri=tracking_uri)
    notes: list[str] = []
    frame = check_target(load_table(data), target, missing="drop", name="data",
                         hint="evaluate needs labelled data", notes=notes)
    y = frame[target]
    X = frame.drop(columns=[target])
    manifest = pkg.manifest or {}
    ignored: list[str] = []
    if pkg.schema is not None:
        from modelworks.batch._predict import _id_column

        # the id column predict() carries along is no feature: set it aside here too, so a
        # held-out file that predict accepts is not refused for its "extra" id column
        ignored = pkg.schema.ignored(X.columns)
        id_col = _id_column([str(c) for c in X.columns], pkg.schema.names, None)
        if id_col is not None:
            X = X.drop(columns=[id_col])
        X = pkg.schema.validate(X, ignore_extra=ignore_extra)
    task = manifest.get("task") or ("regression" if not hasattr(pkg.model, "classes_") else
                                    ("binary" if len(pkg.model.classes_) == 2 else "multiclass"))
    trained_target = manifest.get("target")
    if trained_target and trained_target != target:
        raise ColumnError(f"the model was trained to predict '{trained_target}', not '{target}'",
                          param="target", fix=f"use {{}}={trained_target}")
    pred, proba, classes = predict_outputs(pkg.model, X, task)
    if task != "regression":
        known = {str(c) for c in classes}
        unseen = sorted({str(v) for v in pd.unique(y)} - known)
        if unseen:
            raise TargetError(
                f"labels in '{target}' the model never saw: {', '.join(unseen[:10])}; it knows: {', '.join(sorted(known))}"
            )
        # labels may come back from CSV as text while the model learned numbers (or the reverse)
        lookup = {str(c): c for c in classes}
        y = y.map(lambda v: lookup[str(v)])
    metrics = score_predictions(task, y, pred, proba, classes)
    intervals = bootstrap_ci(task, y, pred, proba, classes, n_boot=n_boot, level=level, seed=seed)
    result = EvaluationResult(task=task, metrics=metrics, intervals=intervals, rows=len(y), level=level,
                              target=target, _outputs=(y, pred, proba, classes))
    if ignored:  # columns of the training file that training dropped: accepted, not used
        result.extra["ignored_columns"] = {c: pkg.schema.dropped[c] for c in ignored}
    if notes:  # rows whose target is missing are not scored: say how many
        result.extra["notes"] = notes
    if task != "regression":
        from sklearn.metrics import confusion_matrix

        result.extra["confusion_matrix"] = {"labels": [str(c) for c in classes],
                                            "matrix": confusion_matrix(y, pred, labels=classes).tolist()}
        if proba is not None and len(classes) == 2:
            from sklearn.calibration import calibration_curve

            frac, mean_pred = calibration_curve(np.asarray(y) == classes[1], proba[:, 1], n_bins=10)
            result.extra["calibration"] = {"mean_predicted": mean_pred.tolist(), "fraction_positive": frac.tolist()}
    if out_dir is not None:
        EvaluateJobResult(result).write(out_dir)
    return result


def evaluate_job(model, data, target: str, *, n_boot: int = 500, level: float = 0.95, seed: int = 0,
                 ignore_extra: bool = False, trust_pickle: bool = False, trust=(), tracking_uri: str | None = None,
                 log=None) -> EvaluateJobResult:
    """:func:`evaluate` as ``modelworks evaluate`` runs it: the one result shape, files by ``write``.

    Parameters are those of :func:`evaluate`; ``log`` is called with a line naming the columns
    set aside, if any.

    Returns
    -------
    EvaluateJobResult
        ``.evaluation`` is the :class:`EvaluationResult`; ``write(out_dir)`` writes the plots,
        ``report.html`` and ``evaluation.json``.
    """
    from modelworks.batch._predict import ignored_line

    result = evaluate(model, data, target, n_boot=n_boot, level=level, seed=seed, ignore_extra=ignore_extra,
                      trust_pickle=trust_pickle, trust=trust, tracking_uri=tracking_uri)
    ignored = result.extra.get("ignored_columns")
    if ignored and log is not None:
        log(ignored_line(ignored))
    return EvaluateJobResult(result)
