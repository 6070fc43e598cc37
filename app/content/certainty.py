"""Confidence and certainty-based marking (CBM), as Moodle marks it; pure.

Every answer carries how sure the learner was: 1 "not sure", 2 "fairly sure", 3 "very sure".
Under certainty-based marking a right answer earns 1, 2 or 3 and a wrong one 0, -2 or -6, so
a confident mistake costs most. A partly right answer earns its fraction of the right mark; one
worth nothing earns the wrong mark. Quiz grades are relative to every item right at "not sure"
(100%), so they run from -600% to 300%.

The marks make each level the best bet in one range of the chance of being right, p: level 2
beats level 1 when 4p - 2 > p (p > 2/3), and level 3 beats level 2 when 9p - 6 > 4p - 2 (p > 4/5).
Calibration compares each level's share of right answers with its range.

People never see that -600% to 300% percentage: results show Moodle's figures (`Figures`): accuracy,
the average mark per item on its own scale (-6 to 3) and the certainty bonus.
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
        """Whether this level suited how often it was right: "well judged", "over-confident" or "under-confident"."""
        if self.share is None:
            return None
        low, high = BEST_RANGE[self.level]
        if self.share < low:
            return "over-confident"
        if self.share > high or (self.level < 3 and self.share == high):
            return "under-confident"
        return "well judged"

    @property
    def is_slight(self) -> bool:
        """Whether a miss is small enough to be chance, by Moodle's rough test: (distance from the range)² × answers ≤ 0.5."""
        if self.share is None or self.verdict == "well judged":
            return False
        low, high = BEST_RANGE[self.level]
        distance = low - self.share if self.verdict == "over-confident" else self.share - high
        return distance**2 * self.answered <= 0.5


def calibration(answers: Iterable[tuple[int | None, bool]]) -> list[Calibration]:
    """Per confidence level, how many answers were given and how many were right; answers are (confidence, is_correct)."""
    counts = {level: [0, 0] for level in LEVELS}
    for confidence, is_correct in answers:
        if confidence in counts:
            counts[confidence][0] += 1
            counts[confidence][1] += int(bool(is_correct))
    return [Calibration(level, LABELS[level], n, right) for level, (n, right) in counts.items()]


# --- how results are shown (Moodle's CBM summary: accuracy, average mark, bonus)

#: Moodle's weight on the certainty bonus. Gardner-Medwin found it empirically: it roughly maximises
#: the reliability of accuracy plus bonus as a measure of knowledge.
BONUS_WEIGHT = 0.1
#: The typographic minus sign: a hyphen before a number is easy to miss and reads badly aloud.
MINUS = "\u2212"


def expected_mark(accuracy: float) -> float:
    """The best average mark a learner right this often could expect by giving every answer the same certainty."""
    return max(accuracy * RIGHT[level] + (1 - accuracy) * WRONG[level] for level in LEVELS)


def bonus(average: float, accuracy: float) -> float:
    """Moodle's CBM bonus: a tenth of how far the average mark beats (or falls short of) the best single level's."""
    return BONUS_WEIGHT * (average - expected_mark(accuracy))


@dataclass(frozen=True)
class Figures:
    """One attempt under certainty-based marking, as Moodle summarises it."""

    #: The share of the points earned, ignoring certainty (0 to 1).
    accuracy: float
    #: The certainty-based mark per point of the items (-6 to 3): 1 is every answer right at "Not sure".
    average: float

    @property
    def bonus(self) -> float:
        """What judging certainty added to (or took from) accuracy, as a share."""
        return bonus(self.average, self.accuracy)

    @property
    def with_bonus(self) -> float:
        """Accuracy plus the bonus (Moodle's "CB accuracy")."""
        return self.accuracy + self.bonus


def figures(raw: float, marked: float, weight: float) -> Figures:
    """The figures of answers worth `weight` points that earned `raw` points and `marked` certainty-based points."""
    if not weight:
        return Figures(0.0, 0.0)
    return Figures(raw / weight, marked / weight)


def _trimmed(text: str) -> str:
    """A formatted number without trailing zeros after its decimal point ("2.50" -> "2.5", "3.00" -> "3", "100" stays)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: float, digits: int = 1, unit: str = "") -> str:
    """A number with its sign ("+2.5", "−0.3"), without needless decimals; zero has no sign."""
    text = _trimmed(f"{abs(value):.{digits}f}")
    if text == "0":
        return f"0{unit}"
    return f"{'+' if value > 0 else MINUS}{text}{unit}"


def share(value: float, digits: int = 1) -> str:
    """A share as a percentage without needless decimals ("75%", "72.5%"), never rounded to a bare 0% or 100%."""
    percent = 100 * value
    text = _trimmed(f"{percent:.{digits}f}")
    if text in ("0", "-0") and percent > 0:
        return f"less than {1 / 10**digits:g}%"
    if text == "100" and percent < 100:
        return f"more than {100 - 1 / 10**digits:g}%"
    return f"{text.replace('-', MINUS)}%"


def average_text(average: float) -> str:
    """An average certainty-based mark as shown: two decimals, a true minus sign ("0.70", "−1.38")."""
    text = f"{abs(average):.2f}"
    return f"{MINUS}{text}" if average < 0 and text != "0.00" else text


def describe(percent: float | None, marking: str) -> str:
    """A stored percentage in words: "70%" under standard marking, "average mark 0.70 (−6 to 3)" under certainty."""
    if percent is None:
        return ""
    if marking == "certainty":
        return f"average mark {average_text(percent / 100)} ({MINUS}6 to 3)"
    return f"{percent:.0f}%"
