"""``explain_model(model, X)``: SHAP values in the user's column names, with plots and a cost estimate."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelworks._validation import check_scalar
from modelworks.exceptions import ExplainError
from modelworks.explain._model import check_input, ensemble_kind, family_of, unit_of
from modelworks.explain._shap import EXPLAINERS, Computed, compute

log = logging.getLogger("modelworks.explain")

PREVIEW_ROWS = 4
PREVIEW_MIN_ROWS = 100  # below this the preview would cost a noticeable share of the run
_FAST = ("tree-path", "linear")  # explainers whose cost is negligible: no preview run
MAX_BACKGROUND = 1000


@dataclass
class CostEstimate:
    """How long explaining will take, measured on a small sampled preview.

    Attributes
    ----------
    explainer : str
        The algorithm that will run.
    rows, features, background_rows : int
        The work: rows to explain x features x background rows (interventional/agnostic).
    model_evaluations : float
        Model row-evaluations the explainer needs (rows x per-row cost).
    seconds : float or None
        Estimated wall time (``setup + per_row * rows`` from two preview sizes), None when the
        path is known to be cheap and no preview was run.
    preview_rows : int
    actual_seconds : float or None
        Filled in after :func:`explain` ran.
    """

    explainer: str
    rows: int
    features: int
    background_rows: int
    model_evaluations: float
    seconds: float | None
    preview_rows: int = 0
    actual_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __str__(self) -> str:
        t = "cheap (no preview needed)" if self.seconds is None else f"about {self.seconds:.3g} s"
        return (f"{self.explainer}: {self.rows} rows x {self.features} features"
                f"{f' x {self.background_rows} background rows' if self.background_rows else ''}"
                f" = {self.model_evaluations:.3g} model evaluations, {t}")


def _fast_path(model, X, background, explainer) -> str | None:
    """Name of a known-cheap path (single tree model without background, or a linear model)."""
    if ensemble_kind(model) is not None or explainer not in ("auto", "tree", "linear"):
        return None
    unit = unit_of(model, list(X.columns))
    fam = family_of(unit.final)
    if fam == "tree" and background is None and explainer in ("auto", "tree"):
        from modelworks.explain._shap import _tree_supports, natural_method

        method, _ = natural_method(unit.final)
        classes = getattr(model, "classes_", None)
        if _tree_supports(unit.final, method, False, 0 if classes is None else len(classes)) is None:
            return "tree-path"
    if fam == "linear" and explainer in ("auto", "linear") and ensemble_kind(model) is None:
        return "linear"
    return None


def _rows(X: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    if max_rows is not None:
        max_rows = check_scalar(max_rows, "max_rows", kind=int, low=1, error=ExplainError)
        if len(X) > max_rows:
            return X.sample(n=int(max_rows), random_state=seed)
    return X


def _background(model, background, seed) -> pd.DataFrame | None:
    if background is None:
        return None
    bg = check_input(model, background, what="background")
    if len(bg) > MAX_BACKGROUND:
        bg = bg.sample(n=MAX_BACKGROUND, random_state=seed)
    return bg


def _preview(model, X, bg, explainer, seed, fast: str | None) -> CostEstimate:
    n, p = X.shape
    nbg = 0 if bg is None else len(bg)
    if fast is not None:
        return CostEstimate(explainer=fast, rows=n, features=p, background_rows=nbg,
                            model_evaluations=float(n), seconds=None)
    k = min(PREVIEW_ROWS, n)
    sample = X.sample(n=min(n, 3 * k), random_state=seed + 1)
    small, big = sample.iloc[:k], sample.iloc[k:]
    # one row first, untimed: the first call compiles the tree kernels (numba) and fills caches, a
    # one-off cost that, timed on the small preview, would read as set-up and hide the per-row cost
    compute(model, small.iloc[:1], background=bg, explainer=explainer, seed=seed, progress_desc=None)
    t0 = time.perf_counter()
    first = compute(model, small, background=bg, explainer=explainer, seed=seed, progress_desc=None)
    t1 = time.perf_counter() - t0
    if len(big) > 0:
        t0 = time.perf_counter()
        compute(model, big, background=bg, explainer=explainer, seed=seed, progress_desc=None)
        t2 = time.perf_counter() - t0
        per_row = max(t2 - t1, 0.0) / max(len(big) - k, 1) if len(big) > k else t2 / len(big)
        # two short timings on a busy machine are noisy: never less than half the big preview's mean
        per_row = max(per_row, 0.5 * t2 / len(big))
        setup = max(t1 - per_row * k, 0.0)
    else:
        per_row, setup = t1 / k, 0.0
    per_row_evals = first.evaluations / k
    bg_rows = first.background_rows
    return CostEstimate(explainer=first.explainer, rows=n, features=p, background_rows=bg_rows,
                        model_evaluations=per_row_evals * n, seconds=setup + per_row * n,
                        preview_rows=len(sample))


def estimate_cost(model, X, *, background=None, max_rows: int | None = None, explainer: str = "auto",
                  seed: int = 0) -> CostEstimate:
    """Estimate the cost of :func:`explain` before running it, from a sampled preview.

    The explainer modelworks would choose runs on a few sampled rows (two sizes, to separate
    set-up from per-row time); the estimate is ``setup + per_row * rows``. Single tree models
    (path-dependent TreeSHAP) and linear models are known to be cheap and are not previewed.

    Parameters
    ----------
    model : fitted estimator, pipeline or ensemble
    X : DataFrame
        The rows that would be explained.
    background, max_rows, explainer, seed
        As for :func:`explain`.

    Returns
    -------
    CostEstimate
    """
    if explainer not in EXPLAINERS:
        raise ExplainError(f"unknown explainer {explainer!r}; choose one of: {', '.join(EXPLAINERS)}")
    X = _rows(check_input(model, X), max_rows, seed)
    bg = _background(model, background, seed)
    return _preview(model, X, bg, explainer, seed, _fast_path(model, X, bg, explainer))


def _codes(X: pd.DataFrame) -> np.ndarray:
    """Numbers for every column (categories as codes) so plots can colour by value."""
    out = np.empty(X.shape, dtype=float)
    for j, col in enumerate(X.columns):
        s = X[col]
        if pd.api.types.is_bool_dtype(s):
            out[:, j] = s.astype(float).to_numpy()
        elif pd.api.types.is_numeric_dtype(s):
            out[:, j] = s.to_numpy(dtype=float, na_value=np.nan)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[:, j] = s.astype("int64").to_numpy(dtype=float) / 86_400e9  # days since epoch
        else:
            codes = pd.Categorical(s.astype(object).where(s.notna(), None)).codes.astype(float)
            codes[codes < 0] = np.nan
            out[:, j] = codes
    return out


def _to_shap(values, base, data, names, display=None, output_names=None):
    import shap

    n = values.shape[0]
    if values.shape[2] == 1:
        vals = values[:, :, 0]
        bases = np.full(n, float(base[0]))
    else:
        vals = values
        bases = np.tile(np.asarray(base, dtype=float), (n, 1))
    return shap.Explanation(values=vals, base_values=bases, data=data, feature_names=list(names),
                            display_data=display, output_names=output_names)


@dataclass
class Explanation:
    """SHAP values of a model on some rows, in the user's column names.

    Attributes
    ----------
    shap : shap.Explanation
        Values of shape (rows, columns) for one output, (rows, columns, classes) for multiclass;
        one-hot parts summed back into their source column. ``shap.data`` holds numbers
        (categories as codes), ``shap.display_data`` the original values.
    shap_encoded : shap.Explanation or None
        The same values per encoded feature (``None`` when ensemble members encode differently).
    explainer_name : str
        ``tree``, ``linear``, ``exact``, ``permutation`` or ``ensemble-linear``.
    reason : str
        Why that explainer, in one sentence.
    output : str
        What the values add up to (e.g. "probability of class 'yes'", "log-odds (margin) of ...").
    cost_estimate : CostEstimate
    components : list of dict
        The explainer used for each ensemble member (one entry for a single model).
    index : list
        Index labels of the explained rows (a sample of ``X`` when ``max_rows`` is set).
    """

    shap: Any
    shap_encoded: Any
    explainer_name: str
    reason: str
    output: str
    outputs: list[str]
    cost_estimate: CostEstimate
    seconds: float
    components: list[dict] = field(default_factory=list)
    index: list = field(default_factory=list)  # the index labels of the explained rows in X

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self.shap.values)

    @property
    def feature_names(self) -> list[str]:
        return list(self.shap.feature_names)

    @property
    def multiclass(self) -> bool:
        return self.values.ndim == 3

    def _single(self, class_index: int | None):
        """A single-output view (one class of a multiclass explanation)."""
        if not self.multiclass:
            return self.shap
        k = self._class_index(class_index)
        exp = self.shap[:, :, k]
        return exp

    def _class_index(self, class_index) -> int:
        if class_index is None:  # the class whose values move the most
            return int(np.argmax(np.abs(self.values).mean(axis=(0, 1))))
        if isinstance(class_index, str):
            if class_index not in self.outputs:
                raise ExplainError(f"class {class_index!r} not found; classes are: {', '.join(self.outputs)}")
            return self.outputs.index(class_index)
        if not 0 <= int(class_index) < len(self.outputs):
            raise ExplainError(f"class_index must be in 0..{len(self.outputs) - 1}, got {class_index}")
        return int(class_index)

    def importance(self) -> pd.Series:
        """Mean |SHAP| per column (summed over classes for multiclass), largest first."""
        v = np.abs(self.values).mean(axis=0)
        if v.ndim == 2:
            v = v.sum(axis=1)
        return pd.Series(v, index=self.feature_names, name="mean_abs_shap").sort_values(ascending=False)

    def top_features(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` most important columns: ``feature``, ``mean_abs_shap`` (and per class)."""
        imp = self.importance().head(int(n))
        out = pd.DataFrame({"feature": imp.index, "mean_abs_shap": imp.to_numpy()})
        if self.multiclass:
            per = np.abs(self.values).mean(axis=0)
            idx = [self.feature_names.index(f) for f in imp.index]
            for k, name in enumerate(self.outputs):
                out[f"mean_abs_shap[{name}]"] = per[idx, k]
        return out

    def to_dict(self, n: int = 10) -> dict[str, Any]:
        """JSON-able summary: explainer, why, output scale, base values, top features, cost."""
        base = np.asarray(self.shap.base_values)
        return {
            "explainer": self.explainer_name,
            "reason": self.reason,
            "output": self.output,
            "outputs": list(self.outputs),
            "rows": int(self.values.shape[0]),
            "features": self.feature_names,
            "base_value": base[0].tolist() if base.ndim > 1 else float(base[0]),
            "top_features": self.top_features(n).to_dict(orient="records"),
            "components": self.components,
            "cost": self.cost_estimate.to_dict(),
            "seconds": self.seconds,
        }

    def plots(self, out_dir: str | os.PathLike, *, row: int = 0, feature: str | None = None,
              class_index: int | str | None = None, max_display: int = 12,
              prefix: str = "shap") -> dict[str, Path]:
        """Write beeswarm, bar, dependence (coloured by the strongest interaction) and waterfall PNGs.

        Parameters
        ----------
        out_dir : path
            Directory for the PNG files (created).
        row : int
            Row (position in the explained rows) for the waterfall plot.
        feature : str, optional
            Column for the dependence plot (default: the most important).
        class_index : int or str, optional
            Multiclass: which class the beeswarm, dependence and waterfall show (default: the
            class with the largest values); the bar plot shows every class.
        max_display : int
        prefix : str
            File name prefix.

        Returns
        -------
        dict
            ``{"beeswarm": path, "bar": path, "dependence": path, "waterfall": path}``.
        """
        from modelworks.explain._plots import shap_plots

        n = self.values.shape[0]
        if not 0 <= int(row) < n:
            raise ExplainError(f"row must be in 0..{n - 1} (a position in the explained rows), got {row}")
        if feature is not None and feature not in self.feature_names:
            raise ExplainError(f"feature {feature!r} not found; columns are: {', '.join(self.feature_names)}")
        return shap_plots(self, Path(out_dir), row=int(row), feature=feature, class_index=class_index,
                          max_display=max_display, prefix=prefix)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.values.shape)
        return (f"Explanation({self.explainer_name}, {self.output}, values {shape}, "
                f"{self.seconds:.3g} s)")


