"""Drift and A/B plots (matplotlib, Agg), each written as one PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

_REF, _CUR = "#4c72b0", "#dd8452"
_MAX_POINTS = 200_000  # histograms of larger columns use a random subsample


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from modelworks.report import save_figure

    return save_figure(fig, path)


def effect_overview(table: pd.DataFrame, path: Path) -> Path:
    """Horizontal bars: each column's effect size divided by its floor (1 = the floor)."""
    plt = _plt()
    t = table[table["effect"].notna()].copy()
    t["ratio"] = (t["effect"] / t["min_effect"].replace(0, np.nan)).fillna(t["effect"])
    t["ratio"] = (
        t["ratio"]
        .replace(np.inf, np.nan)
        .fillna(t["ratio"][np.isfinite(t["ratio"])].max() if len(t) else 1)
    )
    t = t.sort_values("ratio").tail(40)
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.28 * len(t) + 1)))
    colors = ["#b42318" if d else "#8a94a6" for d in t["drifted"].astype(bool)]
    ax.barh(t["column"].astype(str), t["ratio"], color=colors)
    ax.axvline(1.0, color="black", lw=1, ls="--")
    ax.set_xlabel("effect size / floor (dashed: the floor; red: drifted)")
    ax.set_title("Drift effect size per column")
    return _save(fig, path)


def _sample(values: pd.Series, rng) -> pd.Series:
    if len(values) > _MAX_POINTS:
        return values.iloc[rng.choice(len(values), _MAX_POINTS, replace=False)]
    return values


def distributions(
    ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], table: pd.DataFrame, path: Path
) -> Path:
    """Reference vs current distribution of each column: histograms or level proportions."""
    plt = _plt()
    rng = np.random.default_rng(0)
    info = table.set_index("column")
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, col in zip(axes.flat, columns):
        kind = info.loc[col, "kind"]
        r, c = ref[col], cur[col]
        if kind == "categorical":
            pr = r.value_counts(normalize=True)
            pc = c.value_counts(normalize=True)
            levels = (pr.add(pc, fill_value=0)).sort_values(ascending=False).index[:12]
            x = np.arange(len(levels))
            ax.bar(x - 0.2, pr.reindex(levels).fillna(0), 0.4, color=_REF, label="reference")
            ax.bar(x + 0.2, pc.reindex(levels).fillna(0), 0.4, color=_CUR, label="current")
            ax.set_xticks(x, [str(v)[:10] for v in levels], rotation=45, ha="right", fontsize=7)
            ax.set_ylabel("share")
        else:
            if kind == "datetime":
                r, c = (
                    pd.to_datetime(r).astype("int64") / 1e9,
                    pd.to_datetime(c).astype("int64") / 1e9,
                )
            rv = _sample(pd.to_numeric(r, errors="coerce").dropna(), rng)
            cv = _sample(pd.to_numeric(c, errors="coerce").dropna(), rng)
            both = np.concatenate([rv.to_numpy(float), cv.to_numpy(float)])
            both = both[np.isfinite(both)]
            if both.size:
                lo, hi = np.percentile(both, [0.5, 99.5])
                bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
                ax.hist(rv, bins=bins, density=True, alpha=0.55, color=_REF, label="reference")
                ax.hist(cv, bins=bins, density=True, alpha=0.55, color=_CUR, label="current")
            ax.set_ylabel("density")
        eff = info.loc[col, "effect"]
        ax.set_title(
            f"{col}\n{info.loc[col, 'effect_name']} {eff:.3g}, "
            f"missing {info.loc[col, 'missing_ref']:.0%}→{info.loc[col, 'missing_cur']:.0%}",
            fontsize=9,
        )
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)


def timeline(table: pd.DataFrame, summary: pd.DataFrame, path: Path) -> Path:
    """Heatmap column x batch of effect / floor, with drifted cells marked, and drifted counts."""
    plt = _plt()
    t = table.copy()
    t["ratio"] = (t["effect"] / t["min_effect"].replace(0, np.nan)).astype(float)
    t["batch"] = t["batch"].astype(str)
    order = [str(b) for b in summary["batch"]]
    grid = t.pivot_table(index="column", columns="batch", values="ratio", aggfunc="first").reindex(
        columns=order
    )
    flags = t.pivot_table(
        index="column", columns="batch", values="drifted", aggfunc="first"
    ).reindex(index=grid.index, columns=order)
    fig, (ax, ax2) = plt.subplots(
        2,
        1,
        figsize=(max(6, 0.45 * len(order) + 3), 0.3 * len(grid) + 3.5),
        gridspec_kw={"height_ratios": [max(2, 0.3 * len(grid)), 1.2]},
        sharex=False,
    )
    values = np.clip(grid.to_numpy(dtype=float), 0, 3)
    im = ax.imshow(values, aspect="auto", cmap="OrRd", vmin=0, vmax=3)
    ax.set_yticks(range(len(grid)), grid.index, fontsize=7)
    ax.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=7)
    ys, xs = np.nonzero(flags.fillna(False).to_numpy(dtype=bool))
    ax.scatter(xs, ys, marker="x", color="black", s=18, label="drifted")
    fig.colorbar(im, ax=ax, label="effect / floor (capped at 3)")
    ax.set_title("Drift over time")
    ax2.bar(range(len(order)), summary["n_drifted"], color="#b42318")
    ax2.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=7)
    ax2.set_ylabel("drifted columns")
    from matplotlib.ticker import MaxNLocator

    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return _save(fig, path)


def bootstrap_hist(
    diffs: np.ndarray, observed: float, ci: tuple[float, float], label: str, path: Path
) -> Path:
    """Histogram of the bootstrap distribution of metric(B) - metric(A) with its CI."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(diffs, bins=50, color="#8a94a6")
    ax.axvline(0, color="black", lw=1)
    ax.axvline(observed, color="#b42318", lw=2, label=f"observed {observed:.4g}")
    ax.axvspan(ci[0], ci[1], color="#f0b400", alpha=0.25, label="95% CI")
    ax.set_xlabel(label)
    ax.legend(fontsize=8)
    return _save(fig, path)
