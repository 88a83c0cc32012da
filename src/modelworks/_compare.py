"""Cross-validated comparison of zoo models, keeping out-of-fold predictions for later steps."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modelworks._result import Result
from modelworks.exceptions import ConfigError


@dataclass
class Comparison(Result):
    """A leaderboard and what produced it (the result of ``modelworks compare``: the one result shape)."""

    title = "modelworks compare"
    json_name = "comparison.json"

    leaderboard: pd.DataFrame  # one row per model, best first
    task: str
    metric: str  # the ranking metric key of score_predictions, e.g. "roc_auc"
    higher_is_better: bool
    candidates: dict = field(default_factory=dict)  # name -> unfitted pipeline
    oof: dict = field(default_factory=dict)  # name -> out-of-fold predictions (proba for classifiers)
    folds: list = field(default_factory=list)
    classes: list | None = None
    skipped: dict = field(default_factory=dict)  # name -> why

    @property
    def best(self) -> str:
        return str(self.leaderboard["model"].iloc[0])

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "leaderboard": self.leaderboard.to_dict(orient="records"),
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        from modelworks._leaderboard import board_text

        lines = [f"task: {self.task}   ranked by {self.metric} "
                 f"({'higher' if self.higher_is_better else 'lower'} is better), {len(self.folds)}-fold CV",
                 board_text(self.leaderboard)]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def report_section(self, report):
        sec = report.section("Model comparison", order=20)
        sec.text(self.summary().splitlines()[0])
        sec.table(self.leaderboard)
        for name, why in self.skipped.items():
            sec.warning(f"skipped {name}: {why}")
        return sec


def make_folds(y, task: str, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if task != "regression" else KFold)(n_splits=cv, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def cross_validate_models(X: pd.DataFrame, y: pd.Series, task: str, models: list[str], *, cv: int = 5,
                          seed: int = 0, deadline: float | None = None, min_models: int = 2) -> Comparison:
    """Cross-validate zoo ``models`` on the same folds; rank by the task's primary metric.

    Models still waiting when ``deadline`` (a ``time.monotonic()`` value) passes are skipped,
    but at least ``min_models`` are always evaluated.
    """
    from sklearn.base import clone

    from modelworks._progress import progress
    from modelworks.data import make_pipeline
    from modelworks.metrics import PRIMARY_KEY, score_predictions
    from modelworks.models import get_model

    if not models:
        raise ConfigError("no models to compare", param="models", fix="pass zoo names as {}, e.g. rf,logreg")
    metric, higher = PRIMARY_KEY[task]
    folds = make_folds(y, task, cv, seed)
    classes = class_labels(y) if task != "regression" else None
    label_array = np.asarray(classes) if classes is not None else None  # the labels' own dtype, not object
    pipes = {name: make_pipeline(X, get_model(name, task, seed=seed)) for name in models}
    rows, oof, skipped = [], {}, {}
    y_arr = np.asarray(y)
    bar = progress(total=len(models) * cv, desc="compare", unit="fit")
    for i, (name, pipe) in enumerate(pipes.items()):
        if deadline is not None and i >= min_models and time.monotonic() > deadline:
            skipped[name] = "time budget reached"
            bar.update(cv)
            continue
        fold_scores, fit_times = [], []
        pred_oof = (np.zeros((len(y), len(classes))) if task != "regression" else np.zeros(len(y)))
        try:
            for train_idx, valid_idx in folds:
                model = clone(pipe)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X.iloc[train_idx], y.iloc[train_idx])
                fit_times.append(time.perf_counter() - t0)
                Xv = X.iloc[valid_idx]
                if task == "regression":
                    p = model.predict(Xv)
                    pred_oof[valid_idx] = p
                    fold_scores.append(score_predictions(task, y_arr[valid_idx], p))
                else:
                    proba = _aligned_proba(model, Xv, classes)
                    pred = label_array[np.argmax(proba, axis=1)]
                    pred_oof[valid_idx] = proba
                    fold_scores.append(score_predictions(task, y_arr[valid_idx], pred, proba, classes))
                bar.update(1)
        except Exception as e:  # a model failing on this data must not stop the comparison
            skipped[name] = f"failed: {type(e).__name__}: {e}"
            continue
        row = {"model": name}
        frame = pd.DataFrame(fold_scores)
        for col in frame.columns:
            row[f"{col}_mean"] = float(frame[col].mean())
            row[f"{col}_std"] = float(frame[col].std(ddof=1))
        row["fit_time_s"] = float(np.mean(fit_times))
        rows.append(row)
        oof[name] = pred_oof
    bar.close()
    if not rows:
        raise ConfigError(f"every model failed on this data: {skipped}")
    board = pd.DataFrame(rows).sort_values(f"{metric}_mean", ascending=not higher, kind="stable")
    board = board.reset_index(drop=True)
    return Comparison(leaderboard=board, task=task, metric=metric, higher_is_better=higher,
                      candidates={k: pipes[k] for k in board["model"]}, oof=oof, folds=folds,
                      classes=classes, skipped=skipped)


def class_labels(y) -> list:
    """Class labels in scikit-learn's order (``np.unique``), falling back to text order."""
    try:
        return list(np.unique(np.asarray(y)))
    except TypeError:  # labels of mixed types
        return sorted(pd.unique(y), key=str)


def _aligned_proba(model, X, classes) -> np.ndarray:
    """Class probabilities with columns in ``classes`` order (a fold may miss a class)."""
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        fitted = list(getattr(model, "classes_", classes))
    else:  # e.g. RidgeClassifier: one-hot of the decision
        pred = model.predict(X)
        fitted = list(classes)
        proba = (np.asarray(pred)[:, None] == np.asarray(classes)[None, :]).astype(float)
    out = np.zeros((len(X), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(fitted):
        out[:, index[c]] = proba[:, j]
    return out
