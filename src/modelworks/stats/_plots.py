"""Plots of statistical models (matplotlib, imported inside the functions)."""

from __future__ import annotations

import numpy as np

from modelworks.exceptions import StatsError


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_partial_effects(gam, *, width: float = 0.95, ncols: int = 3):
    """GAM partial effects with their credible bands, one panel per term.

    Smooths are lines with a shaded band and a rug of the training range; factors are points
    with interval bars; a tensor term is a filled contour of its effect.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    effects = gam.partial_effects(width=width)
    n = len(effects)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, (term, (name, frame)) in zip(axes.ravel(), zip(gam.terms_, effects.items())):
        cols = term["columns"]
        if term["kind"] == "smooth":
            x = frame[cols[0]].to_numpy()
            ax.fill_between(x, frame["lower"], frame["upper"], alpha=0.3, color="tab:blue", lw=0)
            ax.plot(x, frame["effect"], color="tab:blue")
            ax.set_xlabel(cols[0])
        elif term["kind"] == "factor":
            pos = np.arange(len(frame))
            err = np.vstack([frame["effect"] - frame["lower"], frame["upper"] - frame["effect"]])
            ax.errorbar(pos, frame["effect"], yerr=err, fmt="o", capsize=3, color="tab:blue")
            ax.set_xticks(pos, [str(v) for v in frame[cols[0]]], rotation=30 if len(pos) > 5 else 0)
            ax.set_xlabel(cols[0])
        else:
            m = int(round(np.sqrt(len(frame))))
            A = frame[cols[0]].to_numpy().reshape(m, m)
            B = frame[cols[1]].to_numpy().reshape(m, m)
            cs = ax.contourf(A, B, frame["effect"].to_numpy().reshape(m, m), levels=14, cmap="RdBu_r")
            fig.colorbar(cs, ax=ax)
            ax.set_xlabel(cols[0])
            ax.set_ylabel(cols[1])
        ax.axhline(0, color="0.6", lw=0.6) if term["kind"] != "tensor" else None
        ax.set_title(name, fontsize=10)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    scale = "log-odds" if getattr(gam, "_family", "normal") == "binomial" else "response"
    fig.suptitle(f"Partial effects (centred, {scale} scale) with {int(round(width * 100))}% bands", fontsize=11)
    fig.tight_layout()
    return fig


def plot_caterpillar(mixed, *, level: float = 0.95, max_groups: int = 60):
    """Caterpillar plot: each group's random effects (BLUPs), sorted, with intervals.

    Intervals are ``BLUP +/- z * conditional sd``. With many groups, the ``max_groups`` most
    extreme (by ``|BLUP| / sd``) are shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from scipy.stats import norm

    plt = _plt()
    re = mixed.random_effects(with_sd=True)
    names = [c for c in re.columns if not c.startswith("sd(") and f"sd({c})" in re.columns]
    if not names:
        raise StatsError("this model has no group-level random effects to plot")
    z = norm.ppf(0.5 + level / 2)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), max(3.0, 0.18 * min(len(re), max_groups) + 1.2)),
                             squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        est = re[name].to_numpy()
        sd = re[f"sd({name})"].to_numpy()
        keep = np.arange(len(est))
        if len(est) > max_groups:
            keep = np.argsort(-np.abs(est) / np.where(sd > 0, sd, 1))[:max_groups]
        order = keep[np.argsort(est[keep])]
        pos = np.arange(len(order))
        ax.errorbar(est[order], pos, xerr=z * sd[order], fmt="o", ms=3, capsize=2, color="tab:blue")
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_yticks(pos, [str(g) for g in re.index[order]], fontsize=7)
        ax.set_title(f"{name} ({int(round(level * 100))}% intervals)", fontsize=10)
    axes[0, 0].set_ylabel(str(mixed.groups))
    fig.tight_layout()
    return fig


def plot_residuals(fitted, residuals, *, title: str = "Residuals vs fitted"):
    """Residuals against fitted values with a lowess trend line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    fitted = np.asarray(fitted, dtype=float)
    residuals = np.asarray(residuals, dtype=float)
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    ax.scatter(fitted, residuals, s=8, alpha=0.5, color="tab:blue", lw=0)
    ax.axhline(0, color="0.4", lw=0.8)
    if len(fitted) > 10:
        from statsmodels.nonparametric.smoothers_lowess import lowess

        sub = np.random.default_rng(0).choice(len(fitted), size=min(len(fitted), 3000), replace=False)
        trend = lowess(residuals[sub], fitted[sub], frac=0.4, return_sorted=True)
        ax.plot(trend[:, 0], trend[:, 1], color="tab:red", lw=1.5, label="lowess")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("fitted")
    ax.set_ylabel("residual")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
