"""Grading and marking a quiz's answers, and summing a finished attempt up: pure, nothing read or written here."""

from dataclasses import dataclass
from typing import Any

from app.content import Quiz, certainty
from app.content.items import Grade, Item
from app.models import ItemResponse, QuizAttempt


def cbm_score(g: Grade, confidence: int) -> float:
    """The certainty-based mark of one graded answer, in the item's points."""
    fraction = g.score / g.max_score if g.max_score else 0.0
    return certainty.mark(fraction, confidence) * g.max_score


def marked_score(marking: str, answers: list[tuple[Grade, int | None]]) -> tuple[float, float]:
    """An attempt's score under its marking and its weight (the items' points), from (grade, confidence) pairs.

    Under certainty-based marking the score is on Moodle's scale: every item right at "not sure"
    equals the weight (100%), all right at "very sure" three times it; a missing confidence counts as "not sure".
    """
    weight = sum(g.max_score for g, _ in answers)
    if marking == "certainty":
        return sum(cbm_score(g, confidence or 1) for g, confidence in answers), weight
    return sum(g.score for g, _ in answers), weight


def score_result(marking: str, score: float, weight: float, started_at, now) -> dict[str, Any]:
    """The score part of a finished attempt's learning event: score, bounds, xAPI scale, marking, duration."""
    low, high = score_range(marking, weight)
    return {
        "score": score,
        "min": low,
        "max": high,
        "scaled": scaled(score, low, high),
        "marking": marking,
        "duration_seconds": round((now - started_at).total_seconds()),
    }


def score_range(marking: str, weight: float) -> tuple[float, float]:
    """The lowest and highest score answers worth `weight` points can earn under this marking."""
    return certainty.bounds(weight) if marking == "certainty" else (0.0, weight)


def scaled(score: float, low: float, high: float) -> float:
    """A score on xAPI's scale from -1 to 1: a gain against the highest score, a loss against the lowest."""
    if score >= 0:
        return round(score / high, 4) if high > 0 else 0.0
    return round(score / -low, 4) if low < 0 else 0.0


def answered_result(g: Grade, confidence: int | None, marking: str) -> dict[str, Any]:
    """The result of an "answered" learning event."""
    result = {
        "response": g.answer,
        "score": g.score,
        "max": g.max_score,
        "success": g.is_correct,
        "grade": g.grade,
    }
    if confidence is not None:
        result["confidence"] = confidence
        if marking == "certainty":
            result["cbm"] = cbm_score(g, confidence)
    return result


def grade(quiz: Quiz, answers: dict[str, Any]) -> list[tuple[Item, Grade]]:
    """Grade every item of the quiz; pure."""
    return [(item, item.handler.grade(item, answers[item.id])) for item in quiz.items]


@dataclass(frozen=True)
class AttemptSummary:
    """What a learner sees about a finished attempt beyond its score: accuracy, each mark, calibration."""

    raw_score: float
    accuracy: float
    #: Each answer's certainty-based mark, by position (answers with a confidence).
    cbm: dict[int, float]
    calibration: list[certainty.Calibration]
    #: The items' points, and how many items were answered wholly right.
    weight: float = 0.0
    right: int = 0
    answered: int = 0
    #: Accuracy, average mark and bonus as Moodle shows them (certainty-based marking only).
    figures: certainty.Figures | None = None

    @property
    def has_confidence(self) -> bool:
        """Whether the learner said how sure they were of any answer (else no confidence column or table)."""
        return bool(self.cbm)


def summarise(attempt: QuizAttempt) -> AttemptSummary:
    """The accuracy, certainty-based marks and calibration of an attempt's answers; pure over its responses."""
    responses = attempt.responses
    raw = sum(r.score for r in responses)
    weight = sum(r.max_score for r in responses)
    rated = [r for r in responses if r.confidence is not None]
    figures = None
    if attempt.marking == "certainty":
        # As the score was marked: an answer without a confidence counts as "not sure".
        marked = sum(cbm_score(as_grade(r), r.confidence or 1) for r in responses)
        figures = certainty.figures(raw, marked, weight)
    return AttemptSummary(
        raw_score=raw,
        accuracy=raw / weight if weight else 0.0,
        cbm={r.position: cbm_score(as_grade(r), r.confidence) for r in rated},
        calibration=certainty.calibration((r.confidence, r.is_correct) for r in rated) if rated else [],
        weight=weight,
        right=sum(1 for r in responses if r.is_correct),
        answered=len(responses),
        figures=figures,
    )


def as_grade(r: ItemResponse) -> Grade:
    """A recorded response as the grade it was given."""
    return Grade(r.answer, r.score, r.max_score, r.is_correct, r.grade, tuple(r.competency_refs))


def items_as_answered(quiz: Quiz | None, attempt: QuizAttempt) -> dict[str, Item]:
    """The quiz's items that are unchanged since the attempt answered them, by item id."""
    if quiz is None:
        return {}
    current = {item.id: item for item in quiz.items}
    return {
        r.item_ref: current[r.item_ref]
        for r in attempt.responses
        if r.item_ref in current and current[r.item_ref].version == r.item_version
    }
