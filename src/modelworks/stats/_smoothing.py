"""The one-pass smoothing search of the GAMs: GCV or UBRE over one ``lam`` per term on p x p matrices.

The penalised normal equations depend on the data only through ``X'WX`` (``G``) and ``X'Wz``
(``b``), so the criterion and its exact gradient in the log-lams are computed without refitting.
"""

from __future__ import annotations

import numpy as np

_EPS = np.sqrt(np.finfo(float).eps)  # pygam's ridge on every coefficient ("improve condition")
_LOG_LAM_BOUNDS = (np.log(1e-5), np.log(1e7))
GRID = np.logspace(-3, 3, 11)  # pygam's default gridsearch grid, used as the starting scan


def penalty(G, lams, comps):
    """``X'WX`` plus each term's penalty times its ``lam`` (and pygam's tiny ridge)."""
    A = G.copy()
    for lam, (idx, S) in zip(lams, comps):
        A[np.ix_(idx, idx)] += lam * S
    A[np.diag_indices_from(A)] += _EPS
    return A

def criterion(rho, G, b, zz, comps, n, known_scale, *, gamma, grad=False):
    """GCV (unknown scale) or UBRE (scale 1) of the penalised fit at log-lams ``rho``.

    With ``grad=True`` also the exact gradient in ``rho``:
    d beta = -lam_k A^-1 S_k beta,  d edf = -lam_k tr(A^-1 S_k A^-1 G).
    """
    from scipy.linalg import cho_factor, cho_solve

    lams = np.exp(rho)
    try:
        c = cho_factor(penalty(G, lams, comps), check_finite=False)
    except np.linalg.LinAlgError:
        return (np.inf, None, np.zeros(len(rho))) if grad else (np.inf, None)
    Ainv = cho_solve(c, np.eye(len(b)), check_finite=False)
    beta = cho_solve(c, b, check_finite=False)  # more accurate than Ainv @ b (A is ill-conditioned)
    H = Ainv @ G
    edf = float(np.trace(H))
    Gb = G @ beta
    rss = max(float(zz - 2 * beta @ b + beta @ Gb), 1e-300)
    denom = n - gamma * edf
    if known_scale:  # UBRE with scale 1 (binomial), pygam's definition up to a constant
        value = rss / n + 2.0 * gamma * edf / n
    else:
        value = n * rss / denom**2 if denom > 0 else np.inf
    if not grad:
        return value, beta
    M = H @ Ainv
    g = np.zeros(len(rho))
    resid_dir = 2 * (Gb - b)
    for k, (lam, (idx, S)) in enumerate(zip(lams, comps)):
        dbeta = -lam * (Ainv[:, idx] @ (S @ beta[idx]))
        drss = float(resid_dir @ dbeta)
        dedf = -lam * float(np.sum(S * M[np.ix_(idx, idx)]))
        if known_scale:
            g[k] = drss / n + 2.0 * gamma * dedf / n
        elif denom > 0:
            g[k] = n * drss / denom**2 + 2 * n * rss * gamma * dedf / denom**3
    return value, beta, g

def search(G, b, zz, comps, n, known_scale, *, gamma, start=None):
    """The log-lams minimising :func:`criterion` (a grid scan, then L-BFGS-B), and the coefficients there."""
    from scipy.optimize import minimize

    C = len(comps)
    if start is None:
        scores = [criterion(np.full(C, np.log(g)), G, b, zz, comps, n, known_scale, gamma=gamma)[0] for g in GRID]
        start = np.full(C, np.log(GRID[int(np.argmin(scores))]))
    f0 = criterion(start, G, b, zz, comps, n, known_scale, gamma=gamma)[0]

    def fun(r):
        v, _, g = criterion(r, G, b, zz, comps, n, known_scale, gamma=gamma, grad=True)
        return (v, g) if np.isfinite(v) else (1e300, np.zeros_like(r))

    res = minimize(fun, start, jac=True, method="L-BFGS-B", bounds=[_LOG_LAM_BOUNDS] * C,
                   options={"maxiter": 200})
    rho = res.x if np.isfinite(res.fun) and res.fun <= f0 else start
    return rho, criterion(rho, G, b, zz, comps, n, known_scale, gamma=gamma)[1]
