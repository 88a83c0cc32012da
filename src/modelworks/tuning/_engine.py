"""The tuning engine: one Optuna study per search, whatever the strategy.

Each trial fits the model on the same cross-validation folds and reports the running mean
after every fold, so a pruner can stop hopeless trials early. The study is stored (see
:mod:`modelworks.tuning._storage`), so rerunning the same call resumes it, and several
processes, or Dask workers, can work on it at once.

What the raw samplers do not do, measured in ``benchmarks/bench_tuning.py``:

* No point is proposed twice while the space has others: GP learns from pruned trials (their
  partial CV mean), a model-based proposal equal to an earlier point is redrawn at random, and
  random search redraws points it has seen.
* Once a small discrete space is exhausted, a point that already completed is not refitted:
  the trial reuses its score (``cached_from`` in the trials table); a point proposed again
  after it was pruned is evaluated on every fold once (``second_chance``), since fold-level
  noise can prune the best configuration.
* The same seed gives the same trials at any ``n_jobs``: draws are seeded per trial number and
  proposals and pruning use only the trials of earlier batches of ``SYNC_BATCH`` (and the
  points of the trial's own batch), so no result depends on which worker finished first.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import tempfile
import time
import warnings
import zlib
from typing import Any

import numpy as np

from modelworks.exceptions import ConfigError, DataError, SpaceError, TuningError, UnknownNameError
from modelworks.tuning import _space, _storage

STRATEGIES = ("grid", "random", "bayes", "tpe")
# trials when neither trials nor timeout is given (grid: the whole grid)
DEFAULT_TRIALS = {"random": 50, "tpe": 50, "bayes": 30}
PRUNERS = ("median", "halving", "halving-rows", "none")
# successive halving on training size: (reported step, share of each fold's training rows)
ROW_RUNGS = ((1, 1 / 9), (3, 1 / 3), (9, 1.0))
DASK_CONNECT_TIMEOUT = "10s"
# random trials before TPE / GP model the space (Optuna's default is 10); 5 halved the time to
# reach the grid's best on the benchmark's small grids without hurting the final score
N_STARTUP = 5
TASKS = ("binary", "multiclass", "regression")


# --------------------------------------------------------------------------- samplers, pruners


def _grid_sampler(distributions, seed):
    import optuna

    return optuna.samplers.GridSampler(_space.grid_values(distributions), seed=seed)


def _random_sampler(distributions, seed):
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _gp_sampler(distributions, seed):
    import optuna

    from modelworks._imports import is_available

    if not is_available("torch"):  # a core install: the default strategy still works, with TPE
        warnings.warn(
            "strategy='bayes' runs TPE here: the Gaussian-process sampler needs torch "
            "(pip install 'modelworks[deep]')",
            UserWarning,
            stacklevel=1,  # one location, so the note shows once per process
        )
        return _tpe_sampler(distributions, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=N_STARTUP)


def _tpe_sampler(distributions, seed):
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=N_STARTUP)


SAMPLERS = {
    "grid": _grid_sampler,
    "random": _random_sampler,
    "bayes": _gp_sampler,
    "tpe": _tpe_sampler,
}


# Proposals and pruning decisions are made in synchronous batches of this many trials, at any
# n_jobs: trial k is sampled from the trials of the batches before its own (all finished) and the
# earlier points of its own batch (as pending), so the trials do not depend on which worker ran
# what when. n_jobs=1 never waits; more workers wait only at batch boundaries.
SYNC_BATCH = 4
SYNC_WAIT_S = 600.0  # a worker waits at most this long for another's trial (a dead worker's)
_POLL_S = 0.05
# two proposals closer than this share of every float parameter's range (log scale for log
# parameters) are the same point
SAME_POINT = 1e-4
RANDOM_REDRAWS = 20  # random search draws again when it hits an earlier point, this many times


def _batch_start(number: int) -> int:
    return number - number % SYNC_BATCH


def _is_finished(trial) -> bool:
    from optuna.trial import TrialState

    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def _wait_for(study, ready) -> list:
    """Poll the study's trials until ``ready(trials)`` (bounded by ``SYNC_WAIT_S``)."""
    waited = 0.0
    while True:
        trials = study.get_trials(deepcopy=False)
        if ready(trials) or waited >= SYNC_WAIT_S:
            return trials
        time.sleep(_POLL_S)
        waited += _POLL_S


