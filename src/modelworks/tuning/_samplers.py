"""Samplers made reproducible at any n_jobs, and the pruners that decide in the same batches.

What the raw Optuna samplers do not do, measured in ``benchmarks/bench_tuning.py``:

* No point is proposed twice while the space has others: GP learns from pruned trials (their
  partial CV mean), a model-based proposal equal to an earlier point is redrawn at random, and
  random search redraws points it has seen.
* The same seed gives the same trials at any ``n_jobs``: draws are seeded per trial number and
  proposals and pruning use only the trials of earlier batches of ``SYNC_BATCH`` (and the
  points of the trial's own batch), so no result depends on which worker finished first.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
import zlib
from typing import Any

from modelworks._compat.optuna import get_trials, storage_of, trial_id
from modelworks.exceptions import UnknownNameError
from modelworks.tuning import _space, _storage

PRUNERS = ("median", "halving", "halving-rows", "none")
# random trials before TPE / GP model the space (Optuna's default is 10); 5 halved the time to
# reach the grid's best on the benchmark's small grids without hurting the final score
N_STARTUP = 5



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
        for t in get_trials(self._study):
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
                storage_of(study).set_trial_user_attr(trial_id(trial), _storage.WORKER_ATTR, _storage.this_worker())
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


# --------------------------------------------------------------------------- pruners


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