def explain_model(model, X, *, background=None, max_rows: int | None = None, seed: int = 0,
            explainer: str = "auto") -> Explanation:
    """Explain a fitted model's predictions on ``X`` with SHAP values, in your column names.

    Parameters
    ----------
    model : fitted estimator
        A modelworks model or pipeline (preprocessing + estimator), a scikit-learn, xgboost or
        lightgbm estimator, or a modelworks blend / ensemble selection / stack.
    X : DataFrame
        Rows to explain, with the columns the model was fitted on.
    background : DataFrame, optional
        Reference rows the values are measured against (interventional SHAP). Default: none for
        a single tree model (path-dependent TreeSHAP, the trees' own training cover); 100 rows
        sampled from ``X`` for everything else. Ensembles always use one common background.
    max_rows : int, optional
        Explain at most this many rows (a seeded sample of ``X``) to bound the cost.
    seed : int
        Seed of the row, background and permutation samples.
    explainer : {"auto", "tree", "linear", "exact", "permutation"}
        ``auto`` picks by model type: TreeSHAP for tree models (xgboost, lightgbm, scikit-learn
        forests and boosting), linear SHAP for linear models, exact Shapley values (<= 10
        features) or permutation SHAP otherwise; blends and linear stacks by linearity.

    Returns
    -------
    Explanation

    Raises
    ------
    NotFittedError
        The model is not fitted.
    ColumnError
        ``X`` has columns the model did not see, or lacks some (they are named).
    ExplainError
        The explainer asked for cannot handle this model (the message names one that can).

    Examples
    --------
    >>> ex = explain_model(model, X_test, max_rows=500)  # doctest: +SKIP
    >>> ex.top_features(5)  # doctest: +SKIP
    >>> ex.plots("plots/")  # doctest: +SKIP
    """
    from modelworks._imports import require

    require("shap", purpose="SHAP explanations")
    if explainer not in EXPLAINERS:
        raise ExplainError(f"unknown explainer {explainer!r}; choose one of: {', '.join(EXPLAINERS)}")
    X = _rows(check_input(model, X), max_rows, seed)
    bg = _background(model, background, seed)
    fast = _fast_path(model, X, bg, explainer)
    if fast is None and len(X) >= PREVIEW_MIN_ROWS:
        estimate = _preview(model, X, bg, explainer, seed, None)
        msg = f"explaining {estimate}; use max_rows to bound it"
        (log.warning if (estimate.seconds or 0) > 30 else log.info)(msg)
    else:
        estimate = _preview(model, X, bg, explainer, seed, fast or "pending")
    t0 = time.perf_counter()
    computed: Computed = compute(model, X, background=bg, explainer=explainer, seed=seed)
    seconds = time.perf_counter() - t0
    estimate.actual_seconds = seconds
    if estimate.seconds is None:
        estimate.explainer = computed.explainer
        estimate.background_rows = computed.background_rows
        estimate.model_evaluations = computed.evaluations
    display = X.to_numpy(dtype=object)
    outputs = computed.outputs if computed.orig.shape[2] > 1 else None
    exp = _to_shap(computed.orig, computed.base, _codes(X), X.columns, display, outputs)
    exp_enc = None
    if computed.enc is not None and computed.enc_names is not None:
        exp_enc = _to_shap(computed.enc, computed.base, computed.enc_data, computed.enc_names, None, outputs)
    return Explanation(shap=exp, shap_encoded=exp_enc, explainer_name=computed.explainer,
                       reason=computed.reason, output=computed.output, outputs=computed.outputs,
                       cost_estimate=estimate, seconds=seconds, components=computed.components,
                       index=list(X.index))


