"""PNG plots: shap's beeswarm, bar, dependence and waterfall; PDP/ICE lines and 2-D contours."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def _short(method: str) -> str:
    """A plot-title version of how a PD was computed."""
    if method.startswith("weighted sum"):
        return f"blend of {method.count(':')} members, summed by weight"
    return method


def _save(fig, path: Path) -> Path:
    from modelworks.report import save_figure

    return save_figure(fig, path)


def _new_figure(size=(7.5, 5.0)):
    import matplotlib.pyplot as plt

    plt.close("all")
    return plt.figure(figsize=size)


def shap_plots(ex, out_dir: Path, *, row: int, feature: str | None, class_index, max_display: int,
               prefix: str) -> dict[str, Path]:
    import matplotlib.pyplot as plt
    import shap

    out_dir.mkdir(parents=True, exist_ok=True)
    single = ex._single(class_index)
    label = ""
    if ex.multiclass:
        label = f" (class {ex.outputs[ex._class_index(class_index)]})"
    paths: dict[str, Path] = {}

    _new_figure()
    shap.plots.beeswarm(single, max_display=max_display, show=False)
    plt.gcf().suptitle(f"SHAP values{label}: {ex.output}", fontsize=10)
    paths["beeswarm"] = _save(plt.gcf(), out_dir / f"{prefix}-beeswarm.png")

    if ex.multiclass:
        paths["bar"] = _save(_multiclass_bar(ex, max_display), out_dir / f"{prefix}-bar.png")
    else:
        _new_figure()
        shap.plots.bar(single, max_display=max_display, show=False)
        plt.gcf().suptitle("mean |SHAP value| per feature", fontsize=10)
        paths["bar"] = _save(plt.gcf(), out_dir / f"{prefix}-bar.png")

    names = list(single.feature_names)
    top = feature or names[int(np.argmax(np.abs(np.asarray(single.values)).mean(axis=0)))]
    j = names.index(top)
    fig = _new_figure((6.5, 4.5))
    ax = fig.gca()
    color = single if len(names) > 1 else None
    shap.plots.scatter(single[:, j], color=color, ax=ax, show=False)
    ax.set_title(f"dependence of {top}{label}, coloured by its strongest interaction", fontsize=10)
    paths["dependence"] = _save(plt.gcf(), out_dir / f"{prefix}-dependence-{_slug(top)}.png")

    _new_figure()
    shap.plots.waterfall(single[row], max_display=max_display, show=False)
    plt.gcf().suptitle(f"row {row}{label}: {ex.output}", fontsize=10)
    paths["waterfall"] = _save(plt.gcf(), out_dir / f"{prefix}-waterfall-row{row}.png")
    return paths


def _multiclass_bar(ex, max_display: int):
    imp = ex.importance().head(max_display)
    per = np.abs(ex.values).mean(axis=0)  # (features, classes)
    idx = [ex.feature_names.index(f) for f in imp.index][::-1]
    fig = _new_figure((7.5, 0.4 * len(idx) + 1.5))
    ax = fig.gca()
    left = np.zeros(len(idx))
    for k, name in enumerate(ex.outputs):
        vals = per[idx, k]
        ax.barh(range(len(idx)), vals, left=left, label=str(name))
        left += vals
    ax.set_yticks(range(len(idx)), [ex.feature_names[i] for i in idx])
    ax.set_xlabel("mean |SHAP value| (stacked by class)")
    ax.legend(title="class", fontsize=8)
    ax.set_title(f"feature importance: {ex.output}", fontsize=10)
    return fig


def pdp_plots(result, out_dir: Path, *, prefix: str = "pdp", max_ice: int = 50,
              class_index: int = 0, seed: int = 0) -> dict[str, Path]:
    """One PNG per requested feature or pair (lines for 1-D with ICE, a contour for 2-D)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    rng = np.random.default_rng(seed)
    for item in result.items:
        name = item.name
        fig = _new_figure((6.5, 4.5))
        ax = fig.gca()
        k = min(class_index, item.average.shape[0] - 1) if item.average is not None else 0
        out = result.outputs[k] if result.outputs else ""
        if len(item.features) == 1:
            grid = item.grid[0]
            categorical = item.categorical[0]
            x = np.arange(len(grid)) if categorical else np.asarray(grid, dtype=float)
            if item.individual is not None:
                ice = item.individual[k]
                rows = rng.choice(len(ice), size=min(max_ice, len(ice)), replace=False)
                for r in rows:
                    ax.plot(x, ice[r], color="#7aa6d8", alpha=0.25, lw=0.8)
            if item.average is not None:
                ax.plot(x, item.average[k], color="#c0392b", lw=2.4, marker="o" if categorical else None,
                        label="average (PD)")
                ax.legend(fontsize=8)
            if categorical:
                ax.set_xticks(x, [str(g) for g in grid], rotation=45, ha="right")
            ax.set_xlabel(item.features[0])
            ax.set_ylabel(f"{result.output}{f' ({out})' if len(result.outputs) > 1 else ''}")
            kind = "PD and ICE" if item.individual is not None and item.average is not None else (
                "ICE" if item.individual is not None else "partial dependence")
            ax.set_title(f"{kind} of {item.features[0]} ({_short(item.method)})", fontsize=10)
        else:
            g0, g1 = item.grid
            z = item.average[k] if item.average is not None else item.individual[k].mean(axis=0)
            x0 = np.arange(len(g0)) if item.categorical[0] else np.asarray(g0, dtype=float)
            x1 = np.arange(len(g1)) if item.categorical[1] else np.asarray(g1, dtype=float)
            if item.categorical[0] or item.categorical[1]:
                im = ax.pcolormesh(x1, x0, z, shading="nearest", cmap="viridis")
            else:
                im = ax.contourf(x1, x0, z, levels=12, cmap="viridis")
            fig.colorbar(im, ax=ax, label=result.output)
            if item.categorical[0]:
                ax.set_yticks(x0, [str(g) for g in g0])
            if item.categorical[1]:
                ax.set_xticks(x1, [str(g) for g in g1], rotation=45, ha="right")
            ax.set_ylabel(item.features[0])
            ax.set_xlabel(item.features[1])
            ax.set_title(f"2-D partial dependence of {item.features[0]} and {item.features[1]} "
                         f"({_short(item.method)})", fontsize=10)
        paths[name] = _save(fig, out_dir / f"{prefix}-{_slug(name)}.png")
    return paths
