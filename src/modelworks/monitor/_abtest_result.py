"""The outcome of an A/B comparison of two models (:class:`ComparisonResult`)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from modelworks._result import Result


@dataclass
class ComparisonResult(Result):
    """The outcome of an A/B comparison.

    ``difference`` is always metric(B) - metric(A); ``better`` names the better model when the
    difference is significant at ``alpha`` (in the direction of the metric), else ``None``.
    It has the shape of every job's result (:class:`modelworks._result.Result`); ``write(out_dir)``
    writes ``abtest.json`` and ``report.html``.
    """

    title = "modelworks abtest"
    json_name = "abtest.json"

    test: str
    metric: str
    names: tuple[str, str]
    score_a: float
    score_b: float
    difference: float
    ci: tuple[float, float]
    p_value: float
    alpha: float
    higher_is_better: bool
    points: bool = False
    details: dict = field(default_factory=dict)
    _bootstrap: Any = field(default=None, repr=False)

    @property
    def significant(self) -> bool:
        return bool(self.p_value <= self.alpha)

    @property
    def better(self) -> str | None:
        if not self.significant or self.difference == 0:
            return None
        b_wins = (self.difference > 0) == self.higher_is_better
        return self.names[1] if b_wins else self.names[0]

    def _fmt(self, x: float, sign: bool = True) -> str:
        if self.points:
            return f"{x * 100:+.1f}" if sign else f"{x * 100:.1f}"
        return f"{x:+.4g}" if sign else f"{x:.4g}"

    @property
    def verdict(self) -> str:
        """A plain sentence, e.g. 'B is better than A: accuracy +2.1 points, 95 % CI [0.4, 3.8], p = 0.01'."""
        a, b = self.names
        unit = " points" if self.points else ""
        stats = (
            f"{self.metric} {self._fmt(self.difference)}{unit} ({b} minus {a}), "
            f"95 % CI [{self._fmt(self.ci[0], False)}, {self._fmt(self.ci[1], False)}], "
            f"p = {_fmt_p(self.p_value)}"
        )
        winner = self.better
        if winner is None:
            head = f"No significant difference between {a} and {b}"
        else:
            loser = a if winner == b else b
            head = f"{winner} is better than {loser}"
        return f"{head}: {stats} [{self.test}]."

    def __repr__(self) -> str:
        return f"ComparisonResult({self.verdict!r})"

    def to_dict(self) -> dict:
        from modelworks._io import to_jsonable

        return to_jsonable(
            {
                "test": self.test,
                "metric": self.metric,
                "model_a": self.names[0],
                "model_b": self.names[1],
                "score_a": self.score_a,
                "score_b": self.score_b,
                "difference": self.difference,
                "ci": list(self.ci),
                "p_value": self.p_value,
                "alpha": self.alpha,
                "higher_is_better": self.higher_is_better,
                "significant": self.significant,
                "better": self.better,
                "verdict": self.verdict,
                "details": self.details,
            }
        )

    @property
    def subtitle(self) -> str:
        return self.verdict

    def summary(self) -> str:
        """Both scores and the verdict."""
        a, b = self.names
        return (
            f"{a}: {self.metric} {self.score_a:.4g}   {b}: {self.metric} {self.score_b:.4g}\n"
            f"{self.verdict}"
        )

    def plots(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """The bootstrap distribution of the difference (bootstrap test only), by name."""
        slug = f"abtest-{self.names[0]}-vs-{self.names[1]}".replace(" ", "-")[:60]
        path = self.plot(Path(out_dir) / f"{slug}.png")
        return {} if path is None else {"bootstrap": path}

    def report_section(self, report, *, title: str = "Model A/B test", order: int = 82):
        """Add the verdict, scores, McNemar table and bootstrap plot to ``report``."""
        return self.add_to_report(report, title=title, order=order)

    def plot(self, path: str | os.PathLike) -> Path | None:
        """Bootstrap distribution of the difference (bootstrap test only); returns the path."""
        if self._bootstrap is None:
            return None
        from modelworks.monitor import _plots

        return _plots.bootstrap_hist(
            self._bootstrap,
            self.difference,
            self.ci,
            f"{self.metric}({self.names[1]}) - {self.metric}({self.names[0]})",
            Path(path),
        )

    def add_to_report(
        self, report, *, section=None, title: str = "Model A/B test", order: int = 82
    ):
        sec = section if section is not None else report.section(title, order=order)
        sec.text(self.verdict, css="ok" if self.better else None)
        sec.metrics(
            {
                f"{self.metric} {self.names[0]}": self.score_a,
                f"{self.metric} {self.names[1]}": self.score_b,
                "p-value": self.p_value,
                "test": self.test,
            }
        )
        if self.test.startswith("mcnemar"):
            d = self.details
            a, b = self.names
            sec.table(
                pd.DataFrame(
                    {
                        "": [f"{a} right", f"{a} wrong"],
                        f"{b} right": [d["both_right"], d["b_only_right"]],
                        f"{b} wrong": [d["a_only_right"], d["both_wrong"]],
                    }
                )
            )
        for path in self.plots(report.plots_dir).values():
            sec.image(path, "Bootstrap distribution of the paired difference with its 95 % CI")
        return sec


def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


