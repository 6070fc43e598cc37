"""A quiz form read item by item: the answers given, what is missing or unreadable, and how sure the learner was.

The same reading serves a submission (graded only when complete), a save as the learner goes
(app.services.drafts) and the page shown again with what was entered.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.content import Quiz
from app.content.certainty import parse_level
from app.content.items import AnswerError, Item


@dataclass(frozen=True)
class Issue:
    """One thing keeping a quiz form from being submitted, said once per item."""

    number: int
    item: Item
    #: The id on the page to link to: the item, or its confidence question when only that is missing.
    anchor: str
    message: str


@dataclass
class Answers:
    """Answers read from a quiz form (submitted or saved), or restored from the attempt's saved draft."""

    given: dict[str, Any] = field(default_factory=dict)
    missing: list[Item] = field(default_factory=list)
    #: Items whose answer cannot be graded, with what the learner should fix.
    invalid: dict[Item, str] = field(default_factory=dict)
    #: What the learner entered for an invalid item, to show it again.
    kept: dict[str, Any] = field(default_factory=dict)
    #: How sure the learner said they were, by item id.
    confidence: dict[str, int] = field(default_factory=dict)
    #: Items without a confidence level.
    unsure: list[Item] = field(default_factory=list)
    #: Whether every answer needs a confidence (certainty-based marking); otherwise saying it is optional.
    confidence_required: bool = True

    def shown(self, item: Item) -> Any:
        """The answer to put back in the form for an item: given, or kept from a half-filled one."""
        return self.given.get(item.id, self.kept.get(item.id))

    @property
    def answered(self) -> int:
        """How many items have a whole answer."""
        return len(self.given)

    @property
    def complete(self) -> bool:
        """Every item has a valid answer, and a confidence where one is required."""
        return not self.missing and not self.invalid and not (self.confidence_required and self.unsure)

    def lacks_confidence(self, item: Item) -> bool:
        """Whether the item still needs a confidence before the form can be submitted."""
        return self.confidence_required and item in self.unsure

    def issues(self, quiz: Quiz) -> list[Issue]:
        """What stops submission, one line per item in the quiz's order (never the same item twice)."""
        found = []
        for number, item in enumerate(quiz.items, start=1):
            unsure = self.lacks_confidence(item)
            if item in self.invalid:
                message = f"Item {number}: {self.invalid[item]}"
                if unsure:
                    message += " Then say how sure you are."
            elif item in self.missing:
                message = (
                    f"Item {number}: choose an answer and say how sure you are"
                    if unsure
                    else f"Item {number} has no answer"
                )
            elif unsure:
                found.append(Issue(number, item, confidence_field(item), f"Item {number}: say how sure you are"))
                continue
            else:
                continue
            found.append(Issue(number, item, f"item-{item.id}", message))
        return found

    def first_open(self, quiz: Quiz) -> tuple[int, Item] | None:
        """The first item (number, item) still needing something, if any: where a returning learner carries on."""
        issues = self.issues(quiz)
        return (issues[0].number, issues[0].item) if issues else None


def read_answers(quiz: Quiz, form: Mapping[str, Any], confidence_required: bool = True) -> Answers:
    """Read every item's answer from form data, noting the unanswered and the impossible."""
    answers = Answers(confidence_required=confidence_required)
    for item in quiz.items:
        level = parse_level(form.get(confidence_field(item)))
        if level is None:
            answers.unsure.append(item)
        else:
            answers.confidence[item.id] = level
        try:
            value = item.handler.answer_from_form(item, form)
        except AnswerError as exc:
            answers.invalid[item] = exc.message
            if exc.kept is not None:
                answers.kept[item.id] = exc.kept
            continue
        if value is None:
            answers.missing.append(item)
        else:
            answers.given[item.id] = value
    return answers


def confidence_field(item: Item) -> str:
    """The form field holding how sure the learner is of their answer to an item."""
    return f"confidence-{item.id}"
