"""``modelworks drift`` and ``modelworks abtest``.

``drift`` exits 0 when nothing drifted, 1 when something did and 2 on a user error, so that a
scheduler (cron, Airflow, a CI job) can act on the exit code alone.
"""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_data,
    add_json,
    add_out,
    add_seed,
    csv_list,
    finish,
    info,
    positive_int,
)

_DRIFT_EPILOG = """exit codes: 0 no drift, 1 drift detected, 2 user error (bad file, options or columns).

examples:
  modelworks drift train.csv today.parquet
  modelworks drift PACKAGE_DIR today.csv --correction holm --min-effect 0.2
  modelworks drift train.csv events.parquet --by month --out drift-report
  modelworks drift train.csv huge.parquet --stream --json
"""

_ABTEST_EPILOG = """REF is a model package directory or models:/NAME@ALIAS.
tests: mcnemar (labels; exact binomial below 25 discordant pairs), bootstrap (paired, any metric),
cv (refit both models by repeated cross-validation; Nadeau-Bengio corrected t-test).
"""


def _min_effect(value: str):
    """``0.2`` or ``numeric=0.2,categorical=0.1,missing=0.05``."""
    try:
        if "=" not in value:
            x = float(value)
            if x < 0:
                raise ValueError
            return x
        out = {}
        for part in csv_list(value):
            key, _, num = part.partition("=")
            out[key.strip()] = float(num)
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0 or numeric=X,categorical=Y,missing=Z, got {value!r}"
        ) from None


def _alpha(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {value!r}"
        ) from None
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {value}")
    return x


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drift",
        help="data drift of CURRENT against REFERENCE (exit 1 on drift)",
        description="Test every column of CURRENT against REFERENCE (KS / chi-squared / missing rate), "
        "correct the p-values across columns and flag a column only when it is significant and its "
        "effect size reaches a floor.",
        epilog=_DRIFT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "reference",
        metavar="REFERENCE",
        help="CSV/Parquet file, or a model package / models:/NAME@ALIAS (its reference sample)",
    )
    p.add_argument("current", metavar="CURRENT", help="CSV or Parquet file with the new data")
    p.add_argument(
        "--columns", type=csv_list, metavar="A,B", help="columns to compare (default: all)"
    )
    p.add_argument(
        "--correction",
        default="bh",
        choices=["bh", "holm", "bonferroni", "none"],
        help="multiple-testing correction across columns (default: bh)",
    )
    p.add_argument(
        "--alpha", type=_alpha, default=0.05, help="level of the corrected p-values (default: 0.05)"
    )
    p.add_argument(
        "--min-effect",
        type=_min_effect,
        metavar="E",
        help="effect-size floor: one number, or numeric=0.1,categorical=0.05,missing=0.02 "
        "(the defaults)",
    )
    p.add_argument(
        "--by",
        metavar="COL",
        help="compare each value of COL in CURRENT as its own batch (drift over time)",
    )
    p.add_argument(
        "--batch-rows",
        type=positive_int,
        metavar="N",
        help="compare CURRENT in batches of N rows (drift over time; streamed for Parquet)",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="read a Parquet CURRENT in record batches (files larger than memory; numeric tests binned)",
    )
    p.add_argument(
        "--self-test",
        type=positive_int,
        metavar="N",
        dest="self_test",
        help="also split REFERENCE against itself N times and report the false-alarm rate",
    )
    add_out(p, what="drift.json, drift.csv, plots and report.html")
    add_json(p)
    p.set_defaults(handler=_drift)

    p = sub.add_parser(
        "abtest",
        help="is model B better than model A on DATA? (McNemar, bootstrap, corrected CV t-test)",
        description="Compare two packaged models on the rows of DATA with a paired test and print a "
        "plain verdict.",
        epilog=_ABTEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data(p, data="CSV or Parquet file with features and the target")
    p.add_argument(
        "--model-a",
        required=True,
        metavar="REF",
        help="model A: package path or models:/NAME@ALIAS",
    )
    p.add_argument(
        "--model-b",
        required=True,
        metavar="REF",
        help="model B: package path or models:/NAME@ALIAS",
    )
    p.add_argument(
        "--test",
        default=None,
        choices=["mcnemar", "bootstrap", "cv"],
        help="mcnemar (default for classification), bootstrap (default for regression), cv",
    )
    p.add_argument(
        "--metric",
        metavar="NAME",
        help="bootstrap metric: accuracy, roc_auc, log_loss, rmse, mae, ... / cv: a scikit-learn scorer",
    )
    p.add_argument("--alpha", type=_alpha, default=0.05, help="significance level (default: 0.05)")
    add_seed(p)
    add_out(p, what="abtest.json and report.html")
    add_json(p)
    p.set_defaults(handler=_abtest)


# ----------------------------------------------------------------------------- drift
def _drift(args: argparse.Namespace) -> int:
    from modelworks.monitor import drift_job

    result = drift_job(args.reference, args.current, columns=args.columns, correction=args.correction,
                         alpha=args.alpha, min_effect=args.min_effect, by=args.by, batch_rows=args.batch_rows,
                         stream=args.stream, self_test=args.self_test)
    code = finish(args, result)
    if args.out and not args.json:
        info(f"report: {result.report_path}")
    return code


# ----------------------------------------------------------------------------- abtest
def _abtest(args: argparse.Namespace) -> int:
    from modelworks.monitor import abtest

    result = abtest(args.data, args.target, args.model_a, args.model_b, test=args.test,
                    metric=args.metric, alpha=args.alpha, seed=args.seed)
    return finish(args, result)
