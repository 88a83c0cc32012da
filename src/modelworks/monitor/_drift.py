"""Data drift: per-column tests, corrected across columns, flagged only above an effect floor."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelworks.exceptions import ColumnError, ConfigError, MonitorError, UnknownNameError
from modelworks.monitor import _stats

# --correction name -> (statsmodels.multipletests method, label)
CORRECTIONS: dict[str, tuple[str | None, str]] = {
    "bh": ("fdr_bh", "Benjamini-Hochberg"),
    "holm": ("holm", "Holm"),
    "bonferroni": ("bonferroni", "Bonferroni"),
    "none": (None, "no correction"),
}

# smallest effect that counts as drift, per kind of signal:
#   numeric: Wasserstein distance / reference standard deviation (a 0.1 SD mean shift = 0.1)
#   categorical: Jensen-Shannon distance (base 2, 0..1; a 50/50 level going 56/44 is ~0.05)
#   missing: absolute change of the missing-value rate (0.02 = 2 points)
DEFAULT_MIN_EFFECT: dict[str, float] = {"numeric": 0.1, "categorical": 0.05, "missing": 0.02}

# fewest non-missing values each side needs before a test (or PSI) is run at all; below, the
# column is "untestable" with a note giving the minimum, and drift() warns (MonitorWarning):
#   ks: 20 per side. With fewer, the exact KS test misses even 1-SD shifts most of the time and
#       the Wasserstein/SD effect is mostly sampling noise (about 0.8 SD for one value drawn
#       from the reference itself), so "no drift" would mean nothing.
#   chi2: 20 per side, so that two levels can reach the expected count of 5 the chi-squared
#       approximation needs (Cochran); with 1-9 rows every level is pooled and p is always 1.
#   psi: 100 per side, 10 per reference-decile bin; below, PSI is left empty (it is reported,
#       not used for the decision).
MIN_ROWS: dict[str, int] = {"ks": 20, "chi2": 20, "psi": 100}
_TEST_NAMES = {"ks": "the Kolmogorov-Smirnov test", "chi2": "the chi-squared test"}


class MonitorWarning(UserWarning):
    """A drift check ran but part of it could not be trusted (too few rows to test a column)."""


TABLE_COLUMNS = [
    "column",
    "kind",
    "status",
    "drifted",
    "reason",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_name",
    "effect",
    "min_effect",
    "wasserstein",
    "psi",
    "js",
    "n_ref",
    "n_cur",
    "missing_ref",
    "missing_cur",
    "missing_p",
    "missing_p_adjusted",
    "note",
]


# ----------------------------------------------------------------------------- the rule
@dataclass(frozen=True)
class DriftRule:
    """How a column is judged: correction across the family of tests, level and effect floors."""

    correction: str = "bh"
    alpha: float = 0.05
    min_effect: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_EFFECT))

    @classmethod
    def make(cls, correction: str = "bh", alpha: float = 0.05, min_effect=None) -> DriftRule:
        if not isinstance(correction, str) or correction.lower() not in CORRECTIONS:
            raise UnknownNameError(
                f"unknown correction {correction!r}; choose one of: {', '.join(CORRECTIONS)}"
            )
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
            raise ConfigError(f"alpha must be a number between 0 and 1 (e.g. 0.05), got {alpha!r}")
        floors = dict(DEFAULT_MIN_EFFECT)
        if min_effect is None:
            pass
        elif isinstance(min_effect, Mapping):
            unknown = set(min_effect) - set(floors)
            if unknown:
                raise ConfigError(
                    f"min_effect keys must be among {', '.join(floors)}; got {', '.join(map(str, unknown))}"
                )
            floors.update({k: float(v) for k, v in min_effect.items()})
        elif isinstance(min_effect, int | float) and not isinstance(min_effect, bool):
            floors = dict.fromkeys(floors, float(min_effect))
        else:
            raise ConfigError(
                "min_effect must be a number (one floor for every effect size) or a dict like "
                f"{DEFAULT_MIN_EFFECT}, got {min_effect!r}"
            )
        bad = {k: v for k, v in floors.items() if not (v >= 0 and math.isfinite(v))}
        if bad:
            raise ConfigError(f"min_effect must be >= 0 and finite, got {bad}")
        return cls(correction=correction.lower(), alpha=float(alpha), min_effect=floors)

    @property
    def label(self) -> str:
        floors = ", ".join(f"{k} {v:g}" for k, v in self.min_effect.items())
        return f"{CORRECTIONS[self.correction][1]} at alpha {self.alpha:g}; effect floors: {floors}"

    def to_dict(self) -> dict:
        return {
            "correction": self.correction,
            "alpha": self.alpha,
            "min_effect": dict(self.min_effect),
        }

    def adjust(self, pvalues: np.ndarray) -> np.ndarray:
        """Adjusted p-values over one family of tests (statsmodels ``multipletests``)."""
        method = CORRECTIONS[self.correction][0]
        if method is None or pvalues.size == 0:
            return pvalues.copy()
        from statsmodels.stats.multitest import multipletests

        return multipletests(pvalues, alpha=self.alpha, method=method)[1]


# ----------------------------------------------------------------------------- columns
def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series) or isinstance(series.dtype, pd.PeriodDtype):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "categorical"


def _is_dates(series: pd.Series) -> bool:
    """Whether ``series`` holds dates written as text (every non-missing value parses)."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    present = series.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.iloc[:50]):
        return False
    if pd.to_datetime(present.iloc[:50], errors="coerce", format="mixed").isna().any():
        return False  # cheap early exit for ordinary text columns
    return bool(pd.to_datetime(present, errors="coerce", format="mixed").notna().all())


