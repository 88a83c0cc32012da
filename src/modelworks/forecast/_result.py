"""What :func:`~modelworks.forecast.forecast` returns: forecasts, leaderboard, coverage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.forecast._models import SELECT_BY
from modelworks.forecast._select import SeriesResult


@dataclass
class ForecastResult:
    """Forecasts and backtest leaderboards for one or many series.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        Long: ``id`` (when there is one), ``time``, ``model``, ``forecast``, bounds per level.
    leaderboard : pandas.DataFrame
        One row per (series, model) with the backtest metrics, coverage, fit time, ``selected``.
    summary : pandas.DataFrame
        One row per model over all series: mean/median MASE, sMAPE, coverage, wins.
    series : list of SeriesResult
    errors : dict
        series id -> why it could not be forecast.
    """

    forecasts: pd.DataFrame
    leaderboard: pd.DataFrame
    summary: pd.DataFrame
    series: list[SeriesResult]
    errors: dict[str, str]
    horizon: int
    levels: tuple
    model: str
    backtest_folds: int
    id_column: str | None = None
    seconds: float = 0.0
    calibrated: Any = False
    columns: dict = field(default_factory=dict)

    def write(self, out_dir, *, title: str = "modelworks forecast", subtitle: str = "") -> dict:
        """Write forecasts.csv, leaderboard.csv, forecast.json, a plot per series and report.html.

        Returns a dict of the paths written. All writes are atomic.
        """
        from modelworks.forecast._report import write_outputs

        return write_outputs(self, out_dir, title=title, subtitle=subtitle)

    def coverage(self) -> pd.DataFrame:
        """Nominal vs achieved backtest coverage per level, over the selected models.

        ``model`` is the coverage of the models' own intervals, ``calibrated`` that of
        conformal intervals (each fold calibrated on the other folds), ``delivered`` that of
        the intervals actually in the forecasts (calibrated where they were used).
        """
        return coverage_table(self.leaderboard, self.levels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "horizon": self.horizon, "levels": list(self.levels),
            "backtest_folds": self.backtest_folds, "n_series": len(self.series),
            "calibrated": self.calibrated, "columns": self.columns,
            "coverage": self.coverage().to_dict(orient="records"),
            "intervals": {s.id: s.intervals for s in self.series if not s.error},
            "seconds": self.seconds,
            "selected": {s.id: s.label for s in self.series if not s.error},
            "summary": self.summary.to_dict(orient="records"),
            "leaderboard": self.leaderboard.to_dict(orient="records"),
            "errors": self.errors,
        }


def coverage_table(board: pd.DataFrame, levels) -> pd.DataFrame:
    """Per level: nominal, model, calibrated and delivered coverage over the selected rows."""
    from modelworks.forecast._base import _level_key

    cols = ["level", "nominal", "model", "calibrated", "delivered", "n_series"]
    if board.empty or "selected" not in board:
        return pd.DataFrame(columns=cols)
    chosen = board[board["selected"]]
    use_cal = (chosen["intervals"] == "calibrated").to_numpy() if "intervals" in chosen else \
        np.zeros(len(chosen), bool)
    rows = []
    for lv in levels:
        key = _level_key(lv)
        raw = chosen.get(f"coverage_{key}", pd.Series(np.nan, index=chosen.index)).to_numpy(float)
        cal = chosen.get(f"calibrated_coverage_{key}",
                         pd.Series(np.nan, index=chosen.index)).to_numpy(float)
        delivered = np.where(use_cal, cal, raw)
        rows.append({"level": lv, "nominal": lv / 100,
                     "model": float(np.nanmean(raw)) if np.isfinite(raw).any() else np.nan,
                     "calibrated": float(np.nanmean(cal)) if np.isfinite(cal).any() else np.nan,
                     "delivered": float(np.nanmean(delivered)) if np.isfinite(delivered).any()
                     else np.nan, "n_series": int(np.isfinite(delivered).sum())})
    return pd.DataFrame(rows, columns=cols)


def _summarise(board: pd.DataFrame, levels) -> pd.DataFrame:
    if board.empty or SELECT_BY not in board:
        return pd.DataFrame(columns=["model", "n_series"])
    ok = board[board[SELECT_BY].notna()]
    best = ok.loc[ok.groupby("id")[SELECT_BY].idxmin(), "model"].value_counts()
    agg: dict[str, Any] = {"n_series": ("id", "nunique"), "mase_mean": ("mase", "mean"),
                           "mase_median": ("mase", "median"), "smape_mean": ("smape", "mean")}
    for lv in levels:
        col = f"coverage_{lv:g}" if isinstance(lv, float) else f"coverage_{lv}"
        agg[col] = (col, "mean")
        if f"calibrated_{col}" in ok:
            agg[f"calibrated_{col}"] = (f"calibrated_{col}", "mean")
    agg["fit_time"] = ("fit_time", "mean")
    summary = ok.groupby("model", sort=False).agg(**agg).reset_index()
    summary["wins"] = summary["model"].map(best).fillna(0).astype(int)
    return summary.sort_values("mase_mean", kind="stable").reset_index(drop=True)
