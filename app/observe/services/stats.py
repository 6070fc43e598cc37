"""A station's statistics, pure: score distribution, borderline regression and inter-rater agreement.

Borderline regression: checklist totals are regressed on the global rating (0 clear fail .. 4
excellent, by ordinary least squares, `scipy.stats.linregress`); the pass mark is the total the
line predicts at "borderline". Agreement between two raters of the same students is Cohen's kappa
with quadratic weights (`sklearn.metrics.cohen_kappa_score`), which credits near misses on an
ordered scale. Both libraries are imported when a report is drawn, not when the app starts.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.content.observations import BORDERLINE, GLOBAL_RATINGS

#: Fewest ratings, over at least two global ratings, before a regression is drawn.
MIN_FOR_REGRESSION = 3
#: Fewest students rated twice before agreement is computed.
MIN_FOR_AGREEMENT = 2


@dataclass(frozen=True)
class Fit:
    """A borderline-regression line and the pass mark it sets."""

    slope: float
    intercept: float
    r_squared: float
    count: int

    @property
    def pass_mark(self) -> float:
        """The checklist total predicted at "borderline"."""
        return self.intercept + self.slope * BORDERLINE


def borderline_regression(points: Sequence[tuple[int, float]]) -> Fit | None:
    """The fit of totals on global ratings from (global rating, total) pairs; None with too few or one rating only."""
    if len(points) < MIN_FOR_REGRESSION or len({g for g, _ in points}) < 2:
        return None
    from scipy.stats import linregress  # lazily: only the report needs it

    fit = linregress([g for g, _ in points], [t for _, t in points])
    r_squared = float(fit.rvalue) ** 2 if math.isfinite(fit.rvalue) else 0.0
    return Fit(float(fit.slope), float(fit.intercept), r_squared, len(points))


@dataclass(frozen=True)
class Agreement:
    """Weighted kappa between two raters over the students both rated."""

    kappa: float | None
    pairs: int
    exact: int

    @property
    def percent_exact(self) -> float:
        """The share of pairs given the same rating."""
        return 100 * self.exact / self.pairs if self.pairs else 0.0


def weighted_kappa(pairs: Sequence[tuple[int, int]], labels: Sequence[int]) -> Agreement | None:
    """Quadratic-weighted kappa over (first rater, second rater) pairs; kappa None when every rating is one value.

    None when there are fewer than MIN_FOR_AGREEMENT pairs.
    """
    if len(pairs) < MIN_FOR_AGREEMENT:
        return None
    exact = sum(1 for a, b in pairs if a == b)
    if len({a for a, _ in pairs} | {b for _, b in pairs}) < 2:
        return Agreement(None, len(pairs), exact)  # chance agreement is total: kappa is undefined
    from sklearn.metrics import cohen_kappa_score  # lazily: only the report needs it

    kappa = cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs], labels=list(labels), weights="quadratic")
    return Agreement(float(kappa) if math.isfinite(kappa) else None, len(pairs), exact)


def global_labels() -> list[int]:
    """The global rating's values, 0 to 4."""
    return list(range(len(GLOBAL_RATINGS)))


@dataclass(frozen=True)
class Bar:
    """One bar of the distribution: totals from `low` to `high`, and how many ratings fell there."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        """The totals the bar covers, in words."""
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


def distribution(totals: Sequence[int], maximum: int, bars: int = 8) -> list[Bar]:
    """The totals counted in about `bars` equal ranges from 0 to `maximum`."""
    width = max(1, math.ceil((maximum + 1) / bars))
    counts = Counter(min(t, maximum) // width for t in totals)
    return [
        Bar(start * width, min(maximum, start * width + width - 1), counts.get(start, 0))
        for start in range(math.ceil((maximum + 1) / width))
    ]