def _as_float(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "datetime":
        values = pd.to_datetime(series, errors="coerce", format="mixed")  # as is when already dates
        out = values.astype("int64").to_numpy(dtype=float) / 1e9
        out[values.isna().to_numpy()] = np.nan
        return out
    if series.dtype.kind == "f" and isinstance(series.dtype, np.dtype):
        return series.to_numpy()  # no copy; NaN stays NaN
    return series.to_numpy(dtype=float, na_value=np.nan)


def _example(series: pd.Series) -> str:
    s = series.dropna()
    return repr(s.iloc[0]) if len(s) else "all missing"


def _check_kinds(ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], ref_is_dates) -> dict[str, str]:
    """The kind each column is compared as. Dates read from a CSV arrive as text: when every
    reference value parses as a date (``ref_is_dates(col)``, cached by the prepared reference),
    the column is compared as times, not as categories of timestamps."""
    kinds: dict[str, str] = {}
    for col in columns:
        k_ref, k_cur = _kind(ref[col]), _kind(cur[col])
        if k_ref == "categorical" and k_cur in ("categorical", "datetime") and ref_is_dates(col):
            if k_cur == "datetime" or _is_dates(cur[col]):
                k_ref = k_cur = "datetime"
        elif k_ref == "datetime" and k_cur == "categorical" and _is_dates(cur[col]):
            k_cur = "datetime"
        if k_ref == k_cur:
            kinds[col] = k_ref
            continue
        num_ref, num_cur = k_ref != "categorical", k_cur != "categorical"
        if num_ref == num_cur:
            kinds[col] = k_ref
            continue
        # a column entirely missing on one side carries no type information
        if ref[col].notna().any() and cur[col].notna().any():

            def word(k, s):
                what = {"categorical": "text", "datetime": "dates"}.get(k, "numeric")
                return f"{what} ({s.dtype}, e.g. {_example(s)})"

            raise MonitorError(
                f"column '{col}' is {word(k_ref, ref[col])} in the reference but "
                f"{word(k_cur, cur[col])} in the current data; fix its values or leave it out "
                "with columns=[...]"
            )
        kinds[col] = k_ref if ref[col].notna().any() else k_cur
    return kinds


@dataclass
class _CatRef:
    counts: pd.Series  # level -> count (non-missing)
    n_total: int
    n_missing: int


class PreparedReference:
    """A reference table prepared once (numeric columns sorted, categorical counts) so that many
    current batches can be compared with it cheaply."""

    def __init__(
        self, frame: pd.DataFrame, *, columns: list[str] | None = None, cache: bool = True
    ) -> None:
        frame = _frame(frame, "reference")
        self.columns = _select(frame, columns, "reference")
        self.frame = frame
        self.n_rows = len(frame)
        self.cache = (
            cache  # keep sorted columns for the next batch (costs one copy of the numeric data)
        )
        self._prepared: dict[str, Any] = {}
        self._dates: dict[str, bool] = {}

    def is_dates(self, col: str) -> bool:
        """Whether a text column of the reference holds dates (parsed once, remembered)."""
        if col not in self._dates:
            self._dates[col] = _is_dates(self.frame[col])
        return self._dates[col]

    def get(self, col: str, kind: str):
        if col in self._prepared:
            return self._prepared[col]
        s = self.frame[col]
        if kind == "categorical":
            counts, missing = _counts(s)
            prepared = _CatRef(counts, len(s), missing)
        else:
            prepared = _stats.NumericRef.from_values(_as_float(s, kind))
        if self.cache:
            self._prepared[col] = prepared
        return prepared


