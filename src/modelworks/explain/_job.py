"""The job behind ``modelworks explain MODEL DATA``: SHAP values and partial dependence of a saved model.

:func:`explain_job` loads the model (a package or ``models:/NAME@ALIAS``), keeps the columns it
was trained on, explains a seeded sample of rows and computes partial dependence, and returns an
:class:`ExplainResult` with the shape of every job's result (:class:`modelworks._result.Result`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelworks._result import Result


class ExplainResult(Result):
    """SHAP explanation and partial dependence of a saved model on some rows.

    Attributes
    ----------
    explanation : Explanation
    partial_dependence : PartialDependence
    left_out : list of str
        Columns of the data that are not model inputs (target, ids...), left out.
    files : dict
        Plot paths by name, filled by :meth:`plots` / :meth:`write`.
    """

    title = "modelworks explain"
    json_name = "explanation.json"

    def __init__(self, model_ref, data_ref, explanation, partial_dependence, *, left_out, cost) -> None:
        self.model_ref, self.data_ref = str(model_ref), str(data_ref)
        self.explanation = explanation
        self.partial_dependence = partial_dependence
        self.left_out = left_out
        self.cost = cost
        self.shap_plots: dict[str, Path] = {}
        self.pdp_plots: dict[str, Path] = {}
        self._out: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_ref,
            "data": self.data_ref,
            "explanation": self.explanation.to_dict(),
            "plots": {k: str(v) for k, v in self.shap_plots.items()},
            "partial_dependence": self.partial_dependence.to_dict(),
            "pdp_plots": {k: str(v) for k, v in self.pdp_plots.items()},
        }

    def summary(self) -> str:
        ex, pdp = self.explanation, self.partial_dependence
        lines = [
            f"explainer: {ex.explainer_name} ({ex.reason})",
            f"values are contributions to the {ex.output}; {ex.values.shape[0]} rows in {ex.seconds:.2f} s",
            "top features (mean |SHAP|):",
            *(f"  {r.feature:<30} {r.mean_abs_shap:.4g}" for r in ex.top_features(10).itertuples(index=False)),
            f"partial dependence: {', '.join(i.name + ' (' + i.method + ')' for i in pdp.items)}",
        ]
        if self._out is not None:
            lines.append(f"plots and explanation.json written to {self._out}")
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """SHAP plots (beeswarm, bar, dependence, waterfall) and one PD/ICE plot per feature or pair."""
        from modelworks.explain import plot_partial_dependence

        self.shap_plots = self.explanation.plots(out_dir)
        self.pdp_plots = plot_partial_dependence(self.partial_dependence, out_dir)
        return {**self.shap_plots, **{f"pdp:{k}": v for k, v in self.pdp_plots.items()}}

    def report_section(self, report):
        sec = report.section("Explanation", order=60)
        sec.text(self.summary())
        top = self.explanation.top_features(10)
        sec.table(top)
        for name, path in self.plots(report.plots_dir).items():
            sec.image(path, name)
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Plots under ``out_dir/plots`` and ``explanation.json`` (no report: see ``report_section``)."""
        self._out = Path(out_dir)
        return self._write_plots_and_json(out_dir)


def explain_job(model, data, *, pdp: list | None = None, max_rows: int = 500, explainer: str = "auto",
                  kind: str = "both", seed: int = 0,
                  log: Callable[[str], None] | None = None) -> ExplainResult:
    """Explain a saved model on the rows of ``data``: SHAP values and partial dependence.

    Parameters
    ----------
    model : path, ``models:/NAME@ALIAS`` or Package
        The model package (directory or ``.mwpkg``), a registry reference or a loaded package.
    data : path or DataFrame
        Rows with the model's feature columns; other columns (the target, ids) are left out.
    pdp : list, optional
        Columns and pairs for partial dependence, e.g. ``["age", ("age", "income")]``
        (default: the top 2 features and their pair).
    max_rows : int
        Explain at most this many rows (a seeded sample).
    explainer : {"auto", "tree", "linear", "exact", "permutation"}
    kind : {"average", "individual", "both"}
        Partial dependence, ICE lines or both.
    seed : int
        Seed of the row and background samples.
    log : callable, optional
        Called with progress lines (columns left out, the cost estimate).

    Returns
    -------
    ExplainResult
        ``write(out_dir)`` writes the plots and ``explanation.json``.
    """
    from modelworks.data import load_table
    from modelworks.explain import estimate_cost, explain_model, partial_dependence
    from modelworks.package import load_ref

    say = log or (lambda _line: None)
    package = load_ref(model)
    raw = load_table(data)
    # the model's columns, matched by name and converted as predict does; the target, ids and other
    # columns the model never saw are left out of the explanation
    frame = package.validate(raw, ignore_extra=True)
    left_out = [str(c) for c in raw.columns if c not in set(frame.columns)]
    if left_out:
        say(f"not model inputs, left out: {', '.join(left_out)}")
    if pdp is not None:  # fail before the expensive part
        from modelworks.explain._pdp import _parse_features

        _parse_features(pdp, [str(c) for c in frame.columns])
    cost = estimate_cost(package.model, frame, max_rows=max_rows, explainer=explainer, seed=seed)
    say(f"estimated cost: {cost}")
    ex = explain_model(package.model, frame, max_rows=max_rows, seed=seed, explainer=explainer)
    features = pdp
    if features is None:
        top = list(ex.top_features(2)["feature"])
        features = top + ([tuple(top)] if len(top) == 2 else [])
    pd_result = partial_dependence(package.model, frame, features, kind=kind, max_rows=max_rows, seed=seed)
    data_ref = data if isinstance(data, str | os.PathLike) else "data"
    return ExplainResult(getattr(model, "path", model), data_ref, ex, pd_result, left_out=left_out, cost=cost)