class _StudyView:
    """A read-only view of a study as trial ``number`` sees it, the same at any n_jobs.

    Trials of earlier batches are shown as they are (all finished; pruned trials with a value
    as completed when ``pruned_as_complete``: GP learns from their partial CV mean, which it
    otherwise ignores); earlier trials of the same batch as running (their points are known,
    their results may not be yet); later trials not at all.
    """

    def __init__(self, study, number: int, *, pruned_as_complete: bool) -> None:
        self._study = study
        self._number = number
        self._pruned_as_complete = pruned_as_complete

    def __getattr__(self, name):
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states=None, use_cache: bool = False) -> list:
        import copy

        from optuna.trial import TrialState

        start = _batch_start(self._number)
        out = []
        for t in self._study._get_trials(deepcopy=False, states=None, use_cache=False):
            if t.number >= self._number:
                continue
            if t.number >= start:
                t = copy.copy(t)
                t.state, t.values = TrialState.RUNNING, None
                t.intermediate_values = {}
            elif (self._pruned_as_complete and t.state == TrialState.PRUNED and t.value is not None
                  and math.isfinite(t.value)):
                t = copy.copy(t)
                t.state = TrialState.COMPLETE
            if states is None or t.state in states:
                out.append(t)
        return out

    def get_trials(self, deepcopy: bool = True, states=None) -> list:
        return self._get_trials(deepcopy=False, states=states)


def _close(a: dict, b: dict, distributions) -> bool:
    """Whether two parameter sets are the same point (floats within ``SAME_POINT`` of the range)."""
    import optuna.distributions as d

    if a.keys() != b.keys():
        return False
    for name, va in a.items():
        vb, dist = b[name], distributions.get(name)
        if isinstance(dist, d.FloatDistribution) and dist.high > dist.low:
            lo, hi, x, y = dist.low, dist.high, float(va), float(vb)
            if dist.log:
                lo, hi, x, y = math.log(lo), math.log(hi), math.log(x), math.log(y)
            if abs(x - y) > SAME_POINT * (hi - lo):
                return False
        elif repr(va) != repr(vb):
            return False
    return True


@functools.cache
def _reproducible_class():
    import optuna

    class Reproducible(optuna.samplers.BaseSampler):
        """A strategy's sampler made reproducible at any n_jobs and never proposing a point twice.

        * Seeded per trial, from ``seed`` and the trial number (trial 0 keeps ``seed``): workers
          sharing a study, or a resumed study, draw streams of their own, and the draws of a
          trial do not depend on which worker runs it.
        * Model-based proposals see the study as the trial's :class:`_StudyView` (earlier
          batches finished, its own batch pending), waiting at batch boundaries when another
          worker's trial of an earlier batch is still running.
        * GP learns from pruned trials (their partial CV mean); a model-based proposal equal to
          an earlier point (finished or pending) is replaced by a random draw, so the search
          does not evaluate one point twice.
        """

        def __init__(self, make, seed: int, distributions, *, model_based: bool,
                     pruned_as_complete: bool) -> None:
            self._make = make
            self._seed = seed
            self._distributions = distributions
            self._model_based = model_based
            self._pruned_as_complete = pruned_as_complete
            self._inner = None
            self._number = None
            self._views: dict = {}

        def _sampler(self, trial):
            if self._number != trial.number:
                number = trial.number
                seed = self._seed if number == 0 else zlib.crc32(f"{self._seed}:{number}".encode())
                self._inner, self._number = self._make(seed), number
            return self._inner

        def _view(self, study, trial):
            if not self._model_based:
                return study
            if self._views.get(trial.number) is not None:
                return self._views[trial.number]
            start = _batch_start(trial.number)
            names = set(self._distributions)

            def ready(trials):
                return all(
                    _is_finished(t) if t.number < start else names <= set(t.params)
                    for t in trials if t.number < trial.number
                )

            _wait_for(study, ready)
            self._views = {trial.number: _StudyView(study, trial.number, pruned_as_complete=self._pruned_as_complete)}
            return self._views[trial.number]

        def infer_relative_search_space(self, study, trial):
            if not self._model_based:  # random: the whole point is drawn at once, then deduplicated
                return dict(self._distributions)
            return self._sampler(trial).infer_relative_search_space(self._view(study, trial), trial)

        def _seen(self, params, trials) -> bool:
            return any(_close(params, {k: t.params.get(k) for k in params}, self._distributions)
                       for t in trials if set(params) <= set(t.params))

        def sample_relative(self, study, trial, search_space):
            if not search_space:
                return {}
            if not self._model_based:
                names = set(self._distributions)
                trials = [t for t in _wait_for(study, lambda ts: all(
                    _is_finished(t) or names <= set(t.params) for t in ts if t.number < trial.number))
                    if t.number < trial.number]
                inner = self._sampler(trial)
                for _ in range(RANDOM_REDRAWS):
                    params = {name: inner.sample_independent(study, trial, name, dist)
                              for name, dist in search_space.items()}
                    if not self._seen(params, trials):
                        break
                return params  # a small space may be exhausted: then the score is reused
            view = self._view(study, trial)
            params = self._sampler(trial).sample_relative(view, trial, search_space)
            if params and self._seen(params, view.get_trials(deepcopy=False)):
                return {}  # the point was seen: every parameter is drawn at random instead
            return params

        def sample_independent(self, study, trial, param_name, param_distribution):
            return self._sampler(trial).sample_independent(
                self._view(study, trial), trial, param_name, param_distribution
            )

        def before_trial(self, study, trial) -> None:
            # who runs the trial, recorded before sampling (which may wait for other workers)
            with contextlib.suppress(Exception):
                study._storage.set_trial_user_attr(trial._trial_id, _storage.WORKER_ATTR, _storage.this_worker())
            self._sampler(trial).before_trial(self._view(study, trial), trial)

        def after_trial(self, study, trial, state, values) -> None:
            self._sampler(trial).after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            if self._inner is not None:
                self._inner.reseed_rng()

    return Reproducible


