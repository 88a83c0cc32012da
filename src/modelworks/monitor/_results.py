"""The results of the drift checks: one comparison (:class:`DriftReport`), the self-test
(:class:`SelfTestResult`) and successive batches (:class:`DriftTimeline`)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from modelworks.monitor._rule import DriftRule


@dataclass
class DriftReport:
    """The outcome of :func:`drift`: a per-column table and a dataset-level verdict.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per column: kind, status (``drift``, ``no drift``, ``untestable``,
        ``missing from current``, ``new in current``), the test, its p-value before and after
        the correction, the effect size used against the floor, Wasserstein/SD, PSI,
        Jensen-Shannon, missing-value rates and their test, and a note.
    rule : DriftRule
        Correction, alpha and effect floors used.
    """

    table: pd.DataFrame
    rule: DriftRule
    n_reference: int
    n_current: int
    approximate: bool = False
    _reference: Any = field(default=None, repr=False)
    _current: Any = field(default=None, repr=False)

    @property
    def drifted(self) -> list[str]:
        """Columns flagged as drifted (including reference columns missing from the current data)."""
        return self.table.loc[self.table["drifted"].astype(bool), "column"].tolist()

    @property
    def dataset_drift(self) -> bool:
        """Whether the dataset as a whole drifted (any column flagged)."""
        return bool(self.drifted)

    @property
    def untestable(self) -> list[str]:
        return self.table.loc[self.table["status"] == "untestable", "column"].tolist()

    @property
    def only_in_reference(self) -> list[str]:
        return self.table.loc[self.table["status"] == "missing from current", "column"].tolist()

    @property
    def only_in_current(self) -> list[str]:
        return self.table.loc[self.table["status"] == "new in current", "column"].tolist()

    @property
    def verdict(self) -> str:
        """One sentence: drift or not, where, under which rule."""
        compared = self.table[
            ~self.table["status"].isin(["missing from current", "new in current"])
        ]
        flagged = [c for c in self.drifted if c not in self.only_in_reference]
        tested = len(compared) - len(self.untestable)
        if flagged:
            shown = ", ".join(flagged[:8]) + (" ..." if len(flagged) > 8 else "")
            text = f"Drift in {len(flagged)} of {len(compared)} columns: {shown}"
        elif tested == 0 and len(compared):
            text = f"Drift could not be tested in any of the {len(compared)} columns"
        else:
            text = f"No drift in {tested} tested columns" if self.untestable else f"No drift in {len(compared)} columns"
        text += f" ({self.rule.label})"
        extra = []
        if self.only_in_reference:
            extra.append(
                "columns missing from the current data: " + ", ".join(self.only_in_reference)
            )
        if self.untestable:
            notes = self.table.set_index("column").loc[self.untestable, "note"]
            extra.append(
                f"{len(self.untestable)} column(s) could not be tested: "
                + ", ".join(f"{c} ({n})" for c, n in notes.items())
            )
        if self.only_in_current:
            extra.append("new columns not compared: " + ", ".join(self.only_in_current))
        if self.approximate:
            extra.append("numeric tests on binned data (streaming): KS and Wasserstein approximate")
        return text + (". " + "; ".join(extra) if extra else "") + "."

    def __repr__(self) -> str:
        return f"DriftReport({self.verdict!r})"

    def to_dict(self) -> dict:
        from modelworks._io import to_jsonable

        return to_jsonable(
            {
                "dataset_drift": self.dataset_drift,
                "verdict": self.verdict,
                "drifted": self.drifted,
                "untestable": self.untestable,
                "only_in_reference": self.only_in_reference,
                "only_in_current": self.only_in_current,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "approximate": self.approximate,
                "rule": self.rule.to_dict(),
                "columns": self.table.to_dict(orient="records"),
            }
        )

    def plots(
        self, out_dir: str | os.PathLike, *, max_columns: int = 12, prefix: str = "drift"
    ) -> list[Path]:
        """Write PNG plots: effect sizes of every column against their floors, and the
        distributions (reference vs current) of the drifted columns. Returns the paths."""
        from modelworks.monitor import _plots

        out = Path(out_dir)
        paths = [_plots.effect_overview(self.table, out / f"{prefix}-effects.png")]
        if self._reference is not None and self._current is not None:
            cols = [
                c
                for c in self.drifted
                if c in self._reference.columns and c in self._current.columns
            ]
            if cols:
                paths.append(
                    _plots.distributions(
                        self._reference,
                        self._current,
                        cols[:max_columns],
                        self.table,
                        out / f"{prefix}-distributions.png",
                    )
                )
        return paths

    def add_to_report(
        self,
        report,
        *,
        section=None,
        title: str = "Data drift",
        heading: str | None = None,
        order: int = 80,
        plots: bool = True,
        plot_prefix: str | None = None,
    ):
        """Add the verdict, the table and the plots to a :class:`modelworks.report.Report`
        (to ``section`` if given, else to a new section). Returns the section."""
        sec = section if section is not None else report.section(title, order=order)
        if heading:
            sec.heading(heading)
        sec.text(self.verdict, css="bad" if self.dataset_drift else "ok")
        shown = self.table[
            [
                "column",
                "kind",
                "status",
                "test",
                "p_value",
                "p_adjusted",
                "effect_name",
                "effect",
                "min_effect",
                "psi",
                "missing_ref",
                "missing_cur",
                "note",
            ]
        ]
        sec.table(shown.sort_values("p_adjusted", na_position="first"), max_rows=40)
        if plots:
            captions = {
                "effects": "Effect size per column against its floor (red: drifted)",
                "distributions": "Reference vs current distributions of the drifted columns",
            }
            prefix = (
                plot_prefix
                or "drift-"
                + "".join(ch if ch.isalnum() else "-" for ch in (heading or title).lower())[:40]
            )
            for path in self.plots(report.plots_dir, prefix=prefix):
                key = path.stem.rsplit("-", 1)[-1]
                sec.image(path, captions.get(key, ""))
        return sec


@dataclass
class SelfTestResult:
    """Empirical false-alarm rate of a drift rule: the reference against random halves of itself."""

    repeats: int
    alarms: int
    column_alarms: dict[str, int]
    rule: DriftRule
    n_rows: int

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.repeats

    @property
    def se(self) -> float:
        p = self.false_alarm_rate
        return math.sqrt(max(p * (1 - p), 1e-12) / self.repeats)

    @property
    def verdict(self) -> str:
        rate = self.false_alarm_rate
        worst = max(self.column_alarms.items(), key=lambda kv: kv[1], default=(None, 0))
        text = (
            f"Reference split against itself {self.repeats} times: the rule ({self.rule.label}) "
            f"raised a false alarm {rate:.1%} of the time (± {self.se:.1%})"
        )
        if rate > self.rule.alpha + 2 * self.se and self.rule.correction == "none":
            text += (
                f"; above alpha {self.rule.alpha:g} because nothing corrects for testing every column "
                "(use correction='bh')"
            )
        elif rate > self.rule.alpha + 2 * self.se:
            text += (
                f"; above alpha {self.rule.alpha:g}: the tests are over-sensitive on this data (rare "
                f"levels, few rows), most often on '{worst[0]}'; raise min_effect or lower alpha"
            )
        return text + "."

    def to_dict(self) -> dict:
        return {
            "repeats": self.repeats,
            "alarms": self.alarms,
            "false_alarm_rate": self.false_alarm_rate,
            "se": self.se,
            "column_alarms": self.column_alarms,
            "rule": self.rule.to_dict(),
            "n_rows": self.n_rows,
            "verdict": self.verdict,
        }


@dataclass
class DriftTimeline:
    """Drift of successive batches against one reference.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per batch: label, rows, number of drifted columns, their names, verdict.
    table : pandas.DataFrame
        One row per batch and column: status, corrected p-value, effect size.
    """

    summary: pd.DataFrame
    table: pd.DataFrame
    rule: DriftRule
    reports: list[DriftReport] = field(default_factory=list, repr=False)

    @property
    def drifted_batches(self) -> list:
        return self.summary.loc[self.summary["dataset_drift"], "batch"].tolist()

    @property
    def verdict(self) -> str:
        n = len(self.summary)
        bad = self.drifted_batches
        if not bad:
            return f"No drift in any of {n} batches ({self.rule.label})."
        return (
            f"Drift in {len(bad)} of {n} batches, first at {bad[0]} ({self.rule.label}); "
            f"most often: {', '.join(self.most_drifted()[:5])}."
        )

    def most_drifted(self) -> list[str]:
        t = self.table[self.table["drifted"].astype(bool)]
        return t["column"].value_counts().index.tolist()

    def to_dict(self) -> dict:
        from modelworks._io import to_jsonable

        return to_jsonable(
            {
                "verdict": self.verdict,
                "rule": self.rule.to_dict(),
                "batches": self.summary.to_dict(orient="records"),
                "columns": self.table.to_dict(orient="records"),
            }
        )

    def plot(self, path: str | os.PathLike) -> Path:
        """Heatmap of each column's effect size (relative to its floor) per batch; drifted cells
        are marked. Returns the PNG path."""
        from modelworks.monitor import _plots

        return _plots.timeline(self.table, self.summary, Path(path))

    def add_to_report(
        self, report, *, section=None, title: str = "Drift over time", order: int = 81
    ):
        sec = section if section is not None else report.section(title, order=order)
        sec.text(self.verdict, css="bad" if self.drifted_batches else "ok")
        sec.table(self.summary, max_rows=60)
        sec.image(
            self.plot(report.plots_dir / "drift-over-time.png"),
            "Effect size / floor per batch and column",
        )
        return sec