def _frame(data, name: str) -> pd.DataFrame:
    if isinstance(data, PreparedReference):
        return data.frame
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        from modelworks.data import load_table

        frame = load_table(data, name=name)
    if frame.shape[1] == 0:
        raise MonitorError(f"the {name} data has no columns")
    if len(frame) == 0:
        raise MonitorError(
            f"the {name} data has no rows; drift needs at least one row on each side"
        )
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _select(frame: pd.DataFrame, columns, name: str) -> list[str]:
    if columns is None:
        return list(frame.columns)
    if isinstance(columns, str):
        columns = [columns]
    columns = [str(c) for c in columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"column(s) {', '.join(missing)} not in the {name} data; its columns are: "
            f"{', '.join(map(str, frame.columns[:30]))}"
        )
    return columns


# ----------------------------------------------------------------------------- one comparison
def _counts(series: pd.Series) -> tuple[pd.Series, int]:
    """Level counts and the number of missing values, from one hashing pass."""
    counts = series.value_counts(dropna=False, sort=False)
    na = counts.index.isna()
    return counts[~na], int(counts[na].sum())


def _categorical_row(ref: _CatRef, cur: pd.Series) -> tuple[dict, int, int, int, int]:
    cur_counts, cur_missing = _counts(cur)
    aligned = pd.concat([ref.counts, cur_counts], axis=1, keys=["ref", "cur"]).fillna(0)
    return _categorical_from_counts(aligned, ref.n_total, ref.n_missing, len(cur), cur_missing)


def _categorical_from_counts(aligned: pd.DataFrame, n_ref, miss_ref, n_cur, miss_cur):
    aligned = aligned[(aligned["ref"] + aligned["cur"]) > 0]
    note = ""
    new = aligned.index[(aligned["ref"] == 0) & (aligned["cur"] > 0)]
    if len(new):
        shown = ", ".join(map(str, new[:5])) + (" ..." if len(new) > 5 else "")
        note = f"{len(new)} level(s) unseen in the reference: {shown}"
    if len(aligned) > _stats.MAX_CATEGORIES:
        order = (aligned["ref"] + aligned["cur"]).sort_values(ascending=False).index
        keep = aligned.loc[order[: _stats.MAX_CATEGORIES - 1]]
        rest = aligned.loc[order[_stats.MAX_CATEGORIES - 1 :]].sum().to_frame("(other)").T
        aligned = pd.concat([keep, rest])
        note = (
            note + "; " if note else ""
        ) + f"rarest levels pooled beyond {_stats.MAX_CATEGORIES}"
    row = {}
    if aligned["ref"].sum() > 0 and aligned["cur"].sum() > 0:
        row = _stats.categorical_stats(aligned["ref"].to_numpy(), aligned["cur"].to_numpy())
        if len(aligned) == 1:
            note = (
                note + "; " if note else ""
            ) + f"constant: one level ({aligned.index[0]}) on both sides"
    row["note"] = note
    return row, n_ref, miss_ref, n_cur, miss_cur


def _numeric_row(ref: _stats.NumericRef, cur_values: np.ndarray) -> tuple[dict, int, int, int, int]:
    cur_sorted, miss_cur = _stats.sorted_finite(cur_values)
    return _numeric_from_sorted(ref, cur_sorted, cur_values.size, miss_cur)


def _numeric_from_sorted(ref: _stats.NumericRef, cur_sorted, n_cur, miss_cur):
    row: dict = {"note": ""}
    if ref.sorted.size and cur_sorted.size:
        row = _stats.numeric_stats(ref, cur_sorted)
        if ref.spread == 0:
            same = cur_sorted[0] == cur_sorted[-1] == ref.sorted[0]
            row["note"] = (
                f"constant ({ref.sorted[0]:g}) on both sides"
                if same
                else f"constant ({ref.sorted[0]:g}) in the reference; effect is infinite if it moved"
            )
        else:
            row["note"] = ""
    return row, ref.n_total, ref.n_missing, n_cur, miss_cur


