"""pygam's private methods that the GAM estimators (:mod:`modelworks.stats._gam_base`) call.

The smoothing search builds pygam's own bases and penalties without fitting pygam, and the
partial-effect bands use pygam's model matrix of one term:

* ``GAM._validate_params()`` and ``GAM._validate_data_dep_params(X)``: what ``GAM.fit`` runs
  first; they turn the terms into their data-dependent form (knots from the data's edges), after
  which ``gam.terms.build_columns`` and ``build_penalties`` work;
* ``TensorTerm._build_marginal_penalties(i)``: the penalty of a tensor term along its ``i``-th
  margin (its ``build_penalties`` sums them, which a search over one lam per margin cannot use);
* ``GAM._modelmat(X, term=j)``: the model matrix of term ``j`` alone (sparse).
"""

from __future__ import annotations

from typing import Any

__all__ = ["marginal_penalty", "prepare_terms", "term_model_matrix"]


def prepare_terms(gam: Any, X: Any) -> Any:
    """Validate ``gam``'s parameters and build its terms' data-dependent state from ``X``, as ``fit`` does first."""
    gam._validate_params()
    gam._validate_data_dep_params(X)
    return gam


def marginal_penalty(term: Any, i: int) -> Any:
    """The penalty matrix of tensor ``term`` along its ``i``-th margin."""
    return term._build_marginal_penalties(i)


def term_model_matrix(gam: Any, X: Any, j: int) -> Any:
    """The (sparse) model matrix of term ``j`` of the fitted ``gam`` on the rows ``X``."""
    return gam._modelmat(X, term=j)
