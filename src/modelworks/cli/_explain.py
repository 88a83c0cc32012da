"""``modelworks explain MODEL DATA``: SHAP values, plots and partial dependence for a saved model."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, add_out, finish, info, positive_int


def _pdp_list(value: str) -> list:
    """``age,income,age:income`` -> ``["age", "income", ("age", "income")]`` (argparse type)."""
    out: list = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        names = tuple(n.strip() for n in part.split(":"))
        if len(names) > 2 or not all(names):
            raise argparse.ArgumentTypeError(
                f"--pdp takes columns and pairs like age,income,age:income; got {part!r}"
            )
        out.append(names[0] if len(names) == 1 else names)
    if not out:
        raise argparse.ArgumentTypeError("--pdp needs at least one column, e.g. --pdp age or --pdp age:income")
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain",
        help="explain a saved model: SHAP plots, top features, partial dependence",
        description="Explain a model package (or models:/NAME@ALIAS) on the rows of DATA: SHAP values "
        "in your column names (beeswarm, bar, dependence, waterfall PNGs) and partial dependence / ICE "
        "plots. The explainer is chosen by model type; ensembles are explained exactly by linearity.",
    )
    p.add_argument("model", metavar="MODEL", help="model package directory/.mwpkg or models:/NAME@ALIAS")
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file with the model's feature columns "
                   "(the target column, if present, is ignored)")
    add_out(p, default="modelworks-explain", what="plots and explanation.json")
    p.add_argument("--pdp", type=_pdp_list, default=None, metavar="COLS",
                   help="partial dependence for these columns and pairs, e.g. age,income,age:income "
                   "(default: the top 2 features and their pair)")
    p.add_argument("--rows", type=positive_int, default=500, metavar="N",
                   help="explain at most N rows, a seeded sample (default: 500)")
    p.add_argument("--explainer", default="auto", choices=["auto", "tree", "linear", "exact", "permutation"],
                   help="force an explainer (default: chosen by model type)")
    p.add_argument("--kind", default="both", choices=["average", "individual", "both"],
                   help="partial dependence (average), ICE lines (individual) or both (default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the row and background samples")
    add_json(p)
    p.set_defaults(handler=_handler)


def _handler(args) -> int:
    from modelworks.explain import explain_job

    result = explain_job(args.model, args.data, pdp=args.pdp, max_rows=args.rows, explainer=args.explainer,
                           kind=args.kind, seed=args.seed, log=None if args.json else info)
    return finish(args, result)