def _make_sampler(strategy: str, distributions, seed: int):
    """The strategy's sampler, reproducible at any n_jobs (see ``Reproducible``).

    Grid search is left as it is: its sampler picks unvisited grid points from the study.
    """
    make = functools.partial(SAMPLERS[strategy], distributions)
    if strategy == "grid":
        return make(seed)
    make(seed)  # fails now rather than at the first trial (e.g. no torch for bayes)
    return _reproducible_class()(make, seed, distributions, model_based=strategy in ("bayes", "tpe"),
                                 pruned_as_complete=strategy == "bayes")


@functools.cache
def _batched_pruner_class():
    import optuna

    class BatchedPruner(optuna.pruners.BasePruner):
        """A pruner that compares a trial with the finished trials of earlier batches only,
        so its decisions do not depend on how many workers run (see ``SYNC_BATCH``)."""

        def __init__(self, inner) -> None:
            self._inner = inner

        def prune(self, study, trial) -> bool:
            start = _batch_start(trial.number)
            _wait_for(study, lambda ts: all(_is_finished(t) for t in ts if t.number < start))
            return self._inner.prune(_StudyView(study, _batch_start(trial.number), pruned_as_complete=False),
                                     trial)

    return BatchedPruner


def _median_pruner():
    import optuna

    # a trial is compared with the others on the same folds, from its second fold on
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


def _halving_pruner():
    import optuna

    return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)


def _no_pruner():
    import optuna

    return optuna.pruners.NopPruner()


PRUNER_FACTORIES = {
    "median": _median_pruner,
    "halving": _halving_pruner,
    "halving-rows": _halving_pruner,  # the same pruner; the objective reports row shares as steps
    "none": _no_pruner,
}


def _pruner_name(pruning: Any, strategy: str) -> Any:
    """``True`` means median pruning, except for grid search, which stays exhaustive."""
    import optuna

    if isinstance(pruning, optuna.pruners.BasePruner):
        return pruning
    if pruning is True:
        return "none" if strategy == "grid" else "median"
    if pruning is False or pruning is None:
        return "none"
    if isinstance(pruning, str) and pruning in PRUNER_FACTORIES:
        return pruning
    raise UnknownNameError(
        f"pruning must be True, False or one of {', '.join(PRUNERS)}, got {pruning!r}"
    )


def _make_pruner(spec):
    if not isinstance(spec, str):
        return spec  # the caller's own pruner, as given
    inner = PRUNER_FACTORIES[spec]()
    return inner if spec == "none" else _batched_pruner_class()(inner)


# --------------------------------------------------------------------------- the objective


def _suggest(trial, name: str, dist):
    import optuna.distributions as d

    table = {
        d.CategoricalDistribution: lambda: trial.suggest_categorical(name, dist.choices),
        d.IntDistribution: lambda: trial.suggest_int(
            name, dist.low, dist.high, step=dist.step, log=dist.log
        ),
        d.FloatDistribution: lambda: trial.suggest_float(
            name, dist.low, dist.high, step=dist.step, log=dist.log
        ),
    }
    return table[type(dist)]()


