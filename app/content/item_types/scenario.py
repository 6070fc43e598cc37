"""The scenario item type: a clinical vignette with options graded best, acceptable, unhelpful or harmful."""

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from app.content import markdown
from app.content.checker import Checker
from app.content.items import GRADE_SCORES, AnswerError, Grade, Item, ItemType, field_name, item_version, register
from app.content.yamlfile import Mapping


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

