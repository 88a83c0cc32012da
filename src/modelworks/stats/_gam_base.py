"""The machinery of the GAM estimators: pygam terms and fits, with a fast automatic smoothing search.

pygam builds the spline bases and penalties, fits the final model (PIRLS) and predicts. What
modelworks adds:

* a smoothing-parameter search that needs one pass over the data: the penalised normal
  equations depend on the data only through ``X'WX`` and ``X'Wz``, so GCV (Gaussian) or UBRE
  (binomial, by Gu's performance iteration) is minimised over one ``lam`` per term on p x p
  matrices, instead of refitting pygam for each grid point (pygam's ``gridsearch``);
* partial effects centred over the training data (as mgcv's identifiability constraint does)
  with Bayesian credible bands from ``(X'WX + S)^-1 * scale`` (mgcv's ``Vp``; pygam's own
  intervals use the frequentist covariance, which under-covers where smoothing bias is large);
* DataFrame input with automatic term types, input checks, and skops-safe persistence.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from modelworks.data._kinds import column_kind
from modelworks.exceptions import StatsError
from modelworks.stats._common import (
    StatsWarning,
    UnfittedError,
    check_columns,
    check_no_nan,
    python_scalar,
    to_frame,
)
from modelworks.stats._smoothing import GRID, penalty, search

_LAM_SEARCHES = ("fast", "grid")
_FACTOR_MAX_UNIQUE_NUMERIC = 4  # numeric columns with this few distinct values become factors
_FACTOR_MAX_LEVELS = 100  # more levels than this is an identifier or a date, not a factor


def _target(y, who: str) -> np.ndarray:
    """y as a 1-D array (a column vector is accepted with scikit-learn's DataConversionWarning)."""
    from sklearn.utils.validation import column_or_1d

    if y is None:
        raise StatsError(f"{who} requires y to be passed, but the target y is None")
    values = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else np.asarray(y)
    return column_or_1d(values, warn=True)


def _pygam():
    from modelworks._imports import require

    return require("pygam", purpose="GAMs")


class _GAMBase(BaseEstimator):
    """Shared machinery of :class:`GAMRegressor` and :class:`GAMClassifier`."""

    _family = "normal"

    def __init__(
        self,
        *,
        features=None,
        factors=None,
        tensor=None,
        n_splines: int = 20,
        tensor_splines: int = 8,
        lam="auto",
        lam_search: str = "fast",
        gamma: float = 1.4,
        max_iter: int = 100,
        tol: float = 1e-4,
    ) -> None:
        self.features = features
        self.factors = factors
        self.tensor = tensor
        self.n_splines = n_splines
        self.tensor_splines = tensor_splines
        self.lam = lam
        self.lam_search = lam_search
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ planning
    def _check_params(self) -> None:
        if self.lam_search not in _LAM_SEARCHES:
            raise StatsError(f"lam_search must be one of {', '.join(_LAM_SEARCHES)}, got {self.lam_search!r}")
        if not (self.lam == "auto" or (isinstance(self.lam, int | float) and self.lam > 0)):
            raise StatsError(f"lam must be 'auto' or a number > 0, got {self.lam!r}")
        if not isinstance(self.n_splines, int | np.integer) or self.n_splines < 4:
            raise StatsError(f"n_splines must be a whole number >= 4 (cubic splines), got {self.n_splines!r}")
        if not isinstance(self.tensor_splines, int | np.integer) or self.tensor_splines < 4:
            raise StatsError(f"tensor_splines must be a whole number >= 4, got {self.tensor_splines!r}")
        if self.gamma < 1:
            raise StatsError(f"gamma must be >= 1 (it inflates each degree of freedom in GCV/UBRE), got {self.gamma}")

    def _plan(self, frame: pd.DataFrame) -> None:
        cols = list(self.features) if self.features is not None else list(frame.columns)
        if not cols:
            raise StatsError("no features to model; pass features=[...] or a table with columns")
        check_columns(frame, cols, what="features", param="features", hint="name columns of the data in {}")
        factors = set(self.factors or [])
        check_columns(frame, sorted(factors), what="factors", hint="name columns of the data")
        pair = list(self.tensor) if self.tensor is not None else []
        if pair:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise StatsError(f"tensor must name two different columns, got {self.tensor!r}")
            check_columns(frame, pair, what="tensor", hint="name two numeric feature columns")
            for c in pair:
                if c not in cols:
                    cols.append(c)
        check_no_nan(frame, cols)
        self.columns_ = cols
        self.kinds_, self.levels_, self.ranges_ = {}, {}, {}
        for c in cols:
            col = frame[c]
            if c in factors or column_kind(col, max_levels=_FACTOR_MAX_UNIQUE_NUMERIC) != "numeric":
                if c in pair:
                    raise StatsError(f"tensor column {c!r} is categorical; a tensor smooth needs two numeric columns")
                self.kinds_[c] = "factor"
                self.levels_[c] = [python_scalar(v) for v in sorted(col.unique(), key=lambda v: (str(type(v)), v))]
                self.ranges_[c] = [0.0, float(len(self.levels_[c]) - 1)]
                if len(self.levels_[c]) < 2:
                    raise StatsError(f"column {c!r} has a single value ({self.levels_[c][0]!r}); drop it")
                if len(self.levels_[c]) > _FACTOR_MAX_LEVELS:
                    raise StatsError(
                        f"column {c!r} ({col.dtype}) has {len(self.levels_[c])} distinct values, too many "
                        f"for a factor term (at most {_FACTOR_MAX_LEVELS}): drop it (an identifier?), "
                        "convert it to numbers (dates: days since the start), or group rare levels"
                    )
            else:
                self.kinds_[c] = "numeric"
                lo, hi = float(col.min()), float(col.max())
                if lo == hi:
                    raise StatsError(f"column {c!r} is constant ({lo}); drop it")
                self.ranges_[c] = [lo, hi]
        self.terms_ = []
        for i, c in enumerate(cols):
            if c in pair:
                continue
            if self.kinds_[c] == "factor":
                self.terms_.append({"name": f"f({c})", "kind": "factor", "columns": [c], "index": [i]})
            else:
                k = int(min(self.n_splines, max(4, frame[c].nunique())))
                self.terms_.append({"name": f"s({c})", "kind": "smooth", "columns": [c], "index": [i], "n_splines": k})
        if pair:
            self.terms_.append({"name": f"te({pair[0]},{pair[1]})", "kind": "tensor", "columns": pair,
                                "index": [cols.index(pair[0]), cols.index(pair[1])],
                                "n_splines": int(self.tensor_splines)})

    def _encode(self, frame: pd.DataFrame, *, fitting: bool = False) -> np.ndarray:
        check_columns(frame, self.columns_, what="the model's features", hint="pass the columns used at fit")
        check_no_nan(frame, self.columns_)
        out = np.empty((len(frame), len(self.columns_)))
        for j, c in enumerate(self.columns_):
            if self.kinds_[c] == "factor":
                levels = self.levels_[c]
                codes = pd.Categorical(frame[c], categories=levels).codes.astype(float)
                unknown = codes < 0
                if unknown.any():
                    ref = self.ref_codes_[c] if not fitting else 0
                    warnings.warn(
                        f"column {c!r} has level(s) not seen at fit "
                        f"({', '.join(map(str, pd.unique(frame[c][unknown])[:5]))}); they get the effect "
                        f"of the most frequent level {levels[int(ref)]!r}", StatsWarning, stacklevel=3,
                    )
                    codes[unknown] = ref
                out[:, j] = codes
            else:
                try:
                    out[:, j] = frame[c].to_numpy(dtype=float)
                except (TypeError, ValueError) as e:
                    raise StatsError(f"column {c!r} was numeric at fit but has non-numeric values now: {e}") from e
        return out

    def _term_lams(self, comps: np.ndarray) -> list:
        lams, k = [], 0
        for t in self.terms_:
            if t["kind"] == "tensor":
                lams.append([float(comps[k]), float(comps[k + 1])])
                k += 2
            else:
                lams.append(float(comps[k]))
                k += 1
        return lams

    def _n_components(self) -> int:
        return sum(2 if t["kind"] == "tensor" else 1 for t in self.terms_)

    def _make_pygam(self, lams: list):
        pg = _pygam()
        terms = None
        for t, lam in zip(self.terms_, lams):
            if t["kind"] == "smooth":
                term = pg.s(t["index"][0], n_splines=t["n_splines"], lam=lam)
            elif t["kind"] == "factor":
                term = pg.f(t["index"][0], lam=lam)
            else:
                term = pg.te(*t["index"], n_splines=[t["n_splines"]] * 2, lam=lam)
            terms = term if terms is None else terms + term
        cls = pg.LinearGAM if self._family == "normal" else pg.LogisticGAM
        return cls(terms, max_iter=self.max_iter, tol=self.tol)

    def _components(self, Xn: np.ndarray):
        """The model matrix and one unit-lam penalty block ``(indices, matrix)`` per ``lam``."""
        from modelworks._compat.pygam import marginal_penalty, prepare_terms

        gam = prepare_terms(self._make_pygam(self._term_lams(np.ones(self._n_components()))), Xn)
        comps = []
        for j, t in enumerate(self.terms_):
            idx = np.asarray(gam.terms.get_coef_indices(j))
            term = gam.terms[j]
            blocks = ([marginal_penalty(term, i) for i in range(2)] if t["kind"] == "tensor"
                      else [term.build_penalties()])
            for block in blocks:
                comps.append((idx, block.toarray() if hasattr(block, "toarray") else np.asarray(block)))
        return gam.terms.build_columns(Xn), comps, gam.terms.n_coefs

    def _fast_lams(self, Xm, y, comps):
        n = Xm.shape[0]
        if self._family == "normal":
            G = (Xm.T @ Xm).toarray()
            b = Xm.T @ y
            rho, beta = search(G, b, float(y @ y), comps, n, known_scale=False, gamma=self.gamma)
            return np.exp(rho), beta
        # binomial: Gu's performance iteration, a smoothing search on each PIRLS working model
        from scipy.special import expit, logit

        eta = logit(np.clip((y + 0.5) / 2, 1e-3, 1 - 1e-3))
        rho = beta = None
        for _ in range(self.max_iter):
            mu = expit(eta)
            w = np.clip(mu * (1 - mu), 1e-10, None)
            z = eta + (y - mu) / w
            Xw = Xm.multiply(w[:, None]).tocsc()
            G = (Xw.T @ Xm).toarray()
            b = Xw.T @ z
            rho, step = search(G, b, float(z @ (w * z)), comps, n, known_scale=True, gamma=self.gamma, start=rho)
            if step is None:
                break
            beta = step
            new = Xm @ beta
            done = np.max(np.abs(new - eta)) < self.tol * (1 + np.max(np.abs(eta)))
            eta = new
            if done:
                break
        return np.exp(rho), beta

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y):
        self._check_params()
        frame = self._input_frame(X, fitting=True)
        if len(frame) != len(y):
            raise StatsError(f"X has {len(frame)} rows but y has {len(y)}")
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        self._plan(frame)
        self.ref_codes_ = {}
        Xn = self._encode(frame, fitting=True)
        for j, c in enumerate(self.columns_):
            if self.kinds_[c] == "factor":
                self.ref_codes_[c] = float(np.bincount(Xn[:, j].astype(int)).argmax())
        Xm, comps, p = self._components(Xn)
        n = len(y)
        if n <= p:
            raise StatsError(
                f"too few rows for the number of spline bases: {n} rows but {p} coefficients "
                f"({', '.join(t['name'] for t in self.terms_)} + intercept); use fewer splines "
                f"(n_splines={max(4, self.n_splines // 2)}), fewer features, or more data"
            )
        if self.lam != "auto":
            lam_c = np.full(len(comps), float(self.lam))
            gam = self._make_pygam(self._term_lams(lam_c))
            self._pygam_fit(gam, Xn, y)
        elif self.lam_search == "grid":
            gam = self._make_pygam(self._term_lams(np.full(len(comps), 0.6)))
            self._pygam_fit(gam, Xn, y, lam=GRID)
            lam_c = np.concatenate([np.ravel(np.asarray(lam, dtype=float)) for lam in gam.lam])[: len(comps)]
        else:
            lam_c, beta = self._fast_lams(Xm, y, comps)
            gam = self._make_pygam(self._term_lams(lam_c))
            if beta is not None and np.all(np.isfinite(beta)):
                gam.coef_ = beta  # pygam warm-starts PIRLS from a fitted coef_: one pass confirms it
            self._pygam_fit(gam, Xn, y)
        self.gam_ = gam
        self.n_iter_ = len(getattr(gam, "logs_", {}).get("diffs", [])) or 1
        self.lam_ = self._term_lams(lam_c)
        self._posterior(Xm, lam_c, comps)
        self.x_ref_ = np.array([self.ref_codes_[c] if self.kinds_[c] == "factor" else float(np.median(Xn[:, j]))
                                for j, c in enumerate(self.columns_)])
        return self

    def _pygam_fit(self, gam, Xn, y, **grid):
        """Run pygam's fit (or gridsearch), turning its printed and raised warnings into ours."""
        import contextlib
        import io

        printed = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
            warnings.simplefilter("always")
            if grid:
                gam.gridsearch(Xn, y, progress=False, **grid)
            else:
                gam.fit(Xn, y)
        if "did not converge" in printed.getvalue():
            warnings.warn(
                f"pygam's PIRLS did not converge in max_iter={self.max_iter} iterations; the fit may "
                "be off: raise max_iter, smooth more (a larger lam), or use fewer splines",
                StatsWarning, stacklevel=4,
            )
        for w in caught:
            if not issubclass(w.category, DeprecationWarning | RuntimeWarning):
                warnings.warn(f"pygam: {w.message}", StatsWarning, stacklevel=4)

    def _posterior(self, Xm, lam_c, comps) -> None:
        """Bayesian covariance of the coefficients and each term's basis means (for centring).

        ``Xm`` is the training model matrix (the same bases pygam compiled on the same data).
        """
        from scipy.linalg import cho_factor, cho_solve
        from scipy.special import expit

        if self._family == "normal":
            XtWX = (Xm.T @ Xm).toarray()
            phi = float(self.gam_.statistics_["scale"]) ** 2
        else:
            mu = expit(Xm @ self.gam_.coef_)
            w = np.clip(mu * (1 - mu), 1e-10, None)
            XtWX = (Xm.multiply(w[:, None]).T @ Xm).toarray()
            phi = 1.0
        A = penalty(XtWX, lam_c, comps)
        self.coef_cov_ = cho_solve(cho_factor(A), np.eye(A.shape[0])) * phi
        self.basis_means_ = np.asarray(Xm.mean(axis=0)).ravel()

    # ------------------------------------------------------------------ use
    def _check_fitted(self) -> None:
        if not hasattr(self, "gam_"):
            raise UnfittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    def _input_frame(self, X, *, fitting: bool) -> pd.DataFrame:
        """A DataFrame as given, or a checked numeric array (scikit-learn's messages) as one."""
        if isinstance(X, pd.DataFrame):
            numeric = X.select_dtypes("number")
            if numeric.shape[1] and np.isinf(numeric.to_numpy(dtype=float)).any():
                bad = [c for c in numeric.columns if np.isinf(numeric[c].to_numpy(dtype=float)).any()]
                raise StatsError(f"column(s) {', '.join(map(str, bad))} hold infinite values; replace them")
            frame = X
        else:
            from sklearn.utils import check_array

            arr = check_array(X, dtype="numeric", ensure_min_samples=2 if fitting else 1)
            if not fitting and arr.shape[1] != self.n_features_in_:
                raise StatsError(
                    f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            names = None if fitting else [str(c) for c in self.feature_names_in_]
            frame = to_frame(arr, feature_names=names)
        if fitting and frame.shape[1] == 0:
            raise StatsError(f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required")
        return frame

    def _transform(self, X) -> np.ndarray:
        self._check_fitted()
        return self._encode(self._input_frame(X, fitting=False))

    def partial_effects(self, *, width: float = 0.95, n: int = 100) -> dict[str, pd.DataFrame]:
        """Each term's centred partial effect on a grid, with a ``width`` credible band.

        Effects are on the link scale (log-odds for the classifier) and centred to mean zero
        over the training data, like mgcv's terms; bands use the Bayesian covariance.

        Parameters
        ----------
        width : float, default 0.95
            Coverage of the band.
        n : int, default 100
            Grid points for a smooth (a tensor term uses ``n // 3`` per axis).

        Returns
        -------
        dict of str to pandas.DataFrame
            Keyed by term name (``s(x)``, ``f(c)``, ``te(a,b)``); columns: the feature(s),
            ``effect``, ``se``, ``lower``, ``upper``.
        """
        from scipy.stats import norm

        from modelworks._compat.pygam import term_model_matrix

        self._check_fitted()
        if not 0 < width < 1:
            raise StatsError(f"width must be between 0 and 1, got {width}")
        z = norm.ppf(0.5 + width / 2)
        beta = self.gam_.coef_
        out = {}
        for j, t in enumerate(self.terms_):
            if t["kind"] == "smooth":
                grid = {t["columns"][0]: np.linspace(*self.ranges_[t["columns"][0]], n)}
            elif t["kind"] == "factor":
                c = t["columns"][0]
                grid = {c: np.arange(len(self.levels_[c]), dtype=float)}
            else:
                m = max(10, n // 3)
                a, b = (np.linspace(*self.ranges_[c], m) for c in t["columns"])
                A, B = np.meshgrid(a, b, indexing="ij")
                grid = {t["columns"][0]: A.ravel(), t["columns"][1]: B.ravel()}
            size = len(next(iter(grid.values())))
            Xg = np.tile(self.x_ref_, (size, 1))
            for c, v in grid.items():
                Xg[:, self.columns_.index(c)] = v
            idx = self.gam_.terms.get_coef_indices(j)
            Bj = term_model_matrix(self.gam_, Xg, j).toarray() - self.basis_means_[idx]
            effect = Bj @ beta[idx]
            se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Bj, self.coef_cov_[np.ix_(idx, idx)], Bj), 0, None))
            frame = pd.DataFrame(grid)
            if t["kind"] == "factor":
                c = t["columns"][0]
                frame[c] = self.levels_[c]
            frame["effect"], frame["se"] = effect, se
            frame["lower"], frame["upper"] = effect - z * se, effect + z * se
            out[t["name"]] = frame
        return out

    def summary(self) -> pd.DataFrame:
        """One row per term: kind, features, smoothing ``lam``, effective df and p-value."""
        self._check_fitted()
        stats = self.gam_.statistics_
        edof = np.asarray(stats["edof_per_coef"])
        rows = []
        for j, (t, lam) in enumerate(zip(self.terms_, self.lam_)):
            idx = self.gam_.terms.get_coef_indices(j)
            rows.append({
                "term": t["name"], "kind": t["kind"], "features": ", ".join(t["columns"]),
                "n_coefs": len(idx), "lam": lam if not isinstance(lam, list) else " x ".join(f"{v:.3g}" for v in lam),
                "edf": float(edof[idx].sum()), "p_value": float(stats["p_values"][j]),
            })
        return pd.DataFrame(rows)

    def summary_dict(self) -> dict:
        """JSON-able key figures of the fit."""
        self._check_fitted()
        st = self.gam_.statistics_
        return {
            "n_obs": int(st["n_samples"]),
            "edf": float(st["edof"]),
            "deviance": float(st["deviance"]),
            "explained_deviance": float(st["pseudo_r2"]["explained_deviance"]),
            "AIC": float(st["AIC"]),
            ("GCV" if self._family == "normal" else "UBRE"): float(st["GCV"] if self._family == "normal" else st["UBRE"]),
            "lam_search": self.lam_search if self.lam == "auto" else "fixed",
            "terms": [t["name"] for t in self.terms_],
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.categorical = True  # in DataFrames; arrays must be numeric
        return tags


def _classifier_tags(tags):
    tags.classifier_tags.multi_class = False
    return tags
