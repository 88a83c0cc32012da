"""ARIMA with given orders (statsmodels) and AutoARIMA with automatic orders.

AutoARIMA runs the Hyndman-Khandakar stepwise search (unit-root tests for ``d`` and ``D``,
then a walk over neighbouring orders by an information criterion) on one of two engines:

* ``"statsforecast"`` (the default when installed, from the ``forecast`` extra): Nixtla's
  compiled port of R's ``forecast::auto.arima``; measured here ~10-30x faster than a
  statsmodels-based search at the same accuracy (see ``benchmarks/bench_forecast.py``).
* ``"statsmodels"``: the same search written here on statsmodels' state-space ARIMA (slower,
  but needs nothing beyond the core install).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone

from modelworks.exceptions import ForecastError
from modelworks.forecast._base import Forecaster
from modelworks.forecast._gradient import faster_fits
from modelworks.forecast._sm_fit import fit_statsmodels_arima


def _check_order(value, name: str, size: int) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in value)
        ok = len(out) == size and all(v >= 0 for v in out) and all(float(v) == int(v) for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ForecastError(f"{name} must be {size} whole numbers >= 0, got {value!r}")
    return out


def _default_trend(d: int, D: int, X) -> str:
    return "c" if d + D == 0 else "n"


def box_cox_lambda(values: np.ndarray, how, m: int) -> float | None:
    """The Box-Cox lambda for ``how`` (None, "auto" or a number); None when not applicable."""
    if how is None or how is False:
        return None
    if isinstance(how, str):
        if how != "auto":
            raise ForecastError(f"box_cox must be None, 'auto' or a number, got {how!r}")
        if not np.all(values > 0):
            return None  # Box-Cox is defined for positive data only
        from coreforecast.scalers import boxcox_lambda

        return float(boxcox_lambda(values, "guerrero", season_length=max(int(m), 2)))
    if isinstance(how, bool) or not isinstance(how, int | float | np.floating | np.integer):
        raise ForecastError(f"box_cox must be None, 'auto' or a number, got {how!r}")
    return float(how) if np.all(values > 0) else None


def box_cox(values: np.ndarray, lam: float) -> np.ndarray:
    return np.log(values) if abs(lam) < 1e-8 else (np.power(values, lam) - 1) / lam


def inv_box_cox(values: np.ndarray, lam: float) -> np.ndarray:
    if abs(lam) < 1e-8:
        return np.exp(values)
    base = np.maximum(lam * values + 1, 0.0)  # values below the transform's range map to 0
    return np.power(base, 1 / lam)


class ARIMA(Forecaster):
    """Seasonal ARIMA(p,d,q)(P,D,Q,m) on statsmodels, with exogenous regressors.

    Parameters
    ----------
    order : tuple of int
        ``(p, d, q)``.
    seasonal_order : tuple of int
        ``(P, D, Q, m)``, or ``(P, D, Q)`` to take ``m`` from ``seasonal_period`` / the frequency.
    trend : {"n", "c", "t", "ct"}, optional
        Deterministic trend; by default a constant when there is no differencing, else none.
    seasonal_period : int, optional
        ``m`` when ``seasonal_order`` leaves it out.

    Attributes
    ----------
    result_ : statsmodels ARIMAResults
    order_, seasonal_order_ : tuple
    warnings_ : list of str
        Convergence / stationarity warnings from the fit.
    """

    supports_exog = True
    name = "arima"

    def __init__(self, order=(1, 0, 0), seasonal_order=(0, 0, 0, 0), *, trend: str | None = None,
                 seasonal_period: int | None = None) -> None:
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.seasonal_period = seasonal_period

    def _orders(self) -> tuple[tuple, tuple]:
        order = _check_order(self.order, "order (p, d, q)", 3)
        so = self.seasonal_order if self.seasonal_order is not None else (0, 0, 0, 0)
        if len(tuple(so)) == 3:
            so = (*tuple(so), self.seasonal_period_)
        so = tuple(v if v is not None else self.seasonal_period_ for v in so)
        so = _check_order(so, "seasonal_order (P, D, Q, m)", 4)
        P, D, Q, m = so
        if P + D + Q == 0:
            so = (0, 0, 0, 0)
        elif m < 2:
            raise ForecastError(
                f"seasonal_order {tuple(self.seasonal_order)} needs a seasonal period m >= 2 but the "
                f"period is {m}; give seasonal_order=(P, D, Q, m) or seasonal_period"
            )
        return order, so

    def _min_observations(self) -> int:
        (p, d, q), (P, D, Q, m) = self._orders()
        need = d + D * m + max(p + P * m, q + Q * m) + 3
        return max(need, 2 * m) if m else need

    def _why_min(self) -> str:
        (_, _, _), (_, _, _, m) = self._orders()
        if m:
            return (f" for seasonal period {m} (at least two full seasons); give more data, a "
                    "smaller seasonal period or seasonal_order=(0, 0, 0, 0)")
        return " for these orders; lower p, d or q"

    def _fit(self, y, X) -> None:
        order, so = self._orders()
        trend = self.trend if self.trend is not None else _default_trend(order[1], so[1], X)
        try:
            self.result_, self.warnings_ = fit_statsmodels_arima(y, X, order, so, trend)
        except (ValueError, np.linalg.LinAlgError) as e:
            raise ForecastError(
                f"ARIMA{order}{so} cannot be fitted on series '{y.name}': {e}; try other orders "
                "or AutoARIMA"
            ) from e
        self.order_, self.seasonal_order_, self.trend_ = order, so, trend

    def _predict(self, horizon, X, levels):
        fc = self.result_.get_forecast(horizon, exog=None if X is None else X.to_numpy())
        point = np.asarray(fc.predicted_mean, dtype=float)
        bounds = {}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv / 100), dtype=float)
            bounds[lv] = (ci[:, 0], ci[:, 1])
        return point, bounds

    def summary(self):
        """statsmodels' summary table of the fitted model (coefficients, tests, criteria)."""
        self._check_fitted()
        return self.result_.summary()

    def label(self) -> str:
        if not hasattr(self, "order_"):
            return "arima"
        (p, d, q), (P, D, Q, m) = self.order_, self.seasonal_order_
        return f"ARIMA({p},{d},{q})" + (f"({P},{D},{Q})[{m}]" if m else "")


