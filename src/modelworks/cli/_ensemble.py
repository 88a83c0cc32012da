"""``modelworks ensemble``: stack, blend or select zoo models and compare with each member."""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_cv,
    add_data,
    add_json,
    add_out,
    add_seed,
    add_task,
    csv_list,
    finish,
    info,
)


def _weights(value: str) -> list[float]:
    try:
        return [float(v) for v in csv_list(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0.4,0.4,0.2, got {value!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ensemble", help="stack, blend or select models; scores next to each member's",
        description="Cross-validate the member models on the training split, combine them "
        "(stack: a meta-learner on out-of-fold predictions; blend: weights learned on out-of-fold "
        "predictions, or given with --weights; select: greedy ensemble selection), and print "
        "members, weights, CV and held-out scores. The held-out split never sets weights. Writes "
        "DIR/ensemble.json and the fitted ensemble DIR/model.skops.")
    add_data(p)
    p.add_argument("--method", choices=["stack", "blend", "select"], default="blend",
                   help="how to combine the members (default: blend)")
    p.add_argument("--models", type=csv_list, required=True, metavar="A,B,C",
                   help="zoo models to combine, at least 2 (see `modelworks models`)")
    p.add_argument("--weights", type=_weights, metavar="W1,W2,...",
                   help="fixed blend weights, one per model (default: learned on out-of-fold predictions)")
    add_cv(p, test_size=True)
    add_task(p)
    add_seed(p)
    add_out(p, "modelworks-ensemble", "ensemble.json and model.skops")
    add_json(p)
    p.set_defaults(handler=_ensemble)


def _ensemble(args) -> int:
    from modelworks.ensemble import ensemble

    info(f"{args.method} of {', '.join(args.models)} on {args.data} ({args.cv}-fold CV) -> {args.out}/")
    result = ensemble(args.data, args.target, method=args.method, models=args.models, weights=args.weights,
                      cv=args.cv, seed=args.seed, test_size=args.test_size, task=args.task)
    return finish(args, result)
