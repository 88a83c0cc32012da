"""One statsmodels ARIMA fit with its warnings collected (used by ARIMA and the stepwise search)."""

from __future__ import annotations

import warnings


def fit_statsmodels_arima(y, X, order, seasonal_order, trend, *, selection: bool = False):
    """Fit statsmodels' ARIMA; return (result, warnings)."""
    from statsmodels.tsa.arima.model import ARIMA as _SMARIMA

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _SMARIMA(y, exog=X, order=order, seasonal_order=seasonal_order, trend=trend)
        kwargs = {"cov_type": "none", "method_kwargs": {"maxiter": 100}} if selection else {}
        result = model.fit(**kwargs)
    notes = sorted({str(w.message).split("\n")[0] for w in caught
                    if "Convergence" in type(w.message).__name__
                    or "Non-stationary" in str(w.message) or "Non-invertible" in str(w.message)})
    return result, notes
