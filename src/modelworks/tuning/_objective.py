"""The objective: cross-validate one parameter set, reporting the running mean after each fold.

Once a small discrete space is exhausted, a point that already completed is not refitted: the
trial reuses its score (``cached_from`` in the trials table); a point proposed again after it
was pruned is evaluated on every fold once (``second_chance``), since fold-level noise can prune
the best configuration. The stopping callbacks for ``study.optimize`` live here too.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from modelworks._compat.optuna import storage_of, trial_id
from modelworks._compat.sklearn import safe_indexing
from modelworks.exceptions import TuningError
from modelworks.tuning import _storage
from modelworks.tuning._samplers import _is_finished, _wait_for

# successive halving on training size: (reported step, share of each fold's training rows)
ROW_RUNGS = ((1, 1 / 9), (3, 1 / 3), (9, 1.0))



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

        model = clone(self.estimator).set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(safe_indexing(self.X, train), safe_indexing(self.y, train))
            score = float(
                scorer(model, safe_indexing(self.X, valid), safe_indexing(self.y, valid))
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
                storage_of(study).set_trial_state_values(trial_id(t), state=TrialState.FAIL)


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


def _finished(study) -> int:
    from optuna.trial import TrialState

    return sum(
        t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        for t in study.get_trials(deepcopy=False)
    )
