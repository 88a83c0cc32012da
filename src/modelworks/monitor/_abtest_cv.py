"""Two estimators compared by repeated cross-validation (Nadeau-Bengio corrected t-test)."""

from __future__ import annotations

import numpy as np

from modelworks.exceptions import ConfigError, MonitorError, UnknownNameError
from modelworks.monitor._abtest import corrected_ttest
from modelworks.monitor._abtest_result import ComparisonResult

_CV_SCORING = {  # scoring -> (display metric, higher is better, in points)
    "accuracy": ("accuracy", True, True),
    "balanced_accuracy": ("balanced_accuracy", True, True),
    "roc_auc": ("roc_auc", True, True),
    "neg_log_loss": ("log_loss", False, False),
    "neg_root_mean_squared_error": ("rmse", False, False),
    "neg_mean_absolute_error": ("mae", False, False),
    "r2": ("r2", True, False),
}


def compare_estimators(
    model_a,
    model_b,
    X,
    y,
    *,
    cv: int = 5,
    repeats: int = 3,
    scoring: str | None = None,
    names: tuple[str, str] = ("A", "B"),
    alpha: float = 0.05,
    seed: int = 0,
) -> ComparisonResult:
    """Compare two (unfitted) estimators by repeated cross-validation on the same folds.

    Uses the Nadeau-Bengio corrected resampled t-test: plain paired t-tests on CV folds are
    far too liberal because training sets overlap.

    Parameters
    ----------
    model_a, model_b : scikit-learn estimators
        Cloned for every fit.
    X, y : table and target
    cv, repeats : int
        ``repeats`` times ``cv``-fold (stratified for classifiers), the same splits for both.
    scoring : str, optional
        A scikit-learn scorer name; default accuracy (classifiers) or RMSE (regressors).

    Returns
    -------
    ComparisonResult
    """
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    for nm, v, lo in (("cv", cv, 2), ("repeats", repeats, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(f"{nm} must be a whole number >= {lo}, got {v!r}")
    names = (str(names[0]), str(names[1]))
    y_arr = np.asarray(y)
    if len(X) != len(y_arr):
        raise MonitorError(f"X has {len(X)} rows but y has {len(y_arr)}")
    classifier = is_classifier(model_a)
    scoring = scoring or ("accuracy" if classifier else "neg_root_mean_squared_error")
    try:
        scorer = get_scorer(scoring)
    except ValueError as e:
        raise UnknownNameError(
            f"unknown scoring {scoring!r}; use a scikit-learn scorer name such as "
            f"{', '.join(_CV_SCORING)}"
        ) from e
    splitter = (RepeatedStratifiedKFold if classifier else RepeatedKFold)(
        n_splits=cv, n_repeats=repeats, random_state=seed
    )
    splits = list(splitter.split(np.zeros(len(y_arr)), y_arr))
    take = (
        (lambda data, idx: data.iloc[idx]) if hasattr(X, "iloc") else (lambda data, idx: data[idx])
    )
    ytake = (lambda idx: y.iloc[idx]) if hasattr(y, "iloc") else (lambda idx: y_arr[idx])
    from modelworks._progress import progress

    sa, sb = [], []
    for tr, te in progress(splits, desc="cv A/B"):
        for model, out in ((model_a, sa), (model_b, sb)):
            fitted = clone(model).fit(take(X, tr), ytake(tr))
            out.append(float(scorer(fitted, take(X, te), ytake(te))))
    disp, higher, points = _CV_SCORING.get(scoring, (scoring, True, False))
    sign = 1.0 if higher or not scoring.startswith("neg_") else -1.0
    sa_arr, sb_arr = sign * np.array(sa), sign * np.array(sb)
    n_test = float(np.mean([len(te) for _, te in splits]))
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    res = corrected_ttest(sb_arr - sa_arr, n_train, n_test, alpha=0.05)
    return ComparisonResult(
        test="corrected resampled t-test (Nadeau-Bengio)",
        metric=disp,
        names=names,
        score_a=float(sa_arr.mean()),
        score_b=float(sb_arr.mean()),
        difference=res["mean"],
        ci=tuple(res["ci"]),
        p_value=res["p_value"],
        alpha=alpha,
        higher_is_better=higher,
        points=points,
        details={
            "splits": len(splits),
            "folds": cv,
            "repeats": repeats,
            "t": res["t"],
            "df": res["df"],
            "scores_a": sa_arr.tolist(),
            "scores_b": sb_arr.tolist(),
            "n_train": n_train,
            "n_test": n_test,
            "scoring": scoring,
        },
    )
