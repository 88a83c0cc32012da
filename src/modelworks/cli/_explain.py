"""``modelworks explain MODEL DATA``: SHAP values, plots and partial dependence for a saved model."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_json, add_out, emit_json, info, positive_int


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
    from pathlib import Path

    from modelworks._io import write_json
    from modelworks.data import load_table
    from modelworks.explain import (
        estimate_cost,
        explain_model,
        partial_dependence,
        plot_partial_dependence,
    )
    from modelworks.package import load_ref

    package = load_ref(args.model)
    raw = load_table(args.data)
    # the model's columns, matched by name and converted as predict does; the target, ids and other
    # columns the model never saw are left out of the explanation
    frame = package.validate(raw, ignore_extra=True)
    left_out = [str(c) for c in raw.columns if c not in set(frame.columns)]
    if left_out and not args.json:
        info(f"not model inputs, left out: {', '.join(left_out)}")
    out = Path(args.out)
    model = package.model
    if args.pdp is not None:  # fail before the expensive part
        from modelworks.explain._pdp import _parse_features

        _parse_features(args.pdp, [str(c) for c in frame.columns])
    cost = estimate_cost(model, frame, max_rows=args.rows, explainer=args.explainer, seed=args.seed)
    if not args.json:
        info(f"estimated cost: {cost}")
    ex = explain_model(model, frame, max_rows=args.rows, seed=args.seed, explainer=args.explainer)
    plots = ex.plots(out / "plots")
    features = args.pdp
    if features is None:
        top = list(ex.top_features(2)["feature"])
        features = top + ([tuple(top)] if len(top) == 2 else [])
    pdp = partial_dependence(model, frame, features, kind=args.kind, max_rows=args.rows, seed=args.seed)
    pdp_plots = plot_partial_dependence(pdp, out / "plots")
    result = {
        "model": str(args.model),
        "data": str(args.data),
        "explanation": ex.to_dict(),
        "plots": {k: str(v) for k, v in plots.items()},
        "partial_dependence": pdp.to_dict(),
        "pdp_plots": {k: str(v) for k, v in pdp_plots.items()},
    }
    write_json(out / "explanation.json", result)
    if args.json:
        emit_json(result)
        return 0
    print(f"explainer: {ex.explainer_name} ({ex.reason})")
    print(f"values are contributions to the {ex.output}; {ex.values.shape[0]} rows in {ex.seconds:.2f} s")
    print("top features (mean |SHAP|):")
    for row in ex.top_features(10).itertuples(index=False):
        print(f"  {row.feature:<30} {row.mean_abs_shap:.4g}")
    print(f"partial dependence: {', '.join(i.name + ' (' + i.method + ')' for i in pdp.items)}")
    print(f"plots and explanation.json written to {out}")
    return 0