class _Objective:
    """Cross-validate one parameter set; picklable so worker processes can run it.

    ``by_rows=True`` is successive halving on training size: every fold is first fitted on
    1/9 of its training rows, then 1/3, then all, and the running score is reported after each
    size (steps 1, 3, 9) for ``SuccessiveHalvingPruner`` to stop the weak trials early.
    """

    def __init__(
        self, estimator, X, y, folds, scoring, distributions, target=None, by_rows=False, seed=0
    ):
        self.estimator = estimator
        self.X = X
        self.y = y
        self.folds = folds
        self.scoring = scoring
        self.distributions = distributions
        self.target = target
        self.by_rows = by_rows
        self.seed = seed

    def __call__(self, trial) -> float:
        from optuna.trial import TrialState

        trial.set_user_attr(_storage.WORKER_ATTR, _storage.this_worker())
        params = {name: _suggest(trial, name, dist) for name, dist in self.distributions.items()}
        # samplers revisit points of small discrete spaces: reuse the score, do not refit
        done = _same_params(trial, params, TrialState.COMPLETE)
        if done is not None:
            trial.set_user_attr("cached_from", done.number)
            for key in ("fold_scores", "std"):
                if key in done.user_attrs:
                    trial.set_user_attr(key, done.user_attrs[key])
            return float(done.value)
        # a point the sampler proposes again after it was pruned gets a full evaluation: without
        # this, GP and TPE can propose the same pruned point over and over
        second_chance = _same_params(trial, params, TrialState.PRUNED) is not None
        if second_chance:
            trial.set_user_attr("second_chance", True)
        scores: list[float] = []
        try:
            evaluate = self._by_rows if self.by_rows else self._by_folds
            scores = evaluate(trial, params, prune=not second_chance)
        except Exception as e:
            import optuna

            if not isinstance(e, optuna.TrialPruned):
                trial.set_user_attr("error", f"{type(e).__name__}: {str(e)[:300]}")
            raise
        return float(np.mean(scores))

    def _score(self, params, train, valid, scorer) -> float:
        from sklearn.base import clone
        from sklearn.utils import _safe_indexing

        model = clone(self.estimator).set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(_safe_indexing(self.X, train), _safe_indexing(self.y, train))
            score = float(
                scorer(model, _safe_indexing(self.X, valid), _safe_indexing(self.y, valid))
            )
        if not math.isfinite(score):
            raise TuningError(f"the score is {score} for {params}")
        return score

    @staticmethod
    def _record(trial, scores) -> None:
        # one write per trial, not per fold (each write is an fsync in a journal file)
        trial.set_user_attr("fold_scores", scores)
        trial.set_user_attr("std", float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0)

    def _by_folds(self, trial, params, *, prune: bool) -> list[float]:
        import optuna
        from sklearn.metrics import check_scoring

        scorer = check_scoring(self.estimator, scoring=self.scoring)
        scores: list[float] = []
        try:
            for step, (train, valid) in enumerate(self.folds):
                scores.append(self._score(params, train, valid, scorer))
                trial.report(float(np.mean(scores)), step)
                if prune and step < len(self.folds) - 1 and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after {step + 1} folds")
        finally:
            if scores:
                self._record(trial, scores)
        return scores

    def _subset(self, train, fraction: float, fold: int):
        """The same stratified share of a fold's training rows for every trial."""
        from sklearn.model_selection import train_test_split

        if fraction >= 1:
            return train
        y = np.asarray(self.y)[train]
        try:
            part, _ = train_test_split(
                train, train_size=fraction, random_state=self.seed + fold, stratify=y
            )
        except ValueError:  # a class too small to split: unstratified
            part, _ = train_test_split(train, train_size=fraction, random_state=self.seed + fold)
        return np.sort(part)

    def _by_rows(self, trial, params, *, prune: bool) -> list[float]:
        import optuna
        from sklearn.metrics import check_scoring

        scorer = check_scoring(self.estimator, scoring=self.scoring)
        scores: list[float] = []
        try:
            for i, (step, fraction) in enumerate(ROW_RUNGS):
                scores = [
                    self._score(params, self._subset(train, fraction, k), valid, scorer)
                    for k, (train, valid) in enumerate(self.folds)
                ]
                trial.report(float(np.mean(scores)), step)
                if prune and i < len(ROW_RUNGS) - 1 and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at {fraction:.0%} of the training rows")
        finally:
            if scores:
                self._record(trial, scores)
        return scores


def _same_params(trial, params, state):
    """An earlier trial of this study in ``state`` with exactly these parameters, if any.

    Earlier trials with these parameters that are still running (another worker's) are waited
    for, so the answer is the same at any n_jobs.
    """
    want = {k: repr(v) for k, v in params.items()}

    def same(t):
        return t.number < trial.number and {k: repr(v) for k, v in t.params.items()} == want

    def ready(ts):  # earlier points known, and those equal to this one finished
        return all(_is_finished(t) or (len(t.params) >= len(want) and not same(t))
                   for t in ts if t.number < trial.number)

    trials = _wait_for(trial.study, ready)
    for t in trials:
        if same(t) and t.state == state and t.value is not None:
            return t
    return None


