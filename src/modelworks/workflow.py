"""The main job: ``modelworks run`` and ``modelworks compare``.

``run`` validates the data, splits off a test set, compares zoo models by cross-validation,
then hands a :class:`~modelworks._context.RunContext` to each capability's step (tuning,
ensembles, explanations, packaging, monitoring), scores the final model on the held-out
split and writes ``report.html`` and ``result.json``. A step is a function
``modelworks.<area>._workflow.step(ctx)``; it adds its own report section and results, so a
capability plugs in without touching the others.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelworks import _areas, _deprecation
from modelworks._context import RunContext
from modelworks._result import Result
from modelworks.exceptions import ConfigError
from modelworks.search._budget import (  # noqa: F401 - the run's budget rules, re-exported for callers
    AFTER_EXPLAIN_SECONDS,
    FIXED_OVERHEAD,
    POST_FIXED,
    POST_SHARE,
    REGISTER_SECONDS,
    REGISTER_SHARE,
    _budget_section,
    _no_time_for,
    _warm_up,
    auto_budget,
)
from modelworks.search._views import leaderboard_view

# (switch name, module with step(ctx)); run in this order after the search and the final model,
# declared by the areas (modelworks._areas: each area's Step)
# (the "tune" and "ensemble" switches turn off the search's model-based phase and its ensemble)
# (what every run must deliver comes first: evaluation and package; then what may be skipped for time)
STEPS = _areas.run_steps()

# steps that need an extra: without it the step is skipped with a note naming it
STEP_AREAS = _areas.step_areas()

# the budget: what is kept back from the search for the steps after it
@dataclass
class RunResult(Result):
    """What ``run`` produced (it has written ``report.html`` and ``result.json`` into ``out_dir``)."""

    title = "modelworks run"

    model: Any
    model_name: str
    task: str
    target: str
    leaderboard: Any
    test_scores: dict[str, float]
    out_dir: Path
    report_path: Path
    result_path: Path
    results: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from modelworks._io import to_jsonable

        return to_jsonable({
            "model": self.model_name,
            "task": self.task,
            "target": self.target,
            "test_scores": self.test_scores,
            "leaderboard": self.leaderboard.to_dict(orient="records"),
            "out_dir": str(self.out_dir),
            "report": str(self.report_path),
            "result": str(self.result_path),
            "steps": self.results,
            "warnings": self.warnings,
        })

    def summary(self) -> str:
        from modelworks._leaderboard import board_text

        lines = [f"task: {self.task}   final model: {self.model_name}", board_text(self.leaderboard),
                 "held-out: " + "  ".join(f"{k}={v:.4f}" for k, v in self.test_scores.items())]
        pkg = self.results.get("package", {})
        if pkg.get("path"):
            lines.append(f"package: {pkg['path']}"
                         + (f"   registered: {pkg['model_ref']}" if pkg.get("model_ref") else ""))
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append(f"report: {self.report_path}")
        return "\n".join(lines)

    def report_section(self, report):
        sec = report.section("Run", order=10)
        sec.text(f"task: {self.task}; final model: {self.model_name}")
        sec.metrics(self.test_scores)
        sec.table(self.leaderboard)
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """The run wrote its own report and ``result.json``; elsewhere, a copy of the JSON and a summary report."""
        if Path(out_dir).resolve() == Path(self.out_dir).resolve():
            return {"result": self.result_path, "report": self.report_path}
        return super().write(out_dir)


def _load_and_prepare(data, target, *, task=None, cv=5, features=None):
    from modelworks.data import load_table, prepare

    frame = load_table(data)
    with warnings.catch_warnings():  # what prepare changed is kept in prepared.notes for the report
        warnings.simplefilter("ignore")
        prepared = prepare(frame, target, task=task, cv=cv, features=features)
    return frame, prepared


def _check_cv(cv):
    from modelworks._validation import check_scalar

    check_scalar(cv, "cv", kind=int, low=2)


def rank_models(data, target: str, *, models: list[str] | None = None, cv: int = 5, task: str | None = None,
            seed: int = 0, features: list[str] | None = None):
    """Cross-validated leaderboard of zoo models on a table (``modelworks compare`` on the command line).

    Formerly ``modelworks.compare`` (deprecated alias until modelworks 0.3).

    Parameters
    ----------
    data : path or pandas.DataFrame
        CSV/Parquet file or DataFrame with the features and the target.
    target : str
        Target column.
    models : list of str, optional
        Zoo names (default: a fast, diverse set for the task).
    cv : int
        Folds (stratified for classification).

    Returns
    -------
    Comparison
        ``.leaderboard`` (DataFrame, best first: mean and std of every metric, fit time),
        ``.best``, ``.metric``, out-of-fold predictions in ``.oof``.
    """
    from modelworks._compare import cross_validate_models
    from modelworks.models import DEFAULT_CANDIDATES, get_entry

    _check_cv(cv)
    _, prep = _load_and_prepare(data, target, task=task, cv=cv, features=features)
    names = models or DEFAULT_CANDIDATES[prep.task]
    for name in names:
        get_entry(name)  # unknown names fail before any fit
    return cross_validate_models(prep.X, prep.y, prep.task, [get_entry(n).name for n in names], cv=cv, seed=seed)


def _profile_section(ctx: RunContext, prep, frame) -> None:
    import pandas as pd

    from modelworks.data import column_kinds

    sec = ctx.report.section("Data", order=10)
    kinds = column_kinds(prep.X)
    sec.metrics({
        "rows": len(frame), "features": prep.X.shape[1], "task": ctx.task,
        "train rows": len(ctx.X_train), "test rows": len(ctx.X_test),
        "numeric": len(kinds["numeric"]), "categorical": len(kinds["categorical"]),
        "datetime": len(kinds["datetime"]),
    })
    for note in prep.notes:
        sec.warning(note)
    rows = []
    for col in prep.X.columns:
        s = prep.X[col]
        rows.append({
            "column": col, "kind": next(k for k, v in kinds.items() if col in v),
            "missing %": 100 * float(s.isna().mean()), "unique": int(s.nunique()),
            "example": str(s.dropna().iloc[0]) if s.notna().any() else "",
        })
    sec.table(pd.DataFrame(rows))
    if ctx.task != "regression":
        counts = prep.y.value_counts()
        sec.text("Target classes: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    else:
        y = prep.y
        sec.text(f"Target '{ctx.target}': mean {y.mean():.4g}, sd {y.std():.4g}, range [{y.min():.4g}, {y.max():.4g}]")


def _leaderboard_section(ctx: RunContext, comparison) -> None:
    from modelworks.metrics import leaderboard_plot

    sec = ctx.report.section("Model comparison", order=20)
    sec.text(
        f"{len(comparison.leaderboard)} models cross-validated with {ctx.cv} folds on the training split "
        f"(the test split is held out); ranked by {comparison.metric} "
        f"({'higher' if comparison.higher_is_better else 'lower'} is better). Best: {comparison.best}."
    )
    sec.table(leaderboard_view(comparison.leaderboard))
    for name, why in comparison.skipped.items():
        sec.warning(f"{name}: {why}")
    path = leaderboard_plot(comparison.leaderboard, comparison.metric, ctx.report.plots_dir / "leaderboard.png",
                            comparison.higher_is_better)
    sec.image(path, "Cross-validated score per model")


def _evaluate_step(ctx: RunContext) -> None:
    """Fit the final model if no step chose one, and score it once on the held-out split."""
    from sklearn.base import clone

    from modelworks.metrics import (
        classification_plots,
        predict_outputs,
        regression_plots,
        score_predictions,
    )

    if ctx.final_model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.final_model = clone(ctx.candidates[ctx.best_name]).fit(ctx.X_train, ctx.y_train)
        ctx.final_name = ctx.best_name
    pred, proba, classes = predict_outputs(ctx.final_model, ctx.X_test, ctx.task)
    ctx.test_scores = score_predictions(ctx.task, ctx.y_test, pred, proba, classes)
    sec = ctx.report.section("Held-out evaluation", order=45)
    scored_as = ctx.results.get("ensemble", {}).get("scored_as", "fitted on the training split")
    sec.text(f"Final model: {ctx.final_name}, {scored_as}, scored once on the {len(ctx.X_test)} held-out rows.")
    sec.metrics({k: v for k, v in ctx.test_scores.items()})
    if ctx.task == "regression":
        plots = regression_plots(ctx.y_test, pred, ctx.report.plots_dir)
    else:
        plots = classification_plots(ctx.y_test, pred, proba, list(classes), ctx.report.plots_dir)
    for name, path in plots.items():
        sec.image(path, name.replace("_", " "))
    ctx.results["evaluate"] = {"model": ctx.final_name, "test_scores": ctx.test_scores}


def _resolve_step(target: str):
    if ":" in target:
        module, func = target.split(":")
        return getattr(importlib.import_module(module), func)
    try:
        return importlib.import_module(target).step
    except ModuleNotFoundError as e:
        if e.name and target.startswith(e.name):  # the capability is not installed/built
            return None
        raise


def run(data, target: str, *, out_dir: str | os.PathLike = "modelworks-out", time_budget: float | None = None,
        models: list[str] | None = None, cv: int = 5, task: str | None = None, seed: int = 0,
        test_size: float = 0.2, features: list[str] | None = None, steps: dict[str, bool] | None = None,
        model_name: str = "modelworks-model", title: str | None = None) -> RunResult:
    """The main job: validate, search, ensemble, evaluate, explain, package, monitor, report.

    The search (:mod:`modelworks.search`) spends the time budget where it pays: known-good booster
    configurations first, costlier and usually weaker learners only when they fit, then
    model-based search; the final model is a greedy ensemble selection when it beats the best
    single candidate by more than noise. The whole run ends within ``time_budget`` + 10 % +
    ``FIXED_OVERHEAD`` seconds; steps that do not fit are skipped and reported.

    Parameters
    ----------
    data : path or pandas.DataFrame
        CSV/Parquet file or DataFrame.
    target : str
        Target column.
    out_dir : path
        Where ``report.html``, ``result.json``, plots and the model package go.
    time_budget : float, optional
        Seconds for the whole job (default: picked from the data size, see :func:`auto_budget`,
        and reported).
    models : list of str, optional
        Restrict the search to these zoo learners (default: the whole portfolio for the task).
    steps : dict, optional
        Switch steps off, e.g. ``{"tune": False, "package": False}`` (``tune``: the model-based
        phase of the search; ``ensemble``: ensemble selection; ``refit``: refitting the final
        model on all rows, training and held-out split, before it is packaged).

    Returns
    -------
    RunResult
    """
    started = time.monotonic()  # the budget's clock: every import and step below counts
    _check_cv(cv)
    if time_budget is not None and not time_budget > 0:
        raise ConfigError(f"time_budget must be a positive number of seconds, got {time_budget!r}")
    slowness = _warm_up()

    from modelworks._io import ensure_dir, write_json
    from modelworks.data import Schema, train_test_split
    from modelworks.models import get_entry
    from modelworks.report import Report

    frame, prep = _load_and_prepare(data, target, task=task, cv=cv, features=features)
    names = [get_entry(n).name for n in models] if models else None
    for name in names or []:
        if not get_entry(name).supports(prep.task):
            raise ConfigError(f"model '{name}' does not support {prep.task} tasks", param="models",
                              fix="drop it from {}")
    out_dir = ensure_dir(out_dir)  # an existing file or an unwritable place: one-line error
    X_train, X_test, y_train, y_test = train_test_split(prep.X, prep.y, task=prep.task, test_size=test_size, seed=seed)
    source = data if isinstance(data, str | os.PathLike) else "DataFrame"
    report = Report(out_dir, title=title or "modelworks run",
                    subtitle=f"{source} · target '{target}' · {prep.task}")
    ctx = RunContext(data=frame, target=target, task=prep.task, out_dir=out_dir, seed=seed, cv=cv,
                     time_budget=time_budget, started=started, options=dict(steps or {}),
                     X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                     schema=Schema.from_frame(prep.X, dropped=prep.dropped_columns), warnings=list(prep.notes), report=report)
    ctx.options.setdefault("model_name", model_name)
    _profile_section(ctx, prep, frame)

    budget_note = None
    if time_budget is None:
        time_budget = auto_budget(len(frame), prep.X.shape[1])
        budget_note = (f"time budget: {time_budget:.0f} s, picked from the data size "
                       f"({len(frame):,} rows x {prep.X.shape[1]} columns); set time_budget/--time-budget to change")
        ctx.time_budget = time_budget
        ctx.warnings.append(budget_note)
    skipped_steps: dict[str, str] = {}

    # the search: portfolio, model-based search, tie groups; it keeps time back for what follows
    from modelworks.search._workflow import final_step, search_step

    ctx.results.setdefault("timings_s", {})["prepare"] = round(time.monotonic() - started, 3)
    t0 = time.monotonic()
    # what follows the search (evaluation, package, report) is kept back, scaled by how slow this machine
    # is right now (measured on the imports above)
    deadline = started + time_budget * (1 - POST_SHARE) - POST_FIXED * slowness
    ctx.results["budget_plan"] = {"search_deadline_s": round(deadline - started, 2), "slowness": round(slowness, 2)}
    result_search = search_step(ctx, names, tune=ctx.enabled("tune"), deadline=deadline)
    ctx.results.setdefault("timings_s", {})["search"] = round(time.monotonic() - t0, 3)
    t0 = time.monotonic()
    final_step(ctx, result_search, ensemble=ctx.enabled("ensemble"),
               left=max(0.0, ctx.remaining() - POST_FIXED - 0.1 * time_budget))
    ctx.results["timings_s"]["final_model"] = round(time.monotonic() - t0, 3)

    for switch, target_step in STEPS:
        if not ctx.enabled(switch):
            continue
        missing = _areas.needs_extra(STEP_AREAS[switch]) if switch in STEP_AREAS else None
        if missing:
            skipped_steps[switch] = f"skipped: {missing}"
            ctx.warnings.append(f"{switch} step skipped: {missing}")
            ctx.results.setdefault("skipped_steps", {})[switch] = missing
            continue
        why = _no_time_for(switch, ctx, result_search)
        if why:
            skipped_steps[switch] = why
            continue
        if switch == "package" and "register" not in ctx.options and (
                ctx.remaining() < REGISTER_SHARE * time_budget + REGISTER_SECONDS * slowness):
            # registering imports MLflow and writes its store: seconds that a short budget does not have
            ctx.options["register"] = False
            skipped_steps["register"] = f"registration skipped for lack of time ({ctx.remaining():.1f} s left)"
        step = _resolve_step(target_step)
        if step is None:
            continue
        t0 = time.monotonic()
        # explanation budget: this is the single call site. Until explanations take a time budget of
        # their own, the step plans with ctx.remaining(): it sees the budget less what the package,
        # monitoring and report still need, and is skipped above when too little is left.
        held_back = AFTER_EXPLAIN_SECONDS + 0.05 * time_budget if switch == "explain" else 0.0
        ctx.time_budget = time_budget - held_back
        try:
            step(ctx)
        except Exception as e:  # an optional step failing must not lose the rest of the run
            if switch == "evaluate":
                raise
            msg = f"step '{switch}' failed: {type(e).__name__}: {e}"
            ctx.warnings.append(msg)
            ctx.results.setdefault("errors", {})[switch] = traceback.format_exc(limit=5)
            report.section(f"{switch.capitalize()} (failed)", order=90).warning(msg)
        finally:
            ctx.time_budget = time_budget
        ctx.results.setdefault("timings_s", {})[switch] = round(time.monotonic() - t0, 3)

    _budget_section(ctx, time_budget, budget_note, skipped_steps, result_search, started)
    t0 = time.monotonic()
    report_path = report.write()
    ctx.results["timings_s"]["report"] = round(time.monotonic() - t0, 3)
    ctx.results["timings_s"]["total"] = round(time.monotonic() - started, 3)
    result = RunResult(model=ctx.final_model, model_name=ctx.final_name, task=ctx.task, target=target,
                       leaderboard=ctx.leaderboard, test_scores=ctx.test_scores, out_dir=out_dir,
                       report_path=report_path, result_path=out_dir / "result.json",
                       results=ctx.results, warnings=ctx.warnings)
    write_json(result.result_path, result.to_dict())
    return result


DEMO_DATASETS = {
    "breast_cancer": ("sklearn.datasets:load_breast_cancer", "target", "malignant vs benign tumours (569 rows, 30 features)"),
    "wine": ("sklearn.datasets:load_wine", "target", "wine cultivars (178 rows, 13 features, 3 classes)"),
    "diabetes": ("sklearn.datasets:load_diabetes", "target", "disease progression (442 rows, 10 features, regression)"),
}


def demo_data(name: str = "breast_cancer"):
    """A dataset that ships inside a dependency (no download), as a DataFrame with a ``target`` column."""
    from modelworks.exceptions import UnknownNameError

    if name not in DEMO_DATASETS:
        raise UnknownNameError(f"unknown demo dataset '{name}'; choose one of: {', '.join(DEMO_DATASETS)}")
    loader, target, _ = DEMO_DATASETS[name]
    module, func = loader.split(":")
    bunch = getattr(importlib.import_module(module), func)(as_frame=True)
    frame = bunch.frame.copy()
    if name == "breast_cancer":  # readable labels
        frame[target] = frame[target].map({0: "malignant", 1: "benign"})
    return frame, target


def demo(*, out_dir: str | os.PathLike = "modelworks-demo", dataset: str = "breast_cancer",
         time_budget: float | None = 60, seed: int = 0) -> RunResult:
    """Run the main job on a dataset shipped with scikit-learn (no download)."""
    frame, target = demo_data(dataset)
    return run(frame, target, out_dir=out_dir, time_budget=time_budget, seed=seed,
               title=f"modelworks demo: {dataset}", model_name=f"demo-{dataset.replace('_', '-')}")


# modelworks.workflow.compare: rank_models' name before modelworks 0.2
__getattr__ = _deprecation.forwarding(__name__)