class _StatsforecastEngine:
    """Nixtla statsforecast's AutoARIMA (compiled; a port of R forecast::auto.arima)."""

    def fit(self, y: np.ndarray, X, m: int, opts: dict) -> None:
        from modelworks.forecast._sf_import import statsforecast_models

        models = statsforecast_models()
        # approximation=None is R's rule: conditional sum of squares during the order search
        # when the series is long (> 150) or the season long (> 12), then the winner (or the
        # next best that fits) is refitted by exact maximum likelihood
        self.model = models.AutoARIMA(approximation=opts["approximation"],
            d=opts["d"], D=opts["D"], max_p=opts["max_p"], max_q=opts["max_q"],
            max_P=opts["max_P"], max_Q=opts["max_Q"], max_d=opts["max_d"], max_D=opts["max_D"],
            seasonal=opts["seasonal"] and m > 1, ic=opts["information_criterion"],
            stepwise=opts["stepwise"], season_length=m if m > 1 else 1,
        )
        with np.errstate(all="ignore"), warnings.catch_warnings(), faster_fits():
            warnings.simplefilter("ignore")
            self.model.fit(y, X=X)
        p, q, P, Q, mm, d, D = (int(v) for v in self.model.model_["arma"])
        coef = self.model.model_.get("coef", {})
        self.order, self.seasonal_order = (p, d, q), (P, D, Q, mm if P + D + Q else 0)
        self.constant = "drift" if "drift" in coef else ("mean" if "intercept" in coef else "none")
        self.ic = float(self.model.model_.get(opts["information_criterion"], np.nan) or np.nan)
        self.coef = {k: float(v) for k, v in coef.items()}

    def fit_fixed(self, y: np.ndarray, X, m: int, fixed: tuple, coef: dict | None = None) -> None:
        """Known orders, no search: estimated by exact likelihood, or, given ``coef``, those
        coefficients applied to ``y`` as they are (only the innovation variance is
        re-estimated): the later windows of a backtest."""
        from modelworks.forecast._sf_import import statsforecast_models

        models = statsforecast_models()
        (p, d, q), (P, D, Q, _), constant = fixed
        self.model = models.ARIMA(order=(p, d, q), season_length=m if m > 1 else 1,
                                  seasonal_order=(P, D, Q), include_mean=constant == "mean",
                                  include_drift=constant == "drift", fixed=coef or None)
        with np.errstate(all="ignore"), warnings.catch_warnings(), faster_fits():
            warnings.simplefilter("ignore")
            self.model.fit(y, X=X)
        self.order, self.seasonal_order, self.constant = fixed
        self.ic = np.nan
        self.coef = {k: float(v) for k, v in self.model.model_.get("coef", {}).items()}

    def predict(self, horizon: int, X, levels):
        lv = [int(v) if float(v).is_integer() else v for v in levels]
        with np.errstate(all="ignore"):
            out = self.model.predict(horizon, X=X, level=lv or None)
        return out["mean"], {v: (out[f"lo-{k}"], out[f"hi-{k}"]) for v, k in zip(levels, lv)}


