"""Per-column two-sample statistics, vectorised so each column is sorted once.

The tests themselves come from scipy (``ks_2samp`` / ``kstwo`` for Kolmogorov-Smirnov,
``chi2_contingency`` and ``fisher_exact`` for counts, ``jensenshannon``); what is written here
is only the glue that lets one sort of each column serve the KS statistic, the Wasserstein
distance and the PSI bins at once, and lets a reference be prepared once and compared with many
batches.

KS p-values are scipy's (``ks_2samp(method="auto")``): exact up to 10,000 values per side,
``kstwo`` above. One shortcut: below p = 1e-5 (``FAR_TAIL``) at more than 10,000 values per side
the limiting Kolmogorov distribution replaces ``kstwo``, which there costs up to half a second
per column at 1e6 rows. Both are approximations of the two-sample law; they differ by a few
percent relatively and < 1e-6 absolutely, and any p below 1e-5 is rejected by every correction
unless ``alpha / number of tests`` is itself below 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# scipy's ks_2samp computes exact p-values up to this many values per side ("auto" mode); above
# it, Smirnov's asymptotic distribution. We follow the same rule so p-values equal scipy's.
KS_EXACT_MAX_N = 10_000
PSI_BINS = 10
PSI_EPS = 1e-4
FAR_TAIL = 1e-5  # below this p, the fast limiting distribution (see ks_pvalue)
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
        s, _ = sorted_finite(values)
        values = np.asarray(values)
        n = s.size
        spread = float(s.std()) if n > 1 else 0.0
        if n:
            qs = s[np.minimum((np.arange(1, PSI_BINS) * n) // PSI_BINS, n - 1)]
            edges = np.unique(qs)
        else:
            edges = np.empty(0)
        return cls(
            sorted=s,
            n_total=values.size,
            n_missing=int(values.size - n),
            spread=spread,
            edges=edges,
        )


def sorted_finite(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Sorted finite values and the count of missing (NaN or infinite) ones."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    n_finite = int(np.count_nonzero(finite))
    if n_finite == values.size:  # the common case: no boolean-mask copy
        return np.sort(values), 0
    return np.sort(values[finite]), int(values.size - n_finite)


def ks_pvalue(d: float, n1: int, n2: int, a_sorted: np.ndarray, b_sorted: np.ndarray) -> float:
    """Two-sided KS p-value exactly as ``scipy.stats.ks_2samp(method="auto")`` computes it."""
    from scipy import stats

    if max(n1, n2) <= KS_EXACT_MAX_N:
        # small samples: let scipy do the exact computation itself (cheap at this size)
        return float(stats.ks_2samp(a_sorted, b_sorted).pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    # kstwo.sf costs up to ~0.5 s at n = 1e6 for p below ~0.03 (scipy sums the exact Smirnov
    # series), and large samples put most columns there. Below FAR_TAIL the limiting Kolmogorov
    # distribution is used instead: within ~3 % relatively (0.4 % at n = 5e5) and 1e-6 absolutely
    # of scipy's value, itself an approximation of the two-sample law; at these p-values every
    # correction rejects either way (see the module notes).
    tail = float(stats.kstwobign.sf(np.sqrt(en) * d))
    if tail < FAR_TAIL:
        return tail
    return float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))


def ecdf_distances(a_sorted: np.ndarray, b_sorted: np.ndarray) -> tuple[float, float]:
    """KS statistic and Wasserstein-1 distance of two sorted samples from one merge.

    The empirical CDFs are evaluated at every point of the merged sample (the last point of
    each run of ties, so ties count as scipy counts them); D is their largest gap and the
    Wasserstein distance the area between them. Written to touch each 2n-long array as few
    times as possible: this is the inner loop of drift on large data.
    """
    n1, n2 = a_sorted.size, b_sorted.size
    merged = np.concatenate([a_sorted, b_sorted])
    # both halves are sorted, so a stable argsort is one linear merge
    order = np.argsort(merged, kind="stable")
    v = np.take(merged, order)
    del merged
    # counts of reference values so far; int8 view + int32 sum avoids numpy's slow bool cast
    gap = np.cumsum(
        (order < n1).view(np.int8), dtype=np.int32 if v.size < 2**31 else np.int64
    ).astype(float)
    del order
    gap *= 1.0 / n1 + 1.0 / n2
    k = np.arange(1.0, v.size + 1.0)
    k *= 1.0 / n2
    gap -= k  # F1 - F2 = c1/n1 - (k - c1)/n2
    del k
    np.abs(gap, out=gap)
    dv = np.diff(v)
    del v
    w = float(np.dot(gap[:-1], dv))  # zero-width steps (ties) add nothing
    ties = dv == 0
    if ties.any():  # evaluate only at the last of each run of equal values
        d = max(float(gap[:-1][~ties].max(initial=0.0)), float(gap[-1]))
    else:
        d = float(gap.max())
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
    the reference has count 0 there: the test and the distances handle it). Levels with an
    expected count below 5 are pooled into one cell for the test (not for the distances).
    """
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    ref_counts = np.asarray(ref_counts, dtype=float)
    cur_counts = np.asarray(cur_counts, dtype=float)
    keep = (ref_counts + cur_counts) > 0
    ref_counts, cur_counts = ref_counts[keep], cur_counts[keep]
    p_ref = ref_counts / ref_counts.sum()
    p_cur = cur_counts / cur_counts.sum()
    table = np.vstack([ref_counts, cur_counts])
    # the chi-squared approximation needs expected counts >= 5: pool the levels below that into
    # one cell (the usual remedy; without it rare levels make the test fire too often)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    rare = expected.min(axis=0) < 5
    if rare.any() and (~rare).any():
        table = np.column_stack([table[:, ~rare], table[:, rare].sum(1)])
    if table.shape[1] < 2:  # one level (or one pooled cell) on both sides: nothing to test
        stat, p = 0.0, 1.0
    else:
        res = stats.chi2_contingency(table)
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