def _fail_own_running(study) -> None:
    """Mark this process's trials still RUNNING (interrupted before their objective) as failed."""
    import optuna
    from optuna.trial import TrialState

    me = _storage.this_worker()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.user_attrs.get(_storage.WORKER_ATTR) == me:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)


def _stop_at_target(target):
    def callback(study, trial):
        from optuna.trial import TrialState

        if target is not None and trial.state == TrialState.COMPLETE and trial.value >= target:
            study.stop()

    return callback


def _stop_at_total(total):
    """Stop once the study has ``total`` finished trials, counting those of other workers.

    Workers that share a study (``--storage postgresql://...`` on several machines) each start
    with the same ``trials``: the study, not each worker, reaches that many.
    """

    def callback(study, trial):
        if total is not None and _finished(study) >= total:
            study.stop()

    return callback


# --------------------------------------------------------------------------- workers


def _load(payload, worker_index: int):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are in the trials table
    # the same seed in every worker: draws are seeded per trial number (see ``Reproducible``)
    sampler = _make_sampler(payload["strategy"], payload["objective"].distributions, payload["seed"])
    storage = _storage.open_storage(payload["storage"])
    return optuna.load_study(
        study_name=payload["study_name"],
        storage=storage,
        sampler=sampler,
        pruner=_make_pruner(payload["pruner"]),
    )


def run_worker(
    payload: dict, worker_index: int, n_trials: int | None, deadline: float | None
) -> dict:
    """Run trials of a stored study until ``n_trials`` are done or ``deadline`` (epoch s) passes.

    Runs in a worker process or on a Dask worker; opens the study from ``payload["storage"]``.
    """
    study = _load(payload, worker_index)
    timeout = None if deadline is None else max(0.0, deadline - time.time())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study.optimize(
                payload["objective"],
                n_trials=n_trials,
                timeout=timeout,
                catch=(Exception,),
                callbacks=[
                    _stop_at_target(payload["objective"].target),
                    _stop_at_total(payload.get("total")),
                ],
                gc_after_trial=False,
            )
    except KeyboardInterrupt:
        return {"worker": _storage.this_worker(), "interrupted": True}
    return {"worker": _storage.this_worker(), "interrupted": False}