class _StatsmodelsEngine:
    """The stepwise search written here on statsmodels (see ``_stepwise.py``)."""

    def fit(self, y, X, m: int, opts: dict) -> None:
        from modelworks.forecast._stepwise import stepwise_search

        found = stepwise_search(y, X, m=m if opts["seasonal"] else 1, **{
            k: opts[k] for k in ("d", "D", "max_p", "max_q", "max_P", "max_Q", "max_d",
                                 "max_D", "information_criterion", "stepwise")})
        self.result, self.order, self.seasonal_order = found.result, found.order, found.seasonal_order
        self.constant = found.constant
        self.ic = found.ic
        self.n_models = found.n_models

    def predict(self, horizon, X, levels):
        fc = self.result.get_forecast(horizon, exog=X)
        bounds = {}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv / 100), dtype=float)
            bounds[lv] = (ci[:, 0], ci[:, 1])
        return np.asarray(fc.predicted_mean, dtype=float), bounds


# engine name -> implementation; "auto" picks the first importable one in this order
ENGINES = {"statsforecast": _StatsforecastEngine, "statsmodels": _StatsmodelsEngine}
_IC = ("aicc", "aic", "bic")


def resolve_engine(engine: str) -> str:
    if engine == "auto":
        from modelworks._imports import is_available

        return "statsforecast" if is_available("statsforecast") else "statsmodels"
    if engine not in ENGINES:
        raise ForecastError(
            f"unknown AutoARIMA engine {engine!r}; choose one of: auto, {', '.join(ENGINES)}"
        )
    return engine


