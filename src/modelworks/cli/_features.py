"""``modelworks features poly | dfs``."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, csv_list, emit_json, info, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("features", help="feature engineering: polynomial/interaction features, deep feature synthesis")
    fsub = p.add_subparsers(dest="features_command", metavar="KIND", required=True, parser_class=type(p))

    q = fsub.add_parser("poly", help="polynomial / interaction features of numeric columns",
                        description="Add polynomial and interaction terms (named like age*income, age^2) of "
                        "numeric columns of DATA and write the table to --out.")
    q.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    q.add_argument("--degree", type=positive_int, default=2)
    q.add_argument("--interaction-only", action="store_true", help="only products of distinct columns")
    q.add_argument("--columns", type=csv_list, metavar="A,B", help="columns to expand (default: all numeric)")
    q.add_argument("--exclude", type=csv_list, default=[], metavar="A,B", help="numeric columns to leave alone (e.g. the target)")
    q.add_argument("--max-output", type=positive_int, default=1000, metavar="N", help="refuse expansions beyond N columns")
    q.add_argument("--out", required=True, metavar="FILE", help="output .csv or .parquet")
    add_json(q)
    q.set_defaults(handler=_poly)

    q = fsub.add_parser("dfs", help="deep feature synthesis over related tables (featuretools)",
                        description="Build features for each row of the target table from related tables described "
                        "in SPEC (TOML or YAML: tables with path/index/time_index, relationships parent/child).")
    q.add_argument("spec", metavar="SPEC", help="spec file (.toml, .yaml)")
    q.add_argument("--target-table", required=True, metavar="NAME")
    q.add_argument("--max-depth", type=positive_int, default=2)
    q.add_argument("--cutoff-times", metavar="FILE", help="CSV/Parquet of (id, time): use only data before each time")
    q.add_argument("--agg-primitives", type=csv_list, metavar="A,B", help="aggregation primitives (default: featuretools')")
    q.add_argument("--trans-primitives", type=csv_list, metavar="A,B", help="transform primitives (default: featuretools')")
    q.add_argument("--no-select", action="store_true", help="keep constant, mostly-null and highly correlated features")
    q.add_argument("--out", required=True, metavar="FILE", help="output .csv or .parquet")
    add_json(q)
    q.set_defaults(handler=_dfs)


def _write(frame, out: str, *, index: bool) -> None:
    from pathlib import Path

    from modelworks._io import atomic_path
    from modelworks.exceptions import ConfigError

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"output file {out} must end in .csv or .parquet")
    with atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=index)
        else:
            frame.to_parquet(tmp, index=index)


def _poly(args) -> int:
    import pandas as pd

    from modelworks.data import load_table
    from modelworks.features import PolynomialFeatures

    frame = load_table(args.data)
    columns = args.columns
    if columns is None and args.exclude:
        columns = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c not in args.exclude]
    poly = PolynomialFeatures(columns=columns, degree=args.degree, interaction_only=args.interaction_only,
                              max_output=args.max_output)
    out = poly.fit_transform(frame)
    _write(out, args.out, index=False)
    summary = {"rows": len(out), "input_columns": frame.shape[1], "output_columns": out.shape[1],
               "expanded": poly.columns_, "new": [c for c in out.columns if c not in frame.columns], "out": args.out}
    if args.json:
        emit_json(summary)
    else:
        info(f"expanded {len(poly.columns_)} columns into {out.shape[1] - len(poly.passthrough_)} features; "
             f"wrote {out.shape[0]} x {out.shape[1]} to {args.out}")
    return 0


def _dfs(args) -> int:
    from modelworks.features import dfs

    info(f"deep feature synthesis for '{args.target_table}' (max depth {args.max_depth})...")
    result = dfs(args.spec, args.target_table, max_depth=args.max_depth, cutoff_times=args.cutoff_times,
                 agg_primitives=args.agg_primitives, trans_primitives=args.trans_primitives,
                 select=not args.no_select)
    _write(result.matrix, args.out, index=True)
    summary = {**result.summary(), "out": args.out, "features": result.names, "dropped": result.dropped}
    if args.json:
        emit_json(summary)
    else:
        s = result.summary()
        why = ", ".join(f"{n} {k}" for k, n in s["dropped_by_reason"].items()) or "none"
        print(f"made {s['made']} features, kept {s['kept']}, dropped {s['dropped']} ({why}); "
              f"wrote {s['rows']} rows to {args.out}")
    return 0