PARENT_CHECK_S = 0.5  # how often a worker checks that the tune process that started it still runs
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:  # pragma: no cover - subprocess
    """End this worker process when the tune process that started it is gone (``kill -9``).

    Without this, workers killed with their parent's ``kill -9`` keep running their share of
    trials as orphans, so a resumed study overshoots ``--trials``. On Linux the kernel sends
    SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon thread
    checks every :data:`PARENT_CHECK_S` seconds that the parent is still this process's parent.
    The trial a killed worker was running stays RUNNING and is re-queued on the next run (its
    worker is dead).
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)

    def orphaned() -> bool:
        return os.getppid() != parent

    if orphaned():  # the parent died before the request above took effect
        os._exit(1)

    def watch() -> None:
        while not orphaned():
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="modelworks-parent-watch", daemon=True).start()


def _process_entry(
    payload, worker_index, n_trials, deadline, queue, parent=None
) -> None:  # pragma: no cover - subprocess
    if parent is not None:
        _die_with_parent(parent)
    try:
        queue.put(("ok", run_worker(payload, worker_index, n_trials, deadline)))
    except KeyboardInterrupt:
        queue.put(("ok", {"interrupted": True}))
    except BaseException as e:
        queue.put(("error", f"{type(e).__name__}: {e}"))


def _quotas(remaining: int | None, n_workers: int) -> list[int | None]:
    if remaining is None:
        return [None] * n_workers
    n_workers = max(1, min(n_workers, remaining))
    return [
        remaining // n_workers + (1 if i < remaining % n_workers else 0) for i in range(n_workers)
    ]


class _Watcher:
    """Progress bar showing finished trials and the best score so far."""

    def __init__(self, study, total, desc):
        from modelworks._progress import progress

        self.study = study
        self.bar = progress(total=total, desc=desc, unit="trial")
        self.seen = _finished(study)

    def update(self, study=None):
        from optuna.trial import TrialState

        trials = (study or self.study).get_trials(deepcopy=False)
        done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        values = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
        if done > self.seen:
            self.bar.update(done - self.seen)
            self.seen = done
        if values:
            self.bar.set_postfix(best=f"{max(values):.4f}", refresh=False)

    def callback(self, study, trial):
        self.update(study)

    def close(self):
        self.bar.close()


def _run_processes(payload, quotas, deadline, watcher) -> tuple[bool, list[str]]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # safe with torch/OpenMP already loaded in the parent
    queue = ctx.Queue()
    # not daemonic: estimators inside a worker may start their own processes (joblib)
    procs = [
        ctx.Process(target=_process_entry, args=(payload, i, n, deadline, queue, os.getpid()))
        for i, n in enumerate(quotas)
    ]
    interrupted = False
    try:
        for p in procs:
            p.start()
        while any(p.is_alive() for p in procs):
            for p in procs:
                p.join(timeout=0.5)
            watcher.update()
    except KeyboardInterrupt:
        interrupted = True
        for p in procs:  # the workers got SIGINT too: let them record their trial as failed
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
    errors, reported = [], 0
    while reported < len(procs):
        try:
            kind, value = queue.get(timeout=0.2)
        except Exception:  # queue.Empty: a worker died without reporting
            break
        reported += 1
        if kind == "error":
            errors.append(value)
        elif value.get("interrupted"):
            interrupted = True
    if not interrupted:
        errors += [
            f"worker {i} exited with code {p.exitcode}"
            for i, p in enumerate(procs)
            if p.exitcode not in (0, None)
        ]
    return interrupted, errors


def _run_dask(payload, remaining, n_jobs, deadline, watcher, dask) -> tuple[bool, list[str]]:
    import uuid

    from modelworks._imports import require

    distributed = require("distributed", purpose="running trials on a Dask cluster (--dask)")
    own = not isinstance(dask, distributed.Client)
    if own:
        try:
            client = distributed.Client(dask, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise TuningError(
                f"cannot reach the Dask scheduler at {dask!r} ({e}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or check the address"
            ) from e
    else:
        client = dask
    interrupted = False
    errors: list[str] = []
    tag = uuid.uuid4().hex[:8]
    try:
        n_workers = (
            n_jobs if n_jobs > 1 else max(1, len(client.scheduler_info().get("workers", {})))
        )
        quotas = _quotas(remaining, n_workers)
        futures = [
            client.submit(
                run_worker, payload, i, n, deadline, pure=False, key=f"modelworks-tune-{tag}-{i}"
            )
            for i, n in enumerate(quotas)
        ]
        try:
            while not all(f.done() for f in futures):
                with contextlib.suppress(distributed.TimeoutError, TimeoutError):
                    distributed.wait(futures, timeout=1)
                watcher.update()
        except KeyboardInterrupt:
            interrupted = True
            client.cancel(futures)
        for f in futures:
            if f.status == "error":
                errors.append(f"{type(f.exception()).__name__}: {f.exception()}")
    finally:
        if own:
            client.close()
    return interrupted, errors


# --------------------------------------------------------------------------- inputs


def _check_inputs(X, y):
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        X = X.copy()
        X.columns = [str(c) for c in X.columns]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(f"X must be a 2-D table (rows x features), got shape {arr.shape}")
        X = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    y = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy(), name="target")
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    if len(X) < 4:
        raise DataError(
            f"tuning needs more rows than this ({len(X)}); cross-validation needs at least a few per fold"
        )
    if y.isna().any():
        raise DataError(f"y has {int(y.isna().sum())} missing values; drop those rows first")
    X.index = range(len(X))
    return X, y


def _infer_task(y) -> str:
    from modelworks.data import infer_task

    return infer_task(y)


def _make_folds(cv, X, y, task, seed) -> list:
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, bool):
        raise ConfigError(
            f"cv must be a number of folds >= 2, a splitter or a list of (train, test) index pairs, got {cv!r}"
        )
    if isinstance(cv, int | np.integer):
        cv = int(cv)
        if cv < 2:
            raise ConfigError(f"cv must be at least 2 folds, got {cv}")
        if cv > len(y):
            raise ConfigError(f"cv={cv} is more folds than rows ({len(y)}); use fewer folds")
        if task != "regression":
            smallest = y.value_counts().min()
            if smallest < cv:
                label = y.value_counts().idxmin()
                raise ConfigError(
                    f"cv={cv} but class {label!r} has only {smallest} rows; use cv <= {smallest}"
                )
            return [
                (np.asarray(a), np.asarray(b))
                for a, b in StratifiedKFold(cv, shuffle=True, random_state=seed).split(X, y)
            ]
        return [
            (np.asarray(a), np.asarray(b))
            for a, b in KFold(cv, shuffle=True, random_state=seed).split(X)
        ]
    if hasattr(cv, "split"):
        folds = list(cv.split(X, y))
    else:
        try:
            folds = list(cv)
        except TypeError:
            raise ConfigError(
                f"cv must be a number of folds, a splitter or (train, test) pairs, got {type(cv).__name__}"
            ) from None
    out = []
    for i, fold in enumerate(folds):
        try:
            train, valid = (np.asarray(f, dtype=int) for f in fold)
        except (TypeError, ValueError):
            raise ConfigError(f"cv fold {i} is not a (train_indices, test_indices) pair") from None
        if (
            len(train) == 0
            or len(valid) == 0
            or max(train.max(), valid.max()) >= len(y)
            or min(train.min(), valid.min()) < 0
        ):
            raise ConfigError(f"cv fold {i} has empty or out-of-range indices for {len(y)} rows")
        out.append((train, valid))
    if not out:
        raise ConfigError("cv gave no folds")
    return out


def _estimator_and_space(model, X, task, space, seed):
    from sklearn.pipeline import Pipeline

    if isinstance(model, str):
        from modelworks.data import make_pipeline
        from modelworks.models import default_space, get_entry, get_model

        entry = get_entry(model)
        estimator = make_pipeline(X, get_model(entry.name, task, seed=seed))
        if space is None:
            space = default_space(entry.name, task)
            if not space:
                raise SpaceError(
                    f"model '{entry.name}' has no hyperparameters to tune; pass space=... or pick another model"
                )
        return estimator, space, "model", entry.name
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):
        raise ConfigError(
            f"model must be a zoo name (e.g. 'rf') or a scikit-learn estimator, got {type(model).__name__}"
        )
    if space is None:
        raise SpaceError(
            f"a search space is needed for a {type(model).__name__}: pass space={{'param': [values]}}; "
            "zoo models (model='rf') bring their own"
        )
    if isinstance(
        model, Pipeline
    ):  # named after its model, parameters addressed through its last step
        return model, space, model.steps[-1][0], type(model.steps[-1][1]).__name__.lower()
    return model, space, None, type(model).__name__.lower()


def _check_scoring(estimator, scoring, task):
    from sklearn.metrics import check_scoring

    from modelworks.metrics import PRIMARY

    scoring = PRIMARY[task] if scoring is None else scoring
    try:
        check_scoring(estimator, scoring=scoring)
    except (ValueError, TypeError) as e:
        raise ConfigError(
            f"unknown scoring {scoring!r}: use a scikit-learn scorer name such as "
            "'roc_auc', 'accuracy', 'neg_log_loss', 'neg_root_mean_squared_error', 'r2' "
            "or a callable scorer(estimator, X, y)"
        ) from e
    return scoring


def _fingerprint(**parts) -> dict:
    import joblib

    return {
        k: (v if isinstance(v, str | int | float | dict | type(None)) else joblib.hash(v))
        for k, v in parts.items()
    }


def _finished(study) -> int:
    from optuna.trial import TrialState

    return sum(
        t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        for t in study.get_trials(deepcopy=False)
    )


# --------------------------------------------------------------------------- tune


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

    from modelworks.tuning._result import TuneResult, build_result

    started = time.monotonic()
    if strategy not in STRATEGIES:
        raise UnknownNameError(
            f"unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}"
        )
    if trials is not None and (
        isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1
    ):
        raise ConfigError(f"trials must be a whole number >= 1, got {trials!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
    ):
        raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, int | np.integer)
        or n_jobs == 0
        or n_jobs < -1
    ):
        raise ConfigError(
            f"n_jobs must be a whole number >= 1 (or -1 for one per CPU), got {n_jobs!r}"
        )
    n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed must be a whole number, got {seed!r}")
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")

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
    sampler = _make_sampler(strategy, distributions, seed)  # fails early (e.g. no torch)

    if trials is None and not (timeout is not None and strategy != "grid"):
        trials = _space.grid_size(distributions) if strategy == "grid" else DEFAULT_TRIALS[strategy]
    study_name = study_name or f"{label}-{strategy}"
    if not isinstance(study_name, str) or not study_name.strip():
        raise ConfigError(f"study_name must be a non-empty string, got {study_name!r}")

    parallel = n_jobs > 1 or dask is not None
    spec = (
        storage
        if storage is not None
        else (_storage.default_storage(out_dir) if out_dir is not None else None)
    )
    tmp_dir = None
    if spec is None and parallel:
        tmp_dir = tempfile.mkdtemp(prefix="modelworks-tune-")
        spec = os.path.join(tmp_dir, _storage.DEFAULT_FILE)
    if parallel and isinstance(spec, optuna.storages.InMemoryStorage):
        raise TuningError(
            "parallel trials (n_jobs > 1 or dask) need a storage every worker can open: "
            "a file path or a database URL, not memory"
        )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are in the trials table
    try:
        study_storage = _storage.open_storage(spec)
        config = _fingerprint(
            strategy=strategy,
            space=_space.describe(distributions),
            scoring=scoring if isinstance(scoring, str) else repr(scoring),
            estimator=type(estimator).__name__,
            data=(X, y),
            folds=folds,
        )
        try:
            study = optuna.create_study(
                study_name=study_name,
                storage=study_storage,
                direction="maximize",
                sampler=sampler,
                pruner=_make_pruner(pruner),
                load_if_exists=True,
            )
        except Exception as e:
            raise TuningError(
                f"cannot open study '{study_name}' in {_storage.describe_storage(spec)}: "
                f"{type(e).__name__}: {e}"
            ) from e
        _check_resume(study, config, spec)
        _storage.recover_stale_trials(study)
        fresh = not study.get_trials(deepcopy=False)
        if fresh and strategy != "grid":
            _enqueue_defaults(study, estimator, distributions)

        done = _finished(study)
        remaining = None if trials is None else max(0, int(trials) - done)
        objective = _Objective(
            estimator,
            X,
            y,
            folds,
            scoring,
            distributions,
            target,
            by_rows=pruner == "halving-rows",
            seed=int(seed),
        )
        watcher = _Watcher(study, remaining, f"tune {label} ({strategy})")
        interrupted, errors = False, []
        reached = target is not None and any(
            t.value is not None and t.value >= target
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        )
        try:
            if remaining != 0 and not reached:
                if not parallel:
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            study.optimize(
                                objective,
                                n_trials=remaining,
                                timeout=timeout,
                                catch=(Exception,),
                                callbacks=[
                                    watcher.callback,
                                    _stop_at_target(target),
                                    _stop_at_total(trials),
                                ],
                                gc_after_trial=False,
                            )
                    except KeyboardInterrupt:
                        interrupted = True
                        _fail_own_running(study)  # Ctrl-C while a trial was being sampled
                else:
                    n_before = len(study.get_trials(deepcopy=False))
                    payload = {
                        "objective": objective,
                        "storage": _storage.storage_spec(study_storage),
                        "study_name": study_name,
                        "strategy": strategy,
                        "seed": int(seed),
                        "pruner": pruner,
                        "total": trials,
                    }
                    deadline = None if timeout is None else time.time() + timeout
                    if dask is not None:
                        interrupted, errors = _run_dask(
                            payload, remaining, n_jobs, deadline, watcher, dask
                        )
                    else:
                        interrupted, errors = _run_processes(
                            payload, _quotas(remaining, n_jobs), deadline, watcher
                        )
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
                            "they can all reach: a shared path or a database URL (--storage postgresql://...)"
                        )
        finally:
            watcher.close()
        if tmp_dir is not None:  # keep the finished study in memory, drop the temporary file
            memory = optuna.storages.InMemoryStorage()
            optuna.copy_study(
                from_study_name=study_name, from_storage=study_storage, to_storage=memory
            )
            study = optuna.load_study(study_name=study_name, storage=memory)
            spec = None
        result: TuneResult = build_result(
            study,
            estimator=estimator,
            X=X,
            y=y,
            strategy=strategy,
            scoring=scoring,
            task=task,
            storage=_storage.describe_storage(spec),
            distributions=distributions,
            interrupted=interrupted,
            elapsed=time.monotonic() - started,
            worker_errors=errors,
            model_name=label,
        )
        return result
    finally:
        optuna.logging.set_verbosity(verbosity)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


_CONFIG_NAMES = {
    "folds": "cross-validation folds (cv, seed)",
    "space": "search space",
    "estimator": "model",
    "data": "data",
}


def _check_resume(study, config: dict, spec) -> None:
    stored = study.user_attrs.get("modelworks")
    if stored is None and study.get_trials(deepcopy=False):
        # a worker that created this shared study a moment ago stored its settings before its
        # first trial: read them again before calling the study foreign
        stored = study.user_attrs.get("modelworks")
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise TuningError(
                f"study '{study.study_name}' in {_storage.describe_storage(spec)} was not made by "
                "modelworks; use another --study NAME"
            )
        study.set_user_attr("modelworks", config)
        return
    differ = [_CONFIG_NAMES.get(k, k) for k in config if stored.get(k) != config[k]]
    if differ:
        raise TuningError(
            f"study '{study.study_name}' in {_storage.describe_storage(spec)} was made with a different "
            f"{', '.join(differ)}; resume it with the same inputs, or start a new study with another "
            "study name (--study NAME)"
        )


def _enqueue_defaults(study, estimator, distributions) -> None:
    """Start from the model's current parameters when they lie inside the space (a baseline)."""
    params = estimator.get_params(deep=True)
    current = {k: params.get(k) for k in distributions}
    current = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in current.items()}
    if _space.contains(distributions, current):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # skip_if_exists: workers starting a shared study together enqueue it once
            study.enqueue_trial(current, user_attrs={"baseline": True}, skip_if_exists=True)
