"""``modelworks stats mixed`` and ``modelworks stats gam``: statistical models with a report."""

from __future__ import annotations

import argparse

from modelworks.cli._common import add_data, add_json, add_out, csv_list, finish, info, positive_int

_MIXED_EPILOG = """examples:
  modelworks stats mixed sleepstudy.csv --formula "Reaction ~ Days" --groups Subject --re-formula "~Days"
  modelworks stats mixed pastes.csv --formula "strength ~ 1" --groups batch --vc-formula "cask=0 + cask"
  modelworks stats mixed data.csv --formula "y ~ x1 + x2" --groups school --ml --json

writes report.html (fixed effects, variance components, caterpillar and residual plots),
summary.txt, results.json and model.skops (load with skops.io.load(path,
trusted=modelworks.stats.SKOPS_TRUSTED)) under --out.
"""

_GAM_EPILOG = """examples:
  modelworks stats gam data.csv --target y
  modelworks stats gam data.csv --target churned --features age,plan,usage --tensor age,usage
  modelworks stats gam data.csv --target y --lam-search grid --json

numeric columns get a smooth s(x), categorical ones a factor term f(x); a binary target fits a
logistic GAM. Writes report.html (terms table, partial effects with 95% bands, residuals),
results.json and model.skops under --out.
"""


def _pair(value: str) -> list[str]:
    items = csv_list(value)
    if len(items) != 2:
        raise argparse.ArgumentTypeError(f"expected two column names like a,b, got {value!r}")
    return items


def _vc(value: str) -> tuple[str, str]:
    name, sep, formula = value.partition("=")
    if not sep or not name.strip() or not formula.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=FORMULA like 'cask=0 + cask', got {value!r}")
    return name.strip(), formula.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="mixed-effects models and GAMs with summary and plots",
                       description="Statistical models: linear mixed-effects models (statsmodels) and "
                       "generalized additive models (pygam), each with a report.")
    stats_sub = p.add_subparsers(dest="stats_command", metavar="MODEL", parser_class=type(p))
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])

    m = stats_sub.add_parser("mixed", help="linear mixed-effects model from a formula and groups",
                             description="Fit a linear mixed-effects model (REML by default) and write a "
                             "report with fixed effects, variance components, BLUPs and diagnostics.",
                             epilog=_MIXED_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data(m, target=None)
    m.add_argument("--formula", required=True, help='fixed effects, e.g. "y ~ x1 + x2"')
    m.add_argument("--groups", required=True, metavar="COL", help="grouping column")
    m.add_argument("--re-formula", metavar="F", help='random effects within a group, e.g. "~x1" '
                   "(default: random intercept)")
    m.add_argument("--vc-formula", type=_vc, action="append", metavar="NAME=F",
                   help='variance component nested in the groups, e.g. "cask=0 + cask" (repeatable)')
    m.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML (for AIC/BIC and LR tests)")
    add_out(m, default="modelworks-stats", what="the report, summary and model")
    add_json(m)
    m.set_defaults(handler=_mixed)

    g = stats_sub.add_parser("gam", help="generalized additive model with automatic smoothing",
                             description="Fit a GAM (smooths for numeric columns, factor terms for "
                             "categorical ones) with automatically chosen smoothing and write a report "
                             "of the partial effects.",
                             epilog=_GAM_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data(g, target="column to predict")
    g.add_argument("--features", type=csv_list, metavar="A,B", help="feature columns (default: all others)")
    g.add_argument("--factors", type=csv_list, metavar="A,B", help="numeric columns to treat as categorical")
    g.add_argument("--tensor", type=_pair, metavar="A,B", help="model two numeric columns jointly (tensor smooth)")
    g.add_argument("--task", choices=["auto", "regression", "binary"], default="auto",
                   help="regression (LinearGAM) or binary (LogisticGAM); auto: binary when the target has two values")
    g.add_argument("--n-splines", type=positive_int, default=20, help="basis size per smooth (default: 20)")
    g.add_argument("--lam-search", choices=["fast", "grid"], default="fast",
                   help="fast: one lam per term by GCV/UBRE (default); grid: pygam's gridsearch")
    add_out(g, default="modelworks-stats", what="the report and model")
    add_json(g)
    g.set_defaults(handler=_gam)


def _mixed(args) -> int:
    from modelworks._io import ensure_dir
    from modelworks.stats import mixed

    ensure_dir(args.out)  # before the fit: an existing file or an unwritable place fails at once
    info(f"fitting {args.formula} with groups {args.groups!r} ({'ML' if args.ml else 'REML'})")
    result = mixed(args.data, args.formula, args.groups, re_formula=args.re_formula,
                   vc_formula=dict(args.vc_formula) if args.vc_formula else None, reml=not args.ml)
    return finish(args, result)


def _gam(args) -> int:
    from modelworks._io import ensure_dir
    from modelworks.stats import gam

    ensure_dir(args.out)
    info(f"fitting a GAM of {args.target!r} ({args.task} task)")
    result = gam(args.data, args.target, features=args.features, factors=args.factors, tensor=args.tensor,
                 task=args.task, n_splines=args.n_splines, lam_search=args.lam_search)
    return finish(args, result)
