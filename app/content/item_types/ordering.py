"""The ordering item type: put the steps of a procedure in order, with partial credit for a run in order."""

import hashlib
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from app.content import markdown
from app.content.checker import Checker
from app.content.item_types.tagged import ITEM_POINTS, TaggedType
from app.content.items import AnswerError, Grade, Item, field_name, form_values, item_version, register
from app.content.yamlfile import Mapping
from app.converters import whole_number


def longest_ordered_run(order: list[int]) -> int:
    """The length of the longest subsequence of `order` that is increasing (steps in the right relative order)."""
    tails: list[int] = []
    for value in order:
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if tails[middle] < value:
                low = middle + 1
            else:
                high = middle
        if low == len(tails):
            tails.append(value)
        else:
            tails[low] = value
    return len(tails)


@dataclass(frozen=True)
class OrderingItem(Item):
    """Steps to put in order; `shown` is the fixed shuffled order they are displayed in."""

    steps_html: tuple[str, ...]
    shown: tuple[int, ...]
    feedback_html: str

    def learner_order(self, positions: list[int]) -> list[int]:
        """Step indices in the order the learner's positions put them."""
        return sorted(range(len(self.steps_html)), key=lambda index: positions[index])


@register
class OrderingType(TaggedType):
    """Put the steps of a procedure in order; partial credit for the longest run in the right order."""

    name = "ordering"
    template = "learn/items/ordering.html"

    def parse(self, raw: Mapping, check: Checker, item_id: str) -> Item | None:
        """Validate prompt, competencies, feedback and 3 to 8 distinct steps given in the right order."""
        what = f"item '{item_id}'"
        before = len(check.problems)
        check.unknown_keys(raw, self._common_keys | {"steps"}, what)
        prompt, competencies, feedback = self._common(raw, check, what)
        steps = check.text_list(raw, "steps", what, low=3, high=8)
        if len(set(steps)) != len(steps):
            check.problem(raw.line_of("steps"), f"{what}: two steps have the same text")
        if len(check.problems) > before:
            return None
        # Shown in a fixed shuffle so every learner and every visit sees the same page.
        shown = sorted(range(len(steps)), key=lambda i: hashlib.sha256(f"{item_id}:{steps[i]}".encode()).hexdigest())
        if shown == list(range(len(steps))):
            shown.reverse()
        return OrderingItem(
            id=item_id,
            type=self.name,
            line=raw.line,
            prompt_html=markdown.render_inline(prompt),
            competencies=competencies,
            max_score=ITEM_POINTS,
            version=item_version(raw),
            steps_html=tuple(markdown.render_inline(step) for step in steps),
            shown=tuple(shown),
            feedback_html=markdown.render(feedback),
        )

    def answer_from_form(self, item: Item, form: AbcMapping[str, Any]) -> list[int] | None:
        """The position (1 to n) the learner gave each step, in the steps' own order."""
        assert isinstance(item, OrderingItem)
        count = len(item.steps_html)
        positions: list[int | None] = []
        for index in range(count):
            values = form_values(form, field_name(item, index))
            if not values:
                positions.append(None)
                continue
            try:
                position = whole_number(values[0])  # ASCII digits only: int() reads "٢" as 2
            except ValueError:
                position = 0
            if not 1 <= position <= count:
                raise AnswerError(f"A position must be a number from 1 to {count}.")
            positions.append(position)
        if all(p is None for p in positions):
            return None
        if None in positions:
            raise AnswerError(f"Give every step a position from 1 to {count}.", kept=positions)
        if len(set(positions)) != count:
            raise AnswerError("Use each position once: two steps have the same position.", kept=positions)
        return positions

    def right_answer(self, item: Item) -> list[int]:
        """Every step at its own position."""
        return list(range(1, len(item.steps_html) + 1))

    def wrong_answer(self, item: Item) -> list[int]:
        """The steps in reverse: no two in the right relative order."""
        return list(range(len(item.steps_html), 0, -1))

    def form_data(self, item: Item, answer: Any) -> dict[str, Any]:
        """One position per step."""
        return {field_name(item, index): str(position) for index, position in enumerate(answer)}

    def grade(self, item: Item, answer: Any) -> Grade:
        """Score 2 × (longest run in the right relative order − 1) / (steps − 1); right only in the exact order."""
        assert isinstance(item, OrderingItem)
        count = len(item.steps_html)
        if not isinstance(answer, list) or sorted(answer) != list(range(1, count + 1)):
            raise AnswerError("That is not an order of this item's steps.")
        order = item.learner_order(answer)
        run = longest_ordered_run(order)
        score = round(ITEM_POINTS * (run - 1) / (count - 1), 4)
        return self._graded(item, answer, score, is_correct=order == list(range(count)))