def _too_few(row: dict, n_ref: int, n_cur: int) -> dict:
    """Blank the test and effects of a row whose sides have too few values (see MIN_ROWS)."""
    test = row.get("test")
    if test not in MIN_ROWS:
        return row
    if min(n_ref, n_cur) < MIN_ROWS["psi"]:
        row["psi"] = np.nan
    need = MIN_ROWS[test]
    if min(n_ref, n_cur) >= need:
        return row
    sides = ", ".join(f"{side} has {n}" for side, n in (("reference", n_ref), ("current", n_cur)) if n < need)
    row = {k: v for k, v in row.items() if k not in ("p_value", "statistic", "effect", "wasserstein", "psi", "js")}
    row["note"] = (
        f"too few rows: {sides} non-missing value(s); {_TEST_NAMES[test]} needs at least {need} "
        "on each side"
    )
    row["too_few"] = True
    return row


def _finish_row(name: str, kind: str, parts) -> dict:
    row, n_ref, miss_ref, n_cur, miss_cur = parts
    row = _too_few(row, n_ref - miss_ref, n_cur - miss_cur)
    testable = "p_value" in row
    out = {
        "column": name,
        "kind": kind,
        "n_ref": n_ref,
        "n_cur": n_cur,
        "missing_ref": miss_ref / n_ref if n_ref else np.nan,
        "missing_cur": miss_cur / n_cur if n_cur else np.nan,
        "test": row.get("test", "—"),
        "statistic": row.get("statistic", np.nan),
        "p_value": row.get("p_value", np.nan),
        "effect_name": row.get("effect_name", "—"),
        "effect": row.get("effect", np.nan),
        "wasserstein": row.get("wasserstein", np.nan),
        "psi": row.get("psi", np.nan),
        "js": row.get("js", np.nan),
        "note": row.get("note", ""),
    }
    if not testable and not row.get("too_few"):
        where = [
            s
            for s, miss, n in (("reference", miss_ref, n_ref), ("current", miss_cur, n_cur))
            if miss == n
        ]
        out["note"] = "all missing in " + (" and ".join(where) if len(where) < 2 else "both")
    has_missing = (miss_ref + miss_cur) > 0
    if has_missing:
        out["missing_p"], out["_missing_change"] = _stats.missing_stats(
            miss_ref, n_ref, miss_cur, n_cur
        )
    else:
        out["missing_p"], out["_missing_change"] = np.nan, 0.0
    return out


def _assemble(rows: list[dict], rule: DriftRule, *, only_ref=(), only_cur=()) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=TABLE_COLUMNS + ["_missing_change"])
    pv = table["p_value"].to_numpy(dtype=float)
    mp = table["missing_p"].to_numpy(dtype=float)
    # one family: every distribution test and every missing-rate test run
    family = np.concatenate([pv[~np.isnan(pv)], mp[~np.isnan(mp)]])
    adjusted = rule.adjust(family)
    k = int((~np.isnan(pv)).sum())
    p_adj = np.full(pv.size, np.nan)
    p_adj[~np.isnan(pv)] = adjusted[:k]
    m_adj = np.full(mp.size, np.nan)
    m_adj[~np.isnan(mp)] = adjusted[k:]
    table["p_adjusted"] = p_adj
    table["missing_p_adjusted"] = m_adj
    floors = table["kind"].map(
        lambda k: rule.min_effect["categorical" if k == "categorical" else "numeric"]
    )
    table["min_effect"] = floors.astype(float)
    dist = (p_adj <= rule.alpha) & (
        table["effect"].to_numpy(dtype=float) >= table["min_effect"].to_numpy()
    )
    miss = (m_adj <= rule.alpha) & (
        table["_missing_change"].to_numpy(dtype=float) >= rule.min_effect["missing"]
    )
    reasons = []
    for d, m in zip(dist, miss):
        reasons.append(" + ".join(r for r, on in (("distribution", d), ("missing rate", m)) if on))
    table["reason"] = reasons
    table["drifted"] = dist | miss
    status = np.where(table["drifted"], "drift", np.where(np.isnan(pv), "untestable", "no drift"))
    table["status"] = status
    extra = [
        {
            "column": c,
            "kind": "—",
            "status": "missing from current",
            "drifted": True,
            "reason": "column missing from current",
            "note": "in the reference only",
        }
        for c in only_ref
    ] + [
        {
            "column": c,
            "kind": "—",
            "status": "new in current",
            "drifted": False,
            "reason": "",
            "note": "in the current data only (not compared)",
        }
        for c in only_cur
    ]
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table.reindex(columns=TABLE_COLUMNS)


