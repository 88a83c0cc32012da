"""The one shape of a job's result.

The public function behind a CLI verb (named after the verb, with a ``_job`` suffix where the
name is already taken: ``tune_job``, ``explain_job``, ``drift_job``, ``forecast_job``,
``evaluate_job``, ``inspect_job``, ``poly_job``, ``dfs_job``, ``transfer_job``, ``models_job``)
returns a :class:`Result`: five methods, the same for every area.

* ``to_dict()`` - everything as JSON-able data (what ``--json`` prints, see ``to_json``);
* ``summary()`` - a few human-readable lines (what the command prints without ``--json``);
* ``plots(out_dir)`` - write the result's PNG figures, return ``{name: path}``;
* ``report_section(report)`` - add the result's section(s) to a :class:`modelworks.report.Report`;
* ``write(out_dir)`` - write the result's files (its JSON, report, plots...), return
  ``{name: path}`` (what ``--out`` does).

``exit_code`` is what the command exits with (``drift``: 1 when something drifted), and
``to_json()`` what ``--json`` prints: ``to_dict()``, except for a :class:`Listing` (``models``,
``doctor``), whose command has always printed its rows as a JSON list. The CLI's one finisher
(``modelworks.cli._common.finish``) only calls these.

This module must stay light (the CLI imports it): standard library only at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["Listing", "Result"]


class Result:
    """Base of every job's result.

    Subclasses implement :meth:`to_dict` and :meth:`summary`; :meth:`plots` and
    :meth:`report_section` have plain defaults (no plot; one section with the summary), and
    :meth:`write` writes ``json_name`` and ``report.html`` from them.
    """

    #: title of the report :meth:`write` writes
    title: ClassVar[str] = "modelworks"
    #: the JSON file :meth:`write` writes (``None``: none)
    json_name: ClassVar[str | None] = "result.json"

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-able data."""
        raise NotImplementedError

    def summary(self) -> str:
        """A few lines for a person."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """What ``--json`` prints: :meth:`to_dict`."""
        return self.to_dict()

    @property
    def exit_code(self) -> int:
        """Exit code of the command that made this result (0: success)."""
        return 0

    @property
    def subtitle(self) -> str:
        """The line under the report's title."""
        return ""

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write the result's figures under ``out_dir``; ``{name: path}``."""
        return {}

    def report_section(self, report):
        """Add the result's section to ``report`` and return it."""
        sec = report.section(self.title)
        sec.text(self.summary())
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``json_name`` and ``report.html`` under ``out_dir``; ``{name: path}``."""
        from modelworks._io import ensure_dir, write_json
        from modelworks.report import Report

        out = ensure_dir(out_dir)
        report = Report(out, self.title, self.subtitle)
        self.report_section(report)  # first: the JSON names the plots the section drew
        files: dict[str, Path] = {"report": report.write()}
        if self.json_name:
            files["result"] = write_json(out / self.json_name, self.to_dict())
        return files

    def _write_plots_and_json(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Plots under ``out_dir/plots`` and ``json_name``, no report: for results that are a section of another's."""
        from modelworks._io import write_json

        out = Path(out_dir)
        files = self.plots(out / "plots")
        files["result"] = write_json(out / (self.json_name or "result.json"), self.to_dict())
        return files


class Listing(Result):
    """A result that is a list of rows of the same keys (``modelworks models``, ``modelworks doctor``).

    ``to_dict()`` is ``{key: rows}``, ``to_json()`` the rows themselves (what those commands
    print with ``--json``), ``summary()`` one line a row (:meth:`line`) and the report section a
    table of the rows.
    """

    #: the name of the rows in :meth:`to_dict`
    key: ClassVar[str] = "rows"

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def line(self, row: dict[str, Any]) -> str:
        """One row as the summary prints it."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {self.key: self.rows}

    def to_json(self) -> list[dict[str, Any]]:
        return self.rows

    def summary(self) -> str:
        return "\n".join(self.line(row) for row in self.rows)

    def report_section(self, report):
        import pandas as pd

        sec = report.section(self.title)
        sec.table(pd.DataFrame(self.rows), max_rows=max(len(self.rows), 1))
        return sec
