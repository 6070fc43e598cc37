"""Quiz item types: a registry of classes that each validate, render and grade one kind of item.

Grading is pure: it takes an item and an answer and returns a `Grade`; recording it is the
tracker's job (app.services.quizzes). A new type is one class here plus one template.
"""

import hashlib
import json
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any, ClassVar

from app.content import markdown
from app.content.checker import Checker
from app.content.yamlfile import Mapping
from app.converters import whole_number


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


def _form_values(form: AbcMapping[str, Any], name: str) -> list[str]:
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


# --- scenario: a clinical vignette with options graded best / acceptable / unhelpful / harmful

GRADE_SCORES = {"best": 2.0, "acceptable": 1.0, "unhelpful": 0.0, "harmful": 0.0}
GRADE_LABELS = {
    "best": "Best",
    "acceptable": "Acceptable",
    "unhelpful": "Unhelpful",
    "harmful": "Harmful",
    **RIGHTNESS_LABELS,
}


@dataclass(frozen=True)
class ScenarioOption:
    """One thing the learner could say or do, with its grade and feedback."""

    id: str
    text_html: str
    grade: str
    score: float
    competencies: tuple[str, ...]
    feedback_html: str


@dataclass(frozen=True)
class Vignette:
    """Who the patient is, where, and what they say."""

    patient: str
    setting: str
    says: str


@dataclass(frozen=True)
class ScenarioItem(Item):
    """A vignette and a choice of replies."""

    vignette: Vignette
    options: tuple[ScenarioOption, ...]

    def option(self, option_id: str) -> ScenarioOption | None:
        """The option with this id, if any."""
        return next((o for o in self.options if o.id == option_id), None)


@register
class ScenarioType(ItemType):
    """Choose what to say or do in a clinical moment; each option graded and explained."""

    name = "scenario"
    template = "learn/items/scenario.html"
    _keys = {"id", "type", "vignette", "prompt", "options"}
    _option_keys = {"id", "text", "grade", "competencies", "feedback"}

    def parse(self, raw: Mapping, check: Checker, item_id: str) -> Item | None:
        """Validate vignette, prompt and 3 to 5 graded options with exactly one best."""
        what = f"item '{item_id}'"
        before = len(check.problems)
        check.unknown_keys(raw, self._keys, what)
        vignette = self._vignette(raw, check, what)
        prompt = check.text(raw, "prompt", what)
        options: list[ScenarioOption] = []
        seen: set[str] = set()
        for index, raw_option in enumerate(check.items(raw, "options", what, low=3, high=5), start=1):
            option = self._option(raw_option, check, f"{what}, option {index}", raw.line_of("options"))
            if option is None:
                continue
            if option.id in seen:
                check.problem(raw_option.line, f"{what}: two options have the id '{option.id}'")
            seen.add(option.id)
            options.append(option)
        best = [o for o in options if o.grade == "best"]
        if options and len(best) != 1:
            check.problem(raw.line_of("options"), f"{what} needs exactly one option graded 'best', not {len(best)}")
        if len(check.problems) > before or vignette is None or prompt is None:
            return None
        # The item assesses what its best reply serves; other replies' tags name what they break.
        competencies = best[0].competencies
        return ScenarioItem(
            id=item_id,
            type=self.name,
            line=raw.line,
            prompt_html=markdown.render_inline(prompt),
            competencies=competencies,
            max_score=max(o.score for o in options),
            version=item_version(raw),
            vignette=vignette,
            options=tuple(options),
        )

    def _vignette(self, raw: Mapping, check: Checker, what: str) -> Vignette | None:
        data = check.mapping(raw.get("vignette"), f"{what}: 'vignette'", raw.line_of("vignette"))
        if data is None:
            return None
        check.unknown_keys(data, {"patient", "setting", "says"}, f"{what}: vignette")
        fields = [check.text(data, key, f"{what}: vignette") for key in ("patient", "setting", "says")]
        if None in fields:
            return None
        return Vignette(*fields)

    def _option(self, raw: Any, check: Checker, what: str, line: int) -> ScenarioOption | None:
        data = check.mapping(raw, what, line)
        if data is None:
            return None
        before = len(check.problems)
        check.unknown_keys(data, self._option_keys, what)
        option_id = check.slug(data, "id", what)
        text = check.text(data, "text", what)
        feedback = data.get("feedback")
        if feedback is None or (isinstance(feedback, str) and not feedback.strip()):
            check.problem(data.line, f"{what} has no feedback: say which competency it serves or breaks, and why")
            feedback = None
        elif not isinstance(feedback, str):
            check.problem(data.line_of("feedback"), f"{what}: 'feedback' must be text")
            feedback = None
        grade = data.get("grade")
        if not isinstance(grade, str) or grade not in GRADE_SCORES:
            check.problem(
                data.line_of("grade"),
                f"{what}: 'grade' must be one of best, acceptable, unhelpful, harmful (not {grade!r})",
            )
        competencies = check.competencies(data, "competencies", what)
        check.in_words(feedback, data.line_of("feedback"), f"{what}: the feedback")
        if len(check.problems) > before:
            return None
        return ScenarioOption(
            id=option_id,
            text_html=markdown.render_inline(text),
            grade=grade,
            score=GRADE_SCORES[grade],
            competencies=competencies,
            feedback_html=markdown.render(feedback),
        )

    def answer_from_form(self, item: Item, form: AbcMapping[str, Any]) -> str | None:
        """The chosen option id."""
        value = form.get(field_name(item))
        if value in (None, ""):
            return None
        if not isinstance(item, ScenarioItem) or item.option(value) is None:
            raise AnswerError("The reply chosen is not one of this item's options; choose again.")
        return value

    def right_answer(self, item: Item) -> str:
        """The best option's id."""
        return next(o.id for o in item.options if o.grade == "best")

    def wrong_answer(self, item: Item) -> str:
        """The lowest-scoring option's id (harmful before unhelpful)."""
        return min(item.options, key=lambda o: (o.score, o.grade != "harmful")).id

    def form_data(self, item: Item, answer: Any) -> dict[str, Any]:
        """One radio button."""
        return {field_name(item): answer}

    def grade(self, item: Item, answer: Any) -> Grade:
        """Score the chosen option; correct only when it is the best one.

        The response counts for the item's competencies and, when another reply was chosen,
        against the competencies that reply breaks too.
        """
        assert isinstance(item, ScenarioItem)
        option = item.option(answer)
        if option is None:
            raise AnswerError(f"'{answer}' is not an option of this item")
        return Grade(
            answer=answer,
            score=option.score,
            max_score=item.max_score,
            is_correct=option.grade == "best",
            grade=option.grade,
            competency_refs=tuple(dict.fromkeys(item.competencies + option.competencies)),
        )


# --- shared by the item types that carry their own competencies and one explanation

ITEM_POINTS = 2.0


class _TaggedType(ItemType):
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


# --- ordering: put steps in order


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
class OrderingType(_TaggedType):
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
            values = _form_values(form, field_name(item, index))
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


# --- matching: each prompt to one answer


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
class MatchingType(_TaggedType):
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
            values = _form_values(form, field_name(item, index))
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


# --- multiple response: choose all that apply


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
class MultipleResponseType(_TaggedType):
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
        ticked = set(_form_values(form, field_name(item)))
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
