"""The Hyndman-Khandakar stepwise ARIMA search on statsmodels (the no-extra AutoARIMA engine).

Hyndman & Khandakar (2008), "Automatic time series forecasting: the forecast package for R",
JSS 27(3): ``D`` from the seasonal strength of an STL decomposition, ``d`` from repeated KPSS
tests, then start from four models and move to the best neighbour (one order +-1, both
non-seasonal or both seasonal orders +-1, constant on/off) until none improves the criterion.
The statistics (STL, KPSS, ARIMA likelihood) are statsmodels'; only the walk is ours.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelworks.forecast._sm_fit import fit_statsmodels_arima


@dataclass
class Found:
    result: Any
    order: tuple
    seasonal_order: tuple
    constant: str
    ic: float
    n_models: int


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """Wang, Smith & Hyndman's seasonal strength, ``max(0, 1 - var(R) / var(S + R))``."""
    from statsmodels.tsa.seasonal import STL

    res = STL(y, period=m, robust=True).fit()
    rem, seas = np.asarray(res.resid), np.asarray(res.seasonal)
    denom = np.var(rem + seas)
    return float(max(0.0, 1.0 - np.var(rem) / denom)) if denom > 0 else 0.0


def n_seasonal_diffs(y: np.ndarray, m: int, max_D: int) -> int:
    D = 0
    x = y
    while D < max_D and len(x) >= 2 * m + 1 and seasonal_strength(x, m) > 0.64:
        D += 1
        x = x[m:] - x[:-m]
    return D


def n_diffs(y: np.ndarray, max_d: int, alpha: float = 0.05) -> int:
    from statsmodels.tsa.stattools import kpss

    d = 0
    x = y
    while d < max_d and len(x) > 3 and np.ptp(x) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # InterpolationWarning: p outside the table
            pvalue = kpss(x, regression="c", nlags="auto")[1]
        if pvalue >= alpha:
            break
        d += 1
        x = np.diff(x)
    return d


def _ic_of(result, name: str, n_eff: int) -> float:
    value = getattr(result, name, np.nan)
    return float(value) if np.isfinite(value) else np.inf


def stepwise_search(y: np.ndarray, X, *, m: int, d=None, D=None, max_p=5, max_q=5, max_P=2,
                    max_Q=2, max_d=2, max_D=1, information_criterion="aicc", stepwise=True,
                    max_models: int = 60) -> Found:
    """Search (p,d,q)(P,D,Q,m) by ``information_criterion``; return the best fitted model."""
    seasonal = m > 1
    if D is None:
        D = n_seasonal_diffs(y, m, max_D) if seasonal else 0
    x = y
    for _ in range(D):
        x = x[m:] - x[:-m]
    if d is None:
        d = n_diffs(x, max_d)
    if not seasonal:
        max_P = max_Q = 0
    allow_constant = d + D <= 1
    fitted: dict[tuple, tuple[float, Any]] = {}

    def fit(p, q, P, Q, const) -> float:
        key = (p, q, P, Q, const)
        if key in fitted:
            return fitted[key][0]
        if not (0 <= p <= max_p and 0 <= q <= max_q and 0 <= P <= max_P and 0 <= Q <= max_Q):
            return np.inf
        if p + q + P + Q > 5:
            return np.inf
        trend = ("c" if d + D == 0 else "t") if const else "n"
        try:
            result, _ = fit_statsmodels_arima(y, X, (p, d, q), (P, D, Q, m) if seasonal else
                                               (0, 0, 0, 0), trend, selection=True)
            ic = _ic_of(result, information_criterion, len(y))
        except (ValueError, np.linalg.LinAlgError, IndexError):
            result, ic = None, np.inf
        fitted[key] = (ic, result)
        return ic

    const0 = allow_constant
    if stepwise:
        starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        for p, q, P, Q in starts:
            fit(min(p, max_p), min(q, max_q), min(P, max_P), min(Q, max_Q), const0)
        if allow_constant:
            fit(0, 0, 0, 0, False)
        best = min(fitted, key=lambda k: fitted[k][0])
        improved = True
        while improved and len(fitted) < max_models:
            improved = False
            p, q, P, Q, c = best
            moves = [(p + dp, q + dq, P, Q, c) for dp, dq in
                     ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1))]
            if seasonal:
                moves += [(p, q, P + dP, Q + dQ, c) for dP, dQ in
                          ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1))]
            if allow_constant:
                moves.append((p, q, P, Q, not c))
            for move in moves:
                if fit(*move) < fitted[best][0] - 1e-8:
                    best, improved = move, True
                    break
    else:
        for p in range(max_p + 1):
            for q in range(max_q + 1):
                for P in range(max_P + 1):
                    for Q in range(max_Q + 1):
                        for c in ((True, False) if allow_constant else (False,)):
                            fit(p, q, P, Q, c)
        best = min(fitted, key=lambda k: fitted[k][0])
    ic, _ = fitted[best]
    if not np.isfinite(ic):
        raise ValueError("no ARIMA model in the search could be fitted")
    p, q, P, Q, c = best
    trend = ("c" if d + D == 0 else "t") if c else "n"
    so = (P, D, Q, m) if seasonal and P + D + Q else (0, 0, 0, 0)
    # refit the winner with standard errors, for the summary and the intervals
    result, _ = fit_statsmodels_arima(y, X, (p, d, q), so, trend)
    constant = ("mean" if d + D == 0 else "drift") if c else "none"
    return Found(result=result, order=(p, d, q), seasonal_order=so, constant=constant, ic=ic,
                 n_models=len(fitted))
