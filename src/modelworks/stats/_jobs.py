"""The jobs behind ``modelworks stats mixed`` and ``modelworks stats gam``: fit, report, save.

:func:`mixed` and :func:`gam` load the data, fit the model and return a :class:`StatsResult`,
which has the shape of every job's result (:class:`modelworks._result.Result`): ``write(out_dir)``
writes ``report.html`` (with plots), ``model.skops``, ``results.json`` and, for a mixed model,
``summary.txt``.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelworks._result import Result
from modelworks.exceptions import ColumnError, StatsError


@contextmanager
def _caught(messages: list[str]):
    """Record the fit's and the plots' warnings (one line each) into ``messages``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, DeprecationWarning | FutureWarning):
                    continue
                text = f"{w.category.__name__}: {w.message}"
                if text not in messages:
                    messages.append(text)


class StatsResult(Result):
    """A fitted mixed model or GAM with what ``modelworks stats`` reports.

    Attributes
    ----------
    model : MixedModel, GAMRegressor or GAMClassifier
        The fitted model.
    results : dict
        Its key figures and tables (what ``to_dict`` returns; file paths are added by ``write``).
    warnings : list of str
        Warnings of the fit and the plots, one line each.
    """

    json_name = "results.json"

    def __init__(self, kind: str, model, results: dict, *, data, y=None, subtitle: str = "",
                 messages: list[str] | None = None) -> None:
        self.kind = kind
        self.model = model
        self.results = results
        self.warnings = messages if messages is not None else []
        self.results["warnings"] = self.warnings
        self._data, self._y, self._subtitle = data, y, subtitle
        self.files: dict[str, Path] = {}

    @property
    def title(self) -> str:  # type: ignore[override]
        return "Mixed-effects model" if self.kind == "mixed" else "Generalized additive model"

    @property
    def subtitle(self) -> str:
        return self._subtitle

    def to_dict(self) -> dict[str, Any]:
        return dict(self.results)

    def summary(self) -> str:
        text = str(self.model.summary()) if self.kind == "mixed" else self.model.summary().to_string(index=False)
        lines = [text] + [f"warning: {w}" for w in self.warnings]
        if "report" in self.files:
            lines.append(f"report: {self.files['report']}")
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        from modelworks.report import save_figure
        from modelworks.stats._plots import plot_caterpillar, plot_partial_effects

        name, fig = (("caterpillar", plot_caterpillar(self.model)) if self.kind == "mixed"
                     else ("partial-effects", plot_partial_effects(self.model)))
        return {name: save_figure(fig, Path(out_dir) / f"{name}.png")}

    def report_section(self, report):
        from modelworks.stats._report import report_section

        with _caught(self.warnings):
            return report_section(report, self.model, self._data, self._y)

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        from modelworks._imports import skops_io
        from modelworks._io import ensure_dir, write_bytes, write_json, write_text
        from modelworks.report import Report

        out = ensure_dir(out_dir)
        report = Report(out, self.title, self.subtitle)
        self.report_section(report)
        files = {"report": report.write()}
        if self.kind == "mixed":
            files["summary"] = write_text(out / "summary.txt", str(self.model.summary()) + "\n")
        files["model_file"] = write_bytes(out / "model.skops", skops_io().dumps(self.model))
        self.results["report"], self.results["model_file"] = str(files["report"]), str(files["model_file"])
        files["results"] = write_json(out / "results.json", self.results)
        self.results["results"] = str(files["results"])
        self.files = files
        return files


def _name(data) -> str:
    return Path(os.fspath(data)).name if isinstance(data, str | os.PathLike) else "data"


