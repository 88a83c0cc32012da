"""One drift-table row per column (the test, its effect sizes, the missing-rate test) and the
table of a family of columns (corrected p-values, the decision)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelworks.monitor import _stats
from modelworks.monitor._reference import _CatRef, _counts
from modelworks.monitor._rule import _TEST_NAMES, MIN_ROWS, TABLE_COLUMNS, DriftRule


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
