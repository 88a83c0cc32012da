"""The state that flows through ``modelworks run``: one object every step reads and extends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunContext:
    """Everything a step of the main job needs, and what earlier steps produced.

    Steps (``modelworks.<area>._workflow.step(ctx)``) read the fields they need, store their
    results in ``ctx.results[<area>]`` (JSON-able, goes into ``result.json``), may replace
    ``ctx.final_model`` with a better model, and add one section to ``ctx.report``.
    """

    # inputs
    data: Any  # the validated full DataFrame (features + target)
    target: str
    task: str  # "binary" | "multiclass" | "regression"
    out_dir: Path
    seed: int = 0
    cv: int = 5
    time_budget: float | None = None  # seconds for the whole run, None = no limit
    started: float = field(default_factory=time.monotonic)
    options: dict[str, Any] = field(default_factory=dict)  # step switches, e.g. {"tune": False}

    # the split (test is never seen by tuning, stacking or blend weights)
    X_train: Any = None
    X_test: Any = None
    y_train: Any = None
    y_test: Any = None
    schema: Any = None  # modelworks.data.Schema of the feature columns
    warnings: list[str] = field(default_factory=list)

    # from compare
    scoring: str = ""  # the primary metric name (higher is better), e.g. "roc_auc", "neg_rmse"
    leaderboard: Any = None  # DataFrame: one row per model, mean/std per metric, fit time
    candidates: dict[str, Any] = field(default_factory=dict)  # name -> unfitted pipeline
    oof: dict[str, Any] = field(default_factory=dict)  # name -> out-of-fold predictions (proba for classifiers)
    folds: list = field(default_factory=list)  # the CV (train_idx, valid_idx) pairs on X_train
    best_name: str = ""

    # the model that ends up packaged, explained and served
    final_model: Any = None
    final_name: str = ""
    holdout_model: Any = None  # the model scored on the held-out split, when the final one was refit on all rows
    search: Any = None  # the search's SearchResult (modelworks.search), when the run searched
    test_scores: dict[str, float] = field(default_factory=dict)

    report: Any = None  # modelworks.report.Report
    results: dict[str, Any] = field(default_factory=dict)

    def remaining(self) -> float | None:
        """Seconds left in the time budget (None when unlimited)."""
        if self.time_budget is None:
            return None
        return max(0.0, self.time_budget - (time.monotonic() - self.started))

    def all_rows(self):
        """``(X, y)``: the training and held-out splits together (what the final model is refit on)."""
        import numpy as np
        import pandas as pd

        X = pd.concat([self.X_train, self.X_test], ignore_index=True)
        y = pd.Series(np.concatenate([np.asarray(self.y_train), np.asarray(self.y_test)]), name=self.target)
        return X, y

    def enabled(self, step: str) -> bool:
        return bool(self.options.get(step, True))
