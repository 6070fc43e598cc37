"""Readable text for content in reports: titles, item labels, answers, grades and durations."""

import json
from datetime import datetime
from typing import Any

from markupsafe import Markup

from app.content import Catalog, Quiz, certainty
from app.content.conversations import Conversation
from app.content.item_types.matching import MatchingItem
from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.content.items import GRADE_LABELS, Item
from app.services import events
from app.services.courses import KIND_LABELS

# --- readable text for content


def plain(html: str) -> str:
    """Inline content HTML as plain text (tags dropped, entities decoded)."""
    return " ".join(Markup(html).striptags().split())


def shorten(text: str, limit: int = 90) -> str:
    """Text cut at a word boundary to about `limit` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def activity(catalog: Catalog, ref: str) -> Quiz | Conversation | None:
    """The quiz or conversation with this id, if it is still offered."""
    return catalog.quiz(ref) or catalog.conversation(ref)


def activity_title(catalog: Catalog, ref: str) -> str:
    """The title of a quiz, conversation or practice set, or its id once it is no longer offered."""
    if ref == events.REVIEW_SET:
        return "Review session"
    if (competency_id := events.competency_of_set(ref)) is not None:
        competency = catalog.competency(competency_id)
        return competency.name if competency else "Practice"
    found = activity(catalog, ref)
    return found.title if found else ref


def activity_kind(catalog: Catalog, ref: str) -> str:
    """'Quiz' or 'Conversation' (or 'Activity' once it is no longer offered)."""
    found = activity(catalog, ref)
    return KIND_LABELS[found.kind] if found else "Activity"


def item_text(item: Item) -> str:
    """An item's prompt as text; a scenario's also names the patient and what they say, since prompts repeat."""
    prompt = shorten(plain(item.prompt_html), 80)
    if isinstance(item, ScenarioItem):
        who = item.vignette.patient.split(",", 1)[0]
        return f"{prompt} ({who}: “{shorten(plain(item.vignette.says), 60)}”)"
    return prompt


def item_label(catalog: Catalog, quiz_ref: str, item_ref: str, position: int) -> str:
    """How a response's item is named: its number and prompt, or the patient's line of a conversation step."""
    found = activity(catalog, quiz_ref)
    if isinstance(found, Conversation):
        node = found.node(item_ref)
        return f"Step {position}: “{shorten(node.patient, 80)}”" if node else f"Step {position} ({item_ref})"
    item = found.item(item_ref) if found else None
    if item is None:
        return f"Item {position} ({item_ref})"
    return f"Item {position}: {item_text(item)}"


def describe_answer(item: Item, answer: Any) -> str | None:
    """A quiz answer in words (None when it does not fit the item as it is now)."""
    try:
        if isinstance(item, ScenarioItem):
            return plain(item.option(answer).text_html)
        if isinstance(item, MultipleResponseItem):
            return "; ".join(plain(item.option(a).text_html) for a in answer) or "(nothing ticked)"
        if isinstance(item, MatchingItem):
            return "; ".join(
                f"{plain(pair.prompt_html)} → {chosen}" for pair, chosen in zip(item.pairs, answer, strict=True)
            )
        if isinstance(item, OrderingItem):
            order = item.learner_order(answer)
            return " ".join(f"{n}. {plain(item.steps_html[i])}" for n, i in enumerate(order, start=1))
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        return None
    return None


def answer_text(catalog: Catalog, quiz_ref: str, item_ref: str, answer: Any) -> str:
    """A response's answer as a person reads it: the reply or option text, the order, the matches."""
    found = activity(catalog, quiz_ref)
    text = None
    if isinstance(found, Conversation):
        node = found.node(item_ref)
        chosen = node.reply(answer) if node and isinstance(answer, str) else None
        text = plain(chosen.text_html) if chosen else None
    elif found is not None:
        item = found.item(item_ref)
        text = describe_answer(item, answer) if item else None
    # Content renamed or removed since: the stored answer, as stored.
    return text if text is not None else json.dumps(answer, ensure_ascii=False)


def grade_label(grade: str | None) -> str:
    """A grade as shown to people."""
    return GRADE_LABELS.get(grade, grade or "")


def number(value: float | None) -> str:
    """A score without needless decimals."""
    return "" if value is None else f"{round(value, 4):g}"


def score_text(attempt, raw: float, weight: float) -> str:
    """A submitted attempt's score as people read it: points and percentage; under certainty-based marking, as
    Moodle shows it, the accuracy and the average certainty-based mark (never a bare negative percentage).
    `raw` and `weight` are the points earned, ignoring certainty, and the points the answers were worth."""
    if attempt.score is None:
        return ""
    if attempt.marking == "certainty":
        figures = certainty.figures(raw, attempt.score, weight or attempt.max_score)
        return f"accuracy {certainty.share(figures.accuracy)}, {certainty.describe(100 * figures.average, 'certainty')}"
    return f"{number(attempt.score)} of {number(attempt.max_score)} ({attempt.percent:.0f}%)"


def pass_text(attempt) -> str:
    """The pass mark an attempt was taken with, on the scale its score is shown on."""
    if attempt.pass_mark is None:
        return ""
    return certainty.describe(float(attempt.pass_mark), attempt.marking)


def percent_of(part: float, whole: float) -> float | None:
    """`part` as a percentage of `whole` (None when there is no whole)."""
    return 100.0 * part / whole if whole else None


def timestamp(value: datetime | None) -> str:
    """A time as a spreadsheet reads it, in UTC."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def duration_text(started: datetime | None, ended: datetime | None) -> str:
    """A duration such as '4 min 05 s' or '1 h 02 min'."""
    if started is None or ended is None:
        return ""
    seconds = max(0, round((ended - started).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


