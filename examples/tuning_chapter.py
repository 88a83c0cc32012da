"""The chapter's grid search and Bayesian optimisation, written with modelworks.

The chapter builds a ``GridSearchCV`` over a random forest and a ``gp_minimize`` objective over
an XGBoost space by hand. Here both are one call each to :func:`modelworks.tuning.tune`, with
the same ``param_grid`` dict and the same skopt-style dimensions, on the breast cancer data
that ships with scikit-learn. The studies are stored under ``tuning-example/``: run the script
twice and the second run resumes (and finds nothing left to do).

Run: ``python examples/tuning_chapter.py``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from modelworks.tuning import Integer, Real, tune


def main(out_dir: Path) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )

    # --- Grid search (the chapter's GridSearchCV): the same param_grid, any estimator
    param_grid = {
        "n_estimators": [50, 100, 200],
        "max_depth": [3, 5, 7, None],
        "min_samples_split": [2, 5, 10],
    }
    grid = tune(
        RandomForestClassifier(random_state=0, n_jobs=1),
        X_train,
        y_train,
        strategy="grid",
        space=param_grid,
        cv=3,
        scoring="accuracy",
        out_dir=out_dir,
    )
    print(
        f"grid search: {grid.n_trials_completed} configurations x 3 folds in {grid.elapsed_s:.1f} s"
    )
    print(f"  best parameters: {grid.best_params}")
    print(f"  best CV accuracy: {grid.best_score:.4f} ± {grid.best_score_std:.4f}")

    # --- Bayesian optimisation (the chapter's gp_minimize): skopt-style dimensions, a zoo model
    space = {
        "n_estimators": Integer(50, 300),
        "learning_rate": Real(0.01, 0.3, "log-uniform"),
        "max_depth": Integer(3, 10),
    }
    bayes = tune(
        "xgboost", X_train, y_train, strategy="bayes", space=space, trials=15, cv=3, out_dir=out_dir
    )
    print(
        f"Bayesian optimisation (GP): {bayes.n_trials_completed} completed, {bayes.n_trials_pruned} pruned "
        f"in {bayes.elapsed_s:.1f} s"
    )
    print(
        f"  best parameters: { {k.removeprefix('model__'): round(v, 4) for k, v in bayes.best_params.items()} }"
    )
    print(
        f"  best CV roc_auc: {bayes.best_score:.4f} (starting parameters: {bayes.baseline_score:.4f})"
    )

    # both best models come back refitted on the whole training split
    for name, result in (("grid rf", grid), ("bayes xgboost", bayes)):
        auc = roc_auc_score(y_test, result.best_estimator.predict_proba(X_test)[:, 1])
        print(f"held-out roc_auc of the {name}: {auc:.4f}")
    plots = bayes.plots(out_dir / "plots")
    print(f"plots: {', '.join(p.name for p in plots)}")
    print(f"studies stored in {bayes.storage}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="tuning-example-"))
    )
