"""The ``modelworks`` command.

Each command group lives in its own light module under ``modelworks.cli`` that defines
``register(subparsers)``; heavy work is imported inside the handler. A user error
(:class:`modelworks.exceptions.ModelworksError`) prints one line on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from modelworks import _areas

# command module per group, in the order `--help` lists them (one per area, modelworks._areas):
# _main: demo, run, compare, models, doctor; _package: package inspect, register, serve;
# _predict: predict, evaluate; _monitor: drift, abtest
COMMAND_MODULES = _areas.command_modules()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own default prints usage too)
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from modelworks import __version__

    parser = _Parser(
        prog="modelworks",
        description="From a table, a time series or images to a tuned, ensembled, explained, "
        "versioned, served and monitored model.",
    )
    parser.add_argument("--version", action="version", version=f"modelworks {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # a command group not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``modelworks`` command; returns the exit code."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    if argv is None:  # a `modelworks` process of its own (not main([...]) called from Python)
        from modelworks._imports import OWN_PROCESS_ENV

        os.environ[OWN_PROCESS_ENV] = "1"
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    from modelworks.exceptions import ModelworksError

    try:
        code = args.handler(args)
    except ModelworksError as e:
        from modelworks.cli._common import error_line

        print(f"error: {error_line(e)}", file=sys.stderr)
        return 2
    except ImportError as e:  # a library of an extra that is not installed: name the extra
        from modelworks._imports import as_missing_dependency

        missing = as_missing_dependency(e)
        if missing is None:
            raise
        print(f"error: {missing}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(code or 0)


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
