# Long module: one scikit-learn estimator (MixedModel) whose fit, diagnostics and tables share fitted state; the model-file allow-list pins its path.
"""Linear mixed-effects models: statsmodels MixedLM behind a scikit-learn estimator.

statsmodels does the estimation. modelworks adds what a statistician needs around it:
input checks with actionable messages, optimiser retries whose warnings are never swallowed,
a relative singular-fit check (like lme4's), BLUP-based predictions for known groups and
fixed-effects-only predictions for new ones, a likelihood-ratio test, and predict-time state
kept as plain numpy/lists so a fitted model can be saved with skops.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from modelworks.exceptions import ColumnError, StatsError
from modelworks.stats._common import (
    FitConvergenceWarning,
    StatsWarning,
    UnfittedError,
    check_columns,
    check_no_nan,
    check_numeric_response,
    formula_columns,
    python_scalar,
    to_frame,
)
from modelworks.stats._formula import eval_env

_ON_SINGULAR = ("warn", "raise")
# variance (as sd relative to the residual sd) below which a fit is called singular (lme4 uses
# the same idea: a relative Cholesky factor below 1e-4)
_SINGULAR_REL_SD = 1e-3
_SINGULAR_CORR = 0.999
_HEAVY = ("result_", "_fe_design_info")
# patsy transforms that learn from the training data (their state is not saved with the model)
_STATEFUL = {"center", "standardize", "scale", "bs", "cr", "cc", "te", "Poly"}


@dataclass(frozen=True)
class LRTResult:
    """A likelihood-ratio test between two nested mixed models.

    Attributes
    ----------
    statistic : float
        ``2 * (loglik_larger - loglik_smaller)``.
    df : int
        Difference in the number of estimated parameters.
    p_value : float
        Chi-squared p-value with ``df`` degrees of freedom.
    loglik_small, loglik_large : float
    note : str
        Caveats (REML comparisons, boundary tests of a variance).
    """

    statistic: float
    df: int
    p_value: float
    loglik_small: float
    loglik_large: float
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _split_formula(formula: str) -> tuple[str, str]:
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise StatsError(
            f"formula must look like 'y ~ x1 + x2' (one '~' with the response on the left), "
            f"got {formula!r}"
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs:
        raise StatsError(f"formula {formula!r} has no response on the left of '~'")
    return lhs, rhs or "1"


def _re_rhs(re_formula: str | None) -> str:
    if re_formula is None:
        return "1"
    return re_formula.split("~", 1)[1].strip() if "~" in re_formula else re_formula.strip()


class MixedModel(RegressorMixin, BaseEstimator):
    """Linear mixed-effects model from a formula and a grouping column (statsmodels MixedLM).

    ``fit(df)`` takes one DataFrame holding the response named on the left of ``formula``;
    ``fit(X, y)`` (the scikit-learn form) takes the predictors and the response separately,
    so the model works in ``cross_val_score`` and pipelines.

    Parameters
    ----------
    formula : str
        Fixed effects in patsy notation, e.g. ``"Reaction ~ Days"``.
    groups : str
        Column whose values define the groups (subjects, schools...).
    re_formula : str, optional
        Random-effects design within a group, e.g. ``"~Days"`` for a random intercept and a
        random slope of ``Days``. Default: a random intercept only.
    vc_formula : dict of str to str, optional
        Variance components for effects nested in a group, e.g. ``{"cask": "0 + cask"}``.
    reml : bool, default True
        Restricted maximum likelihood (as lme4's default). Use ``False`` (ML) to compare models
        with different fixed effects by AIC/BIC or :meth:`lrt`.
    optimizers : tuple of str, default ("bfgs", "lbfgs", "cg")
        Optimisers statsmodels tries in order until one converges.
    fallback_optimizers : tuple of str, default ("powell", "nm")
        Tried one by one, from scratch, when none of ``optimizers`` converged.
    maxiter : int, optional
        Iteration limit passed to the optimiser.
    on_singular : {"warn", "raise"}, default "warn"
        What to do when a random-effect variance is estimated at zero (or a correlation at
        +/-1): the data cannot support that random-effects structure.
    alpha : float, default 0.05
        Level of the confidence intervals of :meth:`fixed_effects`.

    Attributes
    ----------
    result_ : statsmodels MixedLMResults
        The full statsmodels result (not saved with skops; see ``summary``).
    fe_names_, fe_params_, fe_bse_, fe_ci_ : fixed effects, their standard errors and CIs.
    cov_re_ : ndarray
        Covariance matrix of the random effects (``re_names_`` order).
    vcomp_ : ndarray
        Variance components (``vc_names_`` order).
    scale_ : float
        Residual variance.
    llf_, aic_, bic_ : float
        Log-likelihood (restricted under REML); AIC/BIC are NaN under REML as in statsmodels.
    group_labels_ : list
        Groups seen at fit, in the order of ``blup_`` rows.
    blup_, blup_sd_ : ndarray of shape (n_groups, n_random)
        Best linear unbiased predictions of each group's random effects and their conditional sd.
    converged_, singular_ : bool
    fit_history_ : list of dict
        Every optimiser attempt (method, converged, log-likelihood).

    Notes
    -----
    Persisted with skops, the model keeps everything needed to predict and to report, but not
    the statsmodels result: ``summary()`` then returns the summary text stored at save time.
    """

    def __init__(
        self,
        formula: str | None = None,
        groups: str | None = None,
        *,
        re_formula: str | None = None,
        vc_formula: dict | None = None,
        reml: bool = True,
        optimizers: tuple = ("bfgs", "lbfgs", "cg"),
        fallback_optimizers: tuple = ("powell", "nm"),
        maxiter: int | None = None,
        on_singular: str = "warn",
        alpha: float = 0.05,
    ) -> None:
        self.formula = formula
        self.groups = groups
        self.re_formula = re_formula
        self.vc_formula = vc_formula
        self.reml = reml
        self.optimizers = optimizers
        self.fallback_optimizers = fallback_optimizers
        self.maxiter = maxiter
        self.on_singular = on_singular
        self.alpha = alpha

    # ------------------------------------------------------------------ validation
    def _validate(self, data: pd.DataFrame) -> tuple[str, str, list[str]]:
        if self.formula is None or self.groups is None:
            raise StatsError("MixedModel needs formula= (e.g. 'y ~ x1 + x2') and groups= (a column name)")
        if self.on_singular not in _ON_SINGULAR:
            raise StatsError(f"on_singular must be one of {', '.join(_ON_SINGULAR)}, got {self.on_singular!r}")
        if not 0 < self.alpha < 1:
            raise StatsError(f"alpha must be between 0 and 1, got {self.alpha}")
        lhs, rhs = _split_formula(self.formula)
        cols = formula_columns(self.formula)  # refuses Python outside the formula grammar
        check_columns(data, cols, what=f"formula {self.formula!r}", hint="fix the formula or the data")
        if self.groups not in data.columns:
            check_columns(data, [self.groups], what="groups", param="groups", hint="name the grouping column with {}")
        used = list(cols) + [self.groups]
        if self.re_formula is not None:
            re_cols = formula_columns(_re_rhs(self.re_formula), what="re_formula")
            check_columns(data, re_cols, what=f"re_formula {self.re_formula!r}", hint="fix re_formula")
            used += re_cols
        if self.vc_formula is not None:
            if not isinstance(self.vc_formula, dict) or not self.vc_formula:
                raise StatsError(
                    "vc_formula must be a dict of name -> formula, e.g. {'cask': '0 + cask'}, "
                    f"got {self.vc_formula!r}"
                )
            for name, f in self.vc_formula.items():
                vc_cols = formula_columns(f, what=f"vc_formula {name!r}")
                check_columns(data, vc_cols, what=f"vc_formula {name!r}: {f!r}", hint="fix vc_formula")
                used += vc_cols
        used = list(dict.fromkeys(used))
        if lhs in data.columns:
            check_numeric_response(data[lhs], lhs)
        check_no_nan(data, used[:1] if lhs in data.columns else [], role="response")
        check_no_nan(data, [c for c in used if c != lhs])
        sizes = data[self.groups].value_counts()
        if len(sizes) < 2:
            only = sizes.index[0] if len(sizes) else None
            raise StatsError(
                f"group column {self.groups!r} has a single group ({only!r}): a random effect's "
                "variance is estimated from the spread between groups, so at least two groups "
                "are needed (use a column with several groups, or fit an ordinary regression)"
            )
        if int(sizes.max()) == 1:
            raise StatsError(
                f"every group of {self.groups!r} has exactly one row ({len(sizes)} groups for "
                f"{len(data)} rows): with one observation per group a random intercept cannot be "
                "told apart from the residual error; group by a column that has repeated rows"
            )
        return lhs, rhs, used

    def _frame(self, X, y) -> tuple[pd.DataFrame, str]:
        data = to_frame(X)
        lhs, _ = _split_formula(self.formula) if self.formula else ("", "")
        if y is not None:
            names = formula_columns(lhs)
            target = names[0] if names else lhs
            yv = np.asarray(y)
            if yv.ndim != 1 or len(yv) != len(data):
                raise StatsError(f"y must be 1-D with {len(data)} values, got shape {yv.shape}")
            data = data.assign(**{target: yv})
        return data, lhs

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame
            The data: all columns named in the formulas and ``groups`` (plus the response when
            ``y`` is None).
        y : array-like, optional
            The response, when it is not a column of ``X``.

        Returns
        -------
        self

        Raises
        ------
        ColumnError
            A formula names columns that are not in the data.
        StatsError
            Non-numeric response, NaN in a used column, one group, one row per group, a
            singular fixed-effects design, or a singular fit with ``on_singular="raise"``.
        """
        from patsy import PatsyError
        from statsmodels.regression.mixed_linear_model import MixedLM

        data, _ = self._frame(X, y)
        lhs, rhs, used = self._validate(data)
        data = data[[c for c in used if c in data.columns]]
        try:
            model = MixedLM.from_formula(
                self.formula, data=data, groups=self.groups,
                re_formula=self.re_formula if self.re_formula is not None else "1",
                vc_formula=self.vc_formula, eval_env=eval_env(),
            )
        except PatsyError as e:
            raise StatsError(f"cannot build the design from formula {self.formula!r}: {e}") from e
        if model.endog.ndim != 1:
            raise StatsError(f"response {lhs!r} must be one numeric column")
        if np.linalg.matrix_rank(model.exog) < model.exog.shape[1]:
            raise StatsError(
                f"the fixed-effects design of {self.formula!r} is singular (collinear columns: "
                f"{', '.join(model.exog_names)}); drop a redundant term"
            )
        result, history, caught = self._fit_with_retries(model)
        self.result_ = result
        self.fit_history_ = history
        self.converged_ = bool(result.converged)
        self._store(model, result, data, lhs, rhs)
        self._report_warnings(caught, history)
        return self

    def _attempt(self, model, methods):
        kwargs = {"maxiter": self.maxiter} if self.maxiter else {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=self.reml, method=list(methods), **kwargs)
            except np.linalg.LinAlgError as e:
                return None, [], str(e)
        tried = [methods[0]] + [
            m.group(1) for w in caught
            if (m := re.search(r"Retrying MixedLM optimization with (\w+)", str(w.message)))
        ]
        return result, caught, tried

    def _fit_with_retries(self, model):
        history: list[dict] = []
        result, caught, tried = self._attempt(model, tuple(self.optimizers))
        if result is not None:
            history.append({"methods": tried, "converged": bool(result.converged)})
        else:
            history.append({"methods": list(self.optimizers), "converged": False, "error": tried})
        best = (result, caught)
        if result is None or not result.converged:
            if result is not None:
                history[-1]["loglik"] = float(result.llf)
            for method in self.fallback_optimizers:
                res2, caught2, tried2 = self._attempt(model, (method,))
                if res2 is None:
                    history.append({"methods": [method], "converged": False, "error": tried2})
                    continue
                history.append({"methods": [method], "converged": bool(res2.converged), "loglik": float(res2.llf)})
                if best[0] is None or res2.converged or res2.llf > best[0].llf:
                    best = (res2, caught2)
                if res2.converged:
                    break
        if best[0] is None:
            raise StatsError(
                f"MixedLM failed with every optimiser ({history[0].get('error')}); the random-effects "
                "design is probably singular: simplify re_formula/vc_formula or rescale predictors"
            )
        return best[0], history, best[1]

    def _store(self, model, result, data, lhs, rhs) -> None:
        k_fe = model.k_fe
        self.response_ = lhs
        self.fe_rhs_ = rhs
        self.n_obs_ = int(model.nobs)
        self.fe_names_ = list(model.exog_names)
        self.fe_params_ = np.asarray(result.fe_params, dtype=float)
        self.fe_bse_ = np.asarray(result.bse_fe, dtype=float)
        self.fe_ci_ = np.asarray(result.conf_int(alpha=self.alpha))[:k_fe]
        self.fe_pvalues_ = np.asarray(result.pvalues)[:k_fe]
        self.cov_re_ = np.asarray(result.cov_re, dtype=float)
        self.re_names_ = list(model.exog_re_names) if hasattr(model, "exog_re_names") else list(result.cov_re.index)
        self.re_design_names_ = list(model.data.exog_re_names) if hasattr(model.data, "exog_re_names") else list(self.re_names_)
        self.vcomp_ = np.asarray(result.vcomp, dtype=float)
        self.vc_names_ = list(model.exog_vc.names) if model.k_vc else []
        self.scale_ = float(result.scale)
        self.likelihood_ = None  # log-likelihood, AIC, BIC: computed on first use (a full pass)
        self.n_params_ = int(k_fe + model.k_re2 + model.k_vc)
        self.method_ = "REML" if self.reml else "ML"
        self.group_labels_ = [python_scalar(g) for g in model.group_labels]
        self.n_groups_ = len(self.group_labels_)
        self.levels_ = {
            c: [python_scalar(v) for v in sorted(pd.unique(data[c]))]
            for c in data.columns
            if c not in (lhs, self.groups) and not pd.api.types.is_numeric_dtype(data[c])
        }
        self._compute_blups(model, result)
        # patsy's design info is not safe to persist; keep it in memory only when a stateful
        # transform (center(), standardize(), spline bases) learned something from this data
        same = not (_STATEFUL & set(re.findall(r"([A-Za-z_]\w*)\s*\(", self.fe_rhs_)))
        self.portable_design_ = bool(same)
        self._fe_design_info = None if same else getattr(model.data, "model_spec", None) or model.data.design_info
        self.singular_ = self._singular_message() is not None

    def _compute_blups(self, model, result) -> None:
        G = self.n_groups_
        k = model.k_re
        if model.k_vc == 0:
            # Henderson's equations per group, vectorised (statsmodels loops over groups):
            # b_g = (Psi Z'Z + s2 I)^-1 Psi Z'r,  Var(b_g | y) = s2 (Psi Z'Z + s2 I)^-1 Psi
            codes = pd.Index(model.group_labels).get_indexer(model.groups)
            Z = np.asarray(model.exog_re, dtype=float)
            resid = np.asarray(model.endog) - np.asarray(model.exog) @ self.fe_params_
            ztz = np.empty((G, k, k))
            for a in range(k):
                for b in range(a, k):
                    ztz[:, a, b] = ztz[:, b, a] = np.bincount(codes, Z[:, a] * Z[:, b], minlength=G)
            ztr = np.stack([np.bincount(codes, Z[:, a] * resid, minlength=G) for a in range(k)], axis=1)
            psi, s2 = self.cov_re_, self.scale_
            M = psi[None] @ ztz + s2 * np.eye(k)[None]
            self.blup_ = np.linalg.solve(M, (psi @ ztr.T).T[..., None])[..., 0]
            cond = s2 * np.linalg.solve(M, np.broadcast_to(psi, (G, k, k)))
            self.blup_sd_ = np.sqrt(np.clip(np.diagonal(cond, axis1=1, axis2=2), 0, None))
            self.vc_keys_, self.vc_blup_, self.vc_blup_sd_ = [], np.zeros(0), np.zeros(0)
            return
        re_ = result.random_effects
        re_cov = result.random_effects_cov
        self.blup_ = np.zeros((G, k))
        self.blup_sd_ = np.zeros((G, k))
        keys, vals, sds = [], [], []
        for gi, label in enumerate(model.group_labels):
            series = re_[label]
            sd = np.sqrt(np.clip(np.diag(np.asarray(re_cov[label])), 0, None))
            self.blup_[gi] = series.to_numpy()[:k]
            self.blup_sd_[gi] = sd[:k]
            for j, name in enumerate(series.index[k:]):
                vc = next(v for v in self.vc_names_ if name.startswith(v + "["))
                keys.append([gi, vc, name[len(vc) + 1 : -1]])
                vals.append(series.iloc[k + j])
                sds.append(sd[k + j])
        self.vc_keys_, self.vc_blup_, self.vc_blup_sd_ = keys, np.asarray(vals), np.asarray(sds)

    def _likelihood(self) -> dict:
        if self.__dict__.get("likelihood_") is None:
            r = self.result_
            self.likelihood_ = {"llf": float(r.llf), "aic": float(r.aic), "bic": float(r.bic)}
        return self.likelihood_

    @property
    def llf_(self) -> float:
        """Log-likelihood (restricted log-likelihood under REML)."""
        return self._likelihood()["llf"]

    @property
    def aic_(self) -> float:
        """AIC (NaN under REML, as in statsmodels: compare models by ML)."""
        return self._likelihood()["aic"]

    @property
    def bic_(self) -> float:
        """BIC (NaN under REML)."""
        return self._likelihood()["bic"]

    # ------------------------------------------------------------------ warnings
    def _singular_message(self) -> str | None:
        sd_res = np.sqrt(self.scale_)
        problems = []
        sds = np.sqrt(np.clip(np.diag(self.cov_re_), 0, None))
        for name, sd in zip(self.re_names_, sds):
            if sd < _SINGULAR_REL_SD * sd_res:
                problems.append(f"the variance of random effect {name!r} is ~0 (sd {sd:.3g} vs residual sd {sd_res:.3g})")
        if len(sds) > 1 and np.all(sds > 0):
            corr = self.cov_re_ / np.outer(sds, sds)
            for i in range(len(sds)):
                for j in range(i):
                    if abs(corr[i, j]) > _SINGULAR_CORR:
                        problems.append(f"the correlation of {self.re_names_[j]!r} and {self.re_names_[i]!r} is {corr[i, j]:+.4f}")
        for name, v in zip(self.vc_names_, self.vcomp_):
            if np.sqrt(max(v, 0.0)) < _SINGULAR_REL_SD * sd_res:
                problems.append(f"variance component {name!r} is ~0 ({v:.3g})")
        if not problems:
            return None
        return (
            "singular fit: " + "; ".join(problems) + ". The data cannot support this random-effects "
            "structure: simplify it (drop the random slope or that variance component), or collect "
            "more groups; fixed effects are still estimated, but tests of that variance sit on the "
            "boundary"
        )

    def _scale_advice(self) -> str:
        sd = self.result_.model.exog.std(axis=0)
        sd = sd[sd > 0]
        if len(sd) > 1 and sd.max() / sd.min() > 1e3:
            return f"rescale the predictors (their sds differ by {sd.max() / sd.min():.0e}x; standardise them)"
        return "rescale predictors to similar ranges"

    def _report_warnings(self, caught, history) -> None:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        advice = (
            f"try: {self._scale_advice()}; a simpler random structure (fewer random slopes / "
            "variance components); another optimiser (optimizers=('nm',)); or maxiter=5000"
        )
        tried = [m for h in history for m in h["methods"]]
        if len(tried) > 1 and self.converged_:
            used = next(h["methods"][-1] for h in history if h["converged"])
            warnings.warn(
                f"MixedLM: {', '.join(tried[:-1])} did not converge; refitted with {used}, which "
                f"converged. Compare the estimates with another optimiser before trusting them ({advice})",
                FitConvergenceWarning, stacklevel=3,
            )
        elif not self.converged_:
            warnings.warn(
                f"MixedLM did not converge with any optimiser ({', '.join(tried)}); the estimates "
                f"may be wrong. {advice[0].upper()}{advice[1:]}",
                FitConvergenceWarning, stacklevel=3,
            )
        singular = self._singular_message()
        if singular is not None:
            if self.on_singular == "raise":
                raise StatsError(singular + " (on_singular='raise')")
            warnings.warn(singular, FitConvergenceWarning, stacklevel=3)
        for w in caught:
            msg = str(w.message)
            if issubclass(w.category, ConvergenceWarning):
                if "Retrying MixedLM" in msg or "optimization failed" in msg or "Gradient optimization failed" in msg:
                    continue  # summarised above
                if "on the boundary" in msg and singular is not None:
                    continue  # summarised above with the relative check
                warnings.warn(f"statsmodels: {msg} ({advice})", FitConvergenceWarning, stacklevel=3)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "fe_params_"):
            raise UnfittedError("this MixedModel is not fitted yet; call fit(data) first")

    def _pin(self, data: pd.DataFrame) -> pd.DataFrame:
        out = data.copy()
        for col, levels in self.levels_.items():
            if col in out.columns:
                unknown = sorted(set(out[col].dropna().unique()) - set(levels), key=str)
                if unknown:
                    raise StatsError(
                        f"column {col!r} has level(s) not seen at fit: {', '.join(map(str, unknown[:10]))} "
                        f"(known: {', '.join(map(str, levels[:20]))})"
                    )
                out[col] = pd.Categorical(out[col], categories=levels)
        return out

    def _rebuild(self, rhs: str, data: pd.DataFrame) -> pd.DataFrame:
        import patsy

        formula_columns(rhs)  # a model loaded from a file carries its formulas: check them again
        try:
            return patsy.dmatrix(rhs, self._pin(data), NA_action="raise", return_type="dataframe",
                                 eval_env=eval_env())
        except patsy.PatsyError as e:
            raise StatsError(f"cannot build the design {rhs!r} for these rows: {e}") from e

    def _fixed_design(self, data: pd.DataFrame) -> np.ndarray:
        if getattr(self, "_fe_design_info", None) is not None:
            import patsy

            return np.asarray(patsy.build_design_matrices([self._fe_design_info], data, NA_action="raise")[0])
        if not self.portable_design_:
            raise StatsError(
                f"formula {self.formula!r} uses a data-dependent transform (center(), standardize()...) "
                "whose training statistics are not saved with the model; precompute that column instead"
            )
        design = self._rebuild(self.fe_rhs_, data)
        if list(design.columns) != self.fe_names_:
            raise StatsError(f"fixed-effects columns {list(design.columns)} differ from the fit's {self.fe_names_}")
        return design.to_numpy()

    def predict_frame(self, X) -> pd.DataFrame:
        """Predictions with their parts, and which rows used a group's random effects.

        Rows whose group was seen at fit get fixed effects + that group's BLUPs; rows of a new
        group (or with no group column) get the fixed effects only.

        Parameters
        ----------
        X : pandas.DataFrame
            Predictors (the formula's columns, and ``groups`` for group-specific predictions).

        Returns
        -------
        pandas.DataFrame
            Columns ``prediction``, ``fixed``, ``random``, ``known_group`` (bool) and ``source``
            (``"fixed+random"`` or ``"fixed only (new group)"``), indexed like ``X``.
        """
        self._check_fitted()
        data = to_frame(X)
        cols = [c for c in formula_columns(self.fe_rhs_)]
        check_columns(data, cols, what="the fixed-effects formula", hint="pass the columns used at fit")
        check_no_nan(data, cols)
        fixed = self._fixed_design(data) @ self.fe_params_
        random = np.zeros(len(data))
        if self.groups in data.columns:
            gidx = pd.Index(self.group_labels_).get_indexer(data[self.groups])
        else:
            warnings.warn(
                f"group column {self.groups!r} is not in the data: every row gets the fixed-effects "
                "(population) prediction", StatsWarning, stacklevel=2,
            )
            gidx = np.full(len(data), -1)
        known = gidx >= 0
        if known.any():
            sub = data.loc[known]
            Z = self._rebuild(_re_rhs(self.re_formula), sub).to_numpy()
            random[known] = np.einsum("ij,ij->i", Z, self.blup_[gidx[known]])
            if self.vc_keys_:
                table = {(int(g), vc, col): v for (g, vc, col), v in zip(self.vc_keys_, self.vc_blup_)}
                for vc in self.vc_names_:
                    Zv = self._rebuild(self.vc_formula[vc], sub)
                    for col in Zv.columns:
                        vals = np.array([table.get((int(g), vc, col), 0.0) for g in gidx[known]])
                        random[known] += Zv[col].to_numpy() * vals
        return pd.DataFrame(
            {
                "prediction": fixed + random,
                "fixed": fixed,
                "random": random,
                "known_group": known,
                "source": np.where(known, "fixed+random", "fixed only (new group)"),
            },
            index=data.index,
        )

    def predict(self, X) -> np.ndarray:
        """Predict: fixed effects + BLUPs for known groups, fixed effects only for new groups.

        Use :meth:`predict_frame` to see which rows used which.
        """
        return self.predict_frame(X)["prediction"].to_numpy()

    def score(self, X, y=None, sample_weight=None) -> float:
        """R^2 of :meth:`predict` (the response is taken from ``X`` when ``y`` is None)."""
        from sklearn.metrics import r2_score

        self._check_fitted()
        if y is None:
            data = to_frame(X)
            if self.response_ not in data.columns:
                raise ColumnError(f"response {self.response_!r} is not in the data; pass y")
            y = data[self.response_]
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))

    # ------------------------------------------------------------------ reporting
    def fixed_effects(self) -> pd.DataFrame:
        """Fixed-effect estimates with standard errors, z, p-values and ``1 - alpha`` CIs."""
        self._check_fitted()
        level = int(round(100 * (1 - self.alpha)))
        return pd.DataFrame(
            {
                "estimate": self.fe_params_,
                "std_error": self.fe_bse_,
                "z": self.fe_params_ / self.fe_bse_,
                "p_value": self.fe_pvalues_,
                f"ci{level}_low": self.fe_ci_[:, 0],
                f"ci{level}_high": self.fe_ci_[:, 1],
            },
            index=pd.Index(self.fe_names_, name="term"),
        )

    def variance_components(self) -> pd.DataFrame:
        """Random-effect variances (and covariances/correlations) and the residual variance."""
        self._check_fitted()
        rows = []
        sds = np.sqrt(np.clip(np.diag(self.cov_re_), 0, None))
        for i, name in enumerate(self.re_names_):
            rows.append({"component": f"{self.groups}: {self._re_label(name)}", "variance": self.cov_re_[i, i],
                         "std_dev": sds[i], "corr": np.nan})
        for i in range(len(sds)):
            for j in range(i):
                corr = self.cov_re_[i, j] / (sds[i] * sds[j]) if sds[i] * sds[j] > 0 else np.nan
                rows.append({"component": f"{self.groups}: cov({self._re_label(self.re_names_[j])}, "
                             f"{self._re_label(self.re_names_[i])})", "variance": self.cov_re_[i, j],
                             "std_dev": np.nan, "corr": corr})
        for name, v in zip(self.vc_names_, self.vcomp_):
            rows.append({"component": f"{name} (within {self.groups})", "variance": v,
                         "std_dev": np.sqrt(max(v, 0.0)), "corr": np.nan})
        rows.append({"component": "Residual", "variance": self.scale_, "std_dev": np.sqrt(self.scale_), "corr": np.nan})
        return pd.DataFrame(rows)

    def _re_label(self, name: str) -> str:
        return "Intercept" if name in (self.groups, "Group", "Intercept") else name

    def random_effects(self, *, with_sd: bool = False) -> pd.DataFrame:
        """BLUPs of each group's random effects (one row per group).

        Parameters
        ----------
        with_sd : bool, default False
            Add ``sd(<effect>)`` columns: the conditional standard deviations used by the
            caterpillar plot.
        """
        self._check_fitted()
        names = [self._re_label(n) for n in self.re_names_]
        out = pd.DataFrame(self.blup_, columns=names, index=pd.Index(self.group_labels_, name=self.groups))
        if with_sd:
            for j, n in enumerate(names):
                out[f"sd({n})"] = self.blup_sd_[:, j]
        if self.vc_keys_:
            long = pd.DataFrame(self.vc_keys_, columns=["g", "vc", "level"])
            long["value"] = self.vc_blup_
            long["name"] = long["vc"] + "[" + long["level"] + "]"
            wide = long.pivot(index="g", columns="name", values="value")
            wide.index = [self.group_labels_[i] for i in wide.index]
            out = out.join(wide)
        return out

    def summary(self):
        """The statsmodels summary (or, for a model loaded from disk, the text saved with it)."""
        self._check_fitted()
        result = getattr(self, "result_", None)
        if result is not None:
            return result.summary()
        return self.summary_text_

    def summary_dict(self) -> dict:
        """JSON-able key figures: method, sizes, log-likelihood, AIC/BIC, convergence."""
        self._check_fitted()
        return {
            "method": self.method_,
            "n_obs": self.n_obs_,
            "n_groups": self.n_groups_,
            "loglik": self.llf_,
            "aic": self.aic_,
            "bic": self.bic_,
            "scale": self.scale_,
            "converged": self.converged_,
            "singular": self.singular_,
        }

    def lrt(self, other: MixedModel) -> LRTResult:
        """Likelihood-ratio test between this model and a nested ``other`` (either order).

        Models with different fixed effects must both be fitted by ML (``reml=False``).

        Raises
        ------
        StatsError
            Not fitted, different data sizes, equal numbers of parameters, or REML fits with
            different fixed effects.
        """
        self._check_fitted()
        if not isinstance(other, MixedModel):
            raise StatsError(f"lrt needs another fitted MixedModel, got {type(other).__name__}")
        other._check_fitted()
        if self.n_obs_ != other.n_obs_:
            raise StatsError(f"the two models were fitted on different data ({self.n_obs_} vs {other.n_obs_} rows)")
        if self.n_params_ == other.n_params_:
            raise StatsError("the two models have the same number of parameters, so they are not nested")
        small, large = sorted([self, other], key=lambda m: m.n_params_)
        reml = small.method_ == "REML" or large.method_ == "REML"
        if small.method_ != large.method_:
            raise StatsError("one model was fitted by REML and the other by ML; fit both the same way")
        if reml and small.fe_names_ != large.fe_names_:
            raise StatsError(
                "REML likelihoods of models with different fixed effects are not comparable: "
                "refit both with reml=False (maximum likelihood) for this test"
            )
        from scipy import stats

        stat = max(0.0, 2 * (large.llf_ - small.llf_))
        df = large.n_params_ - small.n_params_
        notes = []
        if small.fe_names_ == large.fe_names_:
            notes.append("the test concerns variance parameters on the boundary of their space, so the "
                         "chi-squared p-value is conservative (roughly halve it for one variance)")
        return LRTResult(float(stat), int(df), float(stats.chi2.sf(stat, df)), small.llf_, large.llf_,
                         " ".join(notes))

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        if getattr(self, "result_", None) is not None:
            self._likelihood()
        state = super().__getstate__()
        if state.get("result_") is not None:
            state["summary_text_"] = str(state["result_"].summary())
        for key in _HEAVY:
            state.pop(key, None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags
