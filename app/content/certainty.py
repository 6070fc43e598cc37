"""Confidence and certainty-based marking (CBM), as Moodle marks it; pure.

Every answer carries how sure the learner was: 1 "not sure", 2 "fairly sure", 3 "very sure".
Under certainty-based marking a right answer earns 1, 2 or 3 and a wrong one 0, -2 or -6, so
a confident mistake costs most. A partly right answer earns its fraction of the right mark; one
worth nothing earns the wrong mark. Quiz grades are relative to every item right at "not sure"
(100%), so they run from -600% to 300%.

The marks make each level the best bet in one range of the chance of being right, p: level 2
beats level 1 when 4p - 2 > p (p > 2/3), and level 3 beats level 2 when 9p - 6 > 4p - 2 (p > 4/5).
Calibration compares each level's share of right answers with its range.
"""

from collections.abc import Iterable
from dataclasses import dataclass

LEVELS = (1, 2, 3)
LABELS = {1: "Not sure", 2: "Fairly sure", 3: "Very sure"}
RIGHT = {1: 1.0, 2: 2.0, 3: 3.0}
WRONG = {1: 0.0, 2: -2.0, 3: -6.0}
#: The chance of being right for which each level earns the most, as (lowest, highest).
BEST_RANGE = {1: (0.0, 2 / 3), 2: (2 / 3, 0.8), 3: (0.8, 1.0)}
#: Below this a fraction counts as nothing right (float noise from partial credit).
_TOLERANCE = 1e-7


def mark(fraction: float, confidence: int) -> float:
    """The CBM mark of one answer, from its fraction of the item's points and the learner's confidence."""
    if confidence not in LEVELS:
        raise ValueError(f"confidence must be one of {LEVELS}, not {confidence!r}")
    if fraction <= _TOLERANCE:
        return WRONG[confidence]
    return RIGHT[confidence] * min(fraction, 1.0)


def bounds(weight: float) -> tuple[float, float]:
    """The lowest and highest CBM score an item of this weight can earn (every answer wrong or right at "very sure")."""
    return WRONG[3] * weight, RIGHT[3] * weight


def parse_level(raw: object) -> int | None:
    """A confidence level read from a form value, or None when absent or not a level."""
    # ASCII digits only: int() would read "٢" as 2, a level nobody typed.
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return None
    level = int(text)
    return level if level in LEVELS else None


@dataclass(frozen=True)
class Calibration:
    """How often the learner was right at one confidence level."""

    level: int
    label: str
    answered: int
    correct: int

    @property
    def share(self) -> float | None:
        """The share of answers at this level that were right, or None with no answers."""
        return self.correct / self.answered if self.answered else None

    @property
    def verdict(self) -> str | None:
        """Whether this level was used as it pays best: "well judged", "over-confident" or "under-confident"."""
        if self.share is None:
            return None
        low, high = BEST_RANGE[self.level]
        if self.share < low:
            return "over-confident"
        if self.share > high or (self.level < 3 and self.share == high):
            return "under-confident"
        return "well judged"


def calibration(answers: Iterable[tuple[int | None, bool]]) -> list[Calibration]:
    """Per confidence level, how many answers were given and how many were right; answers are (confidence, is_correct)."""
    counts = {level: [0, 0] for level in LEVELS}
    for confidence, is_correct in answers:
        if confidence in counts:
            counts[confidence][0] += 1
            counts[confidence][1] += int(bool(is_correct))
    return [Calibration(level, LABELS[level], n, right) for level, (n, right) in counts.items()]
