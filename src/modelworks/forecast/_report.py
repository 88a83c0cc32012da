"""Write forecasts (CSV), a plot per series, and the report section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from modelworks import _io
from modelworks.forecast._base import _level_key
from modelworks.forecast._models import BASELINES

if TYPE_CHECKING:  # the result imports this module to write itself
    from modelworks.forecast._result import ForecastResult

MAX_REPORT_PLOTS = 12
COVERAGE_TOLERANCE = 5.0  # percentage points between empirical and nominal coverage


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "series"


def plot_series(result: ForecastResult, plots_dir: Path) -> dict[str, Path]:
    """One PNG per forecast series, ``forecast-<id>.png``; returns id -> path."""
    from matplotlib.figure import Figure  # not pyplot: nothing to show, less to import

    from modelworks.report import save_figure

    paths = {}
    for s in result.series:
        if s.error or s.forecast is None:
            continue
        fig = Figure(figsize=(9, 4))
        s.forecast.plot(ax=fig.subplots(), title=f"{s.id}: {s.label}")
        paths[s.id] = save_figure(fig, Path(plots_dir) / f"forecast-{_slug(s.id)}.png")
    return paths


def write_forecasts(result: ForecastResult, path: Path) -> Path:
    """The forecasts as CSV, written atomically."""
    with _io.atomic_path(path, suffix=".csv.tmp") as tmp:
        result.forecasts.to_csv(tmp, index=False)
    return Path(path)


def coverage_warnings(result: ForecastResult) -> list[str]:
    """Where the selected models' intervals missed their nominal level by > 5 points."""
    table = result.coverage()
    if table.empty:
        return []
    board = result.leaderboard
    any_cal = "intervals" in board and (board["intervals"] == "calibrated").any()
    out = []
    for _, row in table.iterrows():
        if pd.isna(row["delivered"]):
            continue
        lv, emp = row["level"], float(row["delivered"]) * 100
        if abs(emp - lv) > COVERAGE_TOLERANCE:
            side = "too narrow" if emp < lv else "too wide"
            hint = ("" if result.calibrated is True else
                    " or always calibrate them on the backtest errors (--calibrate always)")
            out.append(
                f"{lv:g}% intervals of the selected models covered {emp:.0f}% of the backtest values"
                f"{' (calibrated where that helped)' if any_cal else ''}: they are {side}; read "
                f"them with care (more folds give a firmer estimate{hint})"
            )
    return out


def baseline_warnings(result: ForecastResult) -> list[str]:
    board = result.leaderboard
    if board.empty or "mase" not in board or "selected" not in board:
        return []
    key = result.id_column or "id"
    if key not in board:
        board = board.assign(**{key: "series"})
    out = []
    for sid, part in board.groupby(key, sort=False):
        chosen = part[part["selected"]]
        base = part[part["model"].isin(BASELINES) & part["mase"].notna()]
        if chosen.empty or base.empty or chosen["model"].iloc[0] in BASELINES:
            continue
        best_base = base.loc[base["mase"].idxmin()]
        if chosen["mase"].iloc[0] >= best_base["mase"]:
            out.append(f"series {sid}: {chosen['label'].iloc[0]} does not beat the "
                       f"{best_base['model']} baseline (MASE {chosen['mase'].iloc[0]:.3g} vs "
                       f"{best_base['mase']:.3g})")
    return out


