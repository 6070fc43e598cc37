"""What the item types that carry their own competencies and one explanation share: points and parsing."""

from typing import Any

from app.content.checker import Checker
from app.content.items import Grade, Item, ItemType, rightness
from app.content.yamlfile import Mapping

ITEM_POINTS = 2.0


class TaggedType(ItemType):
    """An item type whose competencies and feedback belong to the whole item."""

    _common_keys = {"id", "type", "prompt", "competencies", "feedback"}

    @staticmethod
    def _graded(item: Item, answer: Any, score: float, is_correct: bool) -> Grade:
        """A grade worth up to ITEM_POINTS, labelled by how right it is, counted for the item's competencies."""
        return Grade(
            answer=answer,
            score=score,
            max_score=ITEM_POINTS,
            is_correct=is_correct,
            grade=rightness(score, ITEM_POINTS),
            competency_refs=item.competencies,
        )

    def _common(
        self, raw: Mapping, check: Checker, what: str, feedback_required: bool = True
    ) -> tuple[str | None, tuple[str, ...], str | None]:
        prompt = check.text(raw, "prompt", what)
        competencies = check.competencies(raw, "competencies", what)
        feedback = raw.get("feedback")
        if feedback is None and not feedback_required:
            return prompt, competencies, ""
        check.in_words(
            feedback if isinstance(feedback, str) else None, raw.line_of("feedback"), f"{what}: the feedback"
        )
        if not isinstance(feedback, str) or not feedback.strip():
            check.problem(raw.line, f"{what} has no feedback: explain the right answer and the competency it shows")
            feedback = None
        return prompt, competencies, feedback

