"""``modelworks ensemble``: one ensemble of zoo models on a table, scored next to its members.

:func:`ensemble` is the public job (it returns an :class:`EnsembleResult`); ``run_ensemble`` is
the dictionary-returning internal it wraps.

All members are cross-validated on the same folds of the training split (their out-of-fold
predictions are reused for the ensemble's weights and its cross-fitted CV score), then fitted on
the training split and scored once on the held-out split.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from modelworks._result import Result
from modelworks._validation import check_scalar
from modelworks.ensemble._base import check_weights
from modelworks.ensemble._from_oof import (
    ESTIMATORS,
    ensemble_label,
    score_folds,
    weights_from_oof,
)
from modelworks.ensemble._losses import CLASSIFICATION
from modelworks.ensemble._members import check_proba
from modelworks.exceptions import EnsembleError, UnknownNameError

METHODS = ("stack", "blend", "select")
SHOWN = {"binary": ["roc_auc", "log_loss", "accuracy"], "multiclass": ["log_loss", "accuracy"],
         "regression": ["rmse", "r2"]}


def _members(models, task: str) -> list[str]:
    from modelworks.models import get_entry

    if not models or len(models) < 2:
        got = ", ".join(models or []) or "none"
        raise EnsembleError(f"an ensemble needs at least 2 members, got {len(models or [])} ({got})",
                            param="models", fix="use e.g. {} rf,logreg,knn")
    names = [get_entry(m).name for m in models]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise EnsembleError(f"model listed twice: {', '.join(dup)}", param="models", fix="list each once in {}")
    for name in names:
        if not get_entry(name).supports(task):
            raise EnsembleError(f"model '{name}' does not support {task} tasks (the members must all fit "
                                "this target)", param="models", fix="drop it from {}")
    return names


def _meta_features(P, task):
    """What scikit-learn's stacking feeds the meta-learner: probabilities (binary: one column)."""
    if task == "binary":
        return P[:, :, 1].T
    if task == "multiclass":
        return np.concatenate(list(P), axis=1)
    return P.T


