"""Paired comparisons across seeds: the statistics claim verdicts rest on."""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs


@attrs.frozen
class PairedComparison:
    """Mean of ``a - b`` over paired seeds with a two-sided t confidence interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    wins: int  # seeds where a > b
    confidence: float

    @property
    def significant_positive(self) -> bool:
        """The interval lies above 0 (a beats b)."""
        return self.ci_low > 0

    @property
    def significant_negative(self) -> bool:
        return self.ci_high < 0

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}mean_diff": self.mean,
            f"{prefix}ci_low": self.ci_low,
            f"{prefix}ci_high": self.ci_high,
            f"{prefix}n": self.n,
            f"{prefix}wins": self.wins,
        }


def paired_comparison(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> PairedComparison:
    """Compare paired measurements ``a[i]`` vs ``b[i]`` (same seed ``i``).

    With one pair the interval is unbounded (infinite), so nothing is
    significant from one seed.
    """
    if len(a) != len(b):
        raise ValueError(f"paired_comparison needs equal lengths, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("paired_comparison needs at least one pair")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    diffs = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    mean = sum(diffs) / n
    wins = sum(d > 0 for d in diffs)
    if n < 2:
        return PairedComparison(mean, -math.inf, math.inf, n, wins, confidence)
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    from scipy.stats import t  # noqa: PLC0415

    half = float(t.ppf(0.5 + confidence / 2, df=n - 1)) * math.sqrt(var / n)
    return PairedComparison(mean, mean - half, mean + half, n, wins, confidence)


def mean_and_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean with a t interval of a sample: ``(mean, low, high)``."""
    comparison = paired_comparison(values, [0.0] * len(values), confidence)
    return comparison.mean, comparison.ci_low, comparison.ci_high
