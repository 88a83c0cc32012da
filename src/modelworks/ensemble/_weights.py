"""Ensemble weights from out-of-fold predictions: constrained optimisation and greedy selection.

Both functions take predictions that were already computed (one array per member, rows are the
same training samples predicted out of fold), so ``modelworks run`` can reuse the out-of-fold
predictions of ``compare`` without refitting anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modelworks._validation import check_scalar
from modelworks.ensemble._losses import CLASSIFICATION, EPS, check_task, encode_target, get_loss
from modelworks.exceptions import EnsembleError

_ZERO = 1e-6  # weights below this are set to exactly zero (then the rest is renormalised)


def check_oof(oof_list, y, task: str, *, names: Sequence[str] | None = None, classes=None):
    """Validate a list of out-of-fold prediction arrays against ``y``.

    Returns the predictions stacked as ``(n_members, n_samples[, n_classes])``, the encoded
    target and the classes (``None`` for regression).
    """
    check_task(task)
    oof_list = list(oof_list)
    names = list(names) if names is not None else [f"member {i}" for i in range(len(oof_list))]
    if len(oof_list) < 2:
        raise EnsembleError(
            f"an ensemble needs at least 2 members, got {len(oof_list)}"
            + (f" ({', '.join(names)})" if names else "") + "; add another model"
        )
    y_enc, classes = encode_target(y, task, classes)
    n = len(y_enc)
    arrays = []
    for name, pred in zip(names, oof_list):
        pred = np.asarray(pred, dtype=float)
        if task in CLASSIFICATION:
            if pred.ndim != 2:
                raise EnsembleError(
                    f"member '{name}' gives predictions of shape {pred.shape}, but {task} needs class "
                    f"probabilities of shape (n_samples, {len(classes)}); was it fitted on a different "
                    "task? (use predict_proba of a classifier)"
                )
            if pred.shape[1] != len(classes):
                raise EnsembleError(
                    f"member '{name}' predicts {pred.shape[1]} classes but the target has {len(classes)}; "
                    "members must be fitted on the same target"
                )
        else:
            if pred.ndim == 2 and pred.shape[1] == 1:
                pred = pred[:, 0]
            if pred.ndim != 1:
                raise EnsembleError(
                    f"member '{name}' gives predictions of shape {pred.shape}, but regression needs one "
                    "value per row; was it fitted on a different task?"
                )
        if pred.shape[0] != n:
            raise EnsembleError(
                f"member '{name}' has {pred.shape[0]} out-of-fold predictions but the target has {n} rows"
            )
        if not np.all(np.isfinite(pred)):
            raise EnsembleError(f"member '{name}' has NaN or infinite out-of-fold predictions")
        arrays.append(pred)
    return np.stack(arrays), y_enc, classes


def _clean(w: np.ndarray) -> np.ndarray:
    w = np.where(w < _ZERO, 0.0, w)
    return w / w.sum()


def _optimise(loss_grad, m: int) -> np.ndarray:
    from scipy.optimize import minimize

    x0 = np.full(m, 1.0 / m)
    res = minimize(
        loss_grad, x0, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * m,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"maxiter": 500, "ftol": 1e-10},
    )
    w = np.clip(res.x, 0.0, None)
    if not np.all(np.isfinite(w)) or w.sum() <= 0:
        w = x0
    return _clean(w)


def learn_blend_weights(oof_list, y, task: str, *, names=None, classes=None) -> np.ndarray:
    """Learn blend weights on out-of-fold predictions.

    Minimises the log-loss of the blended probabilities (classification) or the squared error of
    the blended values (regression) over weights that are non-negative and sum to 1. Both losses
    are convex in the weights, so the optimum is global.

    Parameters
    ----------
    oof_list : list of array-like
        One array per member: ``predict_proba`` output ``(n_samples, n_classes)`` for
        classification, predictions ``(n_samples,)`` for regression, all out of fold.
    y : array-like of shape (n_samples,)
        The training target (labels or values).
    task : {"binary", "multiclass", "regression"}
    names : list of str, optional
        Member names for error messages.
    classes : array-like, optional
        The class labels in column order (default: the sorted unique values of ``y``).

    Returns
    -------
    numpy.ndarray of shape (n_members,)
        Non-negative weights summing to 1.

    Raises
    ------
    EnsembleError
        Fewer than 2 members, shapes that do not match the task or ``y``, non-finite values.
    """
    P, y_enc, _ = check_oof(oof_list, y, task, names=names, classes=classes)
    m, n = P.shape[0], P.shape[1]
    best_single = None
    if task in CLASSIFICATION:
        Q = P[:, np.arange(n), y_enc].T  # (n, m): probability each member gives the true class

        def loss_grad(w):
            p = np.clip(Q @ w, EPS, None)
            return float(-np.mean(np.log(p))), -(Q / p[:, None]).mean(axis=0)

        single = [loss_grad(np.eye(m)[i])[0] for i in range(m)]
    else:
        Q = P.T  # (n, m)
        scale = float(np.var(y_enc)) or 1.0  # keeps SLSQP's tolerances meaningful for any units

        def loss_grad(w):
            r = Q @ w - y_enc
            return float(np.mean(r**2)) / scale, 2.0 * (Q.T @ r) / n / scale

        single = [loss_grad(np.eye(m)[i])[0] for i in range(m)]
    best_single = int(np.argmin(single))
    w = _optimise(loss_grad, m)
    if loss_grad(w)[0] > single[best_single]:  # the optimiser stopped early: never worse than one member
        w = np.eye(m)[best_single]
    return w


def ensemble_selection_weights(oof_list, y, task: str, *, n_iter: int = 50, metric: str | None = None,
                               seed: int = 0, names=None, classes=None, return_history: bool = False):
    """Greedy ensemble selection with replacement (Caruana et al., 2004).

    Starting from an empty ensemble, each iteration adds (again, possibly) the member whose
    addition gives the lowest loss of the averaged out-of-fold predictions. The ensemble kept is
    the best prefix of the ``n_iter`` picks; weights are how often each member was picked.

    Parameters
    ----------
    oof_list, y, task, names, classes
        As in :func:`learn_blend_weights`.
    n_iter : int
        Number of greedy picks (the ensemble size before choosing the best prefix).
    metric : str, optional
        The loss to minimise: ``log_loss`` (default), ``brier``, ``accuracy``, ``roc_auc`` for
        classification; ``rmse`` (default), ``mse``, ``mae`` for regression.
    seed : int
        Seed for breaking ties between equally good picks.
    return_history : bool
        Also return the loss after each pick.

    Returns
    -------
    weights : numpy.ndarray of shape (n_members,)
        Non-negative, sum to 1 (multiples of 1/size).
    history : list of float
        Only when ``return_history``: the loss after each pick.
    """
    n_iter = check_scalar(n_iter, "n_iter", kind=int, low=1, error=EnsembleError)
    P, y_enc, _ = check_oof(oof_list, y, task, names=names, classes=classes)
    loss = get_loss(metric, task)
    rng = np.random.default_rng(seed)
    m = P.shape[0]
    total = np.zeros_like(P[0])
    counts = np.zeros(m, dtype=int)
    picks, history = [], []
    for t in range(1, n_iter + 1):
        losses = np.array([loss(y_enc, (total + P[i]) / t) for i in range(m)])
        best = np.flatnonzero(losses <= losses.min() + 1e-12)
        pick = int(best[0] if len(best) == 1 else rng.choice(best))
        total += P[pick]
        counts[pick] += 1
        picks.append(pick)
        history.append(float(losses[pick]))
    size = int(np.argmin(history)) + 1  # first best prefix: the smallest ensemble at the best loss
    w = np.bincount(picks[:size], minlength=m).astype(float) / size
    return (w, history) if return_history else w


def blend(P: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i weights[i] * P[i]`` for stacked predictions ``P`` of shape (m, n[, k])."""
    return np.tensordot(np.asarray(weights, dtype=float), P, axes=1)


