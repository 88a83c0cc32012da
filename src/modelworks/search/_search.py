"""The budget-aware search of ``modelworks run``: portfolio first, then model-based search.

Order of work:

1. The portfolio (:mod:`modelworks.models._portfolio`): strong, cheap boosters with low-cost
   starting configurations first; costlier boosters, bagged trees and the usually weaker learners
   (linear, neighbours, kernels, neural nets) only while the cost model says they fit in what is
   left (tier 1: at most half the time left once two candidates have run, tier 2: at most 30 %,
   tier 3: at most 15 %): no single bet may take the time of every candidate after it.
2. For a positive, right-skewed regression target the first booster is also tried on the log
   scale (:class:`~modelworks.models._log_target.LogTargetRegressor`); the scale that cross-validates better is kept for the
   other boosters. A log-scale candidate's back-transform gets Duan's smearing factor (from its
   out-of-fold predictions, no fit) when that cross-validates better.
3. Model-based search (Optuna TPE, seeded with the portfolio's results) around the best booster,
   then around the next one when it stops improving, for the rest of the search time. A point is
   never evaluated twice.

A candidate the cost model says would overrun the search deadline is not started; a running
candidate whose first fold shows it will overrun is stopped (its remaining folds are not fitted);
a fit that runs past ``OVERRUN_FACTOR`` times its estimate, or past the search deadline, is
stopped (:mod:`modelworks.search._deadline`), and the time it took teaches the cost model.
On big tables every candidate is first screened on a row subsample; only the better half is
fitted on all the training rows (successive halving).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelworks.search._deadline import FitStopped, stop_fit_at
from modelworks.search._plan import CostModel, ValidationPlan
from modelworks.search._prep import build_pipeline, wants_log_target

TIER_SHARE = {1: 0.5, 2: 0.3, 3: 0.15}  # a tier-t candidate may use this share of the time left
FREE_CANDIDATES = 2  # ... except the first ones of tier 1, which may use all of it
SAFETY = 1.2  # estimates are multiplied by this before they are compared with the time left
MIN_TRIAL_SECONDS = 1.0
PATIENCE = 25  # model-based search stops after this many trials without improvement
OVERRUN_FACTOR = 3.0  # a fit running this many times its estimate (plus OVERRUN_SLACK) is stopped
OVERRUN_SLACK = 1.0
REFIT_MEMBERS = 2.5  # the final refit on all rows is reserved as this many fits of the best candidate
KEEP_FOLD_MODELS = 10  # k-fold: the fold models of this many best candidates are kept (the scored final model)


class _Overrun(Exception):
    """A running candidate was stopped: its remaining folds would pass the deadline."""


@dataclass
class Entry:
    """One evaluated candidate."""

    name: str
    learner: str
    params: dict
    prep: str
    log_target: bool
    stage: str  # "portfolio" | "search" | "screen"
    pipeline: Any
    scores: dict  # metric -> mean over the score groups
    stds: dict
    group_scores: np.ndarray  # the primary metric per score group (for paired tests)
    oof: np.ndarray
    fit_seconds: float  # mean per fold
    seconds: float  # wall time of the whole candidate
    fold_models: list = field(default_factory=list)  # holdout: every candidate's; k-fold: the best few's
    fit_rows: int = 0  # rows each fold model was fitted on (fewer than the plan's on a screening rung)

    def seconds_for(self, rows: int) -> float:
        """Seconds one fit of this candidate takes on ``rows`` rows (scaled from its own fits)."""
        return self.fit_seconds * rows / max(self.fit_rows, 1)


@dataclass
class SearchResult:
    entries: list[Entry]
    skipped: dict[str, str]
    plan: ValidationPlan
    task: str
    metric: str
    higher_is_better: bool
    classes: list | None
    log_target: dict | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    trials: int = 0

    def ranked(self, include_screened: bool = False) -> list[Entry]:
        sign = 1.0 if self.higher_is_better else -1.0
        pool = [e for e in self.entries if include_screened or e.stage != "screen"]
        return sorted(pool, key=lambda e: -sign * e.scores[self.metric])


def _score_groups(task, y, oof, classes, groups):
    from modelworks.metrics import score_predictions

    out = []
    for g in groups:
        if task == "regression":
            out.append(score_predictions(task, y[g], oof[g]))
        else:
            labels = np.asarray(classes)[np.argmax(oof[g], axis=1)]
            out.append(score_predictions(task, y[g], labels, oof[g], list(classes)))
    return pd.DataFrame(out)


class Searcher:
    """Runs candidates on one validation plan against one deadline (``time.monotonic()``)."""

    def __init__(self, X: pd.DataFrame, y: pd.Series, task: str, plan: ValidationPlan, *, seed: int = 0,
                 deadline: float | None = None, progress=None, refit_rows: int | None = None):
        from modelworks._compare import class_labels
        from modelworks.metrics import PRIMARY_KEY

        self.X, self.y, self.task, self.plan, self.seed = X, y, task, plan, seed
        self.y_arr = np.asarray(y)
        self.deadline = deadline
        self.refit_rows = refit_rows or len(self.y_arr)  # the final model is refit on this many rows
        self.metric, self.higher = PRIMARY_KEY[task]
        self.classes = class_labels(y) if task != "regression" else None
        from modelworks.data import column_kinds
        from modelworks.search._plan import distinct_values

        self.cost = CostModel(n_features=X.shape[1], n_classes=len(self.classes or []),
                              n_categorical=len(column_kinds(X)["categorical"]), distinct=distinct_values(X))
        self.entries: list[Entry] = []
        self.skipped: dict[str, str] = {}
        self.seen: set = set()
        self.notes: list[str] = []
        self.progress = progress
        self.started = time.monotonic()

    # ------------------------------------------------------------------ time
    def left(self) -> float:
        """Seconds the search may still spend: to the deadline, less the final refit's estimate."""
        if self.deadline is None:
            return float("inf")
        reserve = 0.0
        best = self.best() if self.plan.kind == "kfold" else None
        if best is not None:  # refitting the final model (or a few ensemble members) on all rows
            # an ensemble has at most as many members as there are candidates
            members = min(REFIT_MEMBERS, len(self.candidates()))
            reserve = best.seconds_for(self.refit_rows) * SAFETY * members
        return self.deadline - time.monotonic() - reserve

    def estimate(self, learner: str, params: dict, rows: int | None = None, n_folds: int | None = None) -> float:
        rows = rows or self.plan.n_train
        n_folds = n_folds or len(self.plan.folds)
        return self.cost.fit_seconds(learner, params, rows) * n_folds * SAFETY

    # ------------------------------------------------------------------ one candidate
    def evaluate(self, name: str, learner: str, params: dict, prep: str, *, log_target: bool = False,
                 stage: str = "portfolio", tier: int = 1, force: bool = False, rows: int | None = None) -> Entry | None:
        """Cross-validate one configuration on the shared splits; None when skipped or stopped."""
        key = (learner, prep, log_target, rows, tuple(sorted((k, repr(v)) for k, v in params.items())))
        if key in self.seen:
            return None  # never evaluate one point twice
        self.seen.add(key)
        need = self.estimate(learner, params, rows=rows)
        left = self.left()
        share = TIER_SHARE.get(tier, 1.0)
        if tier == 1 and len(self.candidates()) < FREE_CANDIDATES:
            share = 1.0
        if not force and need > share * left:
            self.skipped[name] = (f"time budget: needs ~{need:.1f} s, {max(left, 0):.1f} s left"
                                  + ("" if share == 1.0 else f" (tier {tier} may use {share:.0%})"))
            return None
        try:
            pipe = build_pipeline(self.X, learner, prep, params, self.task, self.seed, log_target=log_target)
            return self._cross_validate(name, learner, params, prep, log_target, stage, pipe, force, rows,
                                        fold_allowance=need / len(self.plan.folds) * OVERRUN_FACTOR + OVERRUN_SLACK)
        except (_Overrun, FitStopped) as e:
            self.skipped[name] = f"stopped: {e}"
        except Exception as e:  # a learner failing on this data must not stop the search
            self.skipped[name] = f"failed: {type(e).__name__}: {str(e)[:200]}"
        return None

    def _cross_validate(self, name, learner, params, prep, log_target, stage, pipe, force, rows, fold_allowance):
        from sklearn.base import clone

        from modelworks._compare import _aligned_proba

        t_start = time.monotonic()
        n = len(self.y_arr)
        oof = np.zeros((n, len(self.classes))) if self.task != "regression" else np.zeros(n)
        fit_times, models = [], []
        rng = np.random.default_rng(self.seed)
        k_folds = len(self.plan.folds)
        for i, (train_idx, valid_idx) in enumerate(self.plan.folds):
            if rows is not None and rows < len(train_idx):
                train_idx = np.sort(rng.choice(train_idx, size=rows, replace=False))
            model = clone(pipe)
            t0 = time.monotonic()
            stop = None if force or self.deadline is None else t0 + min(max(self.left(), 0.0), fold_allowance)
            with warnings.catch_warnings(), stop_fit_at(learner, stop) as stopped:
                warnings.simplefilter("ignore")
                model.fit(self.X.iloc[train_idx], self.y.iloc[train_idx])
            if any(s.stopped for s in stopped):
                took = time.monotonic() - t0
                self.cost.observe(learner, params, len(train_idx), took)  # at least this slow: later estimates learn
                why = ("the search deadline" if stop < t0 + fold_allowance
                       else f"{OVERRUN_FACTOR:.0f}x its estimated fit time")
                raise _Overrun(f"fold {i + 1} reached {why} after {took:.1f} s and was stopped")
            fit_times.append(time.monotonic() - t0)
            self.cost.observe(learner, params, len(train_idx), fit_times[-1])
            Xv = self.X.iloc[valid_idx]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                oof[valid_idx] = (model.predict(Xv) if self.task == "regression"
                                  else _aligned_proba(model, Xv, self.classes))
            models.append(model)
            if self.progress is not None:
                self.progress.update(1)
            remaining_folds = len(self.plan.folds) - i - 1
            per_fold = (time.monotonic() - t_start) / (i + 1)
            if remaining_folds and per_fold * remaining_folds > self.left():
                if force and i == 0 and not self.entries:
                    # the first candidate shows k folds do not fit: fold 1 becomes the one holdout
                    self.plan = self.plan.as_holdout(0, self.seed)
                    self.notes.append(f"{k_folds}-fold cross-validation would not fit in the budget (one fold of "
                                      f"{name} took {per_fold:.1f} s): switched to {self.plan.describe()}")
                    break
                if not force:
                    raise _Overrun(f"after fold {i + 1} the other {remaining_folds} folds would need "
                                   f"~{per_fold * remaining_folds:.1f} s, {max(self.left(), 0):.1f} s left")
        if self.task == "regression" and not np.all(np.isfinite(oof[self.plan.rows])):
            raise ValueError("non-finite predictions")
        frame = _score_groups(self.task, self.y_arr, oof, self.classes, self.plan.groups)
        if log_target:
            oof, frame = self._smear(pipe, models, oof, frame)
        entry = Entry(
            name=name, learner=learner, params=dict(params), prep=prep, log_target=log_target, stage=stage,
            pipeline=pipe, scores={c: float(np.nanmean(frame[c])) for c in frame.columns},
            stds={c: float(np.nanstd(frame[c], ddof=1)) if len(frame) > 1 else 0.0 for c in frame.columns},
            group_scores=frame[self.metric].to_numpy(dtype=float), oof=oof,
            fit_seconds=float(np.mean(fit_times)), seconds=time.monotonic() - t_start, fold_models=models,
            fit_rows=len(train_idx))
        self.entries.append(entry)
        if self.plan.kind == "kfold":  # the fold models of the best few only: the final model is made of them
            sign = 1.0 if self.higher else -1.0
            kept = sorted([e for e in self.entries if e.fold_models],
                          key=lambda e: -sign * e.scores[self.metric] if np.isfinite(e.scores[self.metric]) else np.inf)
            for e in kept[KEEP_FOLD_MODELS:]:
                e.fold_models = []
        return entry

    def _smear(self, pipe, models, oof, frame):
        """Duan's smearing for a log-target candidate, kept when its out-of-fold scores are better.

        The factor is the mean of ``(1 + y) / (1 + prediction)`` over the out-of-fold rows: it
        turns the back-transformed geometric mean into the mean. It needs no fit; the candidate's
        pipeline and fold models get it as ``LogTargetRegressor(smearing=...)``.
        """
        from modelworks.models._log_target import smear, smearing_factor

        factor = smearing_factor(self.y_arr[self.plan.rows], oof[self.plan.rows])
        if not np.isfinite(factor) or factor <= 0:
            return oof, frame
        smeared = smear(oof, factor)
        smeared_frame = _score_groups(self.task, self.y_arr, smeared, self.classes, self.plan.groups)
        sign = 1.0 if self.higher else -1.0
        if sign * (np.nanmean(smeared_frame[self.metric]) - np.nanmean(frame[self.metric])) <= 0:
            return oof, frame
        for model in [pipe, *models]:
            model.set_params(model__smearing=factor)
        return smeared, smeared_frame

    def candidates(self) -> list[Entry]:
        """The evaluated candidates, screening fits on a row subsample aside."""
        return [e for e in self.entries if e.stage != "screen"]

    def best(self, learners=None, stage=None) -> Entry | None:
        sign = 1.0 if self.higher else -1.0
        pool = [e for e in self.entries if (learners is None or e.learner in learners)
                and (stage is None or e.stage == stage) and np.isfinite(e.scores[self.metric])]
        return max(pool, key=lambda e: sign * e.scores[self.metric]) if pool else None

    def better(self, a: Entry | None, b: Entry | None) -> bool:
        """Whether ``a`` scores better than ``b`` (on the primary metric)."""
        if a is None:
            return False
        if b is None:
            return True
        sign = 1.0 if self.higher else -1.0
        return sign * (a.scores[self.metric] - b.scores[self.metric]) > 0


