"""Quiz items: what every item type shares (items, grades, the grade vocabulary) and the registry of types.

Grading is pure: it takes an item and an answer and returns a `Grade`; recording it is the
tracker's job (app.services.quizzes). A new type is one module in app/content/item_types/ (a class
registered with `@register`, imported by that package) plus one template.
"""

import hashlib
import json
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any, ClassVar

from app.content.checker import Checker
from app.content.yamlfile import Mapping


@dataclass(frozen=True)
class Grade:
    """The pure result of grading one answer to one item."""

    answer: Any
    score: float
    max_score: float
    is_correct: bool
    grade: str | None
    competency_refs: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """Fields every item has."""

    id: str
    type: str
    line: int
    prompt_html: str
    competencies: tuple[str, ...]
    max_score: float
    #: A hash of the item's own YAML: a response records it, so feedback on a past attempt is
    #: still shown after other parts of the quiz are edited, and only while the item is unchanged.
    version: str

    @property
    def handler(self) -> "ItemType":
        """The registered type that grades and renders this item."""
        return REGISTRY[self.type]


class AnswerError(ValueError):
    """A submitted answer that cannot be graded: a forged or stale form, or one half filled in.

    `message` tells the learner what to fix; `kept` is what they entered, to show again.
    """

    def __init__(self, message: str, kept: Any = None):
        super().__init__(message)
        self.message = message
        self.kept = kept


class ItemType:
    """Base class of an item type."""

    name: ClassVar[str]
    #: Jinja template that renders the item as form fields, and the graded item in results.
    template: ClassVar[str]

    def parse(self, raw: Mapping, check: Checker, item_id: str) -> Item | None:
        """Validate a raw item mapping; return the item, or None after noting problems."""
        raise NotImplementedError

    def answer_from_form(self, item: Item, form: AbcMapping[str, Any]) -> Any | None:
        """Read the item's answer from submitted form data: None when unanswered."""
        raise NotImplementedError

    def grade(self, item: Item, answer: Any) -> Grade:
        """Grade an answer; pure."""
        raise NotImplementedError

    def right_answer(self, item: Item) -> Any:
        """The answer that earns full marks (the answer key)."""
        raise NotImplementedError

    def wrong_answer(self, item: Item) -> Any:
        """An answer that earns nothing."""
        raise NotImplementedError

    def form_data(self, item: Item, answer: Any) -> dict[str, Any]:
        """The form fields a browser sends for this answer (the inverse of `answer_from_form`)."""
        raise NotImplementedError


REGISTRY: dict[str, ItemType] = {}


def register(cls: type[ItemType]) -> type[ItemType]:
    """Class decorator adding an item type to the registry under its `name`."""
    REGISTRY[cls.name] = cls()
    return cls


def item_version(raw: Mapping) -> str:
    """The content version of one item: a hash of its YAML as parsed."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def field_name(item: Item, part: int | None = None) -> str:
    """The form field name that carries an item's answer, or one part of it."""
    return f"item-{item.id}" if part is None else f"item-{item.id}-{part}"


def form_values(form: AbcMapping[str, Any], name: str) -> list[str]:
    """Every value submitted under `name` (checkboxes send several)."""
    if hasattr(form, "getlist"):
        return [v for v in form.getlist(name) if v != ""]
    value = form.get(name)
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


#: How the item types without graded options label a response.
RIGHTNESS_LABELS = {"correct": "Right", "partial": "Partly right", "incorrect": "Not right"}


def rightness(score: float, max_score: float) -> str:
    """'correct', 'partial' or 'incorrect', from a score."""
    if score >= max_score:
        return "correct"
    return "partial" if score > 0 else "incorrect"


# The grades a reply or option can earn (scenario items and conversations), and how each is labelled.

GRADE_SCORES = {"best": 2.0, "acceptable": 1.0, "unhelpful": 0.0, "harmful": 0.0}
GRADE_LABELS = {
    "best": "Best",
    "acceptable": "Acceptable",
    "unhelpful": "Unhelpful",
    "harmful": "Harmful",
    **RIGHTNESS_LABELS,
}


# Importing the types registers them: whoever imports this module has the full registry.
from app.content import item_types  # noqa: E402, F401
