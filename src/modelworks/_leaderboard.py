"""A leaderboard as aligned text (``run`` and ``compare`` print it)."""

from __future__ import annotations


def board_text(board) -> str:
    """The model, its tie group (``run``), the mean of each metric and the fit time, one row a model."""
    group = ["rank_group"] if "rank_group" in board.columns else []  # run: statistical tie groups
    cols = ["model"] + group + [c for c in board.columns if c.endswith("_mean")] + ["fit_time_s"]
    view = board[cols].copy()
    view.columns = [c.removesuffix("_mean").replace("rank_group", "group") for c in cols]
    return view.to_string(index=False, float_format=lambda v: f"{v:.4f}")
