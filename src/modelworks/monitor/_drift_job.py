"""The job behind ``modelworks drift``: one comparison, batches over time or a streamed file.

:func:`drift_job` picks :func:`drift`, :func:`drift_over_time` or :func:`drift_stream` from its
options, optionally measures the rule's false-alarm rate on the reference (:func:`self_test`), and
returns a :class:`DriftCheck` with the shape of every job's result
(:class:`modelworks._result.Result`); its ``exit_code`` is 1 when something drifted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelworks._result import Result
from modelworks.exceptions import ConfigError


class DriftCheck(Result):
    """A drift result (:class:`DriftReport` or :class:`DriftTimeline`) and its optional self-test.

    Attributes
    ----------
    result : DriftReport or DriftTimeline
    self_test : SelfTestResult or None
    over_time : bool
        Whether ``result`` compares batches (a :class:`DriftTimeline`).
    """

    title = "modelworks drift"
    json_name = "drift.json"

    def __init__(self, result, *, over_time: bool, self_test=None) -> None:
        self.result = result
        self.over_time = over_time
        self.self_test = self_test
        self.report_path: Path | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.result.drifted_batches) if self.over_time else bool(self.result.dataset_drift)

    @property
    def exit_code(self) -> int:
        return 1 if self.drifted else 0

    @property
    def subtitle(self) -> str:
        return self.result.verdict

    def to_dict(self) -> dict[str, Any]:
        payload = self.result.to_dict()
        if self.self_test is not None:
            payload["self_test"] = self.self_test.to_dict()
        return payload

    def summary(self) -> str:
        if self.over_time:
            lines = [self.result.summary[["batch", "rows", "n_drifted", "drifted"]].to_string(index=False)]
        else:
            shown = self.result.table[["column", "kind", "status", "p_adjusted", "effect_name", "effect"]]
            lines = [shown.to_string(index=False, float_format=lambda x: f"{x:.4g}")]
        lines.append(self.result.verdict)
        if self.self_test is not None:
            lines.append(self.self_test.verdict)
        return "\n".join(lines)

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        if self.over_time:
            return {"timeline": self.result.plot(Path(out_dir) / "drift-over-time.png")}
        return {p.stem: p for p in self.result.plots(out_dir)}

    def report_section(self, report):
        sec = self.result.add_to_report(report, title="Drift over time" if self.over_time else "Data drift")
        if self.self_test is not None:
            sec.text(self.self_test.verdict)
        return sec

    def write(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """``drift.json``, ``drift.csv`` (per column, or per batch over time) and ``report.html``."""
        from modelworks._io import write_text

        files = super().write(out_dir)
        table = self.result.summary if self.over_time else self.result.table
        files["table"] = write_text(Path(out_dir) / "drift.csv", table.to_csv(index=False))
        self.report_path = files["report"]
        return files


def drift_job(reference, current, *, columns: list[str] | None = None, correction: str = "bh",
                alpha: float = 0.05, min_effect=None, by: str | None = None,
                batch_rows: int | None = None, stream: bool = False,
                self_test: int | None = None) -> DriftCheck:
    """Drift of ``current`` against ``reference``, as ``modelworks drift`` runs it.

    Parameters
    ----------
    reference : path, DataFrame or model reference
        A table, or a model package / ``models:/NAME@ALIAS`` (its reference sample).
    current : path or DataFrame
        The new data.
    columns, correction, alpha, min_effect
        The rule, as in :func:`drift`.
    by : str, optional
        Compare each value of this column of ``current`` as its own batch (:func:`drift_over_time`).
    batch_rows : int, optional
        Compare ``current`` in batches of this many rows (streamed for Parquet).
    stream : bool
        Read a Parquet ``current`` in record batches (:func:`drift_stream`).
    self_test : int, optional
        Also split ``reference`` against itself this many times (:func:`self_test`).

    Returns
    -------
    DriftCheck
        ``exit_code`` is 1 when something drifted; ``write(out_dir)`` writes ``drift.json``,
        ``drift.csv`` and ``report.html``.
    """
    from modelworks.monitor import drift, drift_over_time, drift_stream
    from modelworks.monitor import self_test as run_self_test

    rule = {"correction": correction, "alpha": alpha, "min_effect": min_effect}
    over_time = by is not None or batch_rows is not None
    if over_time and stream:
        raise ConfigError("stream compares the whole file at once, and with by or batch_rows the "
                          "batches are already streamed", param="stream", fix="drop {}")
    if over_time:
        if by is not None or not str(current).lower().endswith((".parquet", ".pq")):
            from modelworks.data import load_table

            current = load_table(current, name="current")
        result = drift_over_time(reference, current, by=by, batch_rows=batch_rows or 100_000,
                                 columns=columns, **rule)
    else:
        result = (drift_stream if stream else drift)(reference, current, columns=columns, **rule)
    check = run_self_test(reference, repeats=self_test, columns=columns, **rule) if self_test else None
    return DriftCheck(result, over_time=over_time, self_test=check)