def run_ensemble(data, target: str, *, method: str = "blend", models=None, weights=None, cv: int = 5,
                 seed: int = 0, test_size: float = 0.2, task: str | None = None, features=None,
                 out_dir=None) -> dict:
    """The work behind :func:`ensemble` (same parameters, plus ``out_dir``), as a plain dict.

    ``out_dir``, when given, receives ``ensemble.json`` and the fitted ensemble's ``model.skops``.
    Returns ``members`` (name, weight, cv and test scores), ``ensemble`` (name, cv and test
    scores) and the setting.
    """
    from sklearn.base import clone

    from modelworks._compare import cross_validate_models
    from modelworks.data import load_table, make_pipeline, prepare, train_test_split
    from modelworks.metrics import PRIMARY_KEY, predict_outputs, score_predictions
    from modelworks.models import get_model

    if method not in METHODS:
        raise UnknownNameError(f"unknown ensemble method {method!r}; use one of: {', '.join(METHODS)}")
    cv = check_scalar(cv, "cv", kind=int, low=2)
    if weights is not None and method != "blend":
        raise EnsembleError(f"weights apply to the blend method only (got method {method!r}): "
                            "stacking and selection learn their own combination",
                            param="weights", fix="drop {}")
    frame = load_table(data)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(frame, target, task=task, cv=cv, features=features)
    task = prep.task
    names = _members(models, task)
    if weights is not None:
        weights = check_weights(weights, names, "weights")
    X_train, X_test, y_train, y_test = train_test_split(prep.X, prep.y, task=task, test_size=test_size, seed=seed)
    pipes = {n: make_pipeline(X_train, get_model(n, task, seed=seed)) for n in names}
    if task in CLASSIFICATION and method != "stack":
        for n in names:
            check_proba(n, pipes[n], method)
    comparison = cross_validate_models(X_train, y_train, task, names, cv=cv, seed=seed)
    if comparison.skipped:
        name, why = next(iter(comparison.skipped.items()))
        raise EnsembleError(f"member '{name}' could not be cross-validated on this data ({why})",
                            param="models", fix="drop it from {}")
    y_tr = np.asarray(y_train)
    classes = comparison.classes
    P = np.stack([np.asarray(comparison.oof[n], dtype=float) for n in names])
    folds = comparison.folds
    members = [{"name": n, "weight": None, "cv": score_folds(task, y_tr, P[i], classes, folds)}
               for i, n in enumerate(names)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "stack":
            model, ens_cv, coefs = _stack(names, pipes, P, X_train, y_train, task, comparison.folds, classes, cv, seed)
            fitted = dict(zip(names, model.estimators_))
            for m, c in zip(members, coefs):
                m["weight"] = c
        else:
            out = weights_from_oof(method, names, list(P), y_tr, task, classes=classes, seed=seed,
                                   weights=weights, folds=comparison.folds)
            w = out["weights"]
            ens_cv = score_folds(task, y_tr, out["oof_cv"], classes, folds)
            fitted = {n: clone(pipes[n]).fit(X_train, y_train) for n in names}
            keep = [i for i, x in enumerate(w) if x > 0]
            if len(keep) < 2:
                keep = list(range(len(names)))
            cls = ESTIMATORS[(method, task in CLASSIFICATION)]
            model = cls.from_fitted([names[i] for i in keep], [fitted[names[i]] for i in keep], w[keep],
                                    seed=seed, cv=cv)
            for m, x in zip(members, w):
                m["weight"] = float(x)
        for m in members:
            est = fitted[m["name"]]
            if method == "stack" and task in CLASSIFICATION:
                # scikit-learn's stacking fits members on encoded labels: map them back
                proba = est.predict_proba(X_test) if hasattr(est, "predict_proba") else None
                cls_ = model.classes_
                pred = cls_[np.argmax(proba, axis=1)] if proba is not None else cls_[est.predict(X_test)]
            else:
                pred, proba, cls_ = predict_outputs(est, X_test, task)
            m["test"] = score_predictions(task, y_test, pred, proba, None if cls_ is None else list(cls_))
        pred, proba, cls_ = predict_outputs(model, X_test, task)
        ens_test = score_predictions(task, y_test, pred, proba, None if cls_ is None else list(cls_))
    metric, higher = PRIMARY_KEY[task]
    label = ensemble_label(method, names)
    result = {
        "method": method, "task": task, "target": target, "metric": metric, "higher_is_better": higher,
        "cv": cv, "seed": seed, "n_train": len(X_train), "n_test": len(X_test),
        "weights_given": weights is not None,
        "members": members,
        "ensemble": {"name": label, "cv": ens_cv, "test": ens_test},
        "shown": SHOWN[task],
    }
    if out_dir is not None:
        result["files"] = _write(Path(out_dir), result, model)
    result["model"] = model
    return result


def _stack(names, pipes, P, X_train, y_train, task, folds, classes, cv, seed):
    """Fit a stacking ensemble; its CV score comes from a meta-learner cross-fitted on the OOF."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict

    from modelworks.ensemble._base import make_cv
    from modelworks.ensemble._stacking import StackingClassifier, StackingRegressor

    y_tr = np.asarray(y_train)
    classifier = task in CLASSIFICATION
    cls = StackingClassifier if classifier else StackingRegressor
    stack = cls([(n, pipes[n]) for n in names], cv=make_cv(cv, classifier=classifier, seed=seed, owner="stack"))
    meta = _meta_features(P, task)
    final = clone(stack.final_estimator) if stack.final_estimator is not None else None
    if final is None:
        from sklearn.linear_model import LogisticRegression, RidgeCV

        final = LogisticRegression() if classifier else RidgeCV()
    meta_pred = cross_val_predict(final, meta, y_tr, cv=folds, method="predict_proba" if classifier else "predict")
    ens_cv = score_folds(task, y_tr, meta_pred, classes, folds)
    stack.fit(X_train, y_train)
    coef = np.atleast_2d(getattr(stack.final_estimator_, "coef_", np.full((1, meta.shape[1]), np.nan)))
    per = meta.shape[1] // len(names)
    coefs = [float(np.linalg.norm(coef[:, i * per:(i + 1) * per])) if task == "multiclass"
             else float(coef[0, i]) for i in range(len(names))]
    return stack, ens_cv, coefs


def _write(out_dir: Path, result: dict, model) -> dict:
    from modelworks._imports import skops_io
    from modelworks._io import atomic_path, write_json

    sio = skops_io()
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.skops"
    with atomic_path(model_path, suffix=".skops.tmp") as tmp:
        sio.dump(model, tmp)
    files = {"result": str(out_dir / "ensemble.json"), "model": str(model_path)}
    write_json(out_dir / "ensemble.json", {**result, "files": files})
    return files


def format_table(result: dict) -> str:
    """Members and the ensemble, with weights, CV and held-out scores, as aligned text."""
    shown = result["shown"]
    weight_label = "meta coef" if result["method"] == "stack" else "weight"
    header = ["model", weight_label] + [f"cv {m}" for m in shown] + [f"test {m}" for m in shown]
    rows = []
    for m in result["members"]:
        w = m["weight"]
        rows.append([m["name"], "-" if w is None or not np.isfinite(w) else f"{w:.3f}"]
                    + [f"{m['cv'].get(k, float('nan')):.4f}" for k in shown]
                    + [f"{m['test'].get(k, float('nan')):.4f}" for k in shown])
    e = result["ensemble"]
    rows.append([e["name"], "1.000" if result["method"] != "stack" else "-"]
                + [f"{e['cv'].get(k, float('nan')):.4f}" for k in shown]
                + [f"{e['test'].get(k, float('nan')):.4f}" for k in shown])
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    return "\n".join(lines)


class EnsembleResult(Result):
    """An ensemble of zoo models with each member's weight and its CV and held-out scores.

    ``model`` is the fitted ensemble; ``to_dict()`` the scores and settings;
    ``write(out_dir)`` writes ``ensemble.json`` and ``model.skops``.
    """

    title = "modelworks ensemble"
    json_name = "ensemble.json"

    def __init__(self, result: dict, model) -> None:
        self.result = result
        self.model = model

    def to_dict(self) -> dict[str, Any]:
        return dict(self.result)

    def summary(self) -> str:
        r = self.result
        metric, sign = r["metric"], 1 if r["higher_is_better"] else -1
        best = max(r["members"], key=lambda m: sign * m["cv"][metric])
        e = r["ensemble"]
        verdict = "beats" if sign * (e["cv"][metric] - best["cv"][metric]) > 0 else "does not beat"
        lines = [f"task: {r['task']}   {r['method']} of {len(r['members'])} models   "
                 f"{r['cv']}-fold CV on {r['n_train']} training rows, held-out {r['n_test']} rows",
                 format_table(r), f"{e['name']} {verdict} the best member {best['name']} on CV {metric}"]
        if "files" in r:
            lines.append(f"model: {r['files']['model']}")
        return "\n".join(lines)

    def report_section(self, report):
        import pandas as pd

        sec = report.section("Ensemble", order=40)
        sec.text(self.summary().splitlines()[0])
        rows = [{"model": m["name"], "weight": m["weight"], **{f"cv {k}": m["cv"].get(k) for k in self.result["shown"]},
                 **{f"test {k}": m["test"].get(k) for k in self.result["shown"]}}
                for m in [*self.result["members"], {**self.result["ensemble"], "weight": None}]]
        sec.table(pd.DataFrame(rows))
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """``ensemble.json`` and the fitted ensemble ``model.skops`` (no report)."""
        files = _write(Path(out_dir), self.result, self.model)
        self.result["files"] = files
        return {k: Path(v) for k, v in files.items()}


def ensemble(data, target: str, *, method: str = "blend", models=None, weights=None, cv: int = 5,
             seed: int = 0, test_size: float = 0.2, task: str | None = None,
             features=None) -> EnsembleResult:
    """Build one ensemble of zoo ``models`` on ``data`` and score it next to each member.

    All members are cross-validated on the same folds of the training split; the ensemble's
    weights come from their out-of-fold predictions (never from the held-out split).

    Parameters
    ----------
    data : path or DataFrame
    target : str
    method : {"stack", "blend", "select"}
    models : list of str
        Zoo names, at least 2.
    weights : list of float, optional
        Fixed blend weights (``method="blend"`` only); default: learned on out-of-fold predictions.
    cv : int
        Folds on the training split.
    seed : int
    test_size : float
        Held-out share.
    task : {"binary", "multiclass", "regression"}, optional
        Override the inferred task.
    features : list of str, optional
        Feature columns (default: all but the target).

    Returns
    -------
    EnsembleResult
        ``model`` is the fitted ensemble; ``write(out_dir)`` writes ``ensemble.json`` and
        ``model.skops``.
    """
    result = run_ensemble(data, target, method=method, models=models, weights=weights, cv=cv, seed=seed,
                          test_size=test_size, task=task, features=features)
    model = result.pop("model")
    return EnsembleResult(result, model)