def mixed(data, formula: str, groups: str, *, re_formula: str | None = None,
          vc_formula: dict[str, str] | None = None, reml: bool = True) -> StatsResult:
    """Fit a linear mixed-effects model (:class:`MixedModel`) on ``data`` for a report.

    Parameters
    ----------
    data : path or DataFrame
    formula : str
        Fixed effects, e.g. ``"y ~ x1 + x2"``.
    groups : str
        The grouping column.
    re_formula : str, optional
        Random effects within a group, e.g. ``"~x1"`` (default: a random intercept).
    vc_formula : dict, optional
        Variance components nested in the groups, ``{name: formula}``.
    reml : bool
        REML (default) or maximum likelihood (for AIC/BIC and likelihood-ratio tests).

    Returns
    -------
    StatsResult
        ``write(out_dir)`` writes the report, ``summary.txt``, ``results.json`` and ``model.skops``.
    """
    from modelworks.data import load_table
    from modelworks.stats import MixedModel

    frame = load_table(data)
    model = MixedModel(formula, groups, re_formula=re_formula, vc_formula=vc_formula, reml=reml)
    messages: list[str] = []
    with _caught(messages):
        model.fit(frame)
    results = {
        "kind": "mixed", "formula": formula, "groups": groups, "re_formula": re_formula,
        "vc_formula": vc_formula, **model.summary_dict(),
        "fixed_effects": model.fixed_effects().reset_index().to_dict(orient="records"),
        "variance_components": model.variance_components().to_dict(orient="records"),
        "optimizers": model.fit_history_,
    }
    return StatsResult("mixed", model, results, data=frame, messages=messages,
                       subtitle=f"{_name(data)} · {formula} | {groups}")


def gam(data, target: str, *, features: list[str] | None = None, factors: list[str] | None = None,
        tensor: list[str] | None = None, task: str = "auto", n_splines: int = 20,
        lam_search: str = "fast") -> StatsResult:
    """Fit a GAM (:class:`GAMRegressor` or :class:`GAMClassifier`) of ``target`` for a report.

    Parameters
    ----------
    data : path or DataFrame
    target : str
        The column to predict (no missing values).
    features : list of str, optional
        Feature columns (default: all others).
    factors : list of str, optional
        Numeric columns to treat as categorical.
    tensor : list of two str, optional
        Two numeric columns modelled jointly (tensor smooth).
    task : {"auto", "regression", "binary"}
        ``auto``: binary when the target has two values.
    n_splines : int
        Basis size per smooth.
    lam_search : {"fast", "grid"}
        One lam per term by GCV/UBRE, or pygam's grid search.

    Returns
    -------
    StatsResult
        ``write(out_dir)`` writes the report, ``results.json`` and ``model.skops``.
    """
    from modelworks.data import Task, check_target, load_table
    from modelworks.stats import GAMClassifier, GAMRegressor

    frame = load_table(data)
    columns = ", ".join(map(str, frame.columns[:30]))
    if target not in frame.columns:
        raise ColumnError(f"target column {target!r} not found; columns are: {columns}",
                          param="target", fix="use {} NAME")
    features = features or [c for c in frame.columns if c != target]
    if target in features:
        raise StatsError(f"the target {target!r} is also listed in the features",
                         param="features", fix="remove it from {}")
    for param, names in (("features", features), ("factors", factors), ("tensor", tensor)):
        missing = [n for n in names or [] if n not in frame.columns]
        if missing:
            raise ColumnError(f"{param} names columns that are not in the data: {', '.join(missing)} "
                              f"(columns are: {columns})", param=param, fix="fix {}")
    check_target(frame, target, missing="refuse")  # the data spine's one target check
    y = frame[target]
    if task not in ("auto", "regression", "binary"):
        raise StatsError(f"task must be auto, regression or binary, got {task!r}")
    if task == "auto":
        task = "binary" if Task.infer(y) is Task.BINARY else "regression"
    cls = GAMClassifier if task == "binary" else GAMRegressor
    model = cls(features=features, factors=factors, tensor=tensor, n_splines=n_splines, lam_search=lam_search)
    messages: list[str] = []
    with _caught(messages):
        model.fit(frame[features], y)
    results = {"kind": "gam", "task": task, "target": target, **model.summary_dict(),
               "term_table": model.summary().to_dict(orient="records")}
    return StatsResult("gam", model, results, data=frame[features], messages=messages,
                       y=y if task == "regression" else None, subtitle=f"{_name(data)} · target {target}")
