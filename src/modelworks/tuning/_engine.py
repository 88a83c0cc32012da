"""The tuning engine: one Optuna study per search, whatever the strategy.

Each trial fits the model on the same cross-validation folds and reports the running mean
after every fold, so a pruner can stop hopeless trials early. The study is stored (see
:mod:`modelworks.tuning._storage`), so rerunning the same call resumes it, and several
processes, or Dask workers, can work on it at once.

``tune`` is the conductor; the parts live beside it:

* :mod:`~modelworks.tuning._samplers`: the strategies' samplers, reproducible at any ``n_jobs``
  and never proposing a point twice, and the pruners that decide in the same batches;
* :mod:`~modelworks.tuning._objective`: the cross-validated objective (reusing the score of a
  point already completed) and the stopping callbacks;
* :mod:`~modelworks.tuning._workers`: worker processes and Dask;
* :mod:`~modelworks.tuning._inputs`: checks of the data, folds, model and space, scoring, and
  of a stored study before it is resumed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from types import SimpleNamespace

import numpy as np

from modelworks.exceptions import ConfigError, TuningError, UnknownNameError
from modelworks.tuning import _space, _storage
from modelworks.tuning._inputs import (
    _check_inputs,
    _check_resume,
    _check_scoring,
    _enqueue_defaults,
    _estimator_and_space,
    _fingerprint,
    _infer_task,
    _make_folds,
)
from modelworks.tuning._objective import (
    _fail_own_running,
    _finished,
    _Objective,
    _stop_at_target,
    _stop_at_total,
)
from modelworks.tuning._samplers import PRUNERS, _make_pruner, _make_sampler, _pruner_name
from modelworks.tuning._workers import _quotas, _run_dask, _run_processes, _Watcher

__all__ = ["DEFAULT_TRIALS", "PRUNERS", "STRATEGIES", "TASKS", "tune"]

STRATEGIES = ("grid", "random", "bayes", "tpe")
# trials when neither trials nor timeout is given (grid: the whole grid)
DEFAULT_TRIALS = {"random": 50, "tpe": 50, "bayes": 30}
TASKS = ("binary", "multiclass", "regression")


def tune(
    model,
    X,
    y,
    *,
    strategy: str = "bayes",
    space=None,
    trials: int | None = None,
    timeout: float | None = None,
    cv=5,
    scoring=None,
    n_jobs: int = 1,
    storage=None,
    study_name: str | None = None,
    pruning=True,
    seed: int = 0,
    out_dir=None,
    dask=None,
    task: str | None = None,
    target: float | None = None,
):
    """Tune a model's hyperparameters by cross-validation with one Optuna engine.

    Parameters
    ----------
    model : str or estimator
        A zoo name (``"rf"``, ``"xgboost"``, see ``modelworks models``): modelworks builds the
        preprocessing + model pipeline and brings a default space (its keys address the model,
        ``model__<param>``; bare names work too). Or any scikit-learn estimator or pipeline,
        whose parameters are named as in ``get_params()`` (``step__param``).
    X : DataFrame or 2-D array
    y : array-like
    strategy : {"bayes", "tpe", "random", "grid"}
        ``bayes``: Gaussian-process Bayesian optimisation (Optuna ``GPSampler``); ``tpe``: Optuna
        ``TPESampler``; ``random``: ``RandomSampler``; ``grid``: ``GridSampler``, exhaustive
        (ranges are cut into a few values).
    space : dict or list, optional
        A scikit-learn ``param_grid`` dict, skopt or modelworks ``Integer``/``Real``/
        ``Categorical`` dimensions (see :mod:`modelworks.tuning`). Required for your own
        estimators; zoo models default to their zoo space.
    trials : int, optional
        How many finished trials the study should have. A resumed study only runs the rest,
        and workers sharing a study stop when it has this many, whoever ran them.
        Default: the whole grid for ``grid``; else 50 (30 for ``bayes``), or unlimited when
        ``timeout`` is given.
    timeout : float, optional
        Seconds after which no new trial starts.
    cv : int, splitter or list of (train, test) index pairs
        Folds; an int means stratified K-fold (classification) or K-fold, shuffled with ``seed``.
    scoring : str or callable, optional
        A scikit-learn scorer (higher is better). Default: ``roc_auc`` (binary),
        ``neg_log_loss`` (multiclass: it rewards calibrated probabilities and separates close
        models better than accuracy), ``neg_root_mean_squared_error`` (regression).
    n_jobs : int
        Worker processes on this machine (``-1``: one per CPU), each running its share of the
        trials. More than one needs a stored study (a temporary one is used when neither
        ``storage`` nor ``out_dir`` is given). Workers are spawned, so a script calling this
        needs the usual ``if __name__ == "__main__":`` guard.
    storage : str, path or Optuna storage, optional
        A journal file path, or an Optuna database URL (``sqlite:///x.db``,
        ``postgresql://user:pw@host/db``). Default: the journal file ``out_dir/study.journal``,
        or memory when there is no ``out_dir``. To share a study between machines, run the
        same call on each with the same PostgreSQL URL and ``study_name``: the workers take
        turns through the database (the database must exist; ``postgresql://`` needs
        psycopg, in the ``dist`` extra).
    study_name : str, optional
        Default ``"<model>-<strategy>"``. The same name on the same storage resumes the study;
        it must have been made with the same data, space, folds and scoring.
    pruning : bool or {"median", "halving", "halving-rows", "none"}
        Stop trials whose running CV mean is hopeless (``True``: median pruning after each
        fold; grid search stays exhaustive unless a pruner is named). ``"halving"``: successive
        halving over folds; ``"halving-rows"``: successive halving on training size (each
        fold fitted on 1/9, then 1/3, then all of its rows). Pruned trials show in ``trials``.
    seed : int
        Seeds the sampler (per trial number), the folds and zoo models: the same seed gives the
        same trials and the same best at any ``n_jobs`` (proposals and pruning decisions are made
        in synchronous batches of ``SYNC_BATCH`` trials; see ``Reproducible``).
    out_dir : path, optional
        Where the default study file goes.
    dask : str or distributed.Client, optional
        Run trials on an existing Dask cluster (``"tcp://host:8786"``); workers must reach the
        storage (a shared path or a database URL).
    task : {"binary", "multiclass", "regression"}, optional
        Inferred from ``y`` when not given.
    target : float, optional
        Stop as soon as a trial reaches this CV score.

    Returns
    -------
    TuneResult

    Raises
    ------
    SpaceError
        An invalid space (empty list, low > high, unknown parameter...), before any trial runs.
    ConfigError, DataError, UnknownNameError
        Bad options or data.
    TuningError
        The study cannot be opened or resumed, or every trial failed.
    """
    import optuna

    started = time.monotonic()
    n_jobs = _check_options(strategy=strategy, trials=trials, timeout=timeout, n_jobs=n_jobs, seed=seed, task=task)
    s = _prepare(model, X, y, strategy=strategy, space=space, pruning=pruning, scoring=scoring, cv=cv,
                 seed=seed, task=task)
    if trials is None and not (timeout is not None and strategy != "grid"):
        trials = _space.grid_size(s.distributions) if strategy == "grid" else DEFAULT_TRIALS[strategy]
    study_name = study_name or f"{s.label}-{strategy}"
    if not isinstance(study_name, str) or not study_name.strip():
        raise ConfigError(f"study_name must be a non-empty string, got {study_name!r}")

    parallel = n_jobs > 1 or dask is not None
    spec, tmp_dir = _storage_spec(storage, out_dir, parallel=parallel)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are in the trials table
    try:
        study, study_storage = _open_study(s, study_name, spec, strategy=strategy)
        remaining = None if trials is None else max(0, int(trials) - _finished(study))
        objective = _Objective(s.estimator, s.X, s.y, s.folds, s.scoring, s.distributions, target,
                               by_rows=s.pruner == "halving-rows", seed=int(seed))
        watcher = _Watcher(study, remaining, f"tune {s.label} ({strategy})")
        interrupted, errors = False, []
        try:
            if remaining != 0 and not _reached(study, target):
                if parallel:
                    payload = {"objective": objective, "storage": _storage.storage_spec(study_storage),
                               "study_name": study_name, "strategy": strategy, "seed": int(seed),
                               "pruner": s.pruner, "total": trials}
                    interrupted, errors = _optimize_in_workers(
                        study, payload, remaining, n_jobs=n_jobs, timeout=timeout, dask=dask, watcher=watcher,
                        spec=spec)
                else:
                    interrupted = _optimize_here(study, objective, remaining, timeout=timeout, target=target,
                                                 total=trials, watcher=watcher)
        finally:
            watcher.close()
        if tmp_dir is not None:  # keep the finished study in memory, drop the temporary file
            study, spec = _in_memory(study_name, study_storage), None
        from modelworks.tuning._result import build_result

        return build_result(
            study, estimator=s.estimator, X=s.X, y=s.y, strategy=strategy, scoring=s.scoring, task=s.task,
            storage=_storage.describe_storage(spec), distributions=s.distributions, interrupted=interrupted,
            elapsed=time.monotonic() - started, worker_errors=errors, model_name=s.label,
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


# --------------------------------------------------------------------------- tune's steps


def _whole(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def _check_options(*, strategy, trials, timeout, n_jobs, seed, task) -> int:
    """Check ``tune``'s scalar options; return ``n_jobs`` with ``-1`` resolved to the CPU count."""
    if strategy not in STRATEGIES:
        raise UnknownNameError(f"unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}")
    if trials is not None and not (_whole(trials) and trials >= 1):
        raise ConfigError(f"trials must be a whole number >= 1, got {trials!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not _whole(n_jobs) or n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs must be a whole number >= 1 (or -1 for one per CPU), got {n_jobs!r}")
    if not _whole(seed):
        raise ConfigError(f"seed must be a whole number, got {seed!r}")
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def _prepare(model, X, y, *, strategy, space, pruning, scoring, cv, seed, task) -> SimpleNamespace:
    """Everything a study needs, checked before any trial runs (the sampler too: e.g. no torch)."""
    import optuna

    X, y = _check_inputs(X, y)
    task = task or _infer_task(y)
    estimator, space, prefix, label = _estimator_and_space(model, X, task, space, seed)
    distributions = _space.resolve_names(_space.to_distributions(space), estimator, prefix=prefix)
    if strategy == "grid":  # the study records exactly the grid's values
        distributions = {
            k: optuna.distributions.CategoricalDistribution(v)
            for k, v in _space.grid_values(distributions).items()
        }
    pruner = _pruner_name(pruning, strategy)
    scoring = _check_scoring(estimator, scoring, task)
    folds = _make_folds(cv, X, y, task, seed)
    sampler = _make_sampler(strategy, distributions, seed)
    return SimpleNamespace(X=X, y=y, task=task, estimator=estimator, distributions=distributions, label=label,
                           pruner=pruner, scoring=scoring, folds=folds, sampler=sampler)


def _storage_spec(storage, out_dir, *, parallel: bool):
    """The storage to open, and a temporary directory to remove afterwards (or ``None``)."""
    import optuna

    spec = storage if storage is not None else (_storage.default_storage(out_dir) if out_dir is not None else None)
    tmp_dir = None
    if spec is None and parallel:
        tmp_dir = tempfile.mkdtemp(prefix="modelworks-tune-")
        spec = os.path.join(tmp_dir, _storage.DEFAULT_FILE)
    if parallel and isinstance(spec, optuna.storages.InMemoryStorage):
        raise TuningError(
            "parallel trials (n_jobs > 1 or dask) need a storage every worker can open: "
            "a file path or a database URL, not memory"
        )
    return spec, tmp_dir


def _open_study(s: SimpleNamespace, study_name: str, spec, *, strategy: str):
    """Create or resume the study; refuse one made with other inputs; re-queue stale trials."""
    import optuna

    study_storage = _storage.open_storage(spec)
    config = _fingerprint(
        strategy=strategy,
        space=_space.describe(s.distributions),
        scoring=s.scoring if isinstance(s.scoring, str) else repr(s.scoring),
        estimator=type(s.estimator).__name__,
        data=(s.X, s.y),
        folds=s.folds,
    )
    try:
        study = optuna.create_study(study_name=study_name, storage=study_storage, direction="maximize",
                                    sampler=s.sampler, pruner=_make_pruner(s.pruner), load_if_exists=True)
    except Exception as e:
        raise TuningError(
            f"cannot open study '{study_name}' in {_storage.describe_storage(spec)}: {type(e).__name__}: {e}"
        ) from e
    _check_resume(study, config, spec)
    _storage.recover_stale_trials(study)
    if strategy != "grid" and not study.get_trials(deepcopy=False):
        _enqueue_defaults(study, s.estimator, s.distributions)
    return study, study_storage


def _reached(study, target) -> bool:
    from optuna.trial import TrialState

    return target is not None and any(
        t.value is not None and t.value >= target
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    )


def _optimize_here(study, objective, remaining, *, timeout, target, total, watcher) -> bool:
    """Run the trials in this process; return whether Ctrl-C interrupted them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study.optimize(
                objective,
                n_trials=remaining,
                timeout=timeout,
                catch=(Exception,),
                callbacks=[watcher.callback, _stop_at_target(target), _stop_at_total(total)],
                gc_after_trial=False,
            )
    except KeyboardInterrupt:
        _fail_own_running(study)  # Ctrl-C while a trial was being sampled
        return True
    return False


def _optimize_in_workers(study, payload, remaining, *, n_jobs, timeout, dask, watcher, spec):
    """Run the trials in worker processes or on Dask; return (interrupted, worker errors)."""
    n_before = len(study.get_trials(deepcopy=False))
    deadline = None if timeout is None else time.time() + timeout
    if dask is not None:
        interrupted, errors = _run_dask(payload, remaining, n_jobs, deadline, watcher, dask)
    else:
        interrupted, errors = _run_processes(payload, _quotas(remaining, n_jobs), deadline, watcher)
    if interrupted:
        _storage.recover_stale_trials(study)
    elif (
        not errors
        and (deadline is None or time.time() < deadline)
        and not study.get_trials(deepcopy=False)[n_before:]
    ):
        raise TuningError(
            "the workers ran but no trial reached the study in "
            f"{_storage.describe_storage(spec)}; workers on other machines need a storage "
            "they can all reach", param="storage", fix="give {} a shared path or a database URL (postgresql://...)"
        )
    return interrupted, errors


def _in_memory(study_name: str, study_storage):
    """A copy of the study in memory (its temporary file is about to be removed)."""
    import optuna

    memory = optuna.storages.InMemoryStorage()
    optuna.copy_study(from_study_name=study_name, from_storage=study_storage, to_storage=memory)
    return optuna.load_study(study_name=study_name, storage=memory)
