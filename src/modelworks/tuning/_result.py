"""What a tuning run hands back: the best parameters, the refitted model, every trial, plots."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import TuningError


@dataclass
class TuneResult:
    """The outcome of :func:`modelworks.tuning.tune`.

    Attributes
    ----------
    best_params : dict
        The best parameters, named as ``set_params`` takes them (``model__n_estimators``).
    best_score, best_score_std : float
        Mean and standard deviation of the best trial's CV scores (``scoring`` units, higher
        is better).
    best_estimator : estimator
        A fresh copy of the model with ``best_params``, refitted on all of ``X, y``.
    trials : pandas.DataFrame
        One row per trial: number, state (COMPLETE, PRUNED, FAIL, ...), value (the running CV
        mean where it was pruned), std, folds done, duration, worker (``host:pid``), baseline,
        cached_from (the trial whose score a revisited point reused), second_chance, retry_of
        (the trial a killed worker left behind), error, and one column per parameter.
    study_name, storage, strategy, scoring : str
    n_trials_completed, n_trials_pruned, n_trials_failed : int
    baseline_score : float or None
        CV score of the model's starting parameters (trial 0), when they were in the space.
    interrupted : bool
        Ctrl-C stopped the search; the best so far was refitted.
    """

    best_params: dict[str, Any]
    best_score: float
    best_score_std: float
    best_estimator: Any
    trials: pd.DataFrame
    study_name: str
    storage: str
    strategy: str
    scoring: str
    n_trials_completed: int
    n_trials_pruned: int = 0
    n_trials_failed: int = 0
    task: str = ""
    model_name: str = ""
    baseline_score: float | None = None
    best_trial: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    space: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    study: Any = field(default=None, repr=False, compare=False)  # the optuna.Study

    def to_dict(self) -> dict[str, Any]:
        """Everything but the model, as plain JSON types."""
        from modelworks._io import to_jsonable

        return to_jsonable(
            {
                "model": self.model_name,
                "task": self.task,
                "strategy": self.strategy,
                "scoring": self.scoring,
                "best_params": self.best_params,
                "best_score": self.best_score,
                "best_score_std": self.best_score_std,
                "best_trial": self.best_trial,
                "baseline_score": self.baseline_score,
                "n_trials_completed": self.n_trials_completed,
                "n_trials_pruned": self.n_trials_pruned,
                "n_trials_failed": self.n_trials_failed,
                "interrupted": self.interrupted,
                "elapsed_s": round(self.elapsed_s, 3),
                "study_name": self.study_name,
                "storage": self.storage,
                "space": self.space,
                "warnings": self.warnings,
                "trials": self.trials.replace({np.nan: None}).to_dict(orient="records"),
            }
        )

    def plots(self, out_dir: str | os.PathLike) -> list[Path]:
        """Write PNG plots to ``out_dir`` and return their paths.

        Optimisation history (every trial, pruned ones marked, best so far), parameter
        importances (fANOVA, with two or more parameters), one slice plot per parameter, and a
        contour of the two most important parameters.
        """
        return write_plots(self, out_dir)


def _param_columns(trials) -> list[str]:
    names: list[str] = []
    for t in trials:
        for k in t.params:
            if k not in names:
                names.append(k)
    return names


def trials_frame(study) -> pd.DataFrame:
    trials = study.get_trials(deepcopy=False)
    params = _param_columns(trials)
    rows = []
    for t in trials:
        duration = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        row = {
            "number": t.number,
            "state": t.state.name,
            "value": t.value
            if t.value is not None
            else (t.intermediate_values[t.last_step] if t.last_step is not None else None),
            "std": t.user_attrs.get("std"),
            "folds": len(t.user_attrs.get("fold_scores", [])),
            "duration_s": duration,
            "worker": t.user_attrs.get("worker"),
            "baseline": bool(t.user_attrs.get("baseline", False)),
            "cached_from": t.user_attrs.get("cached_from"),
            "second_chance": bool(t.user_attrs.get("second_chance", False)),
            "retry_of": t.system_attrs.get("failed_trial"),
            "error": t.user_attrs.get("error"),
        }
        row.update({p: t.params.get(p) for p in params})
        rows.append(row)
    cols = [
        "number",
        "state",
        "value",
        "std",
        "folds",
        "duration_s",
        "worker",
        "baseline",
        "cached_from",
        "second_chance",
        "retry_of",
        "error",
        *params,
    ]
    return pd.DataFrame(rows, columns=cols)


def _best_trial(study):
    """Highest value; ties go to the lowest trial number (the same at any n_jobs)."""
    from optuna.trial import TrialState

    done = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    if not done:
        return None
    return min(done, key=lambda t: (-t.value, t.number))


def build_result(
    study,
    *,
    estimator,
    X,
    y,
    strategy,
    scoring,
    task,
    storage,
    distributions,
    interrupted,
    elapsed,
    worker_errors,
    model_name,
) -> TuneResult:
    from sklearn.base import clone

    from modelworks.tuning._space import describe

    frame = trials_frame(study)
    best = _best_trial(study)
    if best is None:
        errors = [e for e in frame["error"].dropna().unique()] + list(worker_errors)
        why = f"; first error: {errors[0]}" if errors else ""
        if interrupted:
            raise TuningError("tuning was interrupted before any trial finished; nothing to refit")
        raise TuningError(
            f"no trial of study '{study.study_name}' completed "
            f"({int((frame['state'] == 'PRUNED').sum())} pruned, "
            f"{int((frame['state'] == 'FAIL').sum())} failed){why}"
        )
    params = dict(best.params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = clone(estimator).set_params(**params).fit(X, y)
    baseline = [
        t.value
        for t in study.get_trials(deepcopy=False)
        if t.user_attrs.get("baseline") and t.state.name == "COMPLETE"
    ]
    notes = [f"worker error: {e}" for e in worker_errors]
    failed = int((frame["state"] == "FAIL").sum())
    if failed:
        errs = frame["error"].dropna().unique()
        notes.append(
            f"{failed} trial(s) failed"
            + (f", e.g. {errs[0]}" if len(errs) else " (worker stopped)")
        )
    return TuneResult(
        best_params=params,
        best_score=float(best.value),
        best_score_std=float(best.user_attrs.get("std", float("nan"))),
        best_estimator=model,
        trials=frame,
        study_name=study.study_name,
        storage=storage,
        strategy=strategy,
        scoring=scoring if isinstance(scoring, str) else repr(scoring),
        n_trials_completed=int((frame["state"] == "COMPLETE").sum()),
        n_trials_pruned=int((frame["state"] == "PRUNED").sum()),
        n_trials_failed=failed,
        task=task,
        model_name=model_name,
        baseline_score=float(baseline[0]) if baseline else None,
        best_trial=int(best.number),
        interrupted=interrupted,
        elapsed_s=float(elapsed),
        space=describe(distributions),
        warnings=notes,
        study=study,
    )


# --------------------------------------------------------------------------- plots


def _importances(study) -> dict[str, float]:
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 3:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return dict(optuna.importance.get_param_importances(study))
        except (ValueError, RuntimeError, ZeroDivisionError):  # e.g. a single distinct value
            return {}


def history_figure(result: TuneResult):
    import matplotlib.pyplot as plt

    t = result.trials
    fig, ax = plt.subplots(figsize=(7, 4))
    done = t[t["state"] == "COMPLETE"]
    pruned = t[(t["state"] == "PRUNED") & t["value"].notna()]
    ax.scatter(done["number"], done["value"], s=18, label="completed", color="#1f77b4")
    if len(pruned):
        ax.scatter(
            pruned["number"],
            pruned["value"],
            s=18,
            marker="x",
            color="#999999",
            label="pruned (running mean)",
        )
    best = done.sort_values("number")["value"].cummax()
    ax.step(
        done.sort_values("number")["number"],
        best,
        where="post",
        color="#d62728",
        label="best so far",
    )
    if result.baseline_score is not None:
        ax.axhline(
            result.baseline_score, color="#2ca02c", ls="--", lw=1, label="starting parameters"
        )
    ax.set_xlabel("trial")
    ax.set_ylabel(f"CV {result.scoring}")
    ax.set_title(f"{result.model_name}: {result.strategy} search")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def importance_figure(result: TuneResult, importances: dict[str, float]):
    import matplotlib.pyplot as plt

    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names], color="#1f77b4")
    ax.set_xlabel("importance (fANOVA)")
    ax.set_title("Hyperparameter importance")
    return fig


def _optuna_plot(func, study, **kwargs):
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = func(study, **kwargs)
    fig = ax.flat[0].figure if isinstance(ax, np.ndarray) else ax.figure
    if not fig.get_axes():
        plt.close(fig)
        return None
    return fig


def write_plots(result: TuneResult, out_dir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import optuna.visualization.matplotlib as ovm

    from modelworks.report import save_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study = result.study
    paths = [save_figure(history_figure(result), out / "tuning_history.png")]
    if study is None:
        return paths
    importances = _importances(study)
    if len(importances) >= 2:
        paths.append(
            save_figure(importance_figure(result, importances), out / "tuning_importance.png")
        )
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) >= 2:
        top = list(importances)[:2] if importances else list(result.best_params)[:2]
        try:
            fig = _optuna_plot(ovm.plot_slice, study, params=list(result.best_params))
            if fig is not None:
                paths.append(save_figure(fig, out / "tuning_slice.png"))
            if len(top) == 2:
                fig = _optuna_plot(ovm.plot_contour, study, params=top)
                if fig is not None:
                    paths.append(save_figure(fig, out / "tuning_contour.png"))
        except (ValueError, TypeError, IndexError) as e:  # optuna cannot draw this space
            result.warnings.append(f"slice/contour plot skipped: {e}")
    return paths