def add_section(report, result: ForecastResult, plots: dict[str, Path] | None = None,
                *, order: int = 60):
    """Add the "Forecast" section to a :class:`modelworks.report.Report`."""
    sec = report.section("Forecast", order=order)
    n_ok = sum(1 for s in result.series if not s.error)
    how = (f"rolling-origin backtest with {result.backtest_folds} fold(s) of {result.horizon} "
           "period(s); lower MASE is better (1 = as good as the seasonal naive forecast in-sample)"
           if result.backtest_folds else "no backtest (pass --backtest K to measure accuracy)")
    cal = (" Intervals of the chosen model are calibrated on its backtest errors (conformal "
           "rescaling)" + (" where that brought the backtest coverage closer to nominal"
                           if result.calibrated == "auto" else "")
           + "; their coverage is estimated on folds left out of the calibration."
           if result.calibrated is not False else "")
    sec.text(f"Model: {result.model}. Horizon: {result.horizon} period(s). Intervals: "
             f"{', '.join(f'{lv}%' for lv in result.levels)}. Evaluation: {how}.{cal}")
    tiles = {"series forecast": f"{n_ok} / {len(result.series)}", "seconds": result.seconds}
    board = result.leaderboard
    if not board.empty and "selected" in board and "mase" in board:
        chosen = board[board["selected"]]
        tiles["MASE (selected)"] = float(chosen["mase"].mean())
        for lv in result.levels:
            col = f"coverage_{_level_key(lv)}"
            if col in chosen:
                tiles[f"{lv}% coverage"] = f"{100 * float(chosen[col].mean()):.0f}%"
            if f"calibrated_{col}" in chosen and chosen[f"calibrated_{col}"].notna().any():
                tiles[f"{lv}% coverage, calibrated"] = (
                    f"{100 * float(chosen[f'calibrated_{col}'].mean()):.0f}%")
    sec.metrics(tiles)
    cov = result.coverage()
    if not cov.empty and cov["delivered"].notna().any():
        sec.heading("Interval coverage of the forecasts: nominal vs achieved (backtest)")
        shown = pd.DataFrame({
            "level": [f"{lv:g}%" for lv in cov["level"]],
            "model's own": [f"{100 * v:.1f}%" if pd.notna(v) else "—" for v in cov["model"]],
            "calibrated (cross-fold)": [f"{100 * v:.1f}%" if pd.notna(v) else "—"
                                        for v in cov["calibrated"]],
            "delivered": [f"{100 * v:.1f}%" for v in cov["delivered"]],
            "gap (points)": [round(100 * d - lv, 1) for d, lv in zip(cov["delivered"], cov["level"])],
        })
        sec.table(shown)
    for text in coverage_warnings(result) + baseline_warnings(result)[:10]:
        sec.warning(text)
    for sid, msg in list(result.errors.items())[:10]:
        sec.warning(f"series {sid} not forecast: {msg}")
    if not board.empty and "error" in board:
        skipped = board[board["error"].notna()]
        key = result.id_column or "model"
        for _, row in skipped.head(10).iterrows():
            where = f"series {row[key]}: " if result.id_column else ""
            sec.text(f"{where}{row['model']} left out of the backtest: {row['error']}", css="note")
    if not result.summary.empty and len(result.summary.columns) > 2:
        sec.heading("Models over all series (backtest)")
        sec.table(result.summary)
        sec.heading("Interval coverage: empirical vs nominal")
        rows = []
        for _, r in result.summary.iterrows():
            for lv in result.levels:
                col = f"coverage_{_level_key(lv)}"
                if col in r and pd.notna(r[col]):
                    row = {"model": r["model"], "level": f"{lv}%",
                           "empirical": f"{100 * r[col]:.1f}%",
                           "gap (points)": round(100 * r[col] - lv, 1)}
                    cal = r.get(f"calibrated_{col}")
                    if result.calibrated is not False:
                        row["calibrated (cross-fold)"] = (f"{100 * cal:.1f}%" if pd.notna(cal)
                                                          else "—")
                    rows.append(row)
        if rows:
            sec.table(pd.DataFrame(rows))
    if not board.empty:
        sec.heading("Leaderboard per series")
        cols = [c for c in board.columns if c not in ("error",)]
        sec.table(board[cols], max_rows=60)
    for sid, path in list((plots or {}).items())[:MAX_REPORT_PLOTS]:
        sec.image(path, f"{sid}: history, forecast and intervals")
    if plots and len(plots) > MAX_REPORT_PLOTS:
        sec.text(f"{len(plots) - MAX_REPORT_PLOTS} more plot(s) in plots/.", css="note")
    return sec


def write_outputs(result: ForecastResult, out_dir, *, title: str = "modelworks forecast",
                  subtitle: str = "") -> dict[str, object]:
    """forecasts.csv, leaderboard.csv, plots/forecast-<id>.png and report.html under ``out_dir``."""
    from modelworks.report import Report

    out = Path(out_dir)
    report = Report(out, title=title, subtitle=subtitle)
    csv = write_forecasts(result, out / "forecasts.csv")
    board_path = None
    if not result.leaderboard.empty:
        board_path = out / "leaderboard.csv"
        with _io.atomic_path(board_path, suffix=".csv.tmp") as tmp:
            result.leaderboard.to_csv(tmp, index=False)
    plots = plot_series(result, report.plots_dir)
    add_section(report, result, plots)
    html = report.write()
    _io.write_json(out / "forecast.json", result.to_dict())
    return {"forecasts": csv, "leaderboard": board_path, "report": html,
            "plots": [str(p) for p in plots.values()], "json": out / "forecast.json",
            "n_plots": len(plots)}
