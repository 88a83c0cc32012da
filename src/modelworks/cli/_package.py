"""``modelworks package inspect | register | serve``."""

from __future__ import annotations

import argparse
import sys

from modelworks.cli._common import add_json, add_model_source, add_out, finish, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("package", help="inspect model packages (manifest, hashes, model card)",
                       description="Model packages: a fitted model saved without pickle, with a manifest.")
    psub = p.add_subparsers(dest="package_command", metavar="SUBCOMMAND")
    q = psub.add_parser("inspect", help="show a package's manifest without loading the model",
                        description="Read PATH's manifest (format and library versions, task, target, schema, "
                        "metrics, data fingerprint, file hashes) without loading any model code, and check every "
                        "file against its SHA-256.")
    q.add_argument("path", metavar="PATH", help="package directory or .mwpkg archive")
    q.add_argument("--card", action="store_true", help="print the markdown model card instead")
    q.add_argument("--no-verify", action="store_true", help="skip checking file hashes and the model's types")
    add_model_source(q, tracking_uri=None, trust="accept these types although they are not on modelworks' allow-list")
    add_out(q, None, "manifest.json and MODEL_CARD.md copies")
    add_json(q)
    q.set_defaults(handler=_inspect)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])

    r = sub.add_parser("register", help="register a package as a new version in the MLflow registry",
                       description="Log an MLflow run holding PATH and register it as a new version of NAME "
                       "(default store: sqlite:///./mlflow.db, or MLFLOW_TRACKING_URI).")
    r.add_argument("path", metavar="PATH", help="package directory or .mwpkg archive")
    r.add_argument("--name", required=True, metavar="N", help="registered model name")
    r.add_argument("--alias", metavar="A", help="point this alias (e.g. champion, challenger) at the new version")
    add_model_source(r, trust=None, tracking_uri="MLflow tracking URI (default: sqlite:///./mlflow.db)")
    r.add_argument("--run-name", metavar="NAME", help="name of the MLflow run")
    add_out(r, None, "registration.json")
    add_json(r)
    r.set_defaults(handler=_register)

    s = sub.add_parser("serve", help="serve a model over HTTP (POST /predict)",
                       description="Serve MODEL_REF (a package path, models:/NAME@ALIAS or models:/NAME/VERSION) "
                       "with POST /predict, GET /health, /schema, /metrics and /openapi.json until SIGTERM/Ctrl-C; "
                       "in-flight requests finish before exit.")
    s.add_argument("ref", metavar="MODEL_REF", help="package path or models:/NAME@ALIAS")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    s.add_argument("--workers", type=positive_int, default=1, help="worker processes (default: 1)")
    s.add_argument("--max-body-bytes", type=positive_int, default=16 * 1024**2, metavar="N",
                   help="larger request bodies get 413 (default: 16 MiB)")
    s.add_argument("--max-in-flight", type=positive_int, default=32, metavar="N",
                   help="concurrent predictions per worker before 503 + Retry-After (default: 32)")
    s.add_argument("--ignore-extra", action="store_true", help="drop unknown input columns instead of answering 422")
    s.add_argument("--log-requests", metavar="FILE", help="append validated input rows and predictions (JSON lines)")
    add_model_source(s)
    add_out(s, None, "the request log (DIR/requests.jsonl) unless --log-requests is given")
    add_json(s)
    s.set_defaults(handler=_serve)


def _inspect(args) -> int:
    from modelworks.package import inspect_job

    return finish(args, inspect_job(args.path, verify=not args.no_verify, trust=args.trust, card=args.card))


def _register(args) -> int:
    from modelworks.registry import register as register_package

    return finish(args, register_package(args.path, args.name, alias=args.alias, tracking_uri=args.tracking_uri,
                                         run_name=args.run_name))


def _serve(args) -> int:
    from pathlib import Path

    from modelworks.serve import serve

    log = args.log_requests
    if log is None and args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        log = str(Path(args.out) / "requests.jsonl")
    # the startup line (or --json's document) as soon as the server listens; stdout stays free
    result = serve(args.ref, args.host, args.port, args.workers, ignore_extra=args.ignore_extra,
                   max_body_bytes=args.max_body_bytes, max_in_flight=args.max_in_flight, log_requests=log,
                   tracking_uri=args.tracking_uri, trust=args.trust,
                   on_start=lambda started: finish(args, started, write=False, summary_to=sys.stderr))
    return result.exit_code
