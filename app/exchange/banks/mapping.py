"""How Alliance items become bank questions: stems, fractions by grade, partial credit. Shared by every format."""

from html import escape

from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem, ScenarioOption

#: The fractions (in percent) Moodle accepts for an answer; its importer refuses a question with any other.
MOODLE_GRADES = (
    100.0, 90.0, 83.33333, 80.0, 75.0, 70.0, 66.66667, 60.0, 50.0, 40.0, 33.33333, 30.0, 25.0, 20.0,
    16.66667, 14.28571, 12.5, 11.11111, 10.0, 5.0, 0.0,
)  # fmt: skip
#: A harmful reply costs this share of the item's mark where the format has negative marks; 0 grades as Alliance does.
DEFAULT_HARMFUL_PENALTY = 50.0
#: The labels of the vignette's lines in a question's stem; the importer reads a vignette back from them.
VIGNETTE_LABELS = (("patient", "Patient"), ("setting", "Setting"), ("says", "The patient says"))


def is_moodle_grade(percent: float) -> bool:
    """Whether Moodle's importer accepts this fraction (or its negative) for an answer."""
    return any(abs(abs(percent) - grade) < 0.00001 for grade in MOODLE_GRADES)


def nearest_moodle_grade(percent: float) -> float:
    """The Moodle fraction closest to `percent`, keeping its sign (100/3 is written 33.33333)."""
    grade = min(MOODLE_GRADES, key=lambda g: abs(g - abs(percent)))
    return -grade if percent < 0 else grade


def percent_text(percent: float) -> str:
    """A fraction in percent as the formats write it: at most five decimals, no trailing zeros."""
    text = f"{percent:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def scenario_fraction(item: ScenarioItem, option: ScenarioOption, harmful_penalty: float) -> float:
    """An option's fraction in percent: its score over the item's, and a harmful reply a penalty."""
    if option.grade == "harmful":
        return -harmful_penalty if harmful_penalty else 0.0
    return nearest_moodle_grade(100.0 * option.score / item.max_score)


def response_fraction(item: MultipleResponseItem, is_correct: bool) -> float:
    """A multiple-response option's fraction: +100/k ticked right, -100/k ticked wrong (k right options).

    Summed over the ticks and never below zero, that is Alliance's rule
    2 × max(0, (right ticked - wrong ticked) / k) exactly.
    """
    share = nearest_moodle_grade(100.0 / len(item.correct_ids))
    return share if is_correct else -share


def vignette_html(item: ScenarioItem) -> str:
    """The vignette as paragraphs, each labelled, for the top of the question's stem."""
    lines = []
    for key, label in VIGNETTE_LABELS:
        lines.append(f"<p><strong>{label}:</strong> {escape(getattr(item.vignette, key), quote=False)}</p>")
    return "".join(lines)


def stem_html(item) -> str:
    """The question's stem: the vignette (for a scenario) and the prompt, as HTML paragraphs."""
    prompt = f"<p>{item.prompt_html}</p>"
    return vignette_html(item) + prompt if isinstance(item, ScenarioItem) else prompt


def ordering_instruction(item: OrderingItem) -> str:
    """What a learner is asked where an ordering item is written as matching steps to positions."""
    return f"<p>Match each step to its place in the order: 1 is the first step, {len(item.steps_html)} the last.</p>"


def shown_steps(item: OrderingItem) -> list[tuple[int, str]]:
    """(right position from 1, step HTML) in the order Alliance shows the steps: never the answer's order."""
    return [(index + 1, item.steps_html[index]) for index in item.shown]


def matching_choices(item: MatchingItem) -> list[str]:
    """Every answer a learner may choose, right ones and distractors, in Alliance's order."""
    return list(item.choices)


def distractors(item: MatchingItem) -> list[str]:
    """The answers that match no prompt."""
    used = {pair.answer for pair in item.pairs}
    return [choice for choice in item.choices if choice not in used]


def tags(item) -> list[str]:
    """The competency ids a question is tagged with: those the item assesses (a scenario's are its best reply's)."""
    return list(item.competencies)


#: The item types a bank can carry.
EXPORTED_TYPES = (ScenarioItem, MultipleResponseItem, OrderingItem, MatchingItem)


def exportable(quiz) -> tuple[list, list]:
    """The quiz's items a bank can carry, and those it cannot (a type added after these formats were mapped)."""
    kept = [item for item in quiz.items if isinstance(item, EXPORTED_TYPES)]
    return kept, [item for item in quiz.items if not isinstance(item, EXPORTED_TYPES)]
