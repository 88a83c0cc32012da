"""Per-column two-sample statistics, vectorised so each column is sorted once.

The tests themselves come from scipy (``ks_2samp`` / ``kstwo`` for Kolmogorov-Smirnov,
``chi2_contingency`` and ``fisher_exact`` for counts, ``jensenshannon``); what is written here
is only the glue that lets one sort of each column serve the KS statistic, the Wasserstein
distance and the PSI bins at once, and lets a reference be prepared once and compared with many
batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# scipy's ks_2samp computes exact p-values up to this many values per side ("auto" mode); above
# it, Smirnov's asymptotic distribution. We follow the same rule so p-values equal scipy's.
KS_EXACT_MAX_N = 10_000
PSI_BINS = 10
PSI_EPS = 1e-4
FAR_TAIL = 1e-7
MAX_CATEGORIES = 200  # beyond this many levels, the rarest are pooled into one "other" level


@dataclass
class NumericRef:
    """A reference column prepared once: finite values sorted, spread and PSI bin edges."""

    sorted: np.ndarray
    n_total: int
    n_missing: int
    spread: float
    edges: np.ndarray = field(repr=False)

    @classmethod
    def from_values(cls, values: np.ndarray) -> NumericRef:
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        s = np.sort(values[finite])
        n = s.size
        spread = float(s.std()) if n > 1 else 0.0
        if n:
            qs = s[np.minimum((np.arange(1, PSI_BINS) * n) // PSI_BINS, n - 1)]
            edges = np.unique(qs)
        else:
            edges = np.empty(0)
        return cls(sorted=s, n_total=values.size, n_missing=int(values.size - n), spread=spread, edges=edges)


def sorted_finite(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Sorted finite values and the count of missing (NaN or infinite) ones."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    return np.sort(values[finite]), int(values.size - finite.sum())


def ks_pvalue(d: float, n1: int, n2: int, a_sorted: np.ndarray, b_sorted: np.ndarray) -> float:
    """Two-sided KS p-value exactly as ``scipy.stats.ks_2samp(method="auto")`` computes it."""
    from scipy import stats

    if max(n1, n2) <= KS_EXACT_MAX_N:
        # small samples: let scipy do the exact computation itself (cheap at this size)
        return float(stats.ks_2samp(a_sorted, b_sorted).pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    # kstwo.sf takes ~0.5 s at n = 1e6 whenever p < 0.1. Far in the tail (p < 1e-7, where no
    # correction over any realistic number of columns changes a decision) the limiting
    # Kolmogorov distribution is used instead: within a few percent relatively, < 1e-7 absolutely.
    tail = float(stats.kstwobign.sf(np.sqrt(en) * d))
    if tail < FAR_TAIL:
        return tail
    return float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))


def ecdf_distances(a_sorted: np.ndarray, b_sorted: np.ndarray) -> tuple[float, float]:
    """KS statistic and Wasserstein-1 distance of two sorted samples from one merge.

    The empirical CDFs are evaluated at every point of the merged sample (the last point of
    each run of ties, so ties count as scipy counts them); D is their largest gap and the
    Wasserstein distance the area between them.
    """
    n1, n2 = a_sorted.size, b_sorted.size
    merged = np.concatenate([a_sorted, b_sorted])
    # both halves are sorted, so a stable argsort is one linear merge
    order = np.argsort(merged, kind="stable")
    v = merged[order]
    c1 = np.cumsum(order < n1)
    gap = c1 * (1.0 / n1 + 1.0 / n2) - np.arange(1, v.size + 1) * (1.0 / n2)
    np.abs(gap, out=gap)
    last_of_ties = np.empty(v.size, dtype=bool)
    np.not_equal(v[1:], v[:-1], out=last_of_ties[:-1])
    last_of_ties[-1] = True
    d = float(gap[last_of_ties].max())
    w = float(np.dot(gap[:-1], np.diff(v)))
    return d, w


def psi(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Population stability index of two probability vectors (empty cells clipped to 1e-4)."""
    pr = np.clip(p_ref, PSI_EPS, None)
    pc = np.clip(p_cur, PSI_EPS, None)
    return float(np.sum((pc - pr) * np.log(pc / pr)))


def numeric_stats(ref: NumericRef, cur_sorted: np.ndarray) -> dict:
    """KS test, normalised Wasserstein distance and PSI of one numeric column."""
    n1, n2 = ref.sorted.size, cur_sorted.size
    d, w = ecdf_distances(ref.sorted, cur_sorted)
    p = ks_pvalue(d, n1, n2, ref.sorted, cur_sorted)
    if ref.spread > 0:
        effect = w / ref.spread
    else:  # a constant reference: any movement at all is a full-size change
        effect = 0.0 if w == 0 else float("inf")
    bounds_ref = np.searchsorted(ref.sorted, ref.edges, side="right")
    bounds_cur = np.searchsorted(cur_sorted, ref.edges, side="right")
    c_ref = np.diff(np.concatenate([[0], bounds_ref, [n1]]))
    c_cur = np.diff(np.concatenate([[0], bounds_cur, [n2]]))
    return {
        "test": "ks",
        "statistic": d,
        "p_value": p,
        "effect": float(effect),
        "effect_name": "wasserstein/sd",
        "wasserstein": float(effect),
        "psi": psi(c_ref / n1, c_cur / n2),
        "js": np.nan,
    }


def categorical_stats(ref_counts: np.ndarray, cur_counts: np.ndarray) -> dict:
    """Chi-squared test of homogeneity, Jensen-Shannon distance and PSI of one categorical column.

    ``ref_counts`` and ``cur_counts`` are aligned over the union of levels (a level unseen in
    the reference has count 0 there: the test and the distances handle it).
    """
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    ref_counts = np.asarray(ref_counts, dtype=float)
    cur_counts = np.asarray(cur_counts, dtype=float)
    keep = (ref_counts + cur_counts) > 0
    ref_counts, cur_counts = ref_counts[keep], cur_counts[keep]
    p_ref = ref_counts / ref_counts.sum()
    p_cur = cur_counts / cur_counts.sum()
    if ref_counts.size < 2:  # one level on both sides: identical distributions
        stat, p = 0.0, 1.0
    else:
        res = stats.chi2_contingency(np.vstack([ref_counts, cur_counts]))
        stat, p = float(res.statistic), float(res.pvalue)
    js = float(jensenshannon(p_ref, p_cur, base=2)) if ref_counts.size else 0.0
    return {
        "test": "chi2",
        "statistic": stat,
        "p_value": p,
        "effect": js,
        "effect_name": "jensen-shannon",
        "wasserstein": np.nan,
        "psi": psi(p_ref, p_cur),
        "js": js,
    }


def missing_stats(miss_ref: int, n_ref: int, miss_cur: int, n_cur: int) -> tuple[float, float]:
    """p-value for a change in the missing-value rate (Fisher exact when counts are small) and
    the absolute change of the rate."""
    from scipy import stats

    table = np.array([[miss_ref, n_ref - miss_ref], [miss_cur, n_cur - miss_cur]], dtype=float)
    change = abs(miss_cur / max(n_cur, 1) - miss_ref / max(n_ref, 1))
    if miss_ref + miss_cur == 0 or (miss_ref == n_ref and miss_cur == n_cur):
        return 1.0, change
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    if expected.min() < 5:
        return float(stats.fisher_exact(table.astype(int)).pvalue), change
    return float(stats.chi2_contingency(table, correction=True).pvalue), change
