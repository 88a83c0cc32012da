"""``modelworks drift`` and ``modelworks abtest``.

``drift`` exits 0 when nothing drifted, 1 when something did and 2 on a user error, so that a
scheduler (cron, Airflow, a CI job) can act on the exit code alone.
"""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, add_out, csv_list, emit_json, info, positive_int

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
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file with features and the target")
    p.add_argument("--target", required=True, metavar="COL", help="target column")
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
    p.add_argument("--seed", type=int, default=0)
    add_out(p, what="abtest.json and report.html")
    add_json(p)
    p.set_defaults(handler=_abtest)


# ----------------------------------------------------------------------------- drift
def _drift(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modelworks.exceptions import ConfigError
    from modelworks.monitor import drift, drift_over_time, drift_stream, self_test

    rule = {"correction": args.correction, "alpha": args.alpha, "min_effect": args.min_effect}
    over_time = args.by is not None or args.batch_rows is not None
    if over_time and args.stream:
        raise ConfigError(
            "--stream compares the whole file at once; with --by/--batch-rows batches are "
            "already streamed: use one or the other"
        )
    if over_time:
        current = args.current
        if args.by is not None or not str(current).lower().endswith((".parquet", ".pq")):
            from modelworks.data import load_table

            current = load_table(current, name="current")
        result = drift_over_time(
            args.reference,
            current,
            by=args.by,
            batch_rows=args.batch_rows or 100_000,
            columns=args.columns,
            **rule,
        )
        drifted = bool(result.drifted_batches)
    elif args.stream:
        result = drift_stream(args.reference, args.current, columns=args.columns, **rule)
        drifted = result.dataset_drift
    else:
        result = drift(args.reference, args.current, columns=args.columns, **rule)
        drifted = result.dataset_drift
    check = (
        self_test(args.reference, repeats=args.self_test, columns=args.columns, **rule)
        if args.self_test
        else None
    )

    payload = result.to_dict()
    if check is not None:
        payload["self_test"] = check.to_dict()
    if args.out:
        _write_drift(Path(args.out), result, payload, over_time, check)
    if args.json:
        emit_json(payload)
    else:
        if not over_time:
            shown = result.table[
                ["column", "kind", "status", "p_adjusted", "effect_name", "effect"]
            ]
            print(shown.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        else:
            print(result.summary[["batch", "rows", "n_drifted", "drifted"]].to_string(index=False))
        print(result.verdict)
        if check is not None:
            print(check.verdict)
        if args.out:
            info(f"report: {Path(args.out) / 'report.html'}")
    return 1 if drifted else 0


def _write_drift(out, result, payload, over_time: bool, check) -> None:
    from modelworks import _io
    from modelworks.report import Report

    out.mkdir(parents=True, exist_ok=True)
    _io.write_json(out / "drift.json", payload)
    table = result.table if not over_time else result.summary
    _io.write_text(out / "drift.csv", table.to_csv(index=False))
    report = Report(out, "modelworks drift", result.verdict)
    sec = result.add_to_report(report, title="Drift over time" if over_time else "Data drift")
    if check is not None:
        sec.text(check.verdict)
    report.write()


# ----------------------------------------------------------------------------- abtest
def _abtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from modelworks import _io
    from modelworks.data import infer_task, load_table
    from modelworks.exceptions import ColumnError, ConfigError, MonitorError
    from modelworks.monitor import METRICS, compare_estimators, compare_predictions
    from modelworks.monitor._refs import load_ref

    frame = load_table(args.data, name="data")
    if args.target not in frame.columns:
        raise ColumnError(
            f"target column '{args.target}' not found; columns are: "
            f"{', '.join(map(str, frame.columns[:30]))} (use --target NAME)"
        )
    frame = frame[frame[args.target].notna()]
    y = frame[args.target]
    X = frame.drop(columns=[args.target])
    task = infer_task(y)
    test = args.test or ("bootstrap" if task == "regression" else "mcnemar")
    if test == "mcnemar" and task == "regression":
        raise ConfigError(
            "McNemar's test is for classifiers (right/wrong); use --test bootstrap or cv for regression"
        )
    a, b = load_ref(args.model_a), load_ref(args.model_b)
    names = (_name(args.model_a, "A"), _name(args.model_b, "B"))
    if names[0] == names[1]:
        names = (names[0] + " (A)", names[1] + " (B)")
    classes = None
    if task != "regression":
        for ref, loaded in ((args.model_a, a), (args.model_b, b)):
            known = getattr(getattr(loaded, "model", loaded), "classes_", None)
            if known is None:
                continue
            unseen = sorted(set(y.tolist()) - set(np.asarray(known).tolist()), key=str)
            if unseen:
                raise MonitorError(
                    f"DATA has labels model {ref} never saw: {', '.join(map(repr, unseen[:10]))} "
                    f"(it knows: {', '.join(map(repr, list(known)[:20]))}); drop those rows"
                )
            classes = np.asarray(known)
    if test == "cv":
        from sklearn.base import clone

        features = list(
            dict.fromkeys([*getattr(a, "features", []), *getattr(b, "features", [])])
        ) or list(X.columns)
        missing = [c for c in features if c not in X.columns]
        if missing:
            raise ColumnError(
                f"DATA lacks feature column(s) the models need: {', '.join(missing[:10])}"
            )
        result = compare_estimators(
            clone(a.model),
            clone(b.model),
            X[features],
            y,
            scoring=args.metric,
            names=names,
            alpha=args.alpha,
            seed=args.seed,
        )
    else:
        metric = args.metric
        if metric is not None and metric not in METRICS:
            raise ConfigError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
        kind = METRICS[metric].kind if metric else "label"
        if kind in ("proba", "score"):
            pa, pb = a.predict_proba(X, ignore_extra=True), b.predict_proba(X, ignore_extra=True)
            pa, pb = np.asarray(pa), np.asarray(pb)
            if np.asarray(b.model.classes_).tolist() != np.asarray(a.model.classes_).tolist():
                raise MonitorError(
                    "the two models order their classes differently; probabilities cannot be compared"
                )
        else:
            pa, pb = (
                np.asarray(a.predict(X, ignore_extra=True)),
                np.asarray(b.predict(X, ignore_extra=True)),
            )
        result = compare_predictions(
            y.to_numpy(),
            pa,
            pb,
            test=test,
            metric=metric,
            names=names,
            alpha=args.alpha,
            labels=classes,
            seed=args.seed,
        )
    if args.out:
        from modelworks.report import Report

        out = Path(args.out)
        _io.write_json(out / "abtest.json", result.to_dict())
        report = Report(out, "modelworks abtest", result.verdict)
        result.add_to_report(report)
        report.write()
    if args.json:
        emit_json(result.to_dict())
    else:
        print(
            f"{names[0]}: {result.metric} {result.score_a:.4g}   {names[1]}: {result.metric} {result.score_b:.4g}"
        )
        print(result.verdict)
    return 0


def _name(ref: str, default: str) -> str:
    from pathlib import PurePath

    text = str(ref)
    if text.startswith("models:/"):
        return text[len("models:/") :]
    return PurePath(text).name or default
