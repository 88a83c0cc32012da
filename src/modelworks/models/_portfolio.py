"""Known-good starting configurations per learner, tried in this order before model-based search.

The table is ours. It is hand-picked from what the peers document as their defaults and first
portfolio members (LightGBM's, XGBoost's and scikit-learn's own defaults; the low-cost starting
points FLAML describes; the "strong boosters first, then bagged trees, then the rest" order of
AutoGluon's default preset), not derived from any evaluation table.

Each row is a :class:`Config`: the zoo learner, the estimator parameters that differ from the
zoo's factory, a tier (1: strong and cheap, 2: strong but costly, 3: usually weaker) and the
table sizes where it is worth its time. Its cost is estimated by :mod:`modelworks.search._plan`
from rows, columns, classes and its own parameters (trees, leaves, depth). ``prep`` says which
preprocessing the learner gets: ``"tree"`` (ordinal codes, native categorical handling, missing
values kept) or ``"dense"`` (one-hot, imputed, scaled: the zoo's usual pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Config:
    """One candidate configuration of a zoo learner."""

    learner: str  # zoo name
    label: str  # short, unique within the learner ("default", "wide", ...)
    params: dict[str, Any] = field(default_factory=dict)
    prep: str = "tree"  # "tree" | "dense"
    max_rows: int | None = None  # not tried on larger training tables (cost or weakness)
    min_rows: int = 0  # not tried on smaller tables (would overfit or cannot help)
    tier: int = 1  # 1: strong and cheap, 2: strong but costly, 3: usually weaker, adds diversity
    tasks: tuple = ("binary", "multiclass", "regression")

    @property
    def name(self) -> str:
        return self.learner if self.label == "default" else f"{self.learner}:{self.label}"


# Boosters first: low-cost starting points, then larger ones. Linear, neighbour, kernel and neural
# learners come last and only on tables where they have a chance and are cheap enough.
PORTFOLIO: list[Config] = [
    Config("hgb", "default", {}),
    Config("lightgbm", "default", {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 31}),
    # CatBoost (symmetric trees, ordered target statistics): strong out of the box, especially on
    # small and wide tables and on categoricals, at two to five times a LightGBM fit's cost. It comes
    # after the two cheapest boosters (they always run first), and only when its estimate fits in
    # the time left; a fit that still runs at the search deadline is stopped within one round.
    # 300 rounds at rate 0.1 and depth 6 is CatBoost's own depth with the low-cost round count and
    # rate the peers start from (CatBoost's default is 1,000 rounds with a rate picked from the
    # data size, which is costly without early stopping).
    Config("catboost", "default", {"iterations": 300, "learning_rate": 0.1, "depth": 6},
           max_rows=300_000),
    Config("lightgbm", "slow", {"n_estimators": 500, "learning_rate": 0.05, "num_leaves": 31,
                                "colsample_bytree": 0.9, "min_child_samples": 10}),
    Config("xgboost", "default", {"n_estimators": 300, "learning_rate": 0.1, "max_depth": 6}),
    Config("lightgbm", "xt", {"n_estimators": 400, "learning_rate": 0.05, "num_leaves": 31,
                              "extra_trees": True, "colsample_bytree": 0.9}),
    Config("hgb", "wide", {"learning_rate": 0.05, "max_iter": 400, "max_leaf_nodes": 63,
                           "l2_regularization": 1.0, "min_samples_leaf": 10}),
    Config("lightgbm", "large", {"n_estimators": 600, "learning_rate": 0.03, "num_leaves": 127,
                                 "min_child_samples": 3, "colsample_bytree": 0.8}, tier=2),
    Config("xgboost", "deep", {"n_estimators": 500, "learning_rate": 0.05, "max_depth": 8,
                               "min_child_weight": 2, "colsample_bytree": 0.8, "subsample": 0.9},
           tier=2),
    # CatBoost's own defaults (1,000 rounds, depth 6, l2 3) at a rate in its auto-picked range
    Config("catboost", "slow", {"iterations": 1000, "learning_rate": 0.05, "depth": 6, "l2_leaf_reg": 3.0},
           tier=2, max_rows=100_000),
    Config("extratrees", "default", {"n_estimators": 300, "max_features": "sqrt", "n_jobs": 1},
           prep="dense", tier=2, max_rows=300_000),
    Config("rf", "default", {"n_estimators": 300, "max_features": "sqrt", "n_jobs": 1},
           prep="dense", tier=2, max_rows=300_000),
    Config("logreg", "default", {"C": 1.0}, prep="dense", tier=3),
    Config("ridge", "default", {"alpha": 1.0}, prep="dense", tier=3, tasks=("regression",)),
    Config("knn", "default", {"n_neighbors": 15, "weights": "distance"}, prep="dense",
           tier=3, max_rows=30_000),
    Config("mlp", "default", {"hidden_layer_sizes": (128, 64), "alpha": 1e-4}, prep="dense",
           tier=3, max_rows=100_000, min_rows=500),
    Config("svm", "default", {}, prep="dense", tier=3, max_rows=5_000),
]

# learners whose zoo entry is the right prep family even when the user names them in --models
TREE_PREP = {"hgb", "lightgbm", "xgboost", "catboost"}


def portfolio(task: str, learners: list[str] | None = None, n_rows: int | None = None) -> list[Config]:
    """The portfolio for ``task``, optionally restricted to zoo ``learners`` (kept in table order).

    ``n_rows`` (training rows) drops rows whose ``max_rows``/``min_rows`` exclude that size.

    With ``learners`` given, each one's zoo default comes first (as ``Config(name, "default")``,
    so the leaderboard shows the plain zoo name) and the table's other rows for it follow.
    """
    from modelworks.models._zoo import get_entry

    rows = [c for c in PORTFOLIO if get_entry(c.learner).supports(task) and task in c.tasks
            and get_entry(c.learner).available()
            and (n_rows is None or (n_rows >= c.min_rows and (c.max_rows is None or n_rows <= c.max_rows)))]
    if learners is None:
        return rows
    names = [get_entry(n).name for n in learners]
    first = [Config(n, "default", {}, prep="tree" if n in TREE_PREP else "dense") for n in names]
    extra = [c for c in rows if c.learner in names and c.label != "default"]
    return first + extra


# Where model-based search looks after the portfolio (estimator parameter names; Optuna
# distributions are built from these in modelworks.search). Ranges centre on the portfolio rows.
SEARCH_SPACES: dict[str, dict[str, tuple]] = {
    "lightgbm": {"n_estimators": (100, 1000, "int"), "learning_rate": (0.01, 0.2, "log"),
                 "num_leaves": (8, 256, "int"), "min_child_samples": (2, 60, "int"),
                 "colsample_bytree": (0.4, 1.0, "linear"), "reg_lambda": (1e-3, 10.0, "log")},
    "hgb": {"max_iter": (100, 800, "int"), "learning_rate": (0.01, 0.2, "log"),
            "max_leaf_nodes": (8, 128, "int"), "min_samples_leaf": (2, 60, "int"),
            "l2_regularization": (1e-3, 10.0, "log")},
    "catboost": {"iterations": (100, 1000, "int"), "learning_rate": (0.02, 0.2, "log"),
                 "depth": (4, 8, "int"), "l2_leaf_reg": (1.0, 10.0, "log")},
    "xgboost": {"n_estimators": (100, 1000, "int"), "learning_rate": (0.01, 0.2, "log"),
                "max_depth": (3, 10, "int"), "min_child_weight": (0.5, 10.0, "log"),
                "colsample_bytree": (0.4, 1.0, "linear"), "subsample": (0.5, 1.0, "linear")},
}
