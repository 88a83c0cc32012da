"""``modelworks forecast``: forecast one series or many, with backtests and a report."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, add_out, csv_list, finish, info, non_negative_int

_MODELS = ["auto", "arima", "auto-arima", "prophet", "naive", "seasonal-naive", "drift"]
_FILLS = ["interpolate", "ffill", "zero"]


def _int_tuple(sizes: tuple[int, ...], what: str):
    def parse(value: str) -> tuple[int, ...]:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            nums = tuple(int(p) for p in parts)
        except ValueError:
            nums = ()
        if len(nums) not in sizes or any(n < 0 for n in nums):
            raise argparse.ArgumentTypeError(
                f"{what} must be {' or '.join(map(str, sizes))} whole numbers >= 0 separated by "
                f"commas, got {value!r}"
            )
        return nums

    return parse


def _levels(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"levels must be numbers like 80,95, got {value!r}") from None


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None


def _box_cox(value: str):
    if value.lower() in ("auto", "none"):
        return None if value.lower() == "none" else "auto"
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--box-cox must be auto, none or a number (0 = log), got {value!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forecast", help="forecast a time series (or many) with ARIMA, AutoARIMA, Prophet or baselines",
        description="Forecast the TARGET column of DATA over TIME, H periods ahead, with intervals. "
        "With --id, every series of the long table is forecast in parallel processes. A "
        "rolling-origin backtest (--backtest K folds) measures MAE, RMSE, MAPE, sMAPE, MASE and "
        "the empirical coverage of each interval level, next to the naive, seasonal naive and drift "
        "baselines; --model auto keeps the candidate with the lowest backtest MASE. Writes "
        "forecasts.csv, leaderboard.csv, plots/forecast-<id>.png and report.html under --out.")
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file (long format: time, target[, id])")
    p.add_argument("--time", metavar="COL",
                   help="time column (dates; default: the one date-like column, if there is one)")
    p.add_argument("--target", metavar="COL",
                   help="column to forecast (default: the one numeric column, if there is one)")
    p.add_argument("--exog", type=csv_list, metavar="COL,...",
                   help="exogenous regressor columns (used by arima, auto-arima and prophet)")
    p.add_argument("--future", metavar="FILE",
                   help="CSV/Parquet with the future values of the --exog columns: the time column, "
                   "those columns (and --id), one row per future period")
    p.add_argument("--id", metavar="COL", help="series id column of a long table (one forecast per id)")
    p.add_argument("--horizon", required=True, type=_int, metavar="H", help="periods to forecast")
    p.add_argument("--model", default="auto", choices=_MODELS,
                   help="model (default: auto = backtest auto-arima and the baselines, plus prophet "
                   "on daily or finer data, keep the best MASE)")
    p.add_argument("--order", type=_int_tuple((3,), "--order"), metavar="p,d,q",
                   help="ARIMA order for --model arima (default 1,0,0)")
    p.add_argument("--seasonal-order", type=_int_tuple((3, 4), "--seasonal-order"),
                   metavar="P,D,Q[,m]", help="seasonal ARIMA order for --model arima")
    p.add_argument("--seasonal-period", type=_int, metavar="M",
                   help="observations per season (default: from the frequency, e.g. 12 monthly)")
    p.add_argument("--backtest", type=non_negative_int, default=3, metavar="K",
                   help="rolling-origin folds for evaluation (default: 3; 0 = none)")
    p.add_argument("--levels", type=_levels, default=(80, 95), metavar="L1,L2",
                   help="interval levels in percent (default: 80,95)")
    p.add_argument("--calibrate", nargs="?", const="always", default="auto",
                   choices=["auto", "always", "never"],
                   help="conformal intervals from the chosen model's backtest errors: auto (default: "
                   "when they cover closer to nominal than the model's own), always (--calibrate), never")
    p.add_argument("--box-cox", default="auto", metavar="auto|none|LAMBDA", type=_box_cox,
                   help="Box-Cox transform for auto-arima: auto (default: Guerrero's lambda, kept only "
                   "when the backtest prefers it), none, or a lambda such as 0 (log)")
    p.add_argument("--freq", metavar="F", help="frequency as a pandas alias (D, W, MS, QS...; default: inferred)")
    p.add_argument("--fill", choices=_FILLS,
                   help="fill missing timestamps/values this way (default: gaps are an error)")
    p.add_argument("--jobs", type=_int, metavar="N",
                   help="worker processes for many series (default: one per CPU)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run the series on a Dask cluster (scheduler address, e.g. tcp://host:8786); "
                   "--model auto-arima --backtest 0 uses statsforecast's own Dask backend")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr for many series (default: when stderr is a terminal)")
    add_out(p, "modelworks-forecast", "forecasts.csv, plots and report.html")
    add_json(p)
    p.set_defaults(handler=_forecast)


def _forecast(args: argparse.Namespace) -> int:
    import sys

    from modelworks.forecast import forecast_job

    if args.model != "arima" and (args.order or args.seasonal_order):
        info(f"note: --order/--seasonal-order only apply to --model arima (ignored for {args.model})")
    result = forecast_job(
        args.data, time=args.time, target=args.target, id=args.id, horizon=args.horizon,
        model=args.model, backtest=args.backtest, levels=args.levels, freq=args.freq,
        fill=args.fill, order=args.order, seasonal_order=args.seasonal_order,
        seasonal_period=args.seasonal_period, n_jobs=args.jobs,
        calibrate={"auto": "auto", "always": True, "never": False}[args.calibrate],
        box_cox=args.box_cox, exog=args.exog, future=args.future, dask=args.dask,
        progress=sys.stderr.isatty() if args.progress is None else args.progress, log=info,
    )
    return finish(args, result)
