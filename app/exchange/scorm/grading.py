"""The grading data a SCORM package carries, so its JavaScript grader scores answers as the server does.

The package grades offline (`assets/grader.js`); this module writes what that grader needs, item by
item, in the same shapes as `app.content.items` grades. It also measures the bookmark: the longest
`suspend_data` the package can write for a quiz, which SCORM 1.2 caps at 4,096 characters.
"""

import sys
from typing import Any

from markupsafe import Markup

from app.content import Quiz
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem

#: SCORM 1.2's limit on cmi.suspend_data (CMIString4096); SCORM 2004 4th edition allows 64,000.
SUSPEND_LIMITS = {"1.2": 4096, "2004": 64000}
#: The bookmark's format version, the first field of suspend_data (see assets/grader.js, `Bookmark`).
BOOKMARK_VERSION = "A1"


def summation() -> str:
    """How this Python adds floats with `sum()`: compensated (Neumaier) from 3.12 on, left to right before.

    The server's totals are `sum()`s of floats; the package adds the same way, so even the last bit agrees.
    """
    return "compensated" if sys.version_info >= (3, 12) else "left-to-right"


def item_data(item: Any) -> dict[str, Any]:
    """What the JavaScript grader needs to grade one item, in the server's terms."""
    # The prompt in words: SCORM 2004 describes each interaction with it (at most 250 characters).
    prompt = Markup(item.prompt_html).striptags()[:250]
    common = {"id": item.id, "type": item.type, "max_score": item.max_score, "prompt": prompt}
    if isinstance(item, ScenarioItem):
        return common | {"options": [{"id": o.id, "grade": o.grade, "score": o.score} for o in item.options]}
    if isinstance(item, OrderingItem):
        return common | {"steps": len(item.steps_html)}
    if isinstance(item, MatchingItem):
        return common | {"answers": [pair.answer for pair in item.pairs], "choices": list(item.choices)}
    if isinstance(item, MultipleResponseItem):
        return common | {"options": [{"id": o.id, "correct": o.is_correct} for o in item.options]}
    raise ValueError(f"item '{item.id}': the SCORM package cannot grade items of type '{item.type}'")


def quiz_data(quiz: Quiz) -> dict[str, Any]:
    """The quiz as the package's grader reads it: marking, pass mark, how totals add up, every item."""
    return {
        "id": quiz.id,
        "title": quiz.title,
        "marking": quiz.marking,
        "pass_mark": quiz.pass_mark,
        "summation": summation(),
        "items": [item_data(item) for item in quiz.items],
    }


def _longest_answer(item: Any) -> int:
    """The most characters one item's answer takes in the bookmark (see grader.js, `encodeAnswer`)."""
    if isinstance(item, ScenarioItem):
        return 1  # the option's position
    if isinstance(item, MultipleResponseItem):
        return len(_base36((1 << len(item.options)) - 1))  # the ticked options as a bit mask
    if isinstance(item, OrderingItem):
        return len(item.steps_html)  # one position per step
    if isinstance(item, MatchingItem):
        return len(item.pairs)  # one chosen answer per prompt
    raise ValueError(f"item '{item.id}': unknown type '{item.type}'")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def longest_bookmark(lesson_count: int, quiz: Quiz | None) -> int:
    """The longest suspend_data the package can write: every lesson seen, every item at its longest answer.

    Layout (grader.js, `Bookmark.encode`): "A1|" + one 0/1 per lesson + "|" + per item a confidence
    digit and its answer, items joined by "," + "|" + the submitted flag.
    """
    items = quiz.items if quiz else ()
    answers = sum(1 + _longest_answer(item) for item in items) + max(len(items) - 1, 0)
    return len(BOOKMARK_VERSION) + 1 + lesson_count + 1 + answers + 1 + 1