def _label(cfg_name: str, log_target: bool) -> str:
    return f"{cfg_name} (log target)" if log_target else cfg_name


def run_search(X, y, task: str, *, configs, plan: ValidationPlan, deadline: float | None, seed: int = 0,
               tune: bool = True, min_candidates: int = 1, max_trials: int = 200,
               refit_rows: int | None = None) -> SearchResult:
    """Portfolio, log-target choice, screening rung and model-based search within ``deadline``.

    ``refit_rows``: the rows the final model is refit on afterwards (default: ``len(X)``); its
    estimated cost is kept back from the search."""
    from modelworks._progress import progress
    from modelworks.models._portfolio import TREE_PREP

    t0 = time.monotonic()
    bar = progress(desc="search", unit="fit")
    s = Searcher(X, y, task, plan, seed=seed, deadline=deadline, progress=bar, refit_rows=refit_rows)
    notes: list[str] = []
    log_info = None
    use_log = False
    try_log = wants_log_target(y, task)

    # screening rung on big tables: every portfolio row on a subsample of the training rows
    if plan.rung_rows:
        for cfg in configs:
            s.evaluate(_label(cfg.name, False) + " [screen]", cfg.learner, cfg.params, cfg.prep, stage="screen",
                       tier=cfg.tier, rows=plan.rung_rows, force=not s.entries)
        screened = sorted([e for e in s.entries if e.stage == "screen"],
                          key=lambda e: -(1 if s.higher else -1) * e.scores[s.metric])
        keep_names = {e.name.removesuffix(" [screen]") for e in screened[:max(2, (len(screened) + 1) // 2)]}
        dropped = [e.name.removesuffix(" [screen]") for e in screened if e.name.removesuffix(" [screen]")
                   not in keep_names]
        for name in dropped:
            s.skipped[name] = f"screened out on {plan.rung_rows:,} rows (successive halving)"
        configs = [c for c in configs if c.name in keep_names] or list(configs[:1])
        s.seen = set()  # full-size fits are new points

    screened_first = any(e.stage == "screen" for e in s.entries)
    for cfg in configs:
        # after a screening rung its candidates stand in when no full-size fit fits: none is forced
        force = not screened_first and len(s.candidates()) < min_candidates
        tree = cfg.prep == "tree" or cfg.learner in TREE_PREP
        if tree and try_log and log_info is None:
            raw = s.evaluate(_label(cfg.name, False), cfg.learner, cfg.params, cfg.prep, tier=cfg.tier, force=force)
            logged = s.evaluate(_label(cfg.name, True), cfg.learner, cfg.params, cfg.prep, log_target=True,
                                tier=cfg.tier)
            if raw is not None and logged is not None:
                use_log = s.better(logged, raw)
                log_info = {"tried_on": cfg.name, "raw": raw.scores[s.metric], "log": logged.scores[s.metric],
                            "kept": "log" if use_log else "raw"}
                smearing = logged.pipeline.get_params().get("model__smearing", 1.0)
                log_info["smearing"] = smearing
                notes.append(f"log target tried on {cfg.name}: {s.metric} {logged.scores[s.metric]:.4g} (log"
                             + (f", Duan smearing x{smearing:.3f}" if smearing != 1.0 else "") + ") vs "
                             f"{raw.scores[s.metric]:.4g} (raw); kept the {log_info['kept']} scale for the boosters")
            continue
        s.evaluate(_label(cfg.name, use_log and tree), cfg.learner, cfg.params, cfg.prep,
                   log_target=use_log and tree, tier=cfg.tier, force=force)

    if screened_first and not s.candidates():
        _promote_screened(s, plan.rung_rows)
    trials = 0
    if tune:
        trials = _model_based(s, use_log, seed, max_trials)
        if trials:
            notes.append(f"model-based search (Optuna TPE) ran {trials} trial(s) after the portfolio")
    bar.close()
    if not s.entries:
        from modelworks.exceptions import ConfigError

        raise ConfigError(f"no candidate could be evaluated: {s.skipped}", param="time_budget", fix="raise {}")
    notes = s.notes + notes
    return SearchResult(entries=s.entries, skipped=s.skipped, plan=s.plan, task=task, metric=s.metric,
                        higher_is_better=s.higher, classes=s.classes, log_target=log_info, notes=notes,
                        seconds=time.monotonic() - t0, trials=trials)


def _promote_screened(s: Searcher, rows: int) -> None:
    """No full-size fit fitted in the budget: the screened candidates (same holdout) are the candidates."""
    for e in s.entries:
        if e.stage == "screen" and not s.skipped.get(e.name.removesuffix(" [screen]"), "").startswith("screened out"):
            e.stage = "portfolio"
            e.name = e.name.replace(" [screen]", f" [{rows:,} rows]")
    s.notes.append(f"no candidate could be fitted on all the training rows within the budget: the candidates "
                   f"fitted on the {rows:,}-row screening subsample are the final candidates")


def _distributions(space: dict):
    from optuna.distributions import FloatDistribution, IntDistribution

    out = {}
    for k, (lo, hi, kind) in space.items():
        out[k] = IntDistribution(int(lo), int(hi)) if kind == "int" else FloatDistribution(lo, hi, log=kind == "log")
    return out


# values a booster uses when a portfolio row does not set a parameter (for seeding the sampler)
_DEFAULTS = {
    "lightgbm": {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
                 "colsample_bytree": 1.0, "reg_lambda": 1e-3},
    "hgb": {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
            "l2_regularization": 1e-3},
    "catboost": {"iterations": 300, "learning_rate": 0.1, "depth": 6, "l2_leaf_reg": 3.0},
    "xgboost": {"n_estimators": 200, "learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1.0,
                "colsample_bytree": 1.0, "subsample": 1.0},
}


def _model_based(s: Searcher, use_log: bool, seed: int, max_trials: int) -> int:
    """Optuna TPE per booster, best booster first, each until it stops improving or time runs out.

    The best booster's search usually stalls (``PATIENCE`` trials without improvement) long before
    a generous budget is spent; the next booster's search then adds strong, different candidates
    for ensemble selection instead of leaving the time unused.
    """
    from modelworks.models._portfolio import SEARCH_SPACES

    ranked, seen = [], set()
    sign = 1.0 if s.higher else -1.0
    for e in sorted((e for e in s.entries if e.learner in SEARCH_SPACES and e.stage == "portfolio"
                     and np.isfinite(e.scores[s.metric])), key=lambda e: -sign * e.scores[s.metric]):
        if e.learner not in seen:
            seen.add(e.learner)
            ranked.append(e.learner)
    trials = 0
    for learner in ranked:
        if trials >= max_trials or s.left() < MIN_TRIAL_SECONDS * 3:
            break
        trials += _tpe(s, learner, use_log, seed, max_trials - trials)
    return trials


def _tpe(s: Searcher, learner: str, use_log: bool, seed: int, max_trials: int) -> int:
    """Optuna TPE over one booster's space, seeded with every evaluated row of that learner."""
    import optuna

    from modelworks.models._portfolio import SEARCH_SPACES

    if s.left() < MIN_TRIAL_SECONDS * 3:
        return 0
    dists = _distributions(SEARCH_SPACES[learner])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sign = 1.0 if s.higher else -1.0
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=4, multivariate=True))
    for e in s.entries:
        if e.learner != learner or e.stage == "screen" or e.log_target != use_log:
            continue
        params = {k: e.params.get(k, _DEFAULTS[learner][k]) for k in dists}
        params = {k: min(max(v, dists[k].low), dists[k].high) for k, v in params.items()}
        params = {k: int(round(v)) if k in dists and type(dists[k]).__name__ == "IntDistribution" else float(v)
                  for k, v in params.items()}
        value = sign * e.scores[s.metric]
        if np.isfinite(value):
            study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    trials = 0
    misses = 0
    stale = 0  # trials since the best score last improved
    best_value = max((t.value for t in study.trials if t.value is not None), default=float("-inf"))
    while trials < max_trials and misses < 20 and stale < PATIENCE:
        trial = study.ask(dists)
        params = dict(trial.params)
        need = s.estimate(learner, params)
        if need > s.left():
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            misses += 1
            if s.left() < MIN_TRIAL_SECONDS:
                break
            continue
        name = _label(f"{learner}:tpe{trials + 1}", use_log)
        before = len(s.entries)
        entry = s.evaluate(name, learner, params, "tree", log_target=use_log, stage="search")
        trials += 1
        if entry is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if len(s.entries) == before and s.left() < MIN_TRIAL_SECONDS:
                break
            continue
        value = sign * entry.scores[s.metric] if np.isfinite(entry.scores[s.metric]) else float("-inf")
        study.tell(trial, value)
        stale = 0 if value > best_value else stale + 1
        best_value = max(best_value, value)
    for name in [n for n in s.skipped if ":tpe" in n]:  # trials that did not run are not candidates
        if s.skipped[name].startswith("time budget"):
            del s.skipped[name]
    return trials
