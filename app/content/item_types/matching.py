"""The matching item type: match each prompt with its answer, drawn from one list with optional distractors."""

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from app.content import markdown
from app.content.checker import Checker
from app.content.item_types.tagged import ITEM_POINTS, TaggedType
from app.content.items import AnswerError, Grade, Item, field_name, form_values, item_version, register
from app.content.yamlfile import Mapping


@dataclass(frozen=True)
class MatchPair:
    """A prompt and the answer it matches."""

    prompt_html: str
    answer: str


@dataclass(frozen=True)
class MatchingItem(Item):
    """Prompts to match with answers drawn from one list."""

    pairs: tuple[MatchPair, ...]
    choices: tuple[str, ...]
    feedback_html: str


@register
class MatchingType(TaggedType):
    """Match each prompt with its answer; an equal share of the points per right match."""

    name = "matching"
    template = "learn/items/matching.html"

    def parse(self, raw: Mapping, check: Checker, item_id: str) -> Item | None:
        """Validate prompt, competencies, feedback, 3 to 8 pairs and optional distractors."""
        what = f"item '{item_id}'"
        before = len(check.problems)
        check.unknown_keys(raw, self._common_keys | {"pairs", "distractors"}, what)
        prompt, competencies, feedback = self._common(raw, check, what)
        pairs = []
        for number, entry in check.mappings(raw, "pairs", what, low=3, high=8):
            pair_what = f"{what}, pair {number}"
            check.unknown_keys(entry, {"prompt", "answer"}, pair_what)
            pair_prompt, answer = check.text(entry, "prompt", pair_what), check.text(entry, "answer", pair_what)
            if pair_prompt and answer:
                pairs.append(MatchPair(markdown.render_inline(pair_prompt), " ".join(answer.split())))
        distractors = check.text_list(raw, "distractors", what, low=0, high=6) if "distractors" in raw else []
        answers = {pair.answer for pair in pairs}
        for distractor in distractors:
            if distractor in answers:
                check.problem(
                    raw.line_of("distractors"), f"{what}: the distractor '{distractor}' is also a right answer"
                )
        if len(answers) + len(set(distractors)) < 2:
            check.problem(raw.line_of("pairs"), f"{what}: give at least two different answers to choose from")
        if len(check.problems) > before:
            return None
        return MatchingItem(
            id=item_id,
            type=self.name,
            line=raw.line,
            prompt_html=markdown.render_inline(prompt),
            competencies=competencies,
            max_score=ITEM_POINTS,
            version=item_version(raw),
            pairs=tuple(pairs),
            choices=tuple(sorted(answers | set(distractors), key=str.casefold)),
            feedback_html=markdown.render(feedback),
        )

    def answer_from_form(self, item: Item, form: AbcMapping[str, Any]) -> list[str] | None:
        """The answer the learner chose for each prompt, in the prompts' order."""
        assert isinstance(item, MatchingItem)
        chosen: list[str | None] = []
        for index in range(len(item.pairs)):
            values = form_values(form, field_name(item, index))
            if values and values[0] not in item.choices:
                raise AnswerError("An answer chosen is not one of this item's answers; choose again.")
            chosen.append(values[0] if values else None)
        if all(c is None for c in chosen):
            return None
        if None in chosen:
            raise AnswerError("Choose an answer for every one of the item's prompts.", kept=chosen)
        return chosen

    def right_answer(self, item: Item) -> list[str]:
        """Each prompt's own answer."""
        return [pair.answer for pair in item.pairs]

    def wrong_answer(self, item: Item) -> list[str]:
        """For each prompt, the first answer that is not its own."""
        return [next(c for c in item.choices if c != pair.answer) for pair in item.pairs]

    def form_data(self, item: Item, answer: Any) -> dict[str, Any]:
        """One choice per prompt."""
        return {field_name(item, index): choice for index, choice in enumerate(answer)}

    def grade(self, item: Item, answer: Any) -> Grade:
        """Score 2 × right matches / pairs; right only when every pair is right."""
        assert isinstance(item, MatchingItem)
        if not isinstance(answer, list) or len(answer) != len(item.pairs):
            raise AnswerError("That is not an answer to every prompt of this item.")
        right = sum(given == pair.answer for given, pair in zip(answer, item.pairs, strict=True))
        score = round(ITEM_POINTS * right / len(item.pairs), 4)
        return self._graded(item, answer, score, is_correct=right == len(item.pairs))

