"""Hyperparameter tuning: grid, random, Bayesian (Gaussian process) and TPE search in one engine.

All four strategies are Optuna samplers over one study: ``grid`` (``GridSampler``), ``random``
(``RandomSampler``), ``bayes`` (``GPSampler``) and ``tpe`` (``TPESampler``). Trials report the
running cross-validation mean after each fold so hopeless ones are pruned; studies are stored
(a journal file by default, any Optuna database URL at scale), resume after a crash, and can be
worked on by several processes or a Dask cluster.

Spaces come as a scikit-learn ``param_grid``, as skopt dimensions, or with the types here::

    from modelworks.tuning import Integer, Real, Categorical, tune

    result = tune("xgboost", X, y, strategy="bayes", trials=30, space={
        "n_estimators": Integer(50, 300),
        "learning_rate": Real(0.01, 0.3, "log-uniform"),
        "max_depth": Integer(3, 10),
    })
    result.best_params, result.best_score, result.best_estimator

:func:`tune_job` is the job behind ``modelworks tune``: a zoo model tuned on a table file.
"""

from modelworks.tuning._engine import DEFAULT_TRIALS, PRUNERS, STRATEGIES, tune
from modelworks.tuning._job import TuneJobResult, tune_job
from modelworks.tuning._result import TuneResult
from modelworks.tuning._space import GRID_POINTS, Categorical, Integer, Real, to_distributions
from modelworks.tuning._storage import load_study, recover_stale_trials

__all__ = [
    "DEFAULT_TRIALS",
    "GRID_POINTS",
    "PRUNERS",
    "STRATEGIES",
    "Categorical",
    "Integer",
    "Real",
    "TuneJobResult",
    "TuneResult",
    "load_study",
    "recover_stale_trials",
    "to_distributions",
    "tune",
    "tune_job",
]
