"""``modelworks predict`` and ``modelworks evaluate``."""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_data,
    add_json,
    add_model_source,
    add_out,
    finish,
    info,
    positive_int,
)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL_REF", help="model package path or models:/NAME@ALIAS")
    add_data(p, target=None)
    p.add_argument("--ignore-extra", action="store_true", help="drop columns the model was not trained on")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow loading a package that contains pickle (runs code from the file: only for files you made)")
    add_model_source(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="score a CSV/Parquet file with a saved model",
                       description="Predict with a model package or a registered model. Input is validated against "
                       "the model's schema; large files are processed in chunks; the output appears only when complete.")
    _model_args(p)
    p.add_argument("--out", metavar="FILE", help="output .csv or .parquet (default: CSV on stdout)")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.add_argument("--chunk-size", type=positive_int, default=50_000, metavar="N", help="rows per chunk (default: 50000)")
    p.add_argument("--id", dest="id_column", metavar="COL", help="id column to copy next to the predictions")
    add_json(p)
    p.set_defaults(handler=_predict)

    p = sub.add_parser("evaluate", help="metrics of a saved model on labelled data, with confidence intervals",
                       description="Evaluate a model package or registered model on labelled DATA: the task's "
                       "metrics with bootstrap confidence intervals, plots, evaluation.json and report.html.")
    _model_args(p)
    p.add_argument("--target", required=True, metavar="COL", help="target column")
    add_out(p, None, "evaluation.json, plots and report.html")
    p.add_argument("--bootstrap", type=positive_int, default=500, metavar="N", help="bootstrap resamples (default: 500)")
    add_json(p)
    p.set_defaults(handler=_evaluate)


def _predict(args) -> int:
    import sys

    from modelworks.batch import predict

    stream = args.out is None and not args.json  # CSV to stdout chunk by chunk: memory stays bounded
    first = True

    def to_stdout(chunk) -> None:
        nonlocal first
        chunk.to_csv(sys.stdout, index=False, header=first)
        first = False

    result = predict(args.model, args.data, out=args.out, proba=args.proba, chunk_size=args.chunk_size,
                     ignore_extra=args.ignore_extra, id_column=args.id_column,
                     keep=args.out is None and args.json, sink=to_stdout if stream else None,
                     trust_pickle=args.trust_pickle, trust=args.trust,
                     tracking_uri=args.tracking_uri, log=info)
    return finish(args, result, write=False)  # --out is the predictions file predict wrote


def _evaluate(args) -> int:
    from modelworks.batch import evaluate_job

    result = evaluate_job(args.model, args.data, args.target, n_boot=args.bootstrap,
                          ignore_extra=args.ignore_extra, trust_pickle=args.trust_pickle, trust=args.trust,
                          tracking_uri=args.tracking_uri, log=info)
    return finish(args, result)
