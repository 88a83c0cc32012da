"""Rank groups: models whose cross-validated scores cannot be told apart share a group.

Models are compared paired over the same score groups (folds, or chunks of one holdout) with
Nadeau and Bengio's corrected resampled t-test (:func:`modelworks.monitor._abtest.corrected_ttest`),
which widens the variance for the overlap of the training sets. Walking the leaderboard from the
best model, a group's leader takes the models that follow it until one is significantly worse
than it, which starts the next group. Groups are contiguous in leaderboard order (the tests are
not transitive: a model below one that is really worse may itself not be), so group 1 is "the
best, and every model down the board we cannot tell from it".
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.05


def _worse(leader: np.ndarray, other: np.ndarray, higher: bool, ratio: float, alpha: float) -> tuple[bool, float]:
    """Whether ``other`` is significantly worse than ``leader`` (one-sided by the sign of the mean)."""
    from modelworks.monitor._abtest import corrected_ttest

    d = (leader - other) if higher else (other - leader)
    ok = np.isfinite(d)
    d = d[ok]
    if d.size < 2:
        return False, 1.0
    res = corrected_ttest(d, 1.0, ratio, alpha=alpha)
    return bool(res["mean"] > 0 and res["p_value"] < alpha), float(res["p_value"])


def rank_groups(names: list[str], group_scores: list[np.ndarray], *, higher: bool, test_ratio: float,
                alpha: float = ALPHA) -> tuple[list[int], list[dict]]:
    """Rank group (1 = best) of each model, given in leaderboard order (best first).

    ``test_ratio`` is n_test / n_train of one split (``1 / (k - 1)`` for k-fold). Returns the
    groups and the tests between each group's leader and the models it did not take.
    """
    groups = [0] * len(names)
    tests = []
    current, i = 0, 0
    while i < len(names):
        current += 1
        groups[i] = current
        j = i + 1
        while j < len(names):
            worse, p = _worse(np.asarray(group_scores[i]), np.asarray(group_scores[j]), higher, test_ratio, alpha)
            if worse:
                tests.append({"better": names[i], "worse": names[j], "p_value": p})
                break
            groups[j] = current
            j += 1
        i = j
    return groups, tests


def describe(names: list[str], groups: list[int], tests: list[dict]) -> list[str]:
    """Sentences for the report: which differences are real."""
    by_group: dict[int, list[str]] = {}
    for n, g in zip(names, groups):
        by_group.setdefault(g, []).append(n)
    lines = []
    first = by_group.get(1, [])
    if len(first) > 1:
        lines.append(f"Group 1 ({len(first)} models: {', '.join(first[:8])}{' ...' if len(first) > 8 else ''}) "
                     "cannot be told apart from the best model on these splits.")
    else:
        lines.append(f"{first[0]} is better than every other model on these splits (corrected t-test, "
                     f"alpha {ALPHA}).")
    for g in sorted(by_group)[1:]:
        tested = [t for t in tests if t["worse"] == by_group[g][0]]
        p = f" (p = {tested[0]['p_value']:.3g} against {tested[0]['better']})" if tested else ""
        lines.append(f"Group {g} ({', '.join(by_group[g][:6])}{' ...' if len(by_group[g]) > 6 else ''}) is "
                     f"really worse than the group above it{p}.")
    return lines
