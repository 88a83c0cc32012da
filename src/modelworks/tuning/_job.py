"""The job behind ``modelworks tune``: one zoo model tuned on a table, with plots and result.json.

:func:`tune_job` loads and prepares the table, runs :func:`modelworks.tuning.tune` with the study
under ``out_dir`` and returns a :class:`TuneJobResult` with the shape of every job's result
(:class:`modelworks._result.Result`); its ``exit_code`` is 130 when Ctrl-C stopped the search.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelworks._result import Result


class TuneJobResult(Result):
    """A :class:`TuneResult` (``tune``) with the one result shape.

    ``write(out_dir)`` writes the plots under ``out_dir/plots`` and ``out_dir/result.json``.
    """

    title = "modelworks tune"

    def __init__(self, tune) -> None:
        self.tune = tune
        self.plot_paths: list[Path] = []
        self.result_path: Path | None = None

    @property
    def exit_code(self) -> int:
        return 130 if self.tune.interrupted else 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.tune.to_dict(), "plots": [str(p) for p in self.plot_paths]}

    def summary(self) -> str:
        r = self.tune
        std = f" ± {r.best_score_std:.4f}" if r.best_score_std == r.best_score_std else ""
        # scikit-learn's neg_* scorers are losses with the sign flipped: show the loss itself
        name, sign = str(r.scoring), 1.0
        if name.startswith("neg_"):
            name, sign = name[4:], -1.0
        lines = [f"best CV {name}: {sign * r.best_score:.4f}{std}  (trial {r.best_trial})"]
        if r.baseline_score is not None:
            lines.append(f"starting parameters:  {sign * r.baseline_score:.4f}")
        lines += [f"  {k} = {v}" for k, v in r.best_params.items()]
        lines.append(f"trials: {r.n_trials_completed} completed, {r.n_trials_pruned} pruned, "
                     f"{r.n_trials_failed} failed  ({r.elapsed_s:.1f} s)")
        lines.append(f"study: {r.study_name} in {r.storage}")
        lines += [f"warning: {w}" for w in r.warnings]
        if self.result_path is not None:
            lines.append(f"result: {self.result_path}")
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        self.plot_paths = self.tune.plots(out_dir)
        return {p.stem: p for p in self.plot_paths}

    def report_section(self, report):
        sec = report.section("Tuning", order=30)
        sec.text(self.summary())
        for name, path in self.plots(report.plots_dir).items():
            sec.image(path, name)
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Plots under ``out_dir/plots`` and ``result.json`` (no report)."""
        files = self._write_plots_and_json(out_dir)
        self.result_path = files["result"]
        return files


def tune_job(data, target: str, model: str, *, strategy: str = "bayes", space=None, trials: int | None = None,
             timeout: float | None = None, cv: int = 5, scoring: str | None = None, n_jobs: int = 1,
             storage: str | None = None, study_name: str | None = None, pruning="auto", seed: int = 0,
             out_dir: str | os.PathLike = "modelworks-tune", dask: str | None = None,
             task: str | None = None, features: list[str] | None = None,
             log: Callable[[str], None] | None = None) -> TuneJobResult:
    """Tune zoo ``model`` on the table ``data`` by cross-validation, the study kept in ``out_dir``.

    Parameters
    ----------
    data : path or DataFrame
    target : str
    model : str
        A zoo model name (``modelworks.models.ZOO``).
    strategy, space, trials, timeout, cv, scoring, n_jobs, storage, study_name, pruning, seed, dask
        As in :func:`modelworks.tuning.tune` (``pruning="auto"``: the strategy's default).
    out_dir : path
        Where the study journal lives (unless ``storage`` is given).
    task : {"binary", "multiclass", "regression"}, optional
        Override the inferred task.
    features : list of str, optional
        Feature columns (default: all but the target).
    log : callable, optional
        Called with one progress line before the search starts.

    Returns
    -------
    TuneJobResult
        ``.tune`` is the :class:`TuneResult`; ``exit_code`` is 130 when the search was interrupted.
    """
    from modelworks.data import load_table, prepare
    from modelworks.tuning import tune
    from modelworks.tuning._storage import describe_storage

    frame = load_table(data)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(frame, target, task=task, cv=cv, features=features)
    out = Path(out_dir)
    if log is not None:
        log(f"tuning {model} ({strategy}) on {len(prep.X)} rows, {prep.task}; study in "
            f"{describe_storage(storage or out / 'study.journal')}")  # no password
    pruning = {"auto": True, "none": False}.get(pruning, pruning) if isinstance(pruning, str) else pruning
    result = tune(model, prep.X, prep.y, strategy=strategy, space=space, trials=trials, timeout=timeout,
                  cv=cv, scoring=scoring, n_jobs=n_jobs, storage=storage, study_name=study_name,
                  pruning=pruning, seed=seed, out_dir=out, dask=dask, task=prep.task)
    return TuneJobResult(result)