class AutoARIMA(Forecaster):
    """ARIMA with automatically chosen (p,d,q)(P,D,Q,m).

    ``d`` comes from repeated KPSS tests, ``D`` from the seasonal-strength test, and the
    orders from a stepwise search minimising ``information_criterion``.

    Parameters
    ----------
    seasonal : bool
        Consider seasonal terms (with period ``seasonal_period``).
    seasonal_period : int, optional
        ``m``; inferred from the frequency when omitted (12 for monthly data, 4 quarterly...).
    d, D : int, optional
        Fix the differencing orders instead of testing for them.
    max_p, max_q, max_P, max_Q, max_d, max_D : int
        Bounds of the search.
    information_criterion : {"aicc", "aic", "bic"}
    stepwise : bool
        Stepwise search (fast) instead of the full grid.
    engine : {"auto", "statsforecast", "statsmodels"}
        ``auto`` uses statsforecast when installed (faster), else statsmodels.
    approximation : bool, optional
        Use the conditional-sum-of-squares likelihood while searching the orders, then refit the
        chosen order exactly (R's ``approximation``). None (default) does so, as R does, when
        the series has more than 150 points or the season is longer than 12. statsforecast
        engine only.
    box_cox : None, "auto" or float
        Box-Cox transform of a positive series before fitting (``"auto"``: lambda chosen by
        Guerrero's method, as R's ``lambda="auto"``). Forecasts and intervals are transformed
        back (the point forecast is then the median). Series with values <= 0 are left as they
        are.

    Attributes
    ----------
    order_, seasonal_order_ : tuple
        The chosen orders.
    constant_ : {"none", "mean", "drift"}
    engine_ : str
    lambda_ : float or None
        The Box-Cox lambda used (None: no transform).
    """

    supports_exog = True
    name = "auto-arima"

    def __init__(self, *, seasonal: bool = True, seasonal_period: int | None = None,
                 d: int | None = None, D: int | None = None, max_p: int = 5, max_q: int = 5,
                 max_P: int = 2, max_Q: int = 2, max_d: int = 2, max_D: int = 1,
                 information_criterion: str = "aicc", stepwise: bool = True,
                 engine: str = "auto", approximation: bool | None = None,
                 box_cox=None) -> None:
        self.seasonal = seasonal
        self.seasonal_period = seasonal_period
        self.d = d
        self.D = D
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_d = max_d
        self.max_D = max_D
        self.information_criterion = information_criterion
        self.stepwise = stepwise
        self.engine = engine
        self.approximation = approximation
        self.box_cox = box_cox

    def _seasonal_m(self) -> int:
        return self.seasonal_period_ if self.seasonal and self.seasonal_period_ > 1 else 1

    def _min_observations(self) -> int:
        m = self._seasonal_m()
        return 2 * m if m > 1 else 6

    def _why_min(self) -> str:
        m = self._seasonal_m()
        if m > 1:
            return (f" (two full seasons of period {m}); give more data, seasonal=False or a "
                    "smaller seasonal_period (--seasonal-period 1)")
        return ""

    def _fit(self, y, X) -> None:
        if self.information_criterion not in _IC:
            raise ForecastError(
                f"information_criterion must be one of {', '.join(_IC)}, got {self.information_criterion!r}"
            )
        if self.approximation is not None and not isinstance(self.approximation, bool):
            raise ForecastError(f"approximation must be True, False or None, got {self.approximation!r}")
        engine = resolve_engine(self.engine)
        impl = ENGINES[engine]()
        opts = {k: getattr(self, k) for k in ("seasonal", "d", "D", "max_p", "max_q", "max_P",
                                              "max_Q", "max_d", "max_D",
                                              "information_criterion", "stepwise",
                                              "approximation")}
        values = y.to_numpy(dtype=float)
        fixed = getattr(self, "_fixed_orders", None)
        if fixed is not None and "lambda" in fixed:  # the first window's, with its coefficients
            self.lambda_ = fixed["lambda"] if np.all(values > 0) else None
        else:
            self.lambda_ = box_cox_lambda(values, self.box_cox, self._seasonal_m())
        if self.lambda_ is not None:
            values = box_cox(values, self.lambda_)
        coef = fixed.get("coef") if fixed is not None and \
            self.lambda_ == fixed.get("lambda", self.lambda_) else None
        try:
            if fixed is not None and hasattr(impl, "fit_fixed"):
                impl.fit_fixed(values, None if X is None else X.to_numpy(dtype=float),
                               self._seasonal_m(), fixed["orders"], coef)
            else:
                impl.fit(values, None if X is None else X.to_numpy(dtype=float),
                         self._seasonal_m(), opts)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as e:
            raise ForecastError(
                f"AutoARIMA could not fit series '{y.name}': {e}; try seasonal=False, fixed d/D, "
                "or a baseline model"
            ) from e
        self.engine_ = engine
        self.impl_ = impl
        self.order_ = impl.order
        self.seasonal_order_ = impl.seasonal_order
        self.constant_ = impl.constant
        self.ic_ = impl.ic

    def _predict(self, horizon, X, levels):
        point, bounds = self.impl_.predict(horizon, None if X is None else X.to_numpy(dtype=float),
                                           levels)
        back = (lambda v: np.asarray(v, float)) if self.lambda_ is None else (
            lambda v: inv_box_cox(np.asarray(v, float), self.lambda_))
        return back(point), {k: (back(lo), back(hi)) for k, (lo, hi) in bounds.items()}

    def label(self) -> str:
        if not hasattr(self, "order_"):
            return "auto-arima"
        (p, d, q), (P, D, Q, m) = self.order_, self.seasonal_order_
        extra = {"drift": " with drift", "mean": " with mean"}.get(self.constant_, "")
        if getattr(self, "lambda_", None) is not None:
            extra += f", Box-Cox {self.lambda_:.2f}"
        return f"ARIMA({p},{d},{q})" + (f"({P},{D},{Q})[{m}]" if m else "") + extra

    def for_later_windows(self, *, coefficients: bool = True) -> AutoARIMA:
        """An unfitted copy that applies this fit instead of searching again.

        A rolling-origin backtest fits (searches) on its first (earliest) window only and
        applies that model to the later windows: the same orders, coefficients and Box-Cox
        lambda, forecasting from each later origin with the data up to it (R's
        ``Arima(y, model=fit)``); no window ever sees data after its own origin.
        ``coefficients=False`` keeps only the orders (re-estimated by exact likelihood on
        each window). The statsforecast engine only (the statsmodels engine searches on every
        window).
        """
        self._check_fitted()
        twin = clone(self)
        twin._fixed_orders = {"orders": (self.order_, self.seasonal_order_, self.constant_)}
        if coefficients and getattr(self.impl_, "coef", None) is not None:
            twin._fixed_orders.update(coef=dict(self.impl_.coef), **{"lambda": self.lambda_})
        return twin

    def orders_only(self) -> AutoARIMA:
        """This (unfitted) copy from :meth:`for_later_windows` without its coefficients and
        lambda: the orders are fitted afresh, e.g. on a transformed series."""
        twin = clone(self)
        fixed = getattr(self, "_fixed_orders", None)
        if fixed is not None:
            twin._fixed_orders = {"orders": fixed["orders"]}
        return twin

    def to_arima(self) -> ARIMA:
        """An (unfitted) :class:`ARIMA` with the chosen orders and constant."""
        self._check_fitted()
        trend = {"drift": "t", "mean": "c"}.get(self.constant_, "n")
        return ARIMA(self.order_, self.seasonal_order_, trend=trend)

    def summary(self):
        """statsmodels' summary of the chosen model (refitted by statsmodels when needed)."""
        self._check_fitted()
        if self.engine_ == "statsmodels":
            return self.impl_.result.summary()
        X = None
        arima = self.to_arima()
        arima.fit(self.y_, X)
        return arima.summary()
