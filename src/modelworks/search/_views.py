"""Leaderboards for people: one "mean ± std" column per metric."""

from __future__ import annotations


def leaderboard_view(board):
    """The leaderboard with one "mean ± std" column per metric, for people."""
    import pandas as pd

    view = pd.DataFrame({"model": board["model"]})
    for col in board.columns:
        if col.endswith("_mean"):
            name = col.removesuffix("_mean")
            view[name] = [f"{m:.4f} ± {s:.4f}" for m, s in zip(board[col], board[f"{name}_std"])]
    view["fit time (s)"] = board["fit_time_s"].round(3)
    return view
