"""Each private name of a library that modelworks uses (``modelworks._compat``), checked on the installed version.

A library release that renames or reshapes one of them fails here, naming the assumption, rather
than somewhere deep inside tuning, explaining or loading a model.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "modelworks"
LIBRARIES = ("optuna", "shap", "sklearn", "pygam")


def _version(name: str) -> str:
    from importlib.metadata import version

    return version({"sklearn": "scikit-learn"}.get(name, name))


# --------------------------------------------------------------------------- optuna


@pytest.fixture
def study():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    return study


def test_optuna_study_storage_and_ids(study):
    from optuna.storages import BaseStorage

    from modelworks._compat.optuna import storage_of, study_id, trial_id

    storage = storage_of(study)
    assert isinstance(storage, BaseStorage), f"optuna {_version('optuna')}: Study._storage is not a storage"
    frozen = study.trials[0]
    # the storage answers to the ids we read: the same trial comes back
    assert storage.get_trial(trial_id(frozen)).number == frozen.number
    assert storage.get_study_name_from_id(study_id(study)) == study.study_name
    running = study.ask()
    assert storage.get_trial(trial_id(running)).number == running.number


def test_optuna_samplers_read_trials_through_get_trials(study):
    import optuna

    from modelworks._compat.optuna import GET_TRIALS, get_trials

    params = inspect.signature(getattr(optuna.Study, GET_TRIALS)).parameters
    assert {"deepcopy", "states", "use_cache"} <= set(params), (
        f"optuna {_version('optuna')}: Study.{GET_TRIALS} no longer takes deepcopy, states, use_cache"
    )
    assert [t.number for t in get_trials(study)] == [0, 1]

    # a sampler really reads the study through that method (our study view overrides it)
    calls = []

    class Spy(optuna.Study):
        def _get_trials(self, *args, **kwargs):
            calls.append(1)
            return super()._get_trials(*args, **kwargs)

    spy = Spy(study_name=study.study_name, storage=study._storage)
    sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=1)
    trial = spy.ask()
    sampler.sample_independent(spy, trial, "x", optuna.distributions.FloatDistribution(0, 1))
    assert calls, f"optuna {_version('optuna')}: TPESampler no longer reads trials via Study.{GET_TRIALS}"


def test_optuna_heartbeat_base_and_its_stale_trial_hook():
    from modelworks._compat.optuna import STALE_TRIAL_IDS, base_heartbeat

    base = base_heartbeat()
    abstract = getattr(base, "__abstractmethods__", set())
    assert {"record_heartbeat", STALE_TRIAL_IDS, "get_heartbeat_interval",
            "get_heartbeat_stale_trial_callback"} <= set(abstract), (
        f"optuna {_version('optuna')}: BaseHeartbeat's abstract methods changed: {sorted(abstract)}"
    )
    assert list(inspect.signature(getattr(base, STALE_TRIAL_IDS)).parameters) == ["self", "study_id"]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_optuna_our_journal_heartbeat_lists_stale_trials(tmp_path):
    import optuna
    from optuna.trial import TrialState

    from modelworks._compat.optuna import heartbeat_stale_trial_ids, trial_id
    from modelworks.tuning import _storage

    storage = _storage.open_storage(str(tmp_path / "study.journal"))
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    storage.set_trial_system_attr(trial_id(trial), "heartbeat", 0.0)  # a beat long ago
    assert heartbeat_stale_trial_ids(study) == [trial_id(trial)]
    assert study.trials[0].state == TrialState.RUNNING
    # an in-memory study has no heartbeat: nothing is stale by heartbeat
    assert heartbeat_stale_trial_ids(optuna.create_study()) == []


# --------------------------------------------------------------------------- scikit-learn


def test_sklearn_heterogeneous_ensemble_base():
    from sklearn.ensemble import StackingClassifier, VotingClassifier

    from modelworks._compat.sklearn import BaseHeterogeneousEnsemble

    assert issubclass(VotingClassifier, BaseHeterogeneousEnsemble)
    assert issubclass(StackingClassifier, BaseHeterogeneousEnsemble)
    assert "estimators" in inspect.signature(BaseHeterogeneousEnsemble.__init__).parameters
    assert hasattr(BaseHeterogeneousEnsemble, "named_estimators")


def test_sklearn_safe_indexing_rows_of_frames_and_arrays():
    import pandas as pd

    from modelworks._compat.sklearn import safe_indexing

    frame = pd.DataFrame({"a": [1, 2, 3]}, index=[10, 20, 30])
    assert safe_indexing(frame, np.array([2, 0]))["a"].tolist() == [3, 1]  # by position, not label
    assert safe_indexing(np.arange(5), np.array([4, 1])).tolist() == [4, 1]


def test_sklearn_check_sample_weight():
    from modelworks._compat.sklearn import check_sample_weight

    X = np.zeros((3, 2))
    assert check_sample_weight(None, X).tolist() == [1.0, 1.0, 1.0]
    assert check_sample_weight([1, 2, 3], X).dtype == np.float64
    with pytest.raises(ValueError):
        check_sample_weight([1, 2], X)


def test_sklearn_stacking_constraints_take_has_methods():
    from sklearn.ensemble import StackingRegressor

    from modelworks._compat.sklearn import has_methods, parameter_constraints

    constraints = parameter_constraints(StackingRegressor)
    assert "final_estimator" in constraints and "estimators" in constraints
    fit_only = has_methods("fit")
    assert fit_only.is_satisfied_by(StackingRegressor(estimators=[])) and not fit_only.is_satisfied_by(3)


def test_sklearn_tree_types_are_the_fitted_trees():
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.tree import DecisionTreeRegressor

    from modelworks._compat.sklearn import tree_types

    tree, predictor = tree_types()
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20.0)
    assert isinstance(DecisionTreeRegressor().fit(X, y).tree_, tree)
    hgb = HistGradientBoostingRegressor(max_iter=2).fit(X, y)
    fitted = hgb._predictors[0][0]
    assert isinstance(fitted, predictor)
    # what the package audit bounds-checks on a loaded model
    assert {"left", "right", "is_leaf", "is_categorical", "bitset_idx"} <= set(fitted.nodes.dtype.names)
    assert hasattr(fitted, "raw_left_cat_bitsets") and hasattr(fitted, "binned_left_cat_bitsets")


# --------------------------------------------------------------------------- shap


def test_shap_tree_ensemble_arrays():
    pytest.importorskip("shap")
    from sklearn.ensemble import RandomForestRegressor

    from modelworks._compat.shap import tree_ensemble

    X, y = np.arange(60.0).reshape(30, 2), np.arange(30.0)
    te = tree_ensemble(RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, y))
    for name in ("trees", "children_left", "children_right", "children_default", "features", "thresholds",
                 "threshold_types", "values", "base_offset", "tree_limit", "tree_output", "input_dtype",
                 "max_depth"):
        assert hasattr(te, name), f"shap {_version('shap')}: TreeEnsemble has no {name}"
    assert te.children_left.shape[0] == 3 and te.values.ndim == 3


# --------------------------------------------------------------------------- pygam


def test_pygam_private_steps_of_fit_build_bases_penalties_and_term_matrices():
    pg = pytest.importorskip("pygam")
    from modelworks._compat.pygam import marginal_penalty, prepare_terms, term_model_matrix

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (80, 3))
    X[:, 2] = rng.integers(0, 3, 80)
    y = np.sin(4 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=80)
    v = _version("pygam")
    gam = prepare_terms(pg.LinearGAM(pg.s(0, n_splines=6) + pg.te(0, 1, n_splines=[5, 5]) + pg.f(2)), X)
    Xm = gam.terms.build_columns(X)  # works only after the private validation steps
    assert Xm.shape == (80, gam.terms.n_coefs), f"pygam {v}: build_columns after _validate_data_dep_params"
    tensor = gam.terms[1]
    blocks = [marginal_penalty(tensor, i) for i in range(2)]
    n_te = len(gam.terms.get_coef_indices(1))
    assert all(b.shape == (n_te, n_te) for b in blocks), f"pygam {v}: _build_marginal_penalties shape"
    # the two margins sum to the tensor's own penalty at unit lam
    assert np.allclose(sum(b.toarray() for b in blocks), tensor.build_penalties().toarray())
    gam.fit(X, y)
    for j in range(3):
        Bj = term_model_matrix(gam, X, j)
        idx = gam.terms.get_coef_indices(j)
        assert Bj.shape == (80, len(idx)), f"pygam {v}: _modelmat(X, term={j}) shape"
        assert np.allclose(Bj.toarray(), Xm.toarray()[:, idx]), f"pygam {v}: _modelmat is the term's columns"


# --------------------------------------------------------------------------- the rule itself


def test_no_private_library_import_outside_compat():
    """Underscore modules or names of these libraries are imported only in modelworks._compat."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "_compat" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
                private = any(part.startswith("_") for part in node.module.split(".")) or any(
                    a.name.startswith("_") for a in node.names)
            elif isinstance(node, ast.Import):
                private = any(a.name.split(".")[0] in LIBRARIES and any(p.startswith("_") for p in a.name.split("."))
                              for a in node.names)
            else:
                continue
            if private:
                offenders.append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
    assert not offenders, "private library imports outside modelworks._compat: " + ", ".join(offenders)


# private methods (called on objects, so no import shows them) that only modelworks._compat may call
PRIVATE_CALLS = {"pygam": ("_validate_params", "_validate_data_dep_params", "_build_marginal_penalties", "_modelmat")}


def test_private_library_methods_are_called_only_in_compat():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if "_compat" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and any(node.attr in names for names in PRIVATE_CALLS.values()):
                offenders.append(f"{path.relative_to(SRC.parent)}:{node.lineno} .{node.attr}")
    assert not offenders, "private library methods called outside modelworks._compat: " + ", ".join(offenders)
