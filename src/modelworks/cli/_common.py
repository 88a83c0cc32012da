"""Helpers shared by the command modules: common options, the one finisher and error lines.

A handler parses its arguments, calls the verb's Python function and hands the result (a
:class:`modelworks._result.Result`) to :func:`finish`, which writes ``--out``, prints ``--json``
or the summary and returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_out(p: argparse.ArgumentParser, default: str | None = None, what: str = "outputs") -> None:
    p.add_argument("--out", metavar="DIR", default=default,
                   help=f"directory for {what}" + (f" (default: {default})" if default else ""))


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


# --task's choices: modelworks.data.Task's names, spelled here so that the CLI module stays light
TASKS = ("binary", "multiclass", "regression")
TRUST_HELP = "load these types although they are not on modelworks' allow-list (only for models you made)"


def add_data(p: argparse.ArgumentParser, *, data: str = "CSV or Parquet file",
             target: str | None = "target column") -> None:
    """The table ``DATA`` and, unless ``target=None``, the required ``--target COL``."""
    p.add_argument("data", metavar="DATA", help=data)
    if target:
        p.add_argument("--target", required=True, metavar="COL", help=target)


def add_task(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", choices=TASKS, help="override the inferred task")


def add_table(p: argparse.ArgumentParser) -> None:
    """A labelled table to learn from: ``DATA --target COL [--task T] [--features A,B]``."""
    add_data(p)
    add_task(p)
    p.add_argument("--features", type=csv_list, metavar="A,B", help="feature columns (default: all but the target)")


def add_cv(p: argparse.ArgumentParser, *, test_size: bool = False) -> None:
    """``--cv K`` and, with ``test_size=True``, ``--test-size`` (the held-out share)."""
    p.add_argument("--cv", type=positive_int, default=5, metavar="K", help="cross-validation folds (default: 5)")
    if test_size:
        p.add_argument("--test-size", type=float, default=0.2, help="held-out share (default: 0.2)")


def add_seed(p: argparse.ArgumentParser, help: str | None = None) -> None:
    p.add_argument("--seed", type=int, default=0, help=help)


def add_model_source(p: argparse.ArgumentParser, *, trust: str | None = TRUST_HELP,
                     tracking_uri: str | None = "MLflow tracking URI for models:/ references") -> None:
    """``--tracking-uri URI`` (where ``models:/`` references live) and ``--trust a.B,c.D`` (types to
    load beyond the allow-list), each with its help text; ``None`` leaves one out."""
    if tracking_uri:
        p.add_argument("--tracking-uri", metavar="URI", help=tracking_uri)
    if trust:
        p.add_argument("--trust", metavar="TYPE[,TYPE]", type=trust_list, default=(), help=trust)


def csv_list(value: str) -> list[str]:
    """Parse ``a,b,c`` into a list (argparse type)."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, got an empty value")
    return items


def trust_list(value: str) -> tuple[str, ...]:
    """``--trust a.B,c.D``: explicit type names to load beyond the allow-list (never implied)."""
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names or not all(n.replace("_", "a").replace(".", "a").isalnum() and "." in n for n in names):
        raise argparse.ArgumentTypeError(f"expected dotted type names like mypkg.MyTransformer, got {value!r}")
    return names


def _whole_number(value: str, low: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < low:
        raise argparse.ArgumentTypeError(f"expected a number {'> 0' if low == 1 else '>= 0'}, got {n}")
    return n


def positive_int(value: str) -> int:
    """A whole number > 0 (argparse type)."""
    return _whole_number(value, 1)


def non_negative_int(value: str) -> int:
    """A whole number >= 0 (argparse type)."""
    return _whole_number(value, 0)


def positive_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return x


def emit_json(obj: Any) -> None:
    from modelworks._io import to_jsonable

    json.dump(to_jsonable(obj), sys.stdout, indent=2)
    sys.stdout.write("\n")


def info(message: str) -> None:
    """Human-readable progress lines go to stderr so stdout stays clean for --json."""
    print(message, file=sys.stderr)


# a parameter whose flag is not ``--`` + its name with dashes (the one mapping from the library's
# structured error hints to the command line)
FLAGS: dict[str, str] = {
    "n_boot": "--bootstrap",
    "n_jobs": "--n-jobs",
    "study_name": "--study",
    "model_name": "--name",
    "max_rows": "--rows",
    "time_budget": "--time-budget",
    "model_a": "--model-a",
    "model_b": "--model-b",
    "out_dir": "--out",
    # switches: the library's hint names the value to pass, the command line the switch
    "ignore_extra=True": "--ignore-extra",
    "trust_pickle=True": "--trust-pickle",
}


def flag(param: str) -> str:
    """The command-line flag of the library parameter ``param`` (``models`` -> ``--models``)."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def error_line(error) -> str:
    """A :class:`~modelworks.exceptions.ModelworksError` as the CLI prints it: hints name flags."""
    param = getattr(error, "param", None)
    render = getattr(error, "render", None)
    if param and render is not None:
        return render(flag(param))
    return str(error)


def finish(args: argparse.Namespace, result, *, write: bool = True, summary_to=None) -> int:
    """Write ``--out`` (``result.write``), print ``--json`` or the summary, return the exit code.

    ``write=False`` when the verb's function already wrote its files into ``--out``.
    ``summary_to=sys.stderr`` makes the summary a progress line, printed on stderr with or without
    ``--json`` (``serve``'s startup line: stdout holds only the JSON).
    """
    out = getattr(args, "out", None)
    if write and out:
        result.write(out)
    as_json = getattr(args, "json", False)
    if as_json:
        emit_json(result.to_json())
        sys.stdout.flush()
    if summary_to is not None or not as_json:
        text = result.summary()
        if text:
            print(text, file=summary_to or sys.stdout, flush=True)
    return result.exit_code
