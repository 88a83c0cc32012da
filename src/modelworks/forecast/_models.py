"""The forecasting models by name, and which ones ``model="auto"`` backtests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from modelworks.exceptions import UnknownNameError
from modelworks.forecast._arima import ARIMA, AutoARIMA
from modelworks.forecast._base import Forecaster
from modelworks.forecast._baselines import Drift, Naive, SeasonalNaive
from modelworks.forecast._prophet import Prophet

MODELS: dict[str, type[Forecaster]] = {
    "arima": ARIMA,
    "auto-arima": AutoARIMA,
    "prophet": Prophet,
    "naive": Naive,
    "seasonal-naive": SeasonalNaive,
    "drift": Drift,
}
BASELINES = ("naive", "seasonal-naive", "drift")
AUTO_CANDIDATES = ("auto-arima", "prophet", "seasonal-naive", "naive", "drift")
# frequency codes (daily and finer) where "auto" also backtests Prophet: it is built for daily
# business data with several seasonalities; on weekly, monthly, quarterly and yearly series it
# is left to candidates=[...] / --model prophet (it costs more than all the other candidates
# together and loses to AutoARIMA on the benchmark's series)
PROPHET_AUTO_CODES = frozenset({"D", "B", "C", "h", "H", "bh", "BH", "min", "T", "s", "S"})


def auto_candidates(freq: str) -> tuple[str, ...]:
    """The models ``model="auto"`` backtests for a series of frequency ``freq``."""
    code = "".join(ch for ch in pd.tseries.frequencies.to_offset(freq).rule_code.split("-")[0]
                   if not ch.isdigit())
    if code in PROPHET_AUTO_CODES:
        return AUTO_CANDIDATES
    return tuple(n for n in AUTO_CANDIDATES if n != "prophet")
SELECT_BY = "mase"


def make_forecaster(name: str, **options: Any) -> Forecaster:
    """A new forecaster by name; options it does not take (e.g. ``order`` for naive) are ignored.

    Parameters
    ----------
    name : str
        One of ``arima``, ``auto-arima``, ``prophet``, ``naive``, ``seasonal-naive``, ``drift``.
    **options
        Constructor parameters, applied where the model has them (None values are skipped).
    """
    if name not in MODELS:
        raise UnknownNameError(
            f"unknown forecasting model {name!r}; choose one of: auto, {', '.join(MODELS)}"
        )
    est = MODELS[name]()
    params = est.get_params()
    est.set_params(**{k: v for k, v in options.items() if v is not None and k in params})
    return est


def _available(name: str) -> bool:
    if name == "prophet":
        from modelworks._imports import is_available

        return is_available("prophet")
    return True
