"""``modelworks features poly | dfs``."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, csv_list, finish, info, positive_int


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


def _poly(args) -> int:
    from modelworks.features import poly_job

    result = poly_job(args.data, args.out, columns=args.columns, exclude=args.exclude, degree=args.degree,
                      interaction_only=args.interaction_only, max_output=args.max_output)
    return finish(args, result, write=False)  # --out is the table the job wrote


def _dfs(args) -> int:
    from modelworks.features import dfs_job

    result = dfs_job(args.spec, args.target_table, args.out, max_depth=args.max_depth,
                     cutoff_times=args.cutoff_times, agg_primitives=args.agg_primitives,
                     trans_primitives=args.trans_primitives, select=not args.no_select, log=info)
    return finish(args, result, write=False)  # --out is the table the job wrote