@dataclass
class BudgetPlan:
    """What :func:`explain_within` did with its time budget.

    Attributes
    ----------
    rows : int
        Rows explained (0 when skipped).
    budget_s : float or None
        The budget it was given (None: no limit).
    estimate : CostEstimate or None
        The cost estimate for the requested rows (None when skipped before estimating).
    skipped : str or None
        Why nothing was explained.
    shrunk : str or None
        Why fewer rows than requested were explained.
    seconds : float
        Wall time spent, estimate included.
    """

    rows: int
    budget_s: float | None
    estimate: CostEstimate | None = None
    skipped: str | None = None
    shrunk: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "budget_s": self.budget_s, "skipped": self.skipped, "shrunk": self.shrunk,
                "seconds": round(self.seconds, 3),
                "estimate": None if self.estimate is None else self.estimate.to_dict()}


def explain_within(model, X, *, budget_s: float | None, background=None, max_rows: int = 500,
                   min_rows: int = 20, seed: int = 0, explainer: str = "auto") -> tuple[Explanation | None, BudgetPlan]:
    """:func:`explain`, shrunk (fewer rows) or skipped so that it fits in ``budget_s`` seconds.

    Known-cheap paths (a single tree model's path-dependent TreeSHAP, linear models) run at
    once. Otherwise :func:`estimate_cost` previews the explainer on a few rows (its time counts
    against the budget); the rows are cut in proportion when the estimate overruns what is
    left, and nothing runs when even ``min_rows`` rows would not fit.

    Parameters
    ----------
    model, X, background, seed, explainer
        As for :func:`explain`.
    budget_s : float or None
        Seconds this call may take; None for no limit.
    max_rows : int
        Rows to explain when time allows (a seeded sample of ``X``).
    min_rows : int
        Fewer rows than this are not worth explaining: skip instead.

    Returns
    -------
    (Explanation or None, BudgetPlan)
        The explanation (None when skipped) and what was planned and why.
    """
    budget_s = check_scalar(budget_s, "budget_s", kind=float, allow_none=True, error=ExplainError)
    max_rows = check_scalar(max_rows, "max_rows", kind=int, low=1, error=ExplainError)
    min_rows = check_scalar(min_rows, "min_rows", kind=int, low=1, error=ExplainError)
    t0 = time.perf_counter()
    rows = int(min(max_rows, len(X)))
    plan = BudgetPlan(rows=rows, budget_s=budget_s)
    if budget_s is not None and budget_s <= 0:
        plan.rows, plan.skipped = 0, "no time left in the budget"
        return None, plan
    if budget_s is not None:
        plan.estimate = estimate_cost(model, X, background=background, max_rows=rows, explainer=explainer,
                                      seed=seed)
        left = budget_s - (time.perf_counter() - t0)
        need = plan.estimate.seconds
        if need is not None and need > left:
            fit = int(rows * max(left, 0.0) / max(need, 1e-9))
            if fit < min(min_rows, rows):
                plan.rows = 0
                plan.skipped = (f"{plan.estimate.explainer} SHAP would take about {need:.3g} s for {rows} rows "
                                f"(at least {min(min_rows, rows)} rows are worth it); {max(left, 0):.3g} s were left")
                plan.seconds = time.perf_counter() - t0
                return None, plan
            plan.shrunk = (f"{fit} of {rows} rows explained: {rows} would take about {need:.3g} s, "
                           f"{left:.3g} s were left")
            plan.rows = fit
    ex = explain_model(model, X, background=background, max_rows=plan.rows, seed=seed, explainer=explainer)
    plan.seconds = time.perf_counter() - t0
    return ex, plan
