"""``modelworks demo | run | compare | models | doctor``."""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_cv,
    add_json,
    add_out,
    add_seed,
    add_table,
    csv_list,
    finish,
    info,
    positive_float,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job on a dataset shipped with scikit-learn (no download)",
                       description="Profile, compare, tune, ensemble, explain, package, register and monitor a "
                       "model on an embedded dataset, and write an HTML report.")
    add_out(p, "modelworks-demo", "the report, plots and model package")
    p.add_argument("--dataset", default="breast_cancer", choices=["breast_cancer", "wine", "diabetes"],
                   help="embedded dataset (default: breast_cancer)")
    p.add_argument("--time-budget", type=positive_float, default=60, metavar="SECONDS",
                   help="seconds for the whole job (default: 60)")
    add_seed(p)
    add_json(p)
    p.set_defaults(handler=_demo)

    p = sub.add_parser("run", help="the main job: data -> tuned, ensembled, explained, packaged model + report",
                       description="Validate DATA, search model families and hyperparameters within the time "
                       "budget (known-good configurations first, then model-based search), build a greedy "
                       "ensemble when it beats the best model by more than noise, score on a held-out split, "
                       "explain, package, register, check drift and write DIR/report.html and DIR/result.json.")
    add_table(p)
    add_out(p, "modelworks-out", "the report, plots and model package")
    p.add_argument("--time-budget", type=positive_float, metavar="SECONDS",
                   help="seconds for the whole job (default: picked from the data size and printed)")
    p.add_argument("--models", type=csv_list, metavar="A,B",
                   help="restrict the search to these zoo learners (default: the whole portfolio)")
    add_cv(p, test_size=True)
    add_seed(p)
    p.add_argument("--name", default="modelworks-model", help="registered model name")
    p.add_argument("--skip", type=csv_list, default=[], metavar="STEP,...",
                   help="steps to skip: tune, ensemble, refit (package the model fitted on the training split, "
                        "not refit on all rows), explain, package, monitor")
    add_json(p)
    p.set_defaults(handler=_run)

    p = sub.add_parser("compare", help="cross-validated leaderboard of models",
                       description="Cross-validate zoo models on DATA and print a leaderboard (mean ± std of "
                       "the task's metrics, fit time).")
    add_table(p)
    p.add_argument("--models", type=csv_list, metavar="A,B", help="zoo models (default: a fast, diverse set)")
    add_cv(p)
    add_seed(p)
    add_out(p, None, "comparison.json and report.html")
    add_json(p)
    p.set_defaults(handler=_compare)

    p = sub.add_parser("models", help="list the model zoo")
    add_json(p)
    p.set_defaults(handler=_models)

    p = sub.add_parser("doctor", help="which capabilities work in this environment, and what to install")
    add_json(p)
    p.set_defaults(handler=_doctor)


def _steps(skip: list[str]) -> dict[str, bool]:
    from modelworks import _areas
    from modelworks.exceptions import UnknownNameError

    known = {"tune", "ensemble"} | {switch for switch, _ in _areas.run_steps()}  # the search's two, then the steps
    bad = [s for s in skip if s not in known]
    if bad:
        raise UnknownNameError(f"unknown step to skip: {', '.join(bad)}; steps are: {', '.join(sorted(known))}")
    return {s: False for s in skip}


def _demo(args) -> int:
    from modelworks.workflow import demo

    info(f"modelworks demo on '{args.dataset}' (budget {args.time_budget:.0f} s) -> {args.out}/")
    result = demo(out_dir=args.out, dataset=args.dataset, time_budget=args.time_budget, seed=args.seed)
    return finish(args, result, write=False)  # the run wrote its report and result.json


def _run(args) -> int:
    from modelworks.workflow import run

    result = run(args.data, args.target, out_dir=args.out, time_budget=args.time_budget, models=args.models,
                 cv=args.cv, task=args.task, seed=args.seed, test_size=args.test_size, features=args.features,
                 steps=_steps(args.skip), model_name=args.name)
    return finish(args, result, write=False)  # the run wrote its report and result.json


def _compare(args) -> int:
    from modelworks.workflow import rank_models

    comparison = rank_models(args.data, args.target, models=args.models, cv=args.cv, task=args.task,
                             seed=args.seed, features=args.features)
    return finish(args, comparison)


def _models(args) -> int:
    from modelworks.models import models_job

    return finish(args, models_job(), write=False)  # no --out


def _doctor(args) -> int:
    from modelworks import doctor

    return finish(args, doctor(), write=False)  # no --out
