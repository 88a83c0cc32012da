"""Validation matched to the data size, and the cost model that decides what may start.

Validation: k-fold on small tables, 3 folds on mid-size ones, one holdout on large ones (with a
first row-subsample rung, see :mod:`modelworks.search._search`). Every candidate is scored on the
same splits, so out-of-fold predictions line up for ensembles and paired tests. On a holdout the
validation rows are cut into equal chunks for the paired tests.

Cost: a prior per learner in seconds per (training row x input column) at the learner's zoo
default, times a complexity factor of the configuration (trees, leaves, depth) and the number of
classes for boosters (one tree per class and round; CatBoost's per-border cost counts as rows); every finished fit recalibrates the
learner's factor (and a machine-wide factor for learners not yet seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KFOLD_MAX_ROWS = 20_000  # up to here: the user's k folds
FEW_FOLDS_MAX_ROWS = 100_000  # up to here: 3 folds; above: one holdout
HOLDOUT_MAX_ROWS = 50_000
HOLDOUT_CHUNKS = 5
RUNG_MIN_ROWS = 200_000  # holdout tables this large screen candidates on a subsample first
RUNG_ROWS = 50_000


@dataclass
class ValidationPlan:
    """The shared splits: ``folds`` to fit on, ``groups`` (row indices) to score on."""

    kind: str  # "kfold" | "holdout"
    folds: list  # (train_idx, valid_idx) pairs over the training rows
    groups: list  # arrays of row indices; one score per group (folds' valid rows, or holdout chunks)
    rows: np.ndarray  # every row that has an out-of-fold prediction
    rung_rows: int | None = None  # screen candidates on this many training rows first
    n_train: int = 0  # rows a fold trains on (for the corrected t-test and the cost model)

    def describe(self) -> str:
        if self.kind == "kfold":
            return f"{len(self.folds)}-fold cross-validation"
        text = (f"one holdout of {len(self.rows):,} rows (scored in {len(self.groups)} chunks), "
                f"models fitted on {self.n_train:,} rows")
        if self.rung_rows:
            text += f"; candidates screened on {self.rung_rows:,} rows first (successive halving)"
        return text

    def as_holdout(self, i: int, seed: int = 0) -> ValidationPlan:
        """Fold ``i`` of a k-fold plan as a single holdout (when k fits would not fit in the budget)."""
        train_idx, valid_idx = self.folds[i]
        chunks = HOLDOUT_CHUNKS if len(valid_idx) >= 10 * HOLDOUT_CHUNKS else 2
        rng = np.random.default_rng(seed)
        groups = [np.sort(g) for g in np.array_split(rng.permutation(valid_idx), chunks)]
        return ValidationPlan("holdout", [(train_idx, valid_idx)], groups, np.sort(valid_idx),
                              n_train=len(train_idx))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "splits": len(self.folds), "score_groups": len(self.groups),
                "validated_rows": len(self.rows), "fit_rows": self.n_train, "rung_rows": self.rung_rows,
                "description": self.describe()}


def plan_validation(y, task: str, *, cv: int = 5, seed: int = 0) -> ValidationPlan:
    """Choose the validation for ``len(y)`` rows (see the module docstring)."""
    from modelworks._compare import make_folds

    n = len(y)
    if n <= FEW_FOLDS_MAX_ROWS:
        k = cv if n <= KFOLD_MAX_ROWS else min(cv, 3)
        try:
            folds = make_folds(y, task, k, seed)
        except ValueError:  # a class too rare to stratify
            folds = make_folds(y, "regression", k, seed)
        rows = np.sort(np.concatenate([v for _, v in folds]))
        return ValidationPlan("kfold", folds, [v for _, v in folds], rows,
                              n_train=int(np.mean([len(t) for t, _ in folds])))
    from sklearn.model_selection import train_test_split

    n_valid = min(int(0.2 * n), HOLDOUT_MAX_ROWS)
    idx = np.arange(n)
    stratify = np.asarray(y) if task != "regression" else None
    try:
        train_idx, valid_idx = train_test_split(idx, test_size=n_valid, random_state=seed, stratify=stratify)
    except ValueError:
        train_idx, valid_idx = train_test_split(idx, test_size=n_valid, random_state=seed)
    train_idx, valid_idx = np.sort(train_idx), np.sort(valid_idx)
    rng = np.random.default_rng(seed)
    groups = [np.sort(g) for g in np.array_split(rng.permutation(valid_idx), HOLDOUT_CHUNKS)]
    rung = RUNG_ROWS if len(train_idx) >= RUNG_MIN_ROWS else None
    return ValidationPlan("holdout", [(train_idx, valid_idx)], groups, valid_idx, rung_rows=rung,
                          n_train=len(train_idx))


# seconds per (training row x input column) for one fit of the learner's zoo default, 1 thread
PRIOR = {
    "hgb": 3e-7, "lightgbm": 3e-7, "xgboost": 6e-7, "gb": 3e-6, "rf": 2e-6, "extratrees": 1e-6,
    "logreg": 3e-7, "ridge": 5e-8, "lasso": 5e-7, "linear": 5e-8, "mlp": 8e-6, "keras_mlp": 2e-5,
    "knn": 2e-8, "svm": 2e-8, "catboost": 7e-7,
}
# CatBoost scores every candidate border of every feature each round, whatever the row count: on
# small tables that dominates (569 rows x 30 columns: 2.8 s at 254 borders, 0.8 s at 64), so its
# cost counts this many extra rows per border (measured: ~40). A column has at most as many
# borders as distinct values (the table's mean, ``CostModel.distinct``), and MultiClass fits one
# leaf value per class (its cost grows with the classes, like the per-class boosters').
CATBOOST_ROWS_PER_BORDER = 40
CATBOOST_BORDERS = 254  # CatBoost's default border_count on CPU
# A categorical column costs CatBoost about this many numeric columns: its ordered target statistics
# (several per column, and combinations of categoricals) are recomputed over permutations every round.
# Measured (CatBoost 1.2, one thread): 40,000 rows, 5 numeric + 3 categorical columns (3-105
# levels), 100 rounds at depth 6: 1.60 CPU s with cat_features, 0.77 s with the same columns as
# plain codes, i.e. each categorical column costs ~3.5 numeric ones on top of itself.
CATBOOST_CATEGORICAL_WEIGHT = 4.5
FIXED = 0.05  # seconds per fit whatever the size (pipeline, encoders)
QUADRATIC = {"knn", "svm"}  # cost grows with rows squared (neighbour search, kernel matrix)
PER_CLASS = {"hgb", "lightgbm", "xgboost", "gb", "catboost"}  # one tree (or leaf value) per class and round


def complexity(learner: str, params: dict) -> float:
    """Cost of a configuration relative to the learner's zoo default (trees, leaves, depth)."""
    p = params or {}
    if learner == "lightgbm":  # measured (200 rounds, 60,000 rows x 8 columns): 255 leaves cost 2.0x 31 leaves
        return p.get("n_estimators", 200) / 200 * (p.get("num_leaves", 31) / 31) ** (1 / 3)
    if learner == "hgb":  # measured as above: 255 leaves cost 3.3x 31 leaves
        return p.get("max_iter", 100) / 100 * math.sqrt(p.get("max_leaf_nodes", 31) / 31)
    if learner == "xgboost":
        return p.get("n_estimators", 200) / 200 * 2 ** ((p.get("max_depth", 6) - 6) / 2)
    if learner == "catboost":  # symmetric trees: one split search per level
        return p.get("iterations", 300) / 300 * p.get("depth", 6) / 6
    if learner in {"rf", "extratrees"}:
        return p.get("n_estimators", 100) / 100
    if learner == "mlp":
        sizes = p.get("hidden_layer_sizes", (64,))
        return max(1.0, sum(sizes) / 64)
    return 1.0


