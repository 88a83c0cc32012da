"""The drift rule: how a column is judged (correction across columns, level, effect floors),
the minimum rows a test needs, and the columns of a drift table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from modelworks._validation import check_scalar
from modelworks.exceptions import ConfigError, UnknownNameError

# --correction name -> (statsmodels.multipletests method, label)
CORRECTIONS: dict[str, tuple[str | None, str]] = {
    "bh": ("fdr_bh", "Benjamini-Hochberg"),
    "holm": ("holm", "Holm"),
    "bonferroni": ("bonferroni", "Bonferroni"),
    "none": (None, "no correction"),
}

# smallest effect that counts as drift, per kind of signal:
#   numeric: Wasserstein distance / reference standard deviation (a 0.1 SD mean shift = 0.1)
#   categorical: Jensen-Shannon distance (base 2, 0..1; a 50/50 level going 56/44 is ~0.05)
#   missing: absolute change of the missing-value rate (0.02 = 2 points)
DEFAULT_MIN_EFFECT: dict[str, float] = {"numeric": 0.1, "categorical": 0.05, "missing": 0.02}

# fewest non-missing values each side needs before a test (or PSI) is run at all; below, the
# column is "untestable" with a note giving the minimum, and drift() warns (MonitorWarning):
#   ks: 20 per side. With fewer, the exact KS test misses even 1-SD shifts most of the time and
#       the Wasserstein/SD effect is mostly sampling noise (about 0.8 SD for one value drawn
#       from the reference itself), so "no drift" would mean nothing.
#   chi2: 20 per side, so that two levels can reach the expected count of 5 the chi-squared
#       approximation needs (Cochran); with 1-9 rows every level is pooled and p is always 1.
#   psi: 100 per side, 10 per reference-decile bin; below, PSI is left empty (it is reported,
#       not used for the decision).
MIN_ROWS: dict[str, int] = {"ks": 20, "chi2": 20, "psi": 100}
_TEST_NAMES = {"ks": "the Kolmogorov-Smirnov test", "chi2": "the chi-squared test"}


class MonitorWarning(UserWarning):
    """A drift check ran but part of it could not be trusted (too few rows to test a column)."""


TABLE_COLUMNS = [
    "column",
    "kind",
    "status",
    "drifted",
    "reason",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_name",
    "effect",
    "min_effect",
    "wasserstein",
    "psi",
    "js",
    "n_ref",
    "n_cur",
    "missing_ref",
    "missing_cur",
    "missing_p",
    "missing_p_adjusted",
    "note",
]


@dataclass(frozen=True)
class DriftRule:
    """How a column is judged: correction across the family of tests, level and effect floors."""

    correction: str = "bh"
    alpha: float = 0.05
    min_effect: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_EFFECT))

    @classmethod
    def make(cls, correction: str = "bh", alpha: float = 0.05, min_effect=None) -> DriftRule:
        if not isinstance(correction, str) or correction.lower() not in CORRECTIONS:
            raise UnknownNameError(
                f"unknown correction {correction!r}; choose one of: {', '.join(CORRECTIONS)}"
            )
        alpha = check_scalar(alpha, "alpha", kind=float, low=0, high=1, closed="neither")
        floors = dict(DEFAULT_MIN_EFFECT)
        if min_effect is None:
            pass
        elif isinstance(min_effect, Mapping):
            unknown = set(min_effect) - set(floors)
            if unknown:
                raise ConfigError(
                    f"min_effect keys must be among {', '.join(floors)}; got {', '.join(map(str, unknown))}"
                )
            floors.update({k: float(v) for k, v in min_effect.items()})
        elif isinstance(min_effect, int | float) and not isinstance(min_effect, bool):
            floors = dict.fromkeys(floors, float(min_effect))
        else:
            raise ConfigError(
                "min_effect must be a number (one floor for every effect size) or a dict like "
                f"{DEFAULT_MIN_EFFECT}, got {min_effect!r}"
            )
        bad = {k: v for k, v in floors.items() if not (v >= 0 and math.isfinite(v))}
        if bad:
            raise ConfigError(f"min_effect must be >= 0 and finite, got {bad}")
        return cls(correction=correction.lower(), alpha=float(alpha), min_effect=floors)

    @property
    def label(self) -> str:
        floors = ", ".join(f"{k} {v:g}" for k, v in self.min_effect.items())
        return f"{CORRECTIONS[self.correction][1]} at alpha {self.alpha:g}; effect floors: {floors}"

    def to_dict(self) -> dict:
        return {
            "correction": self.correction,
            "alpha": self.alpha,
            "min_effect": dict(self.min_effect),
        }

    def adjust(self, pvalues: np.ndarray) -> np.ndarray:
        """Adjusted p-values over one family of tests (statsmodels ``multipletests``)."""
        method = CORRECTIONS[self.correction][0]
        if method is None or pvalues.size == 0:
            return pvalues.copy()
        from statsmodels.stats.multitest import multipletests

        return multipletests(pvalues, alpha=self.alpha, method=method)[1]