# ----------------------------------------------------------------------------- the report
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


# ----------------------------------------------------------------------------- entry points
def _compare(ref: PreparedReference, cur: pd.DataFrame, columns: list[str] | None, rule: DriftRule):
    if columns is None:
        ref_cols = ref.columns
        common = [c for c in ref_cols if c in cur.columns]
        only_ref = [c for c in ref_cols if c not in cur.columns]
        only_cur = [c for c in cur.columns if c not in set(ref_cols)]
    else:
        common = _select(ref.frame, columns, "reference")
        _select(cur, columns, "current")
        only_ref, only_cur = [], []
    if not common:
        raise MonitorError(
            "the reference and current data have no columns in common (reference: "
            f"{', '.join(ref.columns[:10])}; current: {', '.join(map(str, cur.columns[:10]))}); "
            "check that both files describe the same features"
        )
    kinds = _check_kinds(ref.frame, cur, common, ref.is_dates)
    rows = []
    for col in common:
        kind = kinds[col]
        prepared = ref.get(col, kind)
        if kind == "categorical":
            if isinstance(prepared, _stats.NumericRef):  # reference all missing, read as numeric
                prepared = _CatRef(pd.Series(dtype=float), prepared.n_total, prepared.n_missing)
            parts = _categorical_row(prepared, cur[col])
        else:
            if isinstance(prepared, _CatRef):
                prepared = _stats.NumericRef.from_values(np.full(prepared.n_total, np.nan))
            parts = _numeric_row(prepared, _as_float(cur[col], kind))
        rows.append(_finish_row(col, kind, parts))
    return _assemble(rows, rule, only_ref=only_ref, only_cur=only_cur)


def drift(
    reference,
    current,
    *,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect: float | Mapping[str, float] | None = None,
) -> DriftReport:
    """Compare the current data with a reference, column by column, with false-alarm control.

    Numeric (and datetime) columns get a two-sample Kolmogorov-Smirnov test (scipy's p-values)
    and, as effect sizes, the Wasserstein distance divided by the reference standard deviation
    and the PSI over reference deciles. Categorical columns get a chi-squared test of
    homogeneity (levels unseen in the reference included) with the Jensen-Shannon distance and
    PSI. A change in the missing-value rate is tested on its own. All p-values are corrected
    together across columns, and a column is flagged only when its corrected p-value is at most
    ``alpha`` *and* its effect size reaches the floor, so that huge samples do not flag trivial
    shifts.

    A test needs :data:`MIN_ROWS` non-missing values on each side (20 for KS and chi-squared,
    100 for PSI); a column with fewer is reported ``untestable`` with the minimum in its note,
    the verdict says it could not be tested, and a :class:`MonitorWarning` is issued: too few
    rows never read as "no drift".

    Parameters
    ----------
    reference, current : pandas.DataFrame, path or model package
        The tables (CSV / Parquet path or DataFrame). ``reference`` may also be a model package
        path or ``models:/NAME@ALIAS``: its stored reference sample is used.
    columns : list of str, optional
        Columns to compare (default: the reference's columns; columns missing from the current
        data are reported as drift, extra columns as new).
    correction : {"bh", "holm", "bonferroni", "none"}
        Multiple-testing correction across all the tests.
    alpha : float
        Level for the corrected p-values.
    min_effect : float or dict, optional
        Effect-size floors. A dict with keys ``numeric`` (Wasserstein / SD, default 0.1),
        ``categorical`` (Jensen-Shannon distance, default 0.05) and ``missing`` (absolute change
        of the missing rate, default 0.02); a number sets all three.

    Returns
    -------
    DriftReport

    Raises
    ------
    MonitorError
        No columns in common, a column numeric on one side and text on the other, an empty table.
    ColumnError
        ``columns`` names a column that does not exist.
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    # one comparison: prepare each reference column when it is compared and let it go after
    ref = (
        reference
        if isinstance(reference, PreparedReference)
        else PreparedReference(_reference_frame(reference), cache=False)
    )
    cur = _frame(current, "current")
    dropped = [c for c in (ref.frame.attrs.get("dropped_columns") or {}) if c in cur.columns]
    if dropped and columns is None:  # columns the model dropped in training: not "new" columns
        cur = cur.drop(columns=dropped)
    ref = _drop_absent_target(ref, cur)
    table = _compare(ref, cur, columns, rule)
    _warn_too_few(table)
    return DriftReport(
        table=table,
        rule=rule,
        n_reference=ref.n_rows,
        n_current=len(cur),
        _reference=ref.frame,
        _current=cur,
    )


def _warn_too_few(table: pd.DataFrame) -> None:
    import warnings

    few = table[table["note"].astype(str).str.startswith("too few rows")]
    if len(few):
        names = ", ".join(map(str, few["column"][:8])) + (" ..." if len(few) > 8 else "")
        warnings.warn(
            f"{len(few)} of {len(table)} column(s) not tested for drift ({names}): "
            f"{few['note'].iloc[0]}; compare a larger batch",
            MonitorWarning,
            stacklevel=3,
        )


def _reference_frame(reference) -> pd.DataFrame:
    """The reference table: a DataFrame, a CSV/Parquet file, or a model package's sample."""
    if isinstance(reference, pd.DataFrame):
        return _frame(reference, "reference")
    from modelworks.monitor._refs import is_model_ref, reference_sample

    if is_model_ref(reference):
        sample = reference_sample(reference)
        frame = _frame(sample, "reference")
        frame.attrs["target_column"] = sample.attrs.get("target_column")
        frame.attrs["dropped_columns"] = sample.attrs.get("dropped_columns") or {}
        return frame
    return _frame(reference, "reference")


