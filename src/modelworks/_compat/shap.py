"""shap's private names: ``shap.explainers._tree.TreeEnsemble``, its parsed tree arrays.

``TreeEnsemble(model)`` turns a tree model (scikit-learn, XGBoost, LightGBM, ...) into dense
arrays that the numba kernels of :mod:`modelworks.explain._trees` walk: ``trees``,
``children_left``, ``children_right``, ``children_default``, ``features``, ``thresholds``,
``threshold_types``, ``values``, ``base_offset``, ``tree_limit``, ``tree_output``,
``input_dtype`` and ``max_depth``.
"""

from __future__ import annotations

from typing import Any


def tree_ensemble(model: Any) -> Any:
    """shap's parsed form of a tree model (``shap.explainers._tree.TreeEnsemble``)."""
    from shap.explainers._tree import TreeEnsemble

    return TreeEnsemble(model)
