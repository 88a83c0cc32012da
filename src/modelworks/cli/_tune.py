"""``modelworks tune``: tune one model's hyperparameters by cross-validation."""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_cv,
    add_json,
    add_out,
    add_seed,
    add_table,
    finish,
    info,
    positive_float,
    positive_int,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="tune a model's hyperparameters (grid, random, Bayesian GP, TPE) with a resumable study",
        description="Cross-validate a zoo model over its search space with one Optuna engine. The study is "
        "stored in DIR/study.journal (or --storage), so rerunning the same command resumes it; "
        "Ctrl-C stops cleanly and refits the best so far. Writes DIR/result.json and plots under DIR/plots. "
        "To share a study between machines, run the same command on each with "
        "--storage postgresql://USER:PASSWORD@HOST/DB --study NAME: they split the --trials of the "
        "study between them (the database must exist: createdb DB).",
    )
    add_table(p)
    p.add_argument(
        "--model", required=True, metavar="NAME", help="zoo model to tune (see `modelworks models`)"
    )
    p.add_argument(
        "--strategy",
        default="bayes",
        choices=["grid", "random", "bayes", "tpe"],
        help="grid: exhaustive; random; bayes: Gaussian process; tpe: Tree-structured Parzen "
        "(default: bayes)",
    )
    p.add_argument(
        "--trials",
        type=positive_int,
        metavar="N",
        help="finished trials the study should reach (default: the grid, else 50, 30 for bayes)",
    )
    p.add_argument(
        "--timeout", type=positive_float, metavar="SECONDS", help="start no new trial after this"
    )
    add_cv(p)
    p.add_argument(
        "--scoring",
        metavar="M",
        help="scikit-learn scorer, e.g. roc_auc, accuracy, neg_log_loss, "
        "neg_root_mean_squared_error (default: by task)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="study store: a file path (journal) or a database URL such as "
        "postgresql://user:pw@host/db, which workers on several machines can share "
        "(default: DIR/study.journal)",
    )
    p.add_argument(
        "--study",
        metavar="NAME",
        help="study name; the same name resumes (default: MODEL-STRATEGY)",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (default: 1; -1: all CPUs)",
    )
    p.add_argument(
        "--dask", metavar="ADDR", help="run trials on a Dask cluster, e.g. tcp://127.0.0.1:8786"
    )
    p.add_argument(
        "--pruning",
        default="auto",
        choices=["auto", "median", "halving", "halving-rows", "none"],
        help="stop hopeless trials after a few folds (auto: median, none for grid)",
    )
    p.add_argument(
        "--space",
        metavar="JSON",
        help="search space as JSON, e.g. "
        '\'{"n_estimators": [50, 100], "learning_rate": [0.01, 0.3, "log"]}\' (lists of 3 with '
        '"int"/"log"/"linear" last are ranges; default: the zoo space)',
    )
    add_seed(p)
    add_out(p, "modelworks-tune", "the study, result.json and plots")
    add_json(p)
    p.set_defaults(handler=_tune)


def _parse_space(text: str | None):
    import json

    from modelworks.exceptions import SpaceError

    if text is None:
        return None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpaceError(f"--space is not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(raw, dict):
        raise SpaceError("--space must be a JSON object of parameter -> values")
    kinds = ("int", "log", "linear", "int-log")
    return {
        k: (tuple(v) if isinstance(v, list) and len(v) == 3 and v[2] in kinds else v)
        for k, v in raw.items()
    }


def _tune(args) -> int:
    from modelworks.tuning import tune_job

    result = tune_job(args.data, args.target, args.model, strategy=args.strategy, space=_parse_space(args.space),
                      trials=args.trials, timeout=args.timeout, cv=args.cv, scoring=args.scoring,
                      n_jobs=args.n_jobs, storage=args.storage, study_name=args.study, pruning=args.pruning,
                      seed=args.seed, out_dir=args.out, dask=args.dask, task=args.task, features=args.features,
                      log=info)
    code = finish(args, result)
    if result.tune.interrupted:
        info("interrupted: the finished trials are kept and the best so far was refitted; rerun to resume")
    return code
