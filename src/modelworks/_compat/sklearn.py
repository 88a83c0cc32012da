"""scikit-learn's private names: its ensembles' base, row indexing, sample weights, constraints, trees.

* ``sklearn.ensemble._base._BaseHeterogeneousEnsemble``: the base ``VotingClassifier`` and
  ``StackingClassifier`` share (named ``estimators``, ``get_params`` through them);
  ``WeightedEnsemble`` subclasses it to behave the same.
* ``sklearn.utils._safe_indexing``: rows of a frame, an array or a list, by position.
* ``sklearn.utils.validation._check_sample_weight``: sample weights checked against X (ones if None).
* ``sklearn.utils._param_validation.HasMethods`` and ``_parameter_constraints``: stacking adds
  zoo names to the constraints of scikit-learn's own stacking estimators.
* ``sklearn.tree._tree.Tree``, ``sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor``:
  the tree structures a loaded model file is bounds-checked on.
"""

from __future__ import annotations

from sklearn.ensemble._base import _BaseHeterogeneousEnsemble as BaseHeterogeneousEnsemble
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

__all__ = ["BaseHeterogeneousEnsemble", "check_sample_weight", "has_methods", "parameter_constraints", "safe_indexing", "tree_types"]


def has_methods(*methods: str):
    """``HasMethods(*methods)``: the constraint "an object with these methods"."""
    from sklearn.utils._param_validation import HasMethods

    return HasMethods(list(methods) if len(methods) > 1 else methods[0])


def parameter_constraints(cls: type) -> dict:
    """A scikit-learn estimator class's declared parameter constraints (``_parameter_constraints``)."""
    return cls._parameter_constraints


def tree_types() -> tuple[type, type]:
    """``(Tree, TreePredictor)``: scikit-learn's decision-tree and histogram-boosting tree types."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    return Tree, TreePredictor