@dataclass
class CostModel:
    """Seconds one fit of a configuration takes, learned as fits finish."""

    n_features: int
    n_classes: int = 1
    n_categorical: int = 0  # of the n_features (CatBoost weighs them, see CATBOOST_CATEGORICAL_WEIGHT)
    distinct: float | None = None  # mean distinct values per input column (capped; see distinct_values)
    ratio: dict = field(default_factory=dict)  # learner -> observed / predicted (geometric mean)
    seen: list = field(default_factory=list)  # all observed ratios (machine speed)

    def _raw(self, learner: str, params: dict, rows: int) -> float:
        prior = PRIOR.get(learner, 1e-6)
        size = rows * rows / 1000 if learner in QUADRATIC else rows
        if learner == "catboost":
            borders = min((params or {}).get("border_count", CATBOOST_BORDERS), rows, self.distinct or rows)
            size = rows + CATBOOST_ROWS_PER_BORDER * borders
        classes = self.n_classes if learner in PER_CLASS and self.n_classes > 2 else 1
        columns = self.n_features
        if learner == "catboost":
            columns += (CATBOOST_CATEGORICAL_WEIGHT - 1) * self.n_categorical
        return prior * size * max(columns, 1) * complexity(learner, params) * classes

    def fit_seconds(self, learner: str, params: dict, rows: int) -> float:
        if learner in self.ratio:
            factor = math.exp(np.mean(np.log(self.ratio[learner])))
        elif self.seen:
            factor = max(1.0, math.exp(np.median(np.log(self.seen))))  # unseen: never cheaper than prior
        else:
            factor = 1.0
        return FIXED + self._raw(learner, params, rows) * factor

    def observe(self, learner: str, params: dict, rows: int, seconds: float) -> None:
        raw = self._raw(learner, params, rows)
        if raw <= 0:
            return
        r = max(seconds - FIXED, 1e-3) / raw
        self.ratio.setdefault(learner, []).append(r)
        self.seen.append(r)


def distinct_values(X, cap: int = CATBOOST_BORDERS, sample: int = 5_000, seed: int = 0) -> float:
    """Mean number of distinct values per column (each capped at ``cap``), on a row sample."""
    if X.shape[1] == 0 or len(X) == 0:
        return 1.0
    rows = X.sample(n=sample, random_state=seed) if len(X) > sample else X
    return float(rows.nunique(dropna=True).clip(lower=1, upper=cap).mean())
