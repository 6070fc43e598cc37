"""The multiple-response item type: choose all that apply; wrong ticks take back what right ticks earn."""

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from app.content import markdown
from app.content.checker import Checker
from app.content.item_types.tagged import ITEM_POINTS, TaggedType
from app.content.items import AnswerError, Grade, Item, field_name, form_values, item_version, register
from app.content.yamlfile import Mapping


@dataclass(frozen=True)
class ResponseOption:
    """An option that is either right to choose or not, with its feedback."""

    id: str
    text_html: str
    is_correct: bool
    feedback_html: str


@dataclass(frozen=True)
class MultipleResponseItem(Item):
    """Options of which any number may be right."""

    options: tuple[ResponseOption, ...]
    feedback_html: str

    def option(self, option_id: str) -> ResponseOption | None:
        """The option with this id, if any."""
        return next((o for o in self.options if o.id == option_id), None)

    @property
    def correct_ids(self) -> tuple[str, ...]:
        """The ids of the options that should be chosen."""
        return tuple(o.id for o in self.options if o.is_correct)


@register
class MultipleResponseType(TaggedType):
    """Choose all that apply; right ticks earn shares, wrong ticks take them back, never below zero."""

    name = "multiple_response"
    template = "learn/items/multiple_response.html"

    def parse(self, raw: Mapping, check: Checker, item_id: str) -> Item | None:
        """Validate prompt, competencies, feedback and 3 to 8 options, at least one right and one wrong."""
        what = f"item '{item_id}'"
        before = len(check.problems)
        check.unknown_keys(raw, self._common_keys | {"options"}, what)
        # Each option explains itself; a word on the whole item is optional.
        prompt, competencies, feedback = self._common(raw, check, what, feedback_required=False)
        options: list[ResponseOption] = []
        for number, entry in check.mappings(raw, "options", what, low=3, high=8):
            option_what = f"{what}, option {number}"
            check.unknown_keys(entry, {"id", "text", "correct", "feedback"}, option_what)
            option_id, text = check.slug(entry, "id", option_what), check.text(entry, "text", option_what)
            option_feedback = check.text(entry, "feedback", option_what, required=False)
            check.in_words(option_feedback, entry.line_of("feedback"), f"{option_what}: the feedback")
            if option_feedback is None and "feedback" not in entry:
                check.problem(entry.line, f"{option_what} has no feedback: say why it is or is not right")
            correct = entry.get("correct")
            if not isinstance(correct, bool):
                check.problem(
                    entry.line_of("correct"), f"{option_what}: 'correct' must be true or false, not {correct!r}"
                )
            if option_id in {o.id for o in options}:
                check.problem(entry.line_of("id"), f"{what}: two options have the id '{option_id}'")
            elif option_id and text and option_feedback and isinstance(correct, bool):
                options.append(
                    ResponseOption(option_id, markdown.render_inline(text), correct, markdown.render(option_feedback))
                )
        if options and (all(o.is_correct for o in options) or not any(o.is_correct for o in options)):
            check.problem(raw.line_of("options"), f"{what} needs at least one right option and one wrong one")
        if len(check.problems) > before:
            return None
        return MultipleResponseItem(
            id=item_id,
            type=self.name,
            line=raw.line,
            prompt_html=markdown.render_inline(prompt),
            competencies=competencies,
            max_score=ITEM_POINTS,
            version=item_version(raw),
            options=tuple(options),
            feedback_html=markdown.render(feedback),
        )

    def answer_from_form(self, item: Item, form: AbcMapping[str, Any]) -> list[str] | None:
        """The ids of the options ticked, in the options' order."""
        assert isinstance(item, MultipleResponseItem)
        ticked = set(form_values(form, field_name(item)))
        if not ticked:
            return None
        if any(item.option(value) is None for value in ticked):
            raise AnswerError("An option ticked is not one of this item's options; choose again.")
        return [o.id for o in item.options if o.id in ticked]

    def right_answer(self, item: Item) -> list[str]:
        """Exactly the right options."""
        return list(item.correct_ids)

    def wrong_answer(self, item: Item) -> list[str]:
        """Only the wrong options."""
        return [o.id for o in item.options if not o.is_correct]

    def form_data(self, item: Item, answer: Any) -> dict[str, Any]:
        """Checkboxes: several values under one name."""
        return {field_name(item): list(answer)}

    def grade(self, item: Item, answer: Any) -> Grade:
        """Score 2 × max(0, (right ticked − wrong ticked) / right options); right only for exactly the right set."""
        assert isinstance(item, MultipleResponseItem)
        if not isinstance(answer, list) or any(item.option(a) is None for a in answer):
            raise AnswerError("That is not a choice of this item's options.")
        chosen = set(answer)
        right = sum(1 for o in item.options if o.is_correct and o.id in chosen)
        wrong = sum(1 for o in item.options if not o.is_correct and o.id in chosen)
        score = round(ITEM_POINTS * max(0.0, (right - wrong) / len(item.correct_ids)), 4)
        return self._graded(item, answer, score, is_correct=chosen == set(item.correct_ids))
