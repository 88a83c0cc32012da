"""The job behind ``modelworks forecast``: :func:`forecast` with the one result shape.

:class:`ForecastResult` keeps ``summary`` as its table of backtest scores, so the shape of every
job's result (:class:`modelworks._result.Result`) comes from :class:`ForecastJobResult`, which
:func:`forecast_job` returns around it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelworks._result import Result


class ForecastJobResult(Result):
    """A :class:`ForecastResult` (``.forecast``) with the one result shape.

    ``write(out_dir)`` writes ``forecasts.csv``, ``leaderboard.csv``, ``forecast.json``, one plot
    per series and ``report.html``.
    """

    title = "modelworks forecast"

    def __init__(self, forecast, *, subtitle: str = "") -> None:
        self.forecast = forecast
        self._subtitle = subtitle
        self.files: dict[str, Any] = {}

    @property
    def subtitle(self) -> str:
        return self._subtitle

    def to_dict(self) -> dict[str, Any]:
        payload = self.forecast.to_dict()
        if self.files:
            payload["files"] = {k: (str(v) if v is not None and not isinstance(v, list | int) else v)
                                for k, v in self.files.items()}
        return payload

    def summary(self) -> str:
        r = self.forecast
        lines = [f"{len(r.series) - len(r.errors)} series forecast {r.horizon} period(s) ahead in {r.seconds:.1f}s"]
        lines += [f"  {s.id}: {s.label}" if not s.error else f"  {s.id}: not forecast ({s.error})"
                  for s in r.series[:20]]
        if len(r.series) > 20:
            lines.append(f"  ... {len(r.series) - 20} more")
        if not r.summary.empty and "mase_mean" in r.summary:
            cols = [c for c in r.summary.columns if c != "n_series"]
            lines.append(r.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        cov = r.coverage()
        if not cov.empty and cov["delivered"].notna().any():
            lines.append("interval coverage in the backtest (nominal -> achieved):  " + ",  ".join(
                f"{lv:g}% -> {100 * d:.0f}%" for lv, d in zip(cov["level"], cov["delivered"])))
        if self.files:
            lines.append(f"forecasts: {self.files['forecasts']}\nreport:    {self.files['report']}")
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        from modelworks.forecast._report import plot_series

        return plot_series(self.forecast, Path(out_dir))

    def report_section(self, report):
        from modelworks.forecast._report import add_section

        return add_section(report, self.forecast, self.plots(report.plots_dir))

    def write(self, out_dir: str | os.PathLike) -> dict[str, Any]:
        self.files = self.forecast.write(out_dir, title=self.title, subtitle=self.subtitle)
        return self.files


def forecast_job(data, *, horizon: int, model: str = "auto", order=None, seasonal_order=None,
                 log: Callable[[str], None] | None = None, **options) -> ForecastJobResult:
    """:func:`forecast` as ``modelworks forecast`` runs it; returns a :class:`ForecastJobResult`.

    Parameters
    ----------
    data : path or DataFrame
    horizon : int
    model : str
    order, seasonal_order : tuple, optional
        ARIMA orders, used by ``model="arima"`` only (default order ``(1, 0, 0)``).
    log : callable, optional
        Called with progress lines (the inferred columns, what is forecast).
    **options
        The other keyword arguments of :func:`forecast` (``time``, ``target``, ``id``,
        ``backtest``, ``levels``...).
    """
    from modelworks.forecast import forecast
    from modelworks.forecast._prophet import silence_plotly_notice

    say = log or (lambda _line: None)
    if model == "arima" and order is None:
        order = (1, 0, 0)
    silence_plotly_notice()
    arima = model == "arima"
    result = forecast(data, horizon=horizon, model=model, order=order if arima else None,
                      seasonal_order=seasonal_order if arima else None, **options)
    cols = result.columns
    picked = [f"{k} column '{cols[k]}'" for k in ("time", "target") if k in cols.get("inferred", [])]
    if picked:
        say(f"using {' and '.join(picked)} (inferred; name them with --time/--target)")
    by = options.get("id")
    say(f"forecast {cols.get('target')} over {cols.get('time')}" + (f" per {by}" if by else "")
        + f", horizon {horizon}, model {model}")
    name = Path(os.fspath(data)).name if isinstance(data, str | os.PathLike) else "data"
    return ForecastJobResult(result, subtitle=f"{name} · target {cols.get('target')} · horizon {horizon}")