def cross_fitted_predictions(oof_list, y, task: str, *, method: str = "blend", folds=None, cv: int = 5,
                             seed: int = 0, classes=None, **kwargs) -> np.ndarray:
    """Honest out-of-fold predictions of a blend/selection whose weights are learned on OOF.

    For each fold the weights are learned on the other folds' out-of-fold rows and applied to
    this fold's rows, so the ensemble's score is not flattered by choosing weights on the rows
    it is scored on. Only weights are refitted here (no member is), so it is cheap.

    ``folds`` are ``(train_idx, valid_idx)`` pairs over the rows (default: ``cv`` folds).
    """
    P, y_enc, classes = check_oof(oof_list, y, task, classes=classes)
    y_arr = np.asarray(y)
    if not folds:
        from sklearn.model_selection import KFold, StratifiedKFold

        splitter = (StratifiedKFold if task in CLASSIFICATION else KFold)(cv, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(y_enc)), y_enc))
    learn = {"blend": learn_blend_weights, "select": ensemble_selection_weights}[method]
    if method == "select":
        kwargs.setdefault("seed", seed)
    out = np.zeros_like(P[0])
    for train_idx, valid_idx in folds:
        w = learn([p[train_idx] for p in P], y_arr[train_idx], task, classes=classes, **kwargs)
        out[valid_idx] = blend(P[:, valid_idx], w)
    return out
