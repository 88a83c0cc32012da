"""The budget-aware model search behind ``modelworks run``.

One concept: candidates (portfolio rows and model-based trials) are scored on shared splits chosen
for the data size, started only when the cost model says they fit in the time left, ranked with
statistical tie groups, and turned into the final model by greedy ensemble selection when that
beats the best single candidate by more than noise.
"""

from modelworks.search._plan import CostModel, ValidationPlan, plan_validation
from modelworks.search._search import SearchResult, run_search
from modelworks.search._ties import rank_groups

__all__ = ["CostModel", "SearchResult", "ValidationPlan", "plan_validation", "rank_groups", "run_search"]
