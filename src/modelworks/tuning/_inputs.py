"""Checking what ``tune`` is given: data, folds, model and space, scoring, a stored study to resume."""

from __future__ import annotations

import warnings

import numpy as np

from modelworks.exceptions import ConfigError, DataError, SpaceError, TuningError
from modelworks.tuning import _space, _storage


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
                "modelworks", param="study_name", fix="use another {}"
            )
        study.set_user_attr("modelworks", config)
        return
    differ = [_CONFIG_NAMES.get(k, k) for k in config if stored.get(k) != config[k]]
    if differ:
        raise TuningError(
            f"study '{study.study_name}' in {_storage.describe_storage(spec)} was made with a different "
            f"{', '.join(differ)}", param="study_name",
            fix="resume it with the same inputs, or start a new study with another study name ({})"
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