def _drop_absent_target(ref: PreparedReference, cur: pd.DataFrame) -> PreparedReference:
    """A package's sample carries the training target: compare it only if the current data has it."""
    target = ref.frame.attrs.get("target_column")
    if target and target in ref.columns and target not in cur.columns:
        return PreparedReference(ref.frame.drop(columns=[target]), cache=ref.cache)
    return ref


# ----------------------------------------------------------------------------- self-test
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


def self_test(
    reference,
    *,
    repeats: int = 200,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect=None,
    seed: int = 0,
) -> SelfTestResult:
    """Estimate how often the drift rule fires when nothing changed.

    The reference is split at random into two halves ``repeats`` times and each pair goes
    through the same rule as :func:`drift`. For independent rows the rate should stay at or
    below ``alpha``; a higher rate warns that rows are not exchangeable (time order,
    duplicates) and that alarms on real data will be too frequent.

    Returns
    -------
    SelfTestResult
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"repeats must be a whole number >= 1, got {repeats!r}")
    frame = _reference_frame(reference)
    cols = _select(frame, columns, "reference")
    if len(frame) < 4:
        raise MonitorError(f"the reference has {len(frame)} rows; the self-test needs at least 4")
    # encode every column once; each repeat only permutes and splits
    encoded = []
    for col in cols:
        kind = _kind(frame[col])
        if kind == "categorical":
            codes, levels = pd.factorize(frame[col], use_na_sentinel=True)
            encoded.append((col, kind, codes, pd.Index(levels)))
        else:
            encoded.append((col, kind, _as_float(frame[col], kind), None))
    rng = np.random.default_rng(seed)
    n = len(frame)
    half = n // 2
    alarms = 0
    column_alarms = dict.fromkeys(cols, 0)
    for _ in range(repeats):
        perm = rng.permutation(n)
        a, b = perm[:half], perm[half:]
        rows = []
        for col, kind, values, levels in encoded:
            if kind == "categorical":
                ca, cb = values[a], values[b]
                k = len(levels)
                aligned = pd.DataFrame(
                    {
                        "ref": np.bincount(ca[ca >= 0], minlength=k),
                        "cur": np.bincount(cb[cb >= 0], minlength=k),
                    },
                    index=levels,
                )
                parts = _categorical_from_counts(
                    aligned, a.size, int((ca < 0).sum()), b.size, int((cb < 0).sum())
                )
            else:
                ref = _stats.NumericRef.from_values(values[a])
                parts = _numeric_row(ref, values[b])
            rows.append(_finish_row(col, kind, parts))
        table = _assemble(rows, rule)
        flagged = table.loc[table["drifted"].astype(bool), "column"].tolist()
        alarms += bool(flagged)
        for c in flagged:
            column_alarms[c] += 1
    return SelfTestResult(
        repeats=repeats, alarms=alarms, column_alarms=column_alarms, rule=rule, n_rows=n
    )


# ----------------------------------------------------------------------------- over time
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


def _iter_batches(batches, by: str | None, batch_rows: int):
    if isinstance(batches, pd.DataFrame):
        if by is None:
            for i, start in enumerate(range(0, len(batches), batch_rows)):
                yield i, batches.iloc[start : start + batch_rows]
            return
        if by not in batches.columns:
            raise ColumnError(
                f"by column '{by}' not in the batches; columns are: "
                f"{', '.join(map(str, batches.columns[:30]))}"
            )
        for key, part in batches.groupby(by, sort=True, observed=True):
            yield key, part.drop(columns=[by])
        return
    if isinstance(batches, str | os.PathLike):
        from modelworks.monitor._stream import iter_parquet

        yield from enumerate(iter_parquet(batches, batch_rows=batch_rows))
        return
    if isinstance(batches, Mapping):
        yield from batches.items()
        return
    if isinstance(batches, Iterable):
        yield from enumerate(batches)
        return
    raise MonitorError(
        "batches must be a DataFrame (with by=COLUMN or batch_rows), a dict label -> DataFrame, "
        f"a list of DataFrames or a Parquet path; got {type(batches).__name__}"
    )


def drift_over_time(
    reference,
    batches,
    *,
    by: str | None = None,
    batch_rows: int = 100_000,
    columns: list[str] | None = None,
    correction: str = "bh",
    alpha: float = 0.05,
    min_effect=None,
) -> DriftTimeline:
    """Run :func:`drift` for each batch against one reference (prepared once).

    Parameters
    ----------
    reference : DataFrame, path or model package
    batches : DataFrame, dict, iterable of DataFrames, or Parquet path
        A DataFrame is split by the values of column ``by`` (e.g. a month) or, without ``by``,
        into chunks of ``batch_rows``; a Parquet path is streamed in record batches of
        ``batch_rows`` rows, so files larger than memory work.
    by : str, optional
        Column of ``batches`` holding the batch label (not compared itself).
    batch_rows : int
        Rows per batch when splitting by position or streaming a file.

    Returns
    -------
    DriftTimeline
        Each batch is its own family of tests (one decision per batch).
    """
    rule = DriftRule.make(correction, alpha, min_effect)
    ref = PreparedReference(_reference_frame(reference))
    if by is not None and by in ref.columns:
        ref = PreparedReference(ref.frame.drop(columns=[by]))
    summary, tables, reports = [], [], []
    from modelworks._progress import progress

    for label, part in progress(_iter_batches(batches, by, batch_rows), desc="drift batches"):
        if len(part) == 0:
            summary.append(
                {
                    "batch": label,
                    "rows": 0,
                    "dataset_drift": False,
                    "n_drifted": 0,
                    "drifted": "",
                    "verdict": "empty batch: nothing to compare",
                }
            )
            continue
        part = _frame(part, "current")
        if not tables:  # batches share their columns: settle the package target column once
            ref = _drop_absent_target(ref, part)
        rep = DriftReport(
            table=_compare(ref, part, columns, rule),
            rule=rule,
            n_reference=ref.n_rows,
            n_current=len(part),
        )
        reports.append(rep)
        summary.append(
            {
                "batch": label,
                "rows": len(part),
                "dataset_drift": rep.dataset_drift,
                "n_drifted": len(rep.drifted),
                "drifted": ", ".join(rep.drifted),
                "verdict": rep.verdict,
            }
        )
        t = rep.table[
            ["column", "status", "drifted", "p_adjusted", "effect", "min_effect", "psi"]
        ].copy()
        t.insert(0, "batch", label)
        tables.append(t)
    if not summary:
        raise MonitorError("no batches to compare: the batches are empty")
    table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(
            columns=[
                "batch",
                "column",
                "status",
                "drifted",
                "p_adjusted",
                "effect",
                "min_effect",
                "psi",
            ]
        )
    )
    return DriftTimeline(summary=pd.DataFrame(summary), table=table, rule=rule, reports=reports)
